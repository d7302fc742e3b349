// `ebpf-js run FILE --trace`: one line per executed instruction before the
// result, the same on both engines, C lines for ELF objects, a "trace" array
// with --json, the trace up to a fault, and the options it does not go with.
// Mostly in-process (runCommand); the last tests spawn the built CLI.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCommand } from '../lib/cli/run.js';
import { UsageError } from '../lib/errors.js';
import { cli } from './cli-helpers.js';
import { FIXTURES, ipv4Tcp } from './elf-helpers.js';

function capture(args: string[]): { status: number; stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = runCommand(args, (s) => stdout.push(s), (s) => stderr.push(s));
  if (typeof status !== 'number') throw new Error('runCommand returned a promise without --pcap');
  return { status, stdout: stdout.join('\n').split('\n'), stderr };
}

/** Runs; on an error, what was printed before it and the error. */
function captureError(args: string[]): { stdout: string[]; error: unknown } {
  const stdout: string[] = [];
  try {
    runCommand(args, (s) => stdout.push(s), () => {});
  } catch (error) {
    return { stdout: stdout.join('\n').split('\n'), error };
  }
  throw new Error('no error');
}

const dir = mkdtempSync(join(tmpdir(), 'ebpf-trace-cli-'));
const file = (name: string, content: string | Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

const ASM = file('calls.asm', `
  mov %r6, %r1
  mov32 %r2, -1
  stxw [%r6], %r2
  ldxh %r3, [%r6+2]
  lddw %r5, 0x1122334455667788
  mov %r1, 3
  call local f
  exit
f:
  mov %r0, %r1
  exit
`);
const FIREWALL = join(FIXTURES, 'xdp_firewall.o');
const PACKET = file('tcp.bin', ipv4Tcp(80));

describe('run --trace', () => {
  test('an assembly program: pcs, frames, disassembly, registers and memory, then r0; the same on both engines', () => {
    const interp = capture([ASM, '--mem-hex', '00 00 00 00', '--trace', '--engine', 'interp']);
    expect(interp.status).toBe(0);
    const address = /r6 = (0x[0-9a-f]+)/.exec(interp.stdout[0]!)![1]!;
    const plus2 = `0x${(BigInt(address) + 2n).toString(16)}`;
    expect(interp.stdout.map((l) => l.replace(/ +/g, ' '))).toEqual([
      ` 0: mov %r6, %r1 r6 = ${address}`,
      ' 1: mov32 %r2, -1 r2 = 0xffffffff',
      ` 2: stxw [%r6], %r2 store u32 [${address}] = 0xffffffff`,
      ` 3: ldxh %r3, [%r6+2] r3 = 0xffff, load u16 [${plus2}] = 0xffff`,
      ' 4: lddw %r5, 0x1122334455667788 r5 = 0x1122334455667788',
      ' 6: mov %r1, 3 r1 = 0x3',
      ' 7: call local +1',
      ' 9: mov %r0, %r1 r0 = 0x3',
      ' 10: exit',
      ' 8: exit',
      '0x3',
    ]);
    // The callee is indented one step.
    expect(interp.stdout[7]).toMatch(/^ {4}9: {3}mov %r0, %r1/);
    const jit = capture([ASM, '--mem-hex', '00 00 00 00', '--trace', '--engine', 'jit']);
    expect(jit).toEqual(interp);
  });

  test('an ELF program: C lines beside the instructions where they change; the same on both engines', () => {
    const interp = capture([FIREWALL, '--mem', PACKET, '--trace', '--engine', 'interp']);
    expect(interp.status).toBe(0);
    expect(interp.stdout.at(-1)).toBe('0x2 XDP_PASS');
    expect(interp.stdout[0]).toMatch(/^ {4}0: mov32 %r0, 0 +r0 = 0x0 +\/\/ \.\/xdp_firewall\.c:\d+: int xdp_firewall\(struct xdp_md \*ctx\)$/);
    expect(interp.stdout.some((l) => /call 1 +r0 = 0x0 *(\/\/|$)/.test(l))).toBe(true);
    expect(interp.stdout.filter((l) => l.includes('bpf_map_lookup_elem(&blocked')).length).toBe(1);
    expect(capture([FIREWALL, '--mem', PACKET, '--trace', '--engine', 'jit'])).toEqual(interp);
  });

  test('--json: a "trace" array with hex values, instructions and C lines', () => {
    const r = capture([FIREWALL, '--mem', PACKET, '--trace', '--json']);
    const doc = JSON.parse(r.stdout.join('\n'));
    expect(doc).toMatchObject({ program: 'xdp_firewall', result: '0x2', verdict: 'XDP_PASS' });
    expect(doc.trace[0]).toMatchObject({
      program: 'xdp_firewall', pc: 0, frame: 1, insn: 'mov32 %r0, 0', registers: [{ reg: 0, value: '0x0' }], memory: [],
      line: { file: './xdp_firewall.c', text: 'int xdp_firewall(struct xdp_md *ctx)' },
    });
    expect(doc.trace[1].memory[0]).toMatchObject({ kind: 'load', size: 4 });
    expect(doc.trace[1].memory[0].address).toMatch(/^0x[0-9a-f]+$/);
    const asm = JSON.parse(capture([ASM, '--mem-hex', '00 00 00 00', '--trace', '--json']).stdout.join('\n'));
    expect(asm).toMatchObject({ result: '0x3', runs: 1 });
    expect(asm.trace.map((e: { pc: number }) => e.pc)).toEqual([0, 1, 2, 3, 4, 6, 7, 9, 10, 8]);
    expect(asm.trace[4]).toEqual({ program: 'prog', pc: 4, frame: 1, insn: 'lddw %r5, 0x1122334455667788', registers: [{ reg: 5, value: '0x1122334455667788' }], memory: [] });
  });

  test('a tail call names the program it switches to', () => {
    // The first packet byte picks the slot: 1 is prog_b (XDP_TX).
    const r = capture([join(FIXTURES, 'tail_dispatch.o'), '--program', 'dispatch', '--mem-hex', '01 00', '--trace']);
    expect(r.status).toBe(0);
    const at = r.stdout.indexOf('-> prog_b');
    expect(r.stdout[at - 1]).toMatch(/^ +\d+: call 12$/);
    expect(r.stdout.slice(at + 1)).toEqual([expect.stringMatching(/^ {4}0: mov32 %r0, 3 +r0 = 0x3 +\/\/ .*tail_dispatch\.c:\d+: return XDP_TX;$/), '    1: exit', '0x3 XDP_TX']);
  });

  test('a fault: the trace up to it, then the error (with --json, the trace and the error)', () => {
    const bad = file('bad.asm', 'mov %r2, 7\nldxw %r0, [%r1+8]\nexit\n');
    for (const engine of ['interp', 'jit']) {
      const r = captureError([bad, '--mem-hex', '00 00 00 00', '--trace', '--engine', engine]);
      expect(r.stdout).toEqual([expect.stringMatching(/^ {4}0: mov %r2, 7 +r2 = 0x7$/)]);
      expect(String(r.error)).toMatch(/pc 1/);
      const json = captureError([bad, '--mem-hex', '00 00 00 00', '--trace', '--json', '--engine', engine]);
      const doc = JSON.parse(json.stdout.join('\n'));
      expect(doc.trace.map((e: { pc: number }) => e.pc)).toEqual([0]);
      expect(doc.error).toMatch(/pc 1/);
    }
  });

  test('a trace_printk line comes after the trace lines before its call, not before the whole trace', () => {
    const printk = file('printk.asm', [
      'mov %r6, 1', 'stw [%r10-8], 0x216948', 'mov %r1, %r10', 'add %r1, -8', 'mov %r2, 4', 'call 6', 'mov %r0, 0', 'exit',
    ].join('\n'));
    for (const engine of ['interp', 'jit']) {
      const log: string[] = [];
      expect(runCommand([printk, '--trace', '--engine', engine], (s) => log.push(`out ${s}`), (s) => log.push(`err ${s}`))).toBe(0);
      const at = log.indexOf('err Hi!');
      expect(at).toBeGreaterThan(0);
      expect(log.slice(0, at).join('\n')).toMatch(/4: mov %r2, 4/);
      expect(log.slice(at).join('\n')).toMatch(/5: call 6 +r0 = 0x3/);
    }
  });

  test('a run without --trace prints only the result', () => {
    expect(capture([ASM, '--mem-hex', '00 00 00 00']).stdout).toEqual(['0x3']);
  });

  test('--trace does not go with --repeat; with --pcap, not with --json or workers; --packet needs both', () => {
    const refused = (args: string[], message: RegExp) => {
      expect(() => runCommand(args, () => {}, () => {})).toThrow(UsageError);
      expect(() => runCommand(args, () => {}, () => {})).toThrow(message);
    };
    refused([ASM, '--trace', '--repeat', '3'], /--trace does not go with --repeat/);
    refused([FIREWALL, '--trace', '--pcap', 'x.pcap', '--json'], /leave out --json/);
    refused([FIREWALL, '--trace', '--pcap', 'x.pcap', '--workers', '2'], /leave out --workers/);
    refused([FIREWALL, '--pcap', 'x.pcap', '--packet', '1'], /--packet picks the packets --trace traces with --pcap/);
    refused([FIREWALL, '--trace', '--mem-hex', '00', '--packet', '1'], /--packet picks/);
    refused([FIREWALL, '--trace', '--pcap', 'x.pcap', '--packet', '1,x'], /--packet takes packet numbers/);
  });
});

describe('--trace over a capture', () => {
  const TRAFFIC = join(FIXTURES, '..', 'pcap', 'traffic.pcap');
  const STATS = join(FIXTURES, 'xdp_stats.o');
  async function traced(args: string[]): Promise<string[]> {
    const stdout: string[] = [];
    const status = await runCommand([STATS, '--pcap', TRAFFIC, '--trace', ...args], (s) => stdout.push(s), () => {});
    expect(status).toBe(0);
    return stdout.join('\n').split('\n');
  }

  test('--packet N,M: those packets\' traces, each under its heading and followed by its verdict, then the report; both engines alike', async () => {
    const jit = await traced(['--packet', '1,3', '--engine', 'jit']);
    const interp = await traced(['--packet', '1', '--packet', '3', '--engine', 'interp']);
    expect(interp).toEqual(jit.map((l) => l.replace(/ jit,/, ' interp,')).map((l, i) => (/packets\/s/.test(l) ? interp[i]! : l)));
    const headings = jit.filter((l) => l.startsWith('== '));
    expect(headings).toEqual(['== packet 1 (103 bytes)', '== verdict: XDP_PASS (0x2)', '== packet 3 (62 bytes)', '== verdict: XDP_PASS (0x2)']);
    const first = jit.indexOf('== packet 1 (103 bytes)');
    // Each packet's trace starts afresh at pc 0 with its C line, and ends with exit.
    expect(jit[first + 1]).toMatch(/^ +0: mov32 %r0, 0 +r0 = 0x0 +\/\/ \.\/xdp_stats\.c:\d+:/);
    expect(jit[jit.indexOf('== packet 3 (62 bytes)') + 1]).toMatch(/\/\/ \.\/xdp_stats\.c:/);
    expect(jit[jit.indexOf('== verdict: XDP_PASS (0x2)') - 1]).toMatch(/: exit\b/);
    // Then the usual report of every packet.
    expect(jit.some((l) => /^3,073 packets in /.test(l))).toBe(true);
  });

  test('without --packet every packet is traced; --verbose lines come among them, in order', async () => {
    const lines = await traced(['--verbose']);
    const packets = lines.filter((l) => l.startsWith('== packet '));
    expect(packets).toHaveLength(3073);
    expect(packets[2]).toMatch(/^== packet 2 \(/);
    const verdict = lines.indexOf('== verdict: XDP_PASS (0x2)');
    expect(lines[verdict + 1]).toMatch(/^ +0 +0\.000000 +75 +XDP_PASS$/);
    expect(lines[verdict + 2]).toBe('== packet 1 (103 bytes)');
  });

  test('--packet numbers that were not traced (past the end) get a warning', async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const status = await runCommand([STATS, '--pcap', TRAFFIC, '--trace', '--packet', '5,99999'], (s) => stdout.push(s), (s) => stderr.push(s));
    expect(status).toBe(0);
    expect(stdout.join('\n')).toContain('== packet 5 (');
    expect(stderr).toEqual(["ebpf-js: warning: --packet 99999: not traced (the capture's packets are 0 to 3072; skipped packets are not run)"]);
  });

  test('the capture runner traces only with one worker', async () => {
    const { runCapture } = await import('../lib/capture/index.js');
    await expect(runCapture({ spec: { kind: 'elf', bytes: new Uint8Array(0) }, workers: 2, trace: () => undefined }, [])).rejects.toThrow(/trace needs workers: 1/);
  });
});

describe('the built CLI', () => {
  test('prints the same trace on both engines, for assembly and an ELF object', () => {
    for (const args of [[ASM, '--mem-hex', '00 00 00 00'], [FIREWALL, '--mem', PACKET]]) {
      const interp = cli(['run', ...args, '--trace', '--engine', 'interp']);
      expect(interp.status).toBe(0);
      expect(interp.stdout.split('\n').length).toBeGreaterThan(10);
      expect(cli(['run', ...args, '--trace', '--engine', 'jit'])).toEqual(interp);
    }
  });

  test('control characters (from a path, a name, a C line) reach neither stdout nor stderr raw', () => {
    const r = cli(['run', 'no\x1b[31mfile.asm']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('ebpf-js: cannot read no\\x1b[31mfile.asm: ENOENT\n');
  });

  test('a bad combination is a one-line error, status 2', () => {
    const r = cli(['run', ASM, '--trace', '--repeat', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--trace does not go with --repeat/);
  });
});
