// cbpfToEbpf on both engines: one group of cases per classic opcode class,
// then random programs against a reference classic interpreter written here
// from Linux's semantics (32-bit A and X; what the translated program does in
// Linux, with the deviations lib/cbpf/convert.ts documents).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cbpfToEbpf, CbpfError, checkCbpf, parseCbpf, SKF_AD_OFF, SKF_LL_OFF, type CbpfInsn } from '../lib/cbpf/index.js';
import { SkbContext, type SkbOptions } from '../lib/skb.js';
import { AVAILABLE_ENGINES, Vm, type EngineName } from '../lib/vm.js';

const insn = (code: number, k = 0, jt = 0, jf = 0): CbpfInsn => ({ code, jt, jf, k: k >>> 0 });
const RET_A = insn(0x16);
const retK = (k: number) => insn(0x06, k);
const ldImm = (k: number) => insn(0x00, k);
const ldxImm = (k: number) => insn(0x01, k);

// ---------------------------------------------------------------------------
// Reference interpreter.

interface Skb {
  readonly packet: Uint8Array;
  readonly options: SkbOptions;
  readonly cpu: number;
}

/** Ancillary values as Linux gives them, from the same options SkbContext takes. */
function ancillaryValue(n: number, skb: Skb): number {
  const o = skb.options;
  const etherType = skb.packet.length >= 14 ? (skb.packet[12]! << 8) | skb.packet[13]! : 0;
  switch (n) {
    case 0: return o.protocol ?? etherType;
    case 4: return o.pktType ?? 0;
    case 8: return o.ifindex ?? 1;
    case 20: return o.mark ?? 0;
    case 24: return o.queueMapping ?? 0;
    case 32: return o.hash ?? 0;
    case 36: return skb.cpu;
    case 44: return o.vlan?.tci ?? 0;
    case 48: return o.vlan === undefined ? 0 : 1;
    case 60: return o.vlan === undefined ? 0 : (o.vlan.proto ?? 0x8100);
  }
  throw new Error(`reference: ancillary ${n}`);
}

/**
 * Big-endian load of `size` bytes at u32 offset `off`, or undefined when
 * outside the packet. Constant link-layer-relative offsets read from the MAC
 * header, i.e. the packet start; ld [x + k] does not (convert.ts's documented
 * deviation from Linux).
 */
function load(p: Uint8Array, off: number, size: number, linkLayer = true): number | undefined {
  if (linkLayer && off >= SKF_LL_OFF && off < SKF_LL_OFF + 0x100000) off -= SKF_LL_OFF;
  if (off >= 0x80000000 || off + size > p.length) return undefined;
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + p[off + i]!;
  return v;
}

const SIZES: Record<number, number> = { 0x00: 4, 0x08: 2, 0x10: 1 };

/** Runs a checked classic program: the returned u32 (ret value, or 0 when it ends early). */
function reference(prog: readonly CbpfInsn[], skb: Skb): number {
  let a = 0;
  let x = 0;
  const mem = new Uint32Array(16);
  const p = skb.packet;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, k, jt, jf } = prog[pc]!;
    const cls = code & 7;
    const src = (code & 8) !== 0 ? x : k;
    switch (cls) {
      case 0x00: case 0x01: { // ld, ldx
        const mode = code & 0xe0;
        const size = SIZES[code & 0x18]!;
        let v: number | undefined;
        if (mode === 0x00) v = k;
        else if (mode === 0x60) v = mem[k]!;
        else if (mode === 0x80) v = p.length;
        else if (mode === 0x20 && k >= SKF_AD_OFF) {
          if (k - SKF_AD_OFF === 40) v = (a ^ x) >>> 0;
          else v = ancillaryValue(k - SKF_AD_OFF, skb);
        } else if (mode === 0x20) v = load(p, k, size);
        else if (mode === 0x40) v = load(p, (x + k) >>> 0, size, false); // the offset wraps at 32 bits
        else if (mode === 0xa0) {
          const b = load(p, k, 1);
          v = b === undefined ? undefined : (b & 0xf) << 2;
        }
        if (v === undefined) return 0;
        if (cls === 0x00) a = v >>> 0;
        else x = v >>> 0;
        break;
      }
      case 0x02: mem[k] = a; break;
      case 0x03: mem[k] = x; break;
      case 0x04: { // alu, 32-bit
        const op = code & 0xf0;
        if ((op === 0x30 || op === 0x90) && src === 0) return 0;
        switch (op) {
          case 0x00: a = (a + src) >>> 0; break;
          case 0x10: a = (a - src) >>> 0; break;
          case 0x20: a = Math.imul(a, src) >>> 0; break;
          case 0x30: a = Math.floor(a / src) >>> 0; break;
          case 0x40: a = (a | src) >>> 0; break;
          case 0x50: a = (a & src) >>> 0; break;
          // Shift counts are masked to 5 bits (X can exceed 31; k cannot).
          case 0x60: a = (a << (src & 31)) >>> 0; break;
          case 0x70: a = a >>> (src & 31); break;
          case 0x80: a = -a >>> 0; break;
          case 0x90: a = a % src; break;
          case 0xa0: a = (a ^ src) >>> 0; break;
        }
        break;
      }
      case 0x05: { // jmp, unsigned 32-bit compares
        const op = code & 0xf0;
        if (op === 0x00) { pc += k; break; }
        const taken = op === 0x10 ? a === src : op === 0x20 ? a > src : op === 0x30 ? a >= src : (a & src) !== 0;
        pc += taken ? jt : jf;
        break;
      }
      case 0x06: return code === 0x16 ? a : k;
      case 0x07: if (code === 0x07) x = a; else a = x; break;
    }
  }
  throw new Error('reference: ran off the end');
}

// ---------------------------------------------------------------------------
// Running a translation.

/** Runs `prog` translated on both engines; both must agree; returns the u32 result. */
function run(prog: readonly CbpfInsn[], packet: Uint8Array, options: SkbOptions = {}, vmOptions = {}): number {
  const results = AVAILABLE_ENGINES.map((engine) => runOn(engine, prog, packet, options, vmOptions));
  expect(results[1], 'jit == interp').toBe(results[0]);
  return results[0]!;
}

function runOn(engine: EngineName, prog: readonly CbpfInsn[], packet: Uint8Array, options: SkbOptions, vmOptions = {}): number {
  const vm = new Vm({ engine, ...vmOptions });
  const loaded = vm.load(cbpfToEbpf(prog));
  const skb = new SkbContext(vm.memory, packet, { kind: 'socket', ...options });
  try {
    const r0 = loaded.run(skb);
    // A and the returned k are u32: r0's upper half is always zero.
    expect(r0 >> 32n).toBe(0n);
    return Number(r0);
  } finally {
    skb.release();
  }
}

/** Runs on both engines and checks against the reference too. */
function check(prog: readonly CbpfInsn[], packet: Uint8Array, options: SkbOptions = {}): number {
  const got = run(prog, packet, options);
  expect(got).toBe(reference(prog, { packet, options, cpu: 0 }));
  return got;
}

const PKT = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);

// ---------------------------------------------------------------------------

describe('classic opcode classes on both engines', () => {
  it('ret k, ret a: u32 results, A starts at 0', () => {
    expect(check([retK(0xffffffff)], PKT)).toBe(0xffffffff);
    expect(check([retK(0)], PKT)).toBe(0);
    expect(check([RET_A], PKT)).toBe(0);
    expect(check([ldImm(0x80000000), RET_A], PKT)).toBe(0x80000000);
  });

  it('ld/ldx #k, len, M[], tax, txa; X starts at 0', () => {
    expect(check([insn(0x87), RET_A], PKT)).toBe(0);
    expect(check([ldxImm(0xfedcba98), insn(0x87), RET_A], PKT)).toBe(0xfedcba98);
    expect(check([insn(0x80), RET_A], PKT)).toBe(64);
    expect(check([insn(0x81), insn(0x87), RET_A], new Uint8Array(1500))).toBe(1500);
    expect(check([ldImm(7), insn(0x02, 15), ldImm(9), insn(0x07), insn(0x03, 0), insn(0x60, 15), insn(0x61, 0), insn(0x0c), RET_A], PKT)).toBe(16);
  });

  it('ld [k], ldh, ldb: big-endian packet bytes; past the end returns 0', () => {
    expect(check([insn(0x20, 0), RET_A], PKT)).toBe(((PKT[0]! << 24) | (PKT[1]! << 16) | (PKT[2]! << 8) | PKT[3]!) >>> 0);
    expect(check([insn(0x28, 62), RET_A], PKT)).toBe((PKT[62]! << 8) | PKT[63]!);
    expect(check([insn(0x30, 63), RET_A], PKT)).toBe(PKT[63]);
    expect(check([insn(0x20, 61), retK(1)], PKT)).toBe(0);
    expect(check([insn(0x28, 63), retK(1)], PKT)).toBe(0);
    expect(check([insn(0x30, 64), retK(1)], PKT)).toBe(0);
    expect(check([insn(0x30, 0), retK(1)], new Uint8Array(0))).toBe(0);
    expect(check([insn(0x30, 0x7fffffff), retK(1)], PKT)).toBe(0);
    expect(check([insn(0x20, 0x80000000), retK(1)], PKT)).toBe(0);
  });

  it('link-layer-relative loads read from the packet start', () => {
    expect(check([insn(0x28, SKF_LL_OFF + 12), RET_A], PKT)).toBe((PKT[12]! << 8) | PKT[13]!);
    expect(check([insn(0xb1, SKF_LL_OFF + 14), insn(0x87), RET_A], PKT)).toBe((PKT[14]! & 0xf) << 2);
  });

  it('refuses network-header-relative loads, naming the pc', () => {
    expect(() => cbpfToEbpf([ldImm(0), insn(0x30, 0xfff00000), RET_A])).toThrow(
      new CbpfError('network-header-relative load (SKF_NET_OFF) not supported', { pc: 1, insn: '{ 0x30, 0, 0, 0xfff00000 }' }),
    );
  });

  it('ld [x + k]: offset X + k in 32 bits; out of bounds returns 0', () => {
    expect(check([ldxImm(10), insn(0x48, 2), RET_A], PKT)).toBe((PKT[12]! << 8) | PKT[13]!);
    expect(check([ldxImm(63), insn(0x50, 0), RET_A], PKT)).toBe(PKT[63]);
    expect(check([ldxImm(63), insn(0x50, 1), retK(1)], PKT)).toBe(0);
    expect(check([ldxImm(60), insn(0x40, 1), retK(1)], PKT)).toBe(0);
    // 0xfffffff0 + 0x14 wraps to 4 (Linux adds in 32 bits).
    expect(check([ldxImm(0xfffffff0), insn(0x50, 0x14), RET_A], PKT)).toBe(PKT[4]);
    expect(check([ldxImm(0x80000000), insn(0x50, 0), retK(1)], PKT)).toBe(0);
    // A sum in the link-layer range fails (Linux would read the MAC header; see convert.ts).
    expect(check([ldxImm(SKF_LL_OFF), insn(0x50, 4), retK(1)], PKT)).toBe(0);
  });

  it('ldx 4*([k]&0xf) keeps A and sets X; past the end returns 0', () => {
    const ip = new Uint8Array(40);
    ip[14] = 0x46;
    expect(check([ldImm(5), insn(0xb1, 14), insn(0x0c), RET_A], ip)).toBe(29);
    expect(check([insn(0xb1, 40), retK(1)], ip)).toBe(0);
  });

  it('32-bit ALU with k and x: wraps, unsigned division, shifts', () => {
    const alu = (op: number, a: number, b: number, viaX: boolean) =>
      check(viaX ? [ldxImm(b), ldImm(a), insn(0x0c | op), RET_A] : [ldImm(a), insn(0x04 | op, b), RET_A], PKT);
    for (const viaX of [false, true]) {
      expect(alu(0x00, 0xffffffff, 2, viaX)).toBe(1);
      expect(alu(0x10, 1, 2, viaX)).toBe(0xffffffff);
      expect(alu(0x20, 0x10000, 0x10001, viaX)).toBe(0x10000);
      expect(alu(0x30, 0xfffffffe, 3, viaX)).toBe(0x55555554);
      expect(alu(0x90, 0xfffffffe, 7, viaX)).toBe(0xfffffffe % 7);
      expect(alu(0x40, 0xf0f0f0f0, 0x0f, viaX)).toBe(0xf0f0f0ff);
      expect(alu(0x50, 0xf0f0f0f0, 0xff, viaX)).toBe(0xf0);
      expect(alu(0xa0, 0xffffffff, 0x0f0f0f0f, viaX)).toBe(0xf0f0f0f0);
      expect(alu(0x60, 0x80000001, 31, viaX)).toBe(0x80000000);
      expect(alu(0x70, 0x80000000, 31, viaX)).toBe(1);
    }
    expect(check([ldImm(1), insn(0x84), RET_A], PKT)).toBe(0xffffffff);
    expect(check([ldImm(0), insn(0x84), RET_A], PKT)).toBe(0);
    // Shift by X >= 32: masked to 5 bits, as Linux's ALU32 shift.
    expect(check([ldxImm(33), ldImm(1), insn(0x6c), RET_A], PKT)).toBe(2);
  });

  it('division and modulo by X == 0 end the program with 0', () => {
    expect(check([ldImm(7), insn(0x3c), retK(5)], PKT)).toBe(0);
    expect(check([ldImm(7), insn(0x9c), retK(5)], PKT)).toBe(0);
    expect(check([ldImm(7), ldxImm(7), insn(0x9c), retK(5)], PKT)).toBe(5);
  });

  it('jumps: ja, jeq/jgt/jge/jset with k and x, unsigned, every jt/jf shape', () => {
    const cond = (code: number, a: number, b: number) => {
      const viaX = (code & 8) !== 0;
      const k = viaX ? 0 : b;
      // jt and jf both non-zero, jt = 0, jf = 0, both 0.
      const shapes = [[1, 2], [0, 2], [1, 0], [0, 0]] as const;
      return shapes.map(([jt, jf]) =>
        check([ldxImm(b), ldImm(a), insn(code, k, jt, jf), retK(10), retK(11), retK(12)], PKT));
    };
    expect(cond(0x15, 5, 5)).toEqual([11, 10, 11, 10]);
    expect(cond(0x15, 5, 6)).toEqual([12, 12, 10, 10]);
    expect(cond(0x25, 0x80000000, 1)).toEqual([11, 10, 11, 10]);
    expect(cond(0x25, 1, 0x80000000)).toEqual([12, 12, 10, 10]);
    expect(cond(0x25, 5, 5)).toEqual([12, 12, 10, 10]);
    expect(cond(0x35, 7, 7)).toEqual([11, 10, 11, 10]);
    expect(cond(0x35, 6, 7)).toEqual([12, 12, 10, 10]);
    expect(cond(0x2d, 9, 9)).toEqual([12, 12, 10, 10]);
    expect(cond(0x45, 0x18, 0x10)).toEqual([11, 10, 11, 10]);
    expect(cond(0x45, 0x18, 0x4)).toEqual([12, 12, 10, 10]);
    expect(cond(0x1d, 0xffffffff, 0xffffffff)).toEqual([11, 10, 11, 10]);
    expect(cond(0x2d, 0xffffffff, 0xfffffffe)).toEqual([11, 10, 11, 10]);
    expect(cond(0x3d, 3, 4)).toEqual([12, 12, 10, 10]);
    expect(cond(0x4d, 1, 2)).toEqual([12, 12, 10, 10]);
    expect(check([insn(0x05, 1), retK(1), retK(2)], PKT)).toBe(2);
    expect(check([insn(0x05, 0), retK(1), retK(2)], PKT)).toBe(1);
  });

  it('ancillary loads read the __sk_buff fields Linux reads', () => {
    const anc = (n: number, options: SkbOptions = {}) => check([insn(0x20, SKF_AD_OFF + n), RET_A], PKT, options);
    const ipv4 = new Uint8Array(60);
    ipv4[12] = 0x08;
    expect(check([insn(0x28, SKF_AD_OFF), RET_A], ipv4)).toBe(0x0800);
    expect(anc(0, { protocol: 0x86dd })).toBe(0x86dd);
    expect(anc(4, { pktType: 3 })).toBe(3);
    expect(anc(8)).toBe(1);
    expect(anc(8, { ifindex: 42 })).toBe(42);
    expect(anc(20, { mark: 0xdeadbeef })).toBe(0xdeadbeef);
    expect(anc(24, { queueMapping: 5 })).toBe(5);
    expect(anc(32, { hash: 0x12345678 })).toBe(0x12345678);
    expect(anc(44, { vlan: { tci: 0x0123 } })).toBe(0x0123);
    expect(anc(48)).toBe(0);
    expect(anc(48, { vlan: { tci: 0 } })).toBe(1);
    expect(anc(60, { vlan: { tci: 1, proto: 0x88a8 } })).toBe(0x88a8);
    expect(check([ldxImm(0x0ff0), ldImm(0xff00), insn(0x20, SKF_AD_OFF + 40), RET_A], PKT)).toBe(0xf0f0);
  });

  it('cpu and random ancillary loads call the helpers', () => {
    const cpuProg = [insn(0x20, SKF_AD_OFF + 36), RET_A];
    for (const engine of AVAILABLE_ENGINES) {
      const vm = new Vm({ engine, cpus: 4 });
      const skb = new SkbContext(vm.memory, PKT, { kind: 'socket' });
      expect(vm.load(cbpfToEbpf(cpuProg)).run(skb, { cpu: 3 })).toBe(3n);
      skb.release();
    }
    // The same seed gives the same random u32 as get_prandom_u32 from eBPF.
    const random = run([insn(0x20, SKF_AD_OFF + 56), RET_A], PKT, {}, { seed: 99 });
    const direct = new Vm({ seed: 99 }).load('call 7\nexit').run();
    expect(BigInt(random)).toBe(direct);
  });

  it('refuses the ancillary loads no __sk_buff field holds, naming the pc', () => {
    for (const [n, name] of [[12, 'NLATTR'], [16, 'NLATTR_NEST'], [28, 'HATYPE'], [52, 'PAY_OFFSET']] as const) {
      let error: unknown;
      try {
        cbpfToEbpf([ldImm(0), insn(0x20, SKF_AD_OFF + n), RET_A]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CbpfError);
      expect((error as CbpfError).pc).toBe(1);
      expect((error as CbpfError).message).toMatch(new RegExp(`^ancillary load SKF_AD_${name} not supported .* at pc 1`));
    }
  });

  it('checks before translating', () => {
    expect(() => cbpfToEbpf([insn(0x34, 0), RET_A])).toThrow(CbpfError);
    expect(() => cbpfToEbpf([])).toThrow(/1 to 4096 instructions/);
  });

  it('translates a 4096-instruction program of the widest instructions with a jump over all of it', () => {
    // ldx 4*([k]&0xf) is the longest translation (6 slots): the offsets still fit.
    const prog = (k: number) => [insn(0x15, k, 0, 1), insn(0x05, 4093), ...Array.from({ length: 4092 }, () => insn(0xb1, 0)), insn(0x87), RET_A];
    expect(prog(0).length).toBe(4096);
    expect(run(prog(0), new Uint8Array([0x4f]))).toBe(0);
    expect(run(prog(1), new Uint8Array([0x4f]))).toBe(60);
  });
});

// ---------------------------------------------------------------------------
// Random programs.

// Small values often, so comparisons are sometimes equal and A/X values repeat;
// values near 2^32 so 32-bit sums (ld [x + k]) wrap.
const u32 = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 8 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 70 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xffffffc0, max: 0xffffffff }) },
  { weight: 1, arbitrary: fc.constantFrom(0x7fffffff, 0x80000000) },
);
// Mostly inside the (usually 40+ byte) packets; sometimes past them or negative.
const offset = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 36 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 90 }) },
  { weight: 1, arbitrary: fc.constantFrom(0x7fffffff, 0x80000000, SKF_LL_OFF + 3, SKF_LL_OFF - 1) },
);
const size = fc.constantFrom(0x00, 0x08, 0x10);
const aluOp = fc.constantFrom(0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0);
const ANCILLARY = [0, 4, 8, 20, 24, 32, 36, 40, 44, 48, 60];
const often = <T>(arbitrary: fc.Arbitrary<T>) => ({ weight: 4, arbitrary });
const rarely = <T>(arbitrary: fc.Arbitrary<T>) => ({ weight: 1, arbitrary });

/** One instruction with jump offsets to be clamped later (a ret mid-program is rare, so programs run long). */
const insnArb: fc.Arbitrary<CbpfInsn> = fc.oneof(
  often(fc.tuple(aluOp, u32).map(([op, k]) => insn(0x04 | op, op === 0x60 || op === 0x70 ? k & 31 : (op === 0x30 || op === 0x90) && k === 0 ? 3 : k))),
  often(aluOp.map((op) => insn(0x0c | op))),
  rarely(fc.constant(insn(0x84))),
  often(fc.tuple(size, offset).map(([s, k]) => insn(0x20 | s, k))),
  often(fc.tuple(size, fc.oneof(fc.integer({ min: 0, max: 40 }), u32)).map(([s, k]) => insn(0x40 | s, k))),
  rarely(fc.constantFrom(...ANCILLARY).map((n) => insn(0x20, SKF_AD_OFF + n))),
  often(fc.constantFrom(insn(0x80), insn(0x81), insn(0x07), insn(0x87))),
  often(u32.map(ldImm)),
  often(u32.map(ldxImm)),
  often(fc.tuple(fc.constantFrom(0x60, 0x61, 0x02, 0x03), fc.integer({ min: 0, max: 15 })).map(([c, k]) => insn(c, k))),
  often(offset.map((k) => insn(0xb1, k))),
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(0x15, 0x25, 0x35, 0x45, 0x1d, 0x2d, 0x3d, 0x4d), u32, fc.nat(255), fc.nat(255))
    .map(([c, k, jt, jf]) => insn(c, k, jt % 4 === 0 ? 0 : jt, jf % 4 === 0 ? 0 : jf)) },
  rarely(fc.nat(255).map((k) => insn(0x05, k))),
  rarely(fc.oneof(u32.map(retK), fc.constant(RET_A))),
);

/** Clamps jumps into the program, ends with a ret, and turns scratch reads Linux would refuse into ld #k. */
function fixUp(body: readonly CbpfInsn[], last: CbpfInsn): CbpfInsn[] {
  const prog = [...body, last];
  const n = prog.length;
  const fixed = prog.map((i, pc) => {
    const room = n - pc - 1;
    if (i.code === 0x05) return { ...i, k: room === 0 ? 0 : i.k % room };
    if ((i.code & 7) === 5) return { ...i, jt: i.jt % Math.max(room, 1), jf: i.jf % Math.max(room, 1) };
    return i;
  }).map((i, pc) => (i.code === 0x05 && n - pc - 1 === 0 ? RET_A : i));
  for (let tries = 0; tries < n; tries++) {
    try {
      checkCbpf(fixed);
      return fixed;
    } catch (e) {
      const pc = (e as CbpfError).pc!;
      if (!/read before it is written/.test((e as Error).message)) throw e;
      fixed[pc] = fixed[pc]!.code === 0x60 ? ldImm(fixed[pc]!.k) : ldxImm(fixed[pc]!.k);
    }
  }
  throw new Error('fixUp did not converge');
}

const programArb = fc.tuple(fc.array(insnArb, { minLength: 0, maxLength: 40, size: 'max' }), fc.oneof(fc.constant(RET_A), u32.map(retK)))
  .map(([body, last]) => fixUp(body, last));

const skbArb = fc.record({
  packet: fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ minLength: 40, maxLength: 80 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 40 }) },
  ),
  options: fc.record({
    mark: fc.integer({ min: 0, max: 0xffffffff }),
    hash: fc.integer({ min: 0, max: 0xffffffff }),
    pktType: fc.integer({ min: 0, max: 7 }),
    queueMapping: fc.integer({ min: 0, max: 0xffff }),
    ifindex: fc.integer({ min: 0, max: 100 }),
    vlan: fc.option(fc.record({ tci: fc.integer({ min: 0, max: 0xffff }), proto: fc.constantFrom(0x8100, 0x88a8) }), { nil: undefined }),
  }, { requiredKeys: [] }),
});

describe('random classic programs: translation on both engines == reference interpreter', () => {
  it('agrees on every program and packet', () => {
    fc.assert(
      fc.property(programArb, fc.array(skbArb, { minLength: 1, maxLength: 4 }), (prog, skbs) => {
        const vms = AVAILABLE_ENGINES.map((engine) => {
          const vm = new Vm({ engine });
          return { vm, engine, prog: vm.load(cbpfToEbpf(prog)) };
        });
        for (const { packet, options } of skbs) {
          const want = reference(prog, { packet, options: options as SkbOptions, cpu: 0 });
          for (const { vm, engine, prog: loaded } of vms) {
            const skb = new SkbContext(vm.memory, packet, { kind: 'socket', ...(options as SkbOptions) });
            try {
              expect(Number(loaded.run(skb)), engine).toBe(want);
            } finally {
              skb.release();
            }
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('arbitrary input never crashes', () => {
  const anyInsn = fc.record({
    code: fc.oneof(fc.constantFrom(...[0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x16, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x61, 0x80, 0x81, 0xb1, 0x87, 0x84, 0x3c, 0x9c, 0x15, 0x25, 0x35, 0x45, 0x1d, 0x4d]), fc.integer({ min: 0, max: 0xffff })),
    jt: fc.oneof(fc.nat(3), fc.nat(255)),
    jf: fc.oneof(fc.nat(3), fc.nat(255)),
    k: fc.oneof(fc.nat(20), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(SKF_AD_OFF, SKF_AD_OFF + 28, SKF_LL_OFF, 0xfff00000)),
  });

  it('checkCbpf/cbpfToEbpf either refuse with a CbpfError or give a program that loads and runs on both engines', () => {
    let translated = 0;
    fc.assert(
      // Mostly ending with a ret, so that some get through the checks.
      fc.property(fc.array(anyInsn, { maxLength: 12 }), fc.oneof(anyInsn, fc.constant(RET_A)), fc.uint8Array({ maxLength: 64 }), (body, last, packet) => {
        const prog = [...body, last];
        let bytes: Uint8Array;
        try {
          bytes = cbpfToEbpf(prog);
        } catch (e) {
          expect(e).toBeInstanceOf(CbpfError);
          return;
        }
        translated++;
        const results = AVAILABLE_ENGINES.map((engine) => {
          const vm = new Vm({ engine });
          const skb = new SkbContext(vm.memory, packet, { kind: 'socket' });
          try {
            return vm.load(bytes).run(skb);
          } finally {
            skb.release();
          }
        });
        expect(results[1]).toBe(results[0]);
        expect(results[0]! >> 32n).toBe(0n);
      }),
      { numRuns: 600 },
    );
    // Some of the programs got through the checks (the property is not vacuous).
    expect(translated).toBeGreaterThan(20);
  });

  it('parseCbpf either parses or refuses with a CbpfError naming a line', () => {
    const line = fc.oneof(
      fc.string(),
      fc.tuple(fc.nat(70000), fc.nat(300), fc.nat(300), fc.nat()).map((f) => f.join(' ')),
      fc.tuple(fc.nat(70000), fc.nat(300), fc.nat(300), fc.nat()).map((f) => `{ 0x${f[0].toString(16)}, ${f[1]}, ${f[2]}, ${f[3]} },`),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), fc.boolean(), (lines, counted) => {
        const text = (counted ? [String(lines.length), ...lines] : lines).join('\n');
        try {
          const insns = parseCbpf(text);
          for (const i of insns) expect(i.code <= 0xffff && i.jt <= 0xff && i.jf <= 0xff && i.k <= 0xffffffff).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(CbpfError);
          expect((e as CbpfError).line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 500 },
    );
  });
});
