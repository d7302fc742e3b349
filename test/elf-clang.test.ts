// loadObject on small C programs compiled here with clang-19 (skipped, with
// the reason printed, when clang-19 is absent): bpf_loop callbacks (lddw of
// a .text function), pointers in .data (R_BPF_64_ABS64), subprograms that
// use globals, a PROG_ARRAY initialized with a program of another section.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadObject, readElfSections } from '../lib/elf/index.js';
import { ElfError } from '../lib/errors.js';
import { ArrayMap, ProgArrayMap } from '../lib/index.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';
import { runXdp } from './elf-helpers.js';

const CLANG = 'clang-19';
const hasClang = spawnSync(CLANG, ['--version']).status === 0;
if (!hasClang) console.log(`elf-clang tests skipped: ${CLANG} not found`);
const dir = hasClang ? mkdtempSync(join(tmpdir(), 'ebpf-elf-clang-')) : '';

function compile(name: string, source: string, flags: string[] = ['-g', '-target', 'bpf']): Uint8Array {
  const c = join(dir, `${name}.c`);
  const o = join(dir, `${name}.o`);
  writeFileSync(c, source);
  const archInclude = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  const r = spawnSync(CLANG, ['-O2', ...flags, '-I', archInclude, '-c', c, '-o', o], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`clang failed: ${r.stderr}`);
  return new Uint8Array(readFileSync(o));
}

const HEAD = '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n';

describe.skipIf(!hasClang).each(AVAILABLE_ENGINES)('clang-compiled objects on %s', (engine) => {
  test('bpf_loop callback in .text and a pointer to .rodata in .data', () => {
    const bytes = compile('loop', `${HEAD}
static const char greeting[] = "hello";
const char *ptr = greeting;
__u64 acc;
static long cb(__u32 i, void *ctx) { acc += i; return 0; }
SEC("tp/raw") int loop_prog(void *ctx) { bpf_loop(5, cb, 0, 0); return acc + ptr[1]; }
char LICENSE[] SEC("license") = "GPL";
`);
    const vm = new Vm();
    const obj = loadObject(vm, bytes);
    const prog = obj.program('tp/raw');
    expect(prog.kind).toBe('tracepoint');
    expect(prog.prog.run(undefined, { engine })).toBe(10n + 101n);
    expect(prog.prog.run(undefined, { engine })).toBe(20n + 101n);
    const data = obj.map('.data') as ArrayMap;
    expect(data.get(0, 'u64')).toBe(BigInt(obj.map('.rodata').valueAddress(0)));
  });

  test('maps, globals from a .text subprogram, PROG_ARRAY slot with a program', () => {
    const bytes = compile('mixed', `${HEAD}
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u64); __uint(max_entries, 16); } counts SEC(".maps");
const volatile __u32 cfg = 7;
__u64 hits;
__noinline int gadd(int a) { return a + (int)cfg; }
SEC("xdp") int prog_a(struct xdp_md *ctx) { __u32 k = 1; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) *v += 1; hits++; return gadd(1); }
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 4); __type(key, __u32); __array(values, int (void *)); } jt SEC(".maps") = { .values = { [3] = (void *)&prog_a } };
SEC("xdp/other") int prog_b(struct xdp_md *ctx) { bpf_tail_call(ctx, &jt, 3); return 99; }
char LICENSE[] SEC("license") = "GPL";
`);
    const vm = new Vm();
    const obj = loadObject(vm, bytes);
    expect((obj.map('jt') as ProgArrayMap).get(3)).toBe(obj.program('prog_a').prog);
    const counts = obj.map('counts');
    counts.update(new Uint8Array([1, 0, 0, 0]), new Uint8Array(8), 0, 0);
    const rodata = obj.map('.rodata') as ArrayMap;
    rodata.set(0, new Uint8Array([40, 0, 0, 0])); // cfg = 40, before the first run (then .rodata is frozen)
    expect(runXdp(vm, obj.program('xdp/other').prog, new Uint8Array(20), engine)).toBe(41n);
    expect(runXdp(vm, obj.program('prog_a').prog, new Uint8Array(20), engine)).toBe(41n);
    expect((obj.map('.bss') as ArrayMap).get(0, 'u64')).toBe(2n);
    expect(() => rodata.set(0, new Uint8Array([7, 0, 0, 0]))).toThrow(/frozen/);
  });

  test('CO-RE relocations: refused with a list, or kept with core: local', () => {
    const bytes = compile('core', `${HEAD}
struct task { int pid; int tgid; } __attribute__((preserve_access_index));
SEC("kprobe/do_exit") int core_prog(struct task *t) { return t->tgid; }
char LICENSE[] SEC("license") = "GPL";
`);
    expect(() => loadObject(new Vm(), bytes)).toThrow(/1 CO-RE relocation\(s\) cannot be applied .*kprobe\/do_exit\+0: field_byte_offset struct task 0:1/);
    const obj = loadObject(new Vm(), bytes, { core: 'local' });
    expect(obj.program('core_prog').prog.run(new Uint8Array([1, 0, 0, 0, 42, 0, 0, 0]), { engine })).toBe(42n);
  });

  test('line info: each pc of a linked program knows its C line', () => {
    const bytes = compile('lines', `${HEAD}
static __noinline int twice(int x)
{
	return x * 2;
}
SEC("xdp") int lined(struct xdp_md *ctx)
{
	return twice(ctx->ingress_ifindex);
}
char LICENSE[] SEC("license") = "GPL";
`);
    const prog = loadObject(new Vm(), bytes).program('lined');
    const lines = prog.lineInfo!;
    expect(lines).toHaveLength(prog.prog.program.slotCount);
    expect(lines[0]).toMatchObject({ lineNum: 10, line: expect.stringContaining('return twice(ctx->ingress_ifindex);') });
    expect(lines.some((l) => l?.lineNum === 6 && l.line.includes('return x * 2;'))).toBe(true);
    expect(lines[0]!.file).toMatch(/lines\.c$/);
  });

  test('a program the validator refuses: its name and C line in the error', () => {
    const bytes = compile('refused', `${HEAD}
SEC("xdp") int refused(struct xdp_md *ctx)
{
	return ((long (*)(void))9999)();
}
char LICENSE[] SEC("license") = "GPL";
`);
    expect(() => loadObject(new Vm(), bytes)).toThrow(/\(program refused, .*refused\.c:6: return \(\(long \(\*\)\(void\)\)9999\)\(\);\) at pc \d+: call 9999/);
  });

  const PORTABLE = `${HEAD}
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 1); } hits SEC(".maps");
const volatile __u32 limit = 3;
SEC("xdp") int portable(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&hits, &k);
	if (!v) return XDP_ABORTED;
	*v += 1;
	return *v > limit ? XDP_DROP : XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`;

  test('-target bpfel, DWARF 4 and 5, and -g0 objects load and run alike; bpfeb is refused', () => {
    const variants: [string, string[]][] = [
      ['bpf', ['-g', '-target', 'bpf']], ['bpfel', ['-g', '-target', 'bpfel']], ['dwarf4', ['-gdwarf-4', '-target', 'bpfel']],
      ['dwarf5', ['-gdwarf-5', '-target', 'bpf', '-mcpu=v3']],
    ];
    for (const [name, flags] of variants) {
      const vm = new Vm();
      const obj = loadObject(vm, compile(`portable_${name}`, PORTABLE, flags));
      const verdicts = [1, 2, 3, 4].map(() => runXdp(vm, obj.program('portable').prog, new Uint8Array(20), engine));
      expect(verdicts, name).toEqual([2n, 2n, 2n, 1n]);
    }
    // Without -g there is no BTF, so BTF-defined maps cannot be read; globals alone still load.
    const noBtf = compile('nobtf', `${HEAD}
__u64 runs;
SEC("socket") int count(void *ctx) { return ++runs; }
char LICENSE[] SEC("license") = "GPL";
`, ['-g0', '-target', 'bpfel']);
    const vm = new Vm();
    const obj = loadObject(vm, noBtf);
    expect(obj.btf).toBeUndefined();
    expect(obj.program('count').prog.run(new Uint8Array(4), { engine })).toBe(1n);
    expect(() => loadObject(new Vm(), compile('portable_eb', PORTABLE, ['-g', '-target', 'bpfeb']))).toThrow(ElfError);
  });

  test('externs: kconfig read from a .text subprogram, a weak typed __ksym is 0', () => {
    const bytes = compile('kcfg_sub', `${HEAD}
extern int CONFIG_HZ __kconfig;
extern const int bpf_prog_active __ksym __weak;
__noinline int hz_times(int x) { return CONFIG_HZ * x; }
SEC("xdp") int hz(struct xdp_md *ctx) { return hz_times(2) + (&bpf_prog_active ? 1000 : 0); }
char LICENSE[] SEC("license") = "GPL";
`);
    const vm = new Vm();
    const obj = loadObject(vm, bytes, { kconfig: { CONFIG_HZ: '300' } });
    expect(runXdp(vm, obj.program('hz').prog, new Uint8Array(20), engine)).toBe(600n);
    // libbpf's virtual externs have defaults; BPF_KSYSCALL declares LINUX_HAS_SYSCALL_WRAPPER strong.
    const virtual = compile('kcfg_virtual', `${HEAD}
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern _Bool LINUX_HAS_BPF_COOKIE __kconfig;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
SEC("kprobe/x") int v(void *ctx) { return LINUX_HAS_SYSCALL_WRAPPER + 2 * LINUX_HAS_BPF_COOKIE + (LINUX_KERNEL_VERSION >> 8); }
char LICENSE[] SEC("license") = "GPL";
`);
    const vv = loadObject(new Vm(), virtual);
    expect(vv.program('v').prog.run(new Uint8Array(8), { engine })).toBe(3n + 0x608n);
    expect(vv.externs.map((e) => e.source)).toEqual(['default', 'default', 'default']);
    const off = loadObject(new Vm(), virtual, { kconfig: { LINUX_HAS_SYSCALL_WRAPPER: false, LINUX_HAS_BPF_COOKIE: 'n' } });
    expect(off.program('v').prog.run(new Uint8Array(8), { engine })).toBe(0x608n);
  });

  test('externs libbpf would need a kernel for: ElfErrors naming them', () => {
    const strongKsym = compile('ksym_strong', `${HEAD}
extern const int bpf_prog_active __ksym;
extern const int nr_cpu_ids __ksym;
SEC("xdp") int k(struct xdp_md *ctx) { return bpf_prog_active + nr_cpu_ids; }
char LICENSE[] SEC("license") = "GPL";
`);
    expect(() => loadObject(new Vm(), strongKsym)).toThrow(/kernel symbol extern\(s\) bpf_prog_active, nr_cpu_ids \(__ksym\) cannot be resolved/);
    const kfunc = (weak: boolean) => compile(`kfunc_${weak}`, `${HEAD}
extern void bpf_rcu_read_lock(void) __ksym${weak ? ' __weak' : ''};
SEC("tp_btf/x") int f(void *ctx) { bpf_rcu_read_lock(); return 0; }
char LICENSE[] SEC("license") = "GPL";
`);
    expect(() => loadObject(new Vm(), kfunc(false))).toThrow(/kernel symbol extern\(s\) bpf_rcu_read_lock \(__ksym\)/);
    expect(() => loadObject(new Vm(), kfunc(true))).toThrow(/call to bpf_rcu_read_lock, which is not defined in this object \(extern functions and kfuncs are not supported\)/);
    const plain = compile('plain_extern', `${HEAD}
extern int some_global;
SEC("xdp") int g(struct xdp_md *ctx) { return some_global; }
char LICENSE[] SEC("license") = "GPL";
`);
    expect(() => loadObject(new Vm(), plain)).toThrow(/extern some_global is neither __kconfig nor __ksym/);
  });

  test('custom .data.* / .rodata.* sections, and a pointer in .data as R_BPF_64_ABS64 or R_BPF_64_ABS32', () => {
    const bytes = compile('custom_data', `${HEAD}
__u32 counter SEC(".data.counters") = 5;
const char msg[4] SEC(".rodata.msgs") = "hi!";
static const char greeting[] = "hello";
const char *ptr = greeting;
SEC("socket") int custom(void *ctx) { counter += 1; return counter * 1000 + msg[1] + ptr[4]; }
char LICENSE[] SEC("license") = "GPL";
`);
    const vm = new Vm();
    const obj = loadObject(vm, bytes);
    expect(obj.map('.data.counters').flags & 0x80).toBe(0);
    expect(obj.map('.rodata.msgs').flags & 0x80).toBe(0x80);
    expect(obj.globals('.rodata.msgs')).toEqual({ msg: 'hi!' });
    const prog = obj.program('custom').prog;
    expect(prog.run(new Uint8Array(4), { engine })).toBe(BigInt(6000 + 105 + 111));
    expect(obj.globals('.data.counters')).toEqual({ counter: 6 });
    // The same object with its .data pointer relocation turned into R_BPF_64_ABS32 (32-bit word, as in DWARF).
    const sections = readElfSections(bytes);
    const relData = sections.find((x) => x.name === '.rel.data')!;
    const abs32 = bytes.slice();
    const view = new DataView(abs32.buffer);
    expect(view.getUint32(relData.offset + 8, true)).toBe(2);
    view.setUint32(relData.offset + 8, 3, true);
    const vm32 = new Vm();
    const obj32 = loadObject(vm32, abs32);
    expect((obj32.map('.data') as ArrayMap).get(0, 'u64')).toBe(BigInt(obj32.map('.rodata').valueAddress(0)));
    expect(obj32.program('custom').prog.run(new Uint8Array(4), { engine })).toBe(BigInt(6000 + 105 + 111));
  });
});
