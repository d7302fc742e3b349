// `ebpf-js run prog.o ...` and `ebpf-js inspect prog.o`, called in-process
// (the subcommand functions main.ts dispatches to).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { inspectCommand } from '../lib/cli/inspect.js';
import { runCommand } from '../lib/cli/run.js';
import { UsageError } from '../lib/errors.js';
import { cli } from './cli-helpers.js';
import { FIXTURES, ipv4Tcp } from './elf-helpers.js';

function capture(fn: (out: (s: string) => void, err: (s: string) => void) => number): { status: number; stdout: string; stderr: string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = fn((s) => stdout.push(s), (s) => stderr.push(s));
  return { status, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

const obj = (name: string) => join(FIXTURES, `${name}.o`);
const dir = mkdtempSync(join(tmpdir(), 'ebpf-elf-cli-'));
const packetFile = (name: string, bytes: Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

describe('ebpf-js run prog.o', () => {
  test('an xdp program by section, with its verdict named, on both engines', () => {
    const mem = packetFile('one.bin', new Uint8Array([1]));
    for (const engine of ['interp', 'jit']) {
      const r = capture((out, err) => runCommand([obj('calls'), '--section', 'xdp', '--mem', mem, '--engine', engine], out, err));
      expect(r).toMatchObject({ status: 0, stdout: '0x1 XDP_DROP' });
    }
  });

  test('a socket filter by program name in an __sk_buff context; --json', () => {
    const mem = packetFile('http.bin', ipv4Tcp(80));
    const r = capture((out, err) => runCommand([obj('socket_filter'), '--program', 'http_filter', '--mem', mem, '--json'], out, err));
    expect(JSON.parse(r.stdout)).toMatchObject({ program: 'http_filter', section: 'socket', result: `0x${ipv4Tcp(80).length.toString(16)}` });
    const tc = capture((out, err) => runCommand([obj('socket_filter'), '--section', 'tc', '--mem', mem], out, err));
    expect(tc.stdout).toBe('0x0 TC_ACT_OK');
  });

  test('--ctx raw gives the bytes themselves; --repeat reports a time', () => {
    const mem = packetFile('three.bin', new Uint8Array([1, 2, 3]));
    const r = capture((out, err) => runCommand([obj('calls'), '--program', 'calls_socket', '--mem', mem, '--repeat', '3'], out, err));
    expect(r.stdout).toBe('0xbd');
    expect(r.stderr).toMatch(/3 runs, .* ns\/run \(calls_socket\)/);
  });

  test('a run-time fault names the C line of its pc', () => {
    const mem = packetFile('ctx.bin', new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0])); // data 0, data_end 256
    expect(() => runCommand([obj('xdp_firewall'), '--ctx', 'raw', '--mem', mem], () => {}, () => {}))
      .toThrow(/invalid memory load .* at pc \d+ \(xdp_firewall, .*xdp_firewall\.c:54: if \(eth->h_proto/);
  });

  test('usage errors: several programs, unknown names, options for non-objects', () => {
    expect(() => runCommand([obj('socket_filter')], () => {}, () => {})).toThrow(/3 programs .*give --section or --program/);
    expect(() => runCommand([obj('socket_filter'), '--section', 'socket'], () => {}, () => {})).toThrow(/holds 2 programs/);
    expect(() => runCommand([obj('calls'), '--program', 'nope'], () => {}, () => {})).toThrow(/no program named nope; programs: calls_xdp \(xdp\), calls_socket \(socket\)/);
    expect(() => runCommand([obj('calls'), '--section', 'xdp', '--ctx', 'bogus'], () => {}, () => {})).toThrow(UsageError);
    const asm = packetFile('p.asm', new TextEncoder().encode('mov r0, 1\nexit\n'));
    expect(() => runCommand([asm, '--section', 'xdp'], () => {}, () => {})).toThrow(/are for ELF objects/);
  });
});

describe('ebpf-js inspect prog.o', () => {
  test('programs, maps and global data', () => {
    const r = capture((out) => inspectCommand([obj('config_counters')], out));
    expect(r.stdout).toContain('license: GPL');
    expect(r.stdout).toMatch(/config_counters {2}section xdp {2}kind xdp {2}\d+ insns/);
    expect(r.stdout).toMatch(/\.rodata {2}\d+ bytes {2}read-only to programs/);
    expect(r.stdout).toMatch(/\.bss {2}24 bytes/);
    expect(r.stdout).toMatch(/btf: \d+ types/);
    expect(r.stdout).toContain('    max_len = 1000');
    expect(r.stdout).toContain('    iface = "eth0"');
    expect(r.stdout).toContain('    packets = 0');
    const legacy = capture((out) => inspectCommand([obj('legacy_maps'), '--json'], out));
    const parsed = JSON.parse(legacy.stdout);
    expect(parsed.maps.map((m: { name: string; type: string }) => `${m.name}:${m.type}`)).toEqual(['ethertype_packets:hash', 'proto_bytes:array']);
    expect(parsed.programs).toEqual([{ name: 'legacy_count', section: 'socket', kind: 'socket', insns: expect.any(Number) }]);
  });

  test('needs exactly one file', () => {
    expect(() => inspectCommand([], () => {})).toThrow(/usage: ebpf-js inspect/);
  });
});

describe('the built CLI (dist/, as npm test builds it)', () => {
  test('dispatches inspect and runs objects; errors exit 1 or 2 with one line', () => {
    const inspect = cli(['inspect', 'fixtures/elf/calls.o']);
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toMatch(/calls_xdp {2}section xdp/);
    const run = cli(['run', 'fixtures/elf/tail_dispatch.o', '--program', 'dispatch', '--mem-hex', '01']);
    expect(run).toMatchObject({ status: 0, stdout: '0x3 XDP_TX\n' });
    const several = cli(['run', 'fixtures/elf/calls.o']);
    expect(several.status).toBe(2);
    expect(several.stderr).toMatch(/^ebpf-js: the object has 2 programs/);
    const broken = cli(['inspect', 'package.json']);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/^ebpf-js: bad magic: not an ELF file/);
  });
});
