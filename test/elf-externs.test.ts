// Extern symbols (fixtures/elf/kconfig.o): `__kconfig` values from the
// loader's kconfig option encoded as libbpf encodes them, LINUX_KERNEL_VERSION's
// default, weak externs as 0, strong unresolved externs and __ksyms as
// ElfErrors naming them; and .rodata frozen at the Vm's first run.

import { describe, expect, test } from 'vitest';
import { parseBtf } from '../lib/btf/index.js';
import { DEFAULT_KERNEL_VERSION, loadObject, readElfSections } from '../lib/elf/index.js';
import { UsageError } from '../lib/errors.js';
import { ArrayMap, MapError } from '../lib/index.js';
import { XDP_DROP, XDP_PASS, XDP_TX } from '../lib/retcodes.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';
import { elfError, fixture, FIXTURE_KCONFIG, patchSymbol, runXdp } from './elf-helpers.js';

const CONFIG = FIXTURE_KCONFIG;
const kver = (a: number, b: number, c: number) => (a << 16) + (b << 8) + c;

describe.each(AVAILABLE_ENGINES)('kconfig externs on %s', (engine) => {
  test('values from the kconfig option, the kernel version default, weak externs 0', () => {
    const vm = new Vm();
    const obj = loadObject(vm, fixture('kconfig'), { kconfig: CONFIG });
    expect(runXdp(vm, obj.program('kconfig_report').prog, new Uint8Array(20), engine)).toBe(BigInt(XDP_PASS));
    expect(obj.globals('.bss').report).toEqual({
      version: DEFAULT_KERNEL_VERSION, jit: 1, syscall: 1, x86: 0, pad: 0, hz: 250, not_set: 0n, ksym: 0n, hostname: 'ebpf-js',
    });
    expect(DEFAULT_KERNEL_VERSION).toBe(kver(6, 8, 0));
  });

  test('tristate m, char y, negative int, u64, truncated string, kernel version override', () => {
    const vm = new Vm();
    const obj = loadObject(vm, fixture('kconfig'), {
      kconfig: { ...CONFIG, CONFIG_BPF_JIT: 'm', CONFIG_X86: 'y', CONFIG_HZ: '-0x10', CONFIG_NOT_SET: 2n ** 64n - 1n,
        CONFIG_DEFAULT_HOSTNAME: 'a-hostname-longer-than-16', CONFIG_BPF_SYSCALL: 'n' },
    });
    const prog = obj.program('kconfig_report').prog;
    expect(runXdp(vm, prog, new Uint8Array(20), engine)).toBe(BigInt(XDP_TX));
    expect(obj.globals('.bss').report).toMatchObject({
      jit: 2, syscall: 0, x86: 'y'.charCodeAt(0), hz: -16, not_set: 2n ** 64n - 1n, hostname: 'a-hostname-long',
    });
    const old = loadObject(vm, fixture('kconfig'), { kconfig: { ...CONFIG, LINUX_KERNEL_VERSION: kver(5, 4, 0) } });
    expect(runXdp(vm, old.program('kconfig_report').prog, new Uint8Array(20), engine)).toBe(BigInt(XDP_DROP));
    expect(old.globals('.bss').report).toMatchObject({ version: kver(5, 4, 0) });
  });
});

test('the .kconfig map: read-only to programs, frozen, laid out as libbpf lays it out; externs listed', () => {
  const vm = new Vm();
  const obj = loadObject(vm, fixture('kconfig'), { kconfig: { ...CONFIG, CONFIG_UNUSED: 5 } });
  const map = obj.map('.kconfig') as ArrayMap;
  expect(map.frozen).toBe(true);
  expect(() => map.set(0, new Uint8Array(map.valueSize))).toThrow(MapError);
  expect(map.flags & 0x80).toBe(0x80); // BPF_F_RDONLY_PROG
  // 8-byte first, then 4-byte (by size, then name), then 1-byte.
  expect(obj.externs.map((e) => [e.name, e.offset, e.size, e.source])).toEqual([
    ['CONFIG_NOT_SET', 0, 8, 'weak'],
    ['CONFIG_BPF_JIT', 8, 4, 'option'], ['CONFIG_HZ', 12, 4, 'option'], ['LINUX_KERNEL_VERSION', 16, 4, 'default'],
    ['CONFIG_BPF_SYSCALL', 20, 1, 'option'], ['CONFIG_X86', 21, 1, 'weak'], ['CONFIG_DEFAULT_HOSTNAME', 22, 16, 'option'],
    ['bpf_prog_active', undefined, undefined, 'weak'],
  ]);
  expect(obj.externs.find((e) => e.name === 'CONFIG_BPF_JIT')).toMatchObject({ kind: 'kconfig', weak: false, type: 'enum libbpf_tristate', value: 'y' });
  expect(obj.externs.find((e) => e.name === 'bpf_prog_active')).toMatchObject({ kind: 'ksym', weak: true });
  expect(map.get(0)!.subarray(8, 12)).toEqual(new Uint8Array([1, 0, 0, 0]));
});

test('strong externs without a value: an ElfError naming each; nothing left in the Vm', () => {
  const vm = new Vm();
  const e = elfError(() => loadObject(vm, fixture('kconfig')));
  expect(e.message).toMatch(/kconfig extern\(s\) CONFIG_BPF_JIT, CONFIG_BPF_SYSCALL, CONFIG_DEFAULT_HOSTNAME, CONFIG_HZ have no value/);
  expect(e.section).toMatch(/\.symtab/);
  expect(vm.maps.list()).toHaveLength(0);
  const partial = elfError(() => loadObject(vm, fixture('kconfig'), { kconfig: { CONFIG_BPF_JIT: 'y', CONFIG_BPF_SYSCALL: true, CONFIG_HZ: 1 } }));
  expect(partial.message).toMatch(/extern\(s\) CONFIG_DEFAULT_HOSTNAME have no value/);
});

test('a strong __ksym is an ElfError listing it; a strong kconfig made weak is 0', () => {
  const STB_GLOBAL_NOTYPE = 0x10;
  const STB_WEAK_NOTYPE = 0x20;
  const strong = patchSymbol(fixture('kconfig'), 'bpf_prog_active', (v, at) => v.setUint8(at + 4, STB_GLOBAL_NOTYPE));
  expect(elfError(() => loadObject(new Vm(), strong, { kconfig: CONFIG })).message)
    .toMatch(/kernel symbol extern\(s\) bpf_prog_active \(__ksym\) cannot be resolved: there is no kernel here/);
  const weakHz = patchSymbol(fixture('kconfig'), 'CONFIG_HZ', (v, at) => v.setUint8(at + 4, STB_WEAK_NOTYPE));
  const { CONFIG_HZ: _, ...noHz } = CONFIG;
  const vm = new Vm();
  const obj = loadObject(vm, weakHz, { kconfig: noHz });
  expect(runXdp(vm, obj.program('kconfig_report').prog, new Uint8Array(20), 'interp')).toBe(BigInt(XDP_PASS));
  expect(obj.globals('.bss').report).toMatchObject({ hz: 0 });
});

test('kconfig values that do not fit the extern\'s C type are UsageErrors naming it', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ CONFIG_HZ: 'y' }, /kconfig\.CONFIG_HZ: 'y' for an integer extern/],
    [{ CONFIG_HZ: 2 ** 31 }, /kconfig\.CONFIG_HZ: 2147483648 does not fit a signed 4-byte extern/],
    [{ CONFIG_HZ: 1.5 }, /kconfig\.CONFIG_HZ: 1.5 is not an integer/],
    [{ CONFIG_HZ: 'lots' }, /kconfig\.CONFIG_HZ: "lots" is not/],
    [{ CONFIG_BPF_SYSCALL: 'm' }, /kconfig\.CONFIG_BPF_SYSCALL: 'm' \(module\) for a bool extern/],
    [{ CONFIG_BPF_SYSCALL: 2 }, /kconfig\.CONFIG_BPF_SYSCALL: 2 for a bool extern/],
    [{ CONFIG_BPF_JIT: 1 }, /kconfig\.CONFIG_BPF_JIT: the number 1 for an enum libbpf_tristate extern/],
    [{ CONFIG_DEFAULT_HOSTNAME: 7 }, /kconfig\.CONFIG_DEFAULT_HOSTNAME: number 7 for a char\[16\] extern/],
    [{ CONFIG_X86: 256 }, /kconfig\.CONFIG_X86: 256 does not fit/],
    [{ CONFIG_HZ: {} }, /kconfig\.CONFIG_HZ must be a string, number, boolean or bigint/],
  ];
  for (const [values, message] of bad) {
    const vm = new Vm();
    expect(() => loadObject(vm, fixture('kconfig'), { kconfig: { ...CONFIG, ...values } as never })).toThrow(message);
    expect(vm.maps.list()).toHaveLength(0);
  }
  expect(() => loadObject(new Vm(), fixture('kconfig'), { kconfig: 'CONFIG_HZ=1' as never })).toThrow(UsageError);
});

describe.each(AVAILABLE_ENGINES)('.rodata frozen at the first run on %s', (engine) => {
  const packet = new Uint8Array(100);
  test('config set before the first run is what the program sees; JS writes after it are EPERM', () => {
    const vm = new Vm({ printk: () => {} });
    const obj = loadObject(vm, fixture('config_counters'));
    const rodata = obj.map('.rodata') as ArrayMap;
    expect(rodata.frozen).toBe(false);
    const set = rodata.get(0)!;
    set.set([50, 0, 0, 0], 0); // max_len = 50, as a skeleton's rodata->max_len = 50
    rodata.set(0, set);
    const prog = obj.program('config_counters').prog;
    expect(runXdp(vm, prog, packet, engine)).toBe(BigInt(XDP_DROP)); // 100 > 50
    expect(rodata.frozen).toBe(true);
    expect(() => rodata.set(0, set)).toThrow(expect.objectContaining({ code: 'EPERM' }));
    expect(() => rodata.update(new Uint8Array(4), set, 0, 0)).toThrow(MapError);
    expect(runXdp(vm, prog, new Uint8Array(40), engine)).toBe(BigInt(XDP_PASS));
    // .data and .bss stay writable from JS.
    const data = obj.map('.data') as ArrayMap;
    data.set(0, new Uint8Array([100, 0, 0, 0]));
    expect(data.get(0, 'u32')).toBe(100);
    const bss = obj.map('.bss') as ArrayMap;
    bss.set(0, new Uint8Array(24));
    runXdp(vm, prog, new Uint8Array(40), engine);
    expect(obj.globals('.bss')).toMatchObject({ packets: 1n, total_bytes: 40n });
    expect(data.get(0, 'u32')).toBe(101);
  });

  test('the first run of any program of the Vm freezes every object\'s .rodata', () => {
    const vm = new Vm({ printk: () => {} });
    const config = loadObject(vm, fixture('config_counters'));
    const other = loadObject(vm, fixture('tail_dispatch'));
    runXdp(vm, other.program('prog_a').prog, new Uint8Array(4), engine);
    expect(() => (config.map('.rodata') as ArrayMap).set(0, new Uint8Array(config.map('.rodata').valueSize))).toThrow(MapError);
    // An object loaded after that run is configurable until the next run.
    const later = loadObject(vm, fixture('config_counters'));
    later.setGlobals('.rodata', { max_len: 10 });
    expect(runXdp(vm, later.program('config_counters').prog, new Uint8Array(20), engine)).toBe(BigInt(XDP_DROP));
    expect(() => later.setGlobals('.rodata', { max_len: 100 })).toThrow(MapError);
  });
});

test('setGlobals: .rodata configuration by variable name before the first run, as a skeleton sets it', () => {
  for (const engine of AVAILABLE_ENGINES) {
    const lines: string[] = [];
    const vm = new Vm({ printk: (l) => lines.push(l) });
    const obj = loadObject(vm, fixture('config_counters'));
    obj.setGlobals('.rodata', { max_len: 64, iface: 'wlan0' });
    expect(obj.globals('.rodata')).toMatchObject({ max_len: 64, verbose: 1, iface: 'wlan0' });
    expect(() => obj.setGlobals('.rodata', { nope: 1 })).toThrow(/\.rodata has no variable nope; variables: max_len, verbose, iface/);
    expect(() => obj.setGlobals('.rodata', { max_len: -1 })).toThrow(UsageError);
    expect(runXdp(vm, obj.program('config_counters').prog, new Uint8Array(100), engine)).toBe(BigInt(XDP_DROP));
    expect(lines).toEqual(['drop 100 > 64 on wlan0']);
    expect(() => obj.setGlobals('.rodata', { max_len: 1 })).toThrow(expect.objectContaining({ code: 'EPERM' }));
    obj.setGlobals('.bss', { packets: 41n });
    runXdp(vm, obj.program('config_counters').prog, new Uint8Array(10), engine);
    expect(obj.globals('.bss')).toMatchObject({ packets: 42n });
  }
});

test('a kconfig char array of 2^32 - 1 bytes is an ElfError from the .kconfig map\'s size check, not an allocation', () => {
  const bytes = fixture('kconfig');
  const btfSection = readElfSections(bytes).find((s) => s.name === '.BTF')!;
  const btf = parseBtf(btfSection.data);
  const v = btf.types.find((t) => t.kind === 'var' && t.name === 'CONFIG_DEFAULT_HOSTNAME') as { type: number };
  const array = btf.types[v.type]!;
  expect(array.kind).toBe('array');
  const huge = bytes.slice();
  new DataView(huge.buffer).setUint32(btfSection.offset + array.offset + 20, 0xffffffff, true); // btf_array.nelems
  const e = elfError(() => loadObject(new Vm(), huge, { kconfig: CONFIG }));
  expect(e.message).toMatch(/map \.kconfig: .*valueSize/);
  expect(e.section).toMatch(/^\.symtab/);
  expect(e.offset).toBeGreaterThan(0);
});
