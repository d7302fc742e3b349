// Golden files: the generated JavaScript of a few representative programs,
// reviewed as diffs. Regenerate with `npm run golden` after a deliberate
// change to the JIT, and read the diff before committing.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename, join } from 'node:path';
import { parse } from 'acorn';
import { describe, expect, it } from 'vitest';
import { conformanceVm } from '../lib/conformance.js';

const dir = fileURLToPath(new URL('../fixtures/golden', import.meta.url));
const examples = fileURLToPath(new URL('../fixtures/examples', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

describe('JIT golden files (fixtures/golden)', () => {
  // The golden programs, and the README's example filter.
  const programs = [
    ...readdirSync(dir).filter((f) => f.endsWith('.asm')).sort().map((f) => join(dir, f)),
    ...readdirSync(examples).filter((f) => f.endsWith('.asm')).sort().map((f) => join(examples, f)),
  ];
  it('has programs to compare', () => {
    expect(programs.length).toBeGreaterThanOrEqual(4);
  });
  for (const path of programs) {
    const name = basename(path);
    it(name, () => {
      const vm = conformanceVm('jit');
      const source = vm.load(readFileSync(path, 'utf8')).jitSource();
      // Well-formed JavaScript whatever the golden file says.
      expect(() => parse(source, { ecmaVersion: 2022, allowReturnOutsideFunction: true })).not.toThrow();
      const golden = join(dir, name.replace(/\.asm$/, '.js'));
      if (update) writeFileSync(golden, source + '\n');
      expect(existsSync(golden), `${golden} is missing: run npm run golden`).toBe(true);
      expect(source + '\n').toBe(readFileSync(golden, 'utf8'));
    });
  }
});
