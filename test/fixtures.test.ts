// Every `.data` case under fixtures/ runs on every available engine.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDataFiles, runCase } from '../lib/conformance.js';
import { parseDataFile } from '../lib/datafile.js';
import { AVAILABLE_ENGINES } from '../lib/vm.js';

const root = fileURLToPath(new URL('../fixtures', import.meta.url));
const files = findDataFiles([root]);

describe('fixtures/**/*.data', () => {
  it('has cases in every category', () => {
    const categories = new Set(files.map((f) => relative(root, f).split('/')[0]));
    for (const c of ['alu', 'jmp', 'mem', 'atomic', 'calls', 'errors']) expect(categories).toContain(c);
  });

  for (const engine of AVAILABLE_ENGINES) {
    describe(engine, () => {
      for (const file of files) {
        it(relative(root, file), () => {
          const outcome = runCase(parseDataFile(readFileSync(file, 'utf8')), engine, 10_000_000);
          expect(outcome.detail).toBeTypeOf('string');
          expect(outcome.passed, outcome.detail).toBe(true);
        });
      }
    });
  }
});
