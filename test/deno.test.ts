// Smoke test: the built library and CLI run under Deno 2 (the `deno` npm
// package provides the binary).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, cli } from './cli-helpers.js';

function denoBinary(): string | undefined {
  try {
    const bin = join(ROOT, 'node_modules', '.bin', 'deno');
    return existsSync(bin) ? bin : createRequire(import.meta.url).resolve('deno/bin.cjs');
  } catch {
    return undefined;
  }
}

const deno = denoBinary();
if (deno === undefined) console.warn('deno.test.ts skipped: the deno npm package is not installed (npm install provides it)');

// Skipped only when the devDependency is missing; `npm install` installs it.
describe.skipIf(deno === undefined)('Deno 2', () => {
  const run = (args: string[]) =>
    spawnSync(deno!, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } });

  it('runs the CLI on the README example', () => {
    const r = run(['run', '--allow-read', '--allow-env', CLI, 'run', 'fixtures/examples/http-filter.asm', '--mem', 'fixtures/examples/http-syn.bin']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0x1\n');
    expect(r.status).toBe(0);
  });

  it('imports the library and runs a program with a JS helper', () => {
    // Inside the checkout, as a user's script would be: Deno resolves the
    // library's npm imports (acorn, astring) through the nearest package.json.
    const dir = mkdtempSync(join(ROOT, '.deno-smoke-'));
    const script = join(dir, 'smoke.mjs');
    const index = new URL('../dist/lib/index.js', import.meta.url).href;
    writeFileSync(script, [
      `import { Vm, MemoryAccessError } from ${JSON.stringify(index)};`,
      `const vm = new Vm({ helpers: { 7: (a, b) => a * b } });`,
      `const prog = vm.load('mov %r1, 6\\nmov %r2, 7\\ncall 7\\nexit');`,
      `console.log(prog.run().toString());`,
      `try { vm.load('ldxb %r0, [%r1]\\nexit').run(); } catch (e) { console.log(e instanceof MemoryAccessError, e.pc); }`,
    ].join('\n'));
    const r = run(['run', '--allow-read', script]);
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('42\ntrue 0\n');
  });

  it('reports errors with the same exit status as Node', () => {
    const args = ['run', 'fixtures/examples/missing.asm'];
    const r = run(['run', '--allow-read', '--allow-env', CLI, ...args]);
    expect(r.status).toBe(cli(args).status);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot read/);
  });
});
