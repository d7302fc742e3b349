// The runnable examples of the README, run as a user would, on each engine.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AVAILABLE_ENGINES } from '../lib/vm.js';
import { ROOT } from './cli-helpers.js';

describe.each(AVAILABLE_ENGINES)('fixtures/examples/tail-calls.mjs on %s', (engine) => {
  it('prints the handler verdict, the empty-slot fallback and the count', () => {
    const r = spawnSync(process.execPath, ['fixtures/examples/tail-calls.mjs', engine], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['1n', '255n', '1n']);
  });
});
