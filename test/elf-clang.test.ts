// loadObject on small C programs compiled here with clang-19 (skipped, with
// the reason printed, when clang-19 is absent): bpf_loop callbacks (lddw of
// a .text function), pointers in .data (R_BPF_64_ABS64), subprograms that
// use globals, a PROG_ARRAY initialized with a program of another section.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadObject } from '../lib/elf/index.js';
import { ArrayMap, ProgArrayMap } from '../lib/index.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';
import { runXdp } from './elf-helpers.js';

const CLANG = 'clang-19';
const hasClang = spawnSync(CLANG, ['--version']).status === 0;
if (!hasClang) console.log(`elf-clang tests skipped: ${CLANG} not found`);
const dir = hasClang ? mkdtempSync(join(tmpdir(), 'ebpf-elf-clang-')) : '';

function compile(name: string, source: string): Uint8Array {
  const c = join(dir, `${name}.c`);
  const o = join(dir, `${name}.o`);
  writeFileSync(c, source);
  const archInclude = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  const r = spawnSync(CLANG, ['-O2', '-g', '-target', 'bpf', '-I', archInclude, '-c', c, '-o', o], { encoding: 'utf8' });
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
    expect(runXdp(vm, obj.program('xdp/other').prog, new Uint8Array(20), engine)).toBe(8n);
    const rodata = obj.map('.rodata') as ArrayMap;
    rodata.set(0, new Uint8Array([40, 0, 0, 0]));
    expect(runXdp(vm, obj.program('prog_a').prog, new Uint8Array(20), engine)).toBe(41n);
    expect((obj.map('.bss') as ArrayMap).get(0, 'u64')).toBe(2n);
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
});
