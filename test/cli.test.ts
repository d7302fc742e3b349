import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli } from './cli-helpers.js';

const FILTER = 'fixtures/examples/http-filter.asm';
const SYN = 'fixtures/examples/http-syn.bin';
const DNS = 'fixtures/examples/dns-query.bin';

let tmp: string;
beforeAll(() => {
  // npm test builds first; the CLI is the built one, as a user runs it.
  expect(existsSync(CLI), `${CLI} missing: run npm run build`).toBe(true);
  tmp = mkdtempSync(join(tmpdir(), 'ebpf-js-cli-'));
});

describe('ebpf-js run', () => {
  it('runs the README example: the filter accepts the HTTP SYN and drops the DNS query', () => {
    const syn = cli(['run', FILTER, '--mem', SYN]);
    expect(syn.stderr).toBe('');
    expect(syn.stdout).toBe('0x1\n');
    expect(syn.status).toBe(0);
    expect(cli(['run', FILTER, '--mem', DNS]).stdout).toBe('0x0\n');
  });

  it('takes memory as hex and passes its length in r2', () => {
    writeFileSync(join(tmp, 'len.asm'), 'mov %r0, %r2\nexit\n');
    expect(cli(['run', join(tmp, 'len.asm'), '--mem-hex', '00 01 02 03 04']).stdout).toBe('0x5\n');
    writeFileSync(join(tmp, 'r1.asm'), 'mov %r0, %r1\nexit\n');
    expect(cli(['run', join(tmp, 'r1.asm')]).stdout).toBe('0x0\n');
  });

  it('runs raw bytecode assembled by `asm -o`, and disasm prints it back', () => {
    const out = join(tmp, 'filter.bin');
    const a = cli(['asm', FILTER, '-o', out]);
    expect(a.status).toBe(0);
    expect(readFileSync(out).length % 8).toBe(0);
    expect(cli(['run', out, '--mem', SYN]).stdout).toBe('0x1\n');
    const d = cli(['disasm', out]);
    expect(d.status).toBe(0);
    expect(d.stdout).toMatch(/^mov %r0, 0\n/);
    expect(d.stdout).toMatch(/be16 %r3/);
    writeFileSync(join(tmp, 'again.asm'), d.stdout);
    expect(cli(['run', join(tmp, 'again.asm'), '--mem', SYN]).stdout).toBe('0x1\n');
  });

  it('--repeat with --json prints one JSON line', () => {
    const r = cli(['run', FILTER, '--mem', SYN, '--repeat', '50', '--json']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j.result).toBe('0x1');
    expect(j.runs).toBe(50);
    expect(typeof j.ns_per_run).toBe('number');
    expect(j.ns_per_run).toBeGreaterThan(0);
  });

  it('prints 64-bit results in hex', () => {
    writeFileSync(join(tmp, 'big.asm'), 'lddw %r0, 0xfedcba9876543210\nexit\n');
    expect(cli(['run', join(tmp, 'big.asm')]).stdout).toBe('0xfedcba9876543210\n');
  });

  it('reports errors as one line on stderr with a non-zero exit', () => {
    const missing = cli(['run', join(tmp, 'nope.asm')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/cannot read/);

    writeFileSync(join(tmp, 'bad.bin'), Uint8Array.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]));
    const bad = cli(['run', join(tmp, 'bad.bin')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/at pc 0/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);

    writeFileSync(join(tmp, 'syntax.asm'), 'mov %r0, 1\nldxq %r0, %r1\nexit\n');
    const syn = cli(['run', join(tmp, 'syntax.asm')]);
    expect(syn.status).toBe(1);
    expect(syn.stderr).toMatch(/line 2/);

    writeFileSync(join(tmp, 'oob.asm'), 'ldxw %r0, [%r1+100]\nexit\n');
    const oob = cli(['run', join(tmp, 'oob.asm'), '--mem-hex', '00 01']);
    expect(oob.status).toBe(1);
    expect(oob.stderr).toMatch(/invalid memory load of 4 bytes.*at pc 0/);

    writeFileSync(join(tmp, 'loop.asm'), 'loop:\nadd %r0, 1\nja loop\n');
    const loop = cli(['run', join(tmp, 'loop.asm'), '--budget', '1000']);
    expect(loop.status).toBe(1);
    expect(loop.stderr).toMatch(/budget of 1000 exceeded/);
  });

  it('runs on either engine, the JIT by default', () => {
    for (const engine of ['jit', 'interp']) {
      expect(cli(['run', FILTER, '--engine', engine, '--mem', SYN]).stdout).toBe('0x1\n');
    }
    const r = cli(['run', FILTER, '--mem', SYN, '--repeat', '10']);
    expect(r.stderr).toMatch(/ns\/run \(jit\)/);
  });

  it('prints the generated JavaScript with `jit`', () => {
    const r = cli(['jit', FILTER]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/function f0\(r1, r1h/);
    expect(r.stdout).toMatch(/\/\/ pc 0\.\./);
    expect(r.stdout).toMatch(/be16 %r3/);
  });

  it('rejects bad options with a usage error', () => {
    expect(cli(['run', FILTER, '--repeat', 'x']).status).toBe(2);
    expect(cli(['run', FILTER, '--engine', 'fast']).stderr).toMatch(/--engine must be one of/);
    expect(cli(['frobnicate']).status).toBe(2);
    expect(cli(['help']).stdout).toMatch(/conformance-plugin/);
    for (const command of ['run', 'jit', 'conformance']) {
      const help = cli([command, '--help']);
      expect([help.status, help.stdout]).toEqual([0, expect.stringContaining('--budget N')]);
    }
    const helpers = cli(['run', FILTER, '--helpers', 'bpf']);
    expect(helpers.status).toBe(2);
    expect(helpers.stderr).toMatch(/--helpers must be linux or conformance/);
  });

  it('has Linux\'s helpers by default, trace_printk lines on stderr', () => {
    // trace_printk("ok %d\n", 7, 42), then r0 = bpf_get_smp_processor_id() + 5.
    writeFileSync(join(tmp, 'printk.asm'), [
      'lddw %r1, 0x000a6425206b6f', 'stxdw [%r10-8], %r1', 'mov %r1, %r10', 'add %r1, -8', 'mov %r2, 7', 'mov %r3, 42',
      'call 6', 'call 8', 'add %r0, 5', 'exit', '',
    ].join('\n'));
    for (const engine of ['jit', 'interp']) {
      const r = cli(['run', join(tmp, 'printk.asm'), '--engine', engine]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('0x5\n');
      expect(r.stderr).toMatch(/ok 42\n$/);
    }
    expect(cli(['help']).stdout).toMatch(/--helpers linux\|conformance/);
  });

  it('--helpers conformance gives the suite\'s helpers 0-5 instead', () => {
    // gather_bytes(1, 2, 3, 4, 5) is helper 0 there; Linux has no helper 0.
    writeFileSync(join(tmp, 'gather.asm'), 'mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 0\nexit\n');
    const r = cli(['run', join(tmp, 'gather.asm'), '--helpers', 'conformance']);
    expect(r.stdout).toBe('0x102030405\n');
    const linux = cli(['run', join(tmp, 'gather.asm')]);
    expect(linux.status).toBe(1);
    expect(linux.stderr).toMatch(/unknown helper 0 at pc 5/);
    expect(cli(['jit', join(tmp, 'gather.asm')]).status).toBe(1);
    expect(cli(['jit', join(tmp, 'gather.asm'), '--helpers', 'conformance']).stdout).toMatch(/CALL\(0, 5/);
  });
});

describe('ebpf-js conformance', () => {
  it('prints PASS/FAIL per file and a last summary line, exit 1 on failure', () => {
    const dir = join(tmp, 'cases');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'ok.data'), '-- asm\nmov %r0, 7\nexit\n-- result\n0x7\n');
    writeFileSync(join(dir, 'sub', 'wrong.data'), '-- asm\nmov %r0, 7\nexit\n-- result\n0x8\n');
    writeFileSync(join(dir, 'sub', 'err.data'), '-- asm\nldxb %r0, [%r1]\nexit\n-- error\nNULL\n');
    const r = cli(['conformance', dir]);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('2 passed, 1 failed');
    expect(lines.some((l) => l.startsWith('PASS') && l.endsWith('ok.data'))).toBe(true);
    expect(lines.some((l) => l.startsWith('FAIL') && l.includes('wrong.data') && l.includes('expected 0x8, got 0x7'))).toBe(true);
    expect(r.status).toBe(1);
    const ok = cli(['conformance', join(dir, 'ok.data')]);
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim().split('\n').at(-1)).toBe('1 passed, 0 failed');
  });

  it('runs our own fixtures with no failure on both engines', () => {
    for (const engine of ['jit', 'interp']) {
      const r = cli(['conformance', '--quiet', '--engine', engine, 'fixtures']);
      expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
      expect(r.status).toBe(0);
    }
  });
});

describe('ebpf-js conformance-plugin', () => {
  const MOV42 = 'b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00\n';
  it('reads the program as hex on stdin and prints r0', () => {
    const r = cli(['conformance-plugin'], MOV42);
    expect(r.stdout).toBe('0x2a\n');
    expect(r.status).toBe(0);
    expect(cli(['conformance-plugin', '--interpret'], MOV42).stdout).toBe('0x2a\n');
  });

  it('takes memory as the first argument', () => {
    // ldxw r0, [r1+0]; exit
    const r = cli(['conformance-plugin', '78 56 34 12'], '61 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00\n');
    expect(r.stdout).toBe('0x12345678\n');
  });

  it('calls the suite helpers, 5 unwinding on 0', () => {
    // mov r1, 0; call 5; mov r0, 2; exit  -> unwinds with r0 = 0
    const prog = 'b7 01 00 00 00 00 00 00 85 00 00 00 05 00 00 00 b7 00 00 00 02 00 00 00 95 00 00 00 00 00 00 00\n';
    expect(cli(['conformance-plugin'], prog).stdout).toBe('0x0\n');
  });

  it('prints one line and exits 1 on a load or run error', () => {
    const r = cli(['conformance-plugin'], 'ff 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00\n');
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/pc 0/);
    expect(cli(['conformance-plugin', '--jit'], MOV42).stdout).toBe('0x2a\n');
    const j = cli(['conformance-plugin', '--jit'], 'ff 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00\n');
    expect(j.status).toBe(1);
    expect(j.stdout).toMatch(/pc 0/);
  });
});

describe('ebpf-js cfg (the built CLI)', () => {
  it('dispatches cfg: DOT by default, the tail-call block marked; usage errors exit 2', () => {
    const r = cli(['cfg', 'fixtures/elf/tail_dispatch.o', '--program', 'dispatch']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^digraph "dispatch" \{/);
    expect(r.stdout).toContain('tail call');
    const svg = cli(['cfg', 'fixtures/elf/tail_dispatch.o', '--program', 'dispatch', '--format', 'svg']);
    expect(svg.stdout).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const bad = cli(['cfg', 'fixtures/elf/tail_dispatch.o']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^ebpf-js: the object has 3 programs/);
  });
});
