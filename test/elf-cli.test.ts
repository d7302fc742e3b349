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

function capture(fn: (out: (s: string) => void, err: (s: string) => void) => number | Promise<number>): { status: number; stdout: string; stderr: string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = fn((s) => stdout.push(s), (s) => stderr.push(s));
  // Only `run --pcap` is asynchronous; these runs are not.
  if (typeof status !== 'number') throw new Error('runCommand returned a promise without --pcap');
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
    expect(parsed.programs).toEqual([{ name: 'legacy_count', section: 'socket', kind: 'socket', insns: expect.any(Number), sourceFiles: ['./legacy_maps.c'] }]);
    expect(parsed.btf).toMatchObject({ types: expect.any(Number), datasecs: expect.arrayContaining(['maps', 'license']) });
    expect(parsed.externs).toEqual([]);
  });

  test('map key/value types, the BTF summary and each program\'s source file', () => {
    const r = capture((out) => inspectCommand([obj('xdp_firewall')], out));
    expect(r.stdout).toMatch(/blocked {2}hash {2}key 4 {2}value 1 {2}max_entries 1024 {2}\(__u32 -> __u8\)/);
    expect(r.stdout).toMatch(/stats {2}percpu_array {2}key 4 {2}value 16 {2}max_entries 3 {2}\(__u32 -> struct counters\)/);
    expect(r.stdout).toMatch(/btf: \d+ types \(.*\d+ struct.*\d+ datasec/);
    expect(r.stdout).toMatch(/ {2}datasecs: .*\.maps/);
    expect(r.stdout).toMatch(/xdp_firewall {2}section xdp {2}kind xdp {2}\d+ insns {2}lines from \.\/xdp_firewall\.c/);
    expect(r.stdout).not.toContain('externs');
  });

  test('externs: kconfig values from --kconfig and --kconfig-file, their source, weak ksyms', () => {
    const config = packetFile('config', new TextEncoder().encode('# a kernel .config\nCONFIG_BPF_JIT=m\n# CONFIG_BPF_SYSCALL is not set\nCONFIG_HZ=1000\nCONFIG_DEFAULT_HOSTNAME="(none)"\n'));
    const r = capture((out) => inspectCommand([obj('kconfig'), '--kconfig-file', config, '--kconfig', 'CONFIG_HZ=250'], out));
    expect(r.stdout).toContain('externs (8):');
    expect(r.stdout).toMatch(/CONFIG_HZ {2}__kconfig {2}int {2}\.kconfig\+12 {2}= 250 \(option\)/);
    expect(r.stdout).toMatch(/CONFIG_BPF_JIT {2}__kconfig {2}enum libbpf_tristate {2}\.kconfig\+8 {2}= 2 \(option\)/);
    expect(r.stdout).toMatch(/CONFIG_BPF_SYSCALL {2}__kconfig {2}_Bool .* = false \(option\)/);
    expect(r.stdout).toMatch(/CONFIG_DEFAULT_HOSTNAME {2}__kconfig {2}char\[16\] .* = "\(none\)" \(option\)/);
    expect(r.stdout).toMatch(/LINUX_KERNEL_VERSION {2}__kconfig {2}unsigned int {2}\.kconfig\+16 {2}= 395264 \(default\)/);
    expect(r.stdout).toMatch(/CONFIG_X86 {2}__kconfig weak {2}char .* = 0 \(not given: 0\)/);
    expect(r.stdout).toMatch(/CONFIG_NOT_SET {2}__kconfig weak {2}__u64 {2}\.kconfig\+0 {2}= 0 \(not given: 0\)/);
    expect(r.stdout).toMatch(/bpf_prog_active {2}__ksym weak {2}= 0/);
    expect(r.stdout).not.toMatch(/^ {2}\.kconfig/m); // the extern map is listed as externs, not as a map
    const json = JSON.parse(capture((out) => inspectCommand([obj('kconfig'), '--json', '--kconfig-file', config], out)).stdout);
    expect(json.externs.find((e: { name: string }) => e.name === 'CONFIG_HZ')).toMatchObject({ kind: 'kconfig', value: '1000', seen: 1000, source: 'option', offset: 12, size: 4 });
    expect(() => inspectCommand([obj('kconfig')], () => {})).toThrow(/kconfig extern\(s\) CONFIG_BPF_JIT, .* have no value/);
    expect(() => inspectCommand([obj('kconfig'), '--kconfig', 'CONFIG_HZ'], () => {})).toThrow(/--kconfig line 1: expected NAME=VALUE/);
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
    const kconfig = ['--kconfig', 'CONFIG_BPF_SYSCALL=y', '--kconfig', 'CONFIG_HZ=250', '--kconfig', 'CONFIG_DEFAULT_HOSTNAME=lab'];
    const mem = ['--mem-hex', '00'];
    // kconfig.c returns XDP_TX when CONFIG_BPF_JIT is m, XDP_PASS when y; without values its strong externs do not load.
    expect(cli(['run', 'fixtures/elf/kconfig.o', ...mem, ...kconfig, '--kconfig', 'CONFIG_BPF_JIT=m'])).toMatchObject({ status: 0, stdout: '0x3 XDP_TX\n' });
    expect(cli(['run', 'fixtures/elf/kconfig.o', ...mem, ...kconfig, '--kconfig', 'CONFIG_BPF_JIT=y'])).toMatchObject({ status: 0, stdout: '0x2 XDP_PASS\n' });
    const missing = cli(['run', 'fixtures/elf/kconfig.o', ...mem]);
    expect(missing.status).toBe(1);
    // The message names both ways of giving values: the API's option and the command line's.
    expect(missing.stderr).toMatch(/^ebpf-js: kconfig extern\(s\) CONFIG_BPF_JIT, .* have no value: give them values \(loadObject's kconfig option, or --kconfig NAME=VALUE on the command line\) or declare them __weak to get 0/);
    const overPcap = cli(['run', 'fixtures/elf/kconfig.o', '--pcap', 'fixtures/pcap/traffic.pcap', '--json', ...kconfig, '--kconfig', 'CONFIG_BPF_JIT=m']);
    expect(overPcap.status).toBe(0);
    expect(JSON.stringify(JSON.parse(overPcap.stdout))).toMatch(/"XDP_TX":3073/);
    expect(cli(['run', 'fixtures/examples/http-filter.asm', '--kconfig', 'A=1']).stderr).toMatch(/--kconfig are for ELF objects/);
    const broken = cli(['inspect', 'package.json']);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/^ebpf-js: bad magic: not an ELF file/);
  });
});
