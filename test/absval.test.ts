// Soundness of every transfer function of codegen/absval.ts, one operation at
// a time: for random abstract values and random concrete values inside them,
// the concrete result (lib/ops.ts) lies inside the abstract result. A frame
// value is r10 + d; each case draws one r10 from the range every frame's r10
// lies in, shared by all operands, as in one function activation.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ADDRESS_LIMIT, FRAME, FRAME_HIGH, FRAME_LOW, FRAME_SPAN, LOWEST_ADDRESS, SCALAR, TOP, U32_MAX,
  accessed, alu32, alu64, byteOrder, flip, join, movsx, narrow32, narrow64, narrowNoBits, neg, widen, type Rel, type Val,
} from '../codegen/absval.js';
import { OPCODES, type AluOp, type Instruction } from '../lib/isa.js';
import { BYTE_ORDER, byteOrderOf, evalAlu, movsx as movsxRef, neg as negRef } from '../lib/ops.js';

const RUNS = { seed: 0xab5, numRuns: 3000 };
const M64 = (1n << 64n) - 1n;

/** Does the abstract value describe `value` (r10 being `r10`)? */
function holds(v: Val, value: bigint, r10: bigint): boolean {
  if (v.k === TOP) return true;
  if (v.k === FRAME) {
    const d = BigInt.asIntN(64, value - r10);
    return d >= BigInt(v.a) && d <= BigInt(v.b);
  }
  const lo = Number(value & 0xffff_ffffn);
  return value >> 32n === BigInt(v.h) && lo >= v.a && lo <= v.b;
}

/** Interesting uint32 values: small, around 2^31 and 2^32, anything. */
const u32 = fc.oneof(
  fc.integer({ min: 0, max: 70 }),
  fc.integer({ min: 0, max: U32_MAX }),
  fc.integer({ min: 0x7fff_fff0, max: 0x8000_0010 }),
  fc.integer({ min: U32_MAX - 70, max: U32_MAX }),
  fc.constantFrom(0xff, 0x100, 0xffff, 0x10000, LOWEST_ADDRESS, ADDRESS_LIMIT),
);

/** An abstract value with a concrete value inside it, and the r10 they assume. */
interface Drawn {
  readonly v: Val;
  readonly x: bigint;
}

const r10Arb = fc.integer({ min: FRAME_LOW, max: FRAME_HIGH }).map(BigInt);

/** Where in [a, b] the concrete value is: near either end (where off-by-ones show), or anywhere. */
const pick = fc.oneof(fc.constantFrom(0, 1, 2, -1, -2, -3), fc.double({ min: 0, max: 1, noNaN: true }));

function inside(a: number, b: number, p: number): number {
  const v = Number.isInteger(p) && p !== 1 ? (p >= 0 ? a + p : b + p + 1) : p === 1 ? a + 1 : a + Math.floor(p * (b - a));
  return Math.min(Math.max(v, a), b);
}

function drawn(r10: bigint): fc.Arbitrary<Drawn> {
  const scalarArb = fc.tuple(fc.oneof(fc.constant(0), fc.constant(U32_MAX), u32), u32, u32, pick)
    .map(([h, p, q, t]) => {
      const [a, b] = p <= q ? [p, q] : [q, p];
      return { v: { k: SCALAR, a, b, h } as Val, x: (BigInt(h) << 32n) | BigInt(inside(a, b, t)) };
    });
  const frameArb = fc.tuple(fc.integer({ min: -FRAME_SPAN, max: FRAME_SPAN }), fc.integer({ min: 0, max: 2000 }), pick)
    .map(([a, w, t]) => {
      const b = Math.min(a + w, FRAME_SPAN);
      return { v: { k: FRAME, a, b, h: 0 } as Val, x: BigInt.asUintN(64, r10 + BigInt(inside(a, b, t))) };
    });
  const topArb = fc.bigInt({ min: 0n, max: M64 }).map((x) => ({ v: { k: TOP, a: 0, b: 0, h: 0 } as Val, x }));
  const constArb = fc.oneof(u32.map(BigInt), fc.bigInt({ min: 0n, max: M64 }), fc.integer({ min: -70, max: 70 }).map((n) => BigInt.asUintN(64, BigInt(n))))
    .map((x) => ({ v: { k: SCALAR, a: Number(x & 0xffff_ffffn), b: Number(x & 0xffff_ffffn), h: Number(x >> 32n) } as Val, x }));
  return fc.oneof({ weight: 4, arbitrary: scalarArb }, { weight: 2, arbitrary: frameArb }, { weight: 1, arbitrary: topArb }, { weight: 2, arbitrary: constArb });
}

/** r10 and two drawn values relative to it. */
const pair = r10Arb.chain((r10) => fc.tuple(fc.constant(r10), drawn(r10), drawn(r10)));

const ALU_OPS: readonly AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];

function explain(op: string, r10: bigint, ...parts: unknown[]): string {
  return `${op} r10=${r10.toString(16)} ${JSON.stringify(parts, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`;
}

describe('transfer functions are sound', () => {
  for (const op of ALU_OPS) {
    it(`${op} (64 and 32 bits)`, () => {
      fc.assert(fc.property(pair, ([r10, x, y]) => {
        const r64 = alu64(op, x.v, y.v);
        const c64 = evalAlu(op, 64, x.x, y.x);
        if (!holds(r64, c64, r10)) expect.fail(explain(`${op}64`, r10, x, y, r64, c64));
        const r32 = alu32(op, x.v, y.v);
        const c32 = evalAlu(op, 32, x.x, y.x);
        if (!holds(r32, c32, r10)) expect.fail(explain(`${op}32`, r10, x, y, r32, c32));
      }), RUNS);
    });
  }

  it('neg, movsx and byte order', () => {
    const orders = OPCODES.filter((s) => s.kind === 'end' || s.kind === 'bswap');
    fc.assert(fc.property(pair, fc.constantFrom(8, 16, 32), fc.constantFrom(...orders), ([r10, x], bits, spec) => {
      for (const w of [32, 64] as const) {
        if (!holds(neg(x.v, w), negRef(x.x, w), r10)) expect.fail(explain(`neg${w}`, r10, x));
        if (!holds(movsx(x.v, bits, w), movsxRef(x.x, bits, w), r10)) expect.fail(explain(`movsx${w} ${bits}`, r10, x));
      }
      const insn = { spec, pc: 0 } as Instruction;
      const want = BYTE_ORDER[byteOrderOf(spec)!](x.x, spec.width as 16 | 32 | 64);
      if (!holds(byteOrder(insn, x.v), want, r10)) expect.fail(explain(spec.mnemonic, r10, x));
    }), RUNS);
  });

  it('join and widen contain both sides', () => {
    const thresholds = [3, 0xff, 0xffff, 0x7fff_ffff, U32_MAX];
    fc.assert(fc.property(pair, ([r10, x, y]) => {
      const j = join(x.v, y.v);
      if (!holds(j, x.x, r10) || !holds(j, y.x, r10)) expect.fail(explain('join', r10, x, y, j));
      const w = widen(x.v, j, thresholds);
      if (!holds(w, x.x, r10) || !holds(w, y.x, r10)) expect.fail(explain('widen', r10, x, y, w));
    }), RUNS);
  });

  it('a branch narrows only to values that satisfy its condition', () => {
    const rels: readonly Rel[] = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'];
    const cmp = (rel: Rel, a: bigint, b: bigint): boolean =>
      ({ lt: a < b, le: a <= b, gt: a > b, ge: a >= b, eq: a === b, ne: a !== b })[rel];
    fc.assert(fc.property(pair, fc.constantFrom(...rels), ([r10, x, y], rel) => {
      // 64-bit: the relation on the whole values.
      if (cmp(rel, x.x, y.x)) {
        const nx = narrow64(x.v, rel, y.v);
        const ny = narrow64(y.v, flip(rel), x.v);
        if (nx === undefined || !holds(nx, x.x, r10)) expect.fail(explain(`narrow64 ${rel} x`, r10, x, y, nx));
        if (ny === undefined || !holds(ny, y.x, r10)) expect.fail(explain(`narrow64 ${rel} y`, r10, x, y, ny));
      }
      // 32-bit: the relation on the low halves.
      if (cmp(rel, x.x & 0xffff_ffffn, y.x & 0xffff_ffffn)) {
        const nx = narrow32(x.v, rel, y.v);
        if (nx === undefined || !holds(nx, x.x, r10)) expect.fail(explain(`narrow32 ${rel}`, r10, x, y, nx));
      }
      // Against constants at x's bounds, where narrowing moves them.
      if (x.v.k === SCALAR) {
        for (const c of [x.v.a, x.v.b, x.v.a + 1, x.v.b - 1]) {
          const k = (BigInt(x.v.h) << 32n) | BigInt(c >>> 0);
          const kv: Val = { k: SCALAR, a: c >>> 0, b: c >>> 0, h: x.v.h };
          if (cmp(rel, x.x, k)) {
            const nx = narrow64(x.v, rel, kv);
            if (nx === undefined || !holds(nx, x.x, r10)) expect.fail(explain(`narrow64 ${rel} bound`, r10, x, c, nx));
          }
          if (cmp(rel, x.x & 0xffff_ffffn, BigInt(c >>> 0))) {
            const nx = narrow32(x.v, rel, kv);
            if (nx === undefined || !holds(nx, x.x, r10)) expect.fail(explain(`narrow32 ${rel} bound`, r10, x, c, nx));
          }
        }
      }
      // jset not taken.
      for (const w of [32, 64] as const) {
        const mask = w === 64 ? M64 : 0xffff_ffffn;
        if (y.v.k === SCALAR && y.v.a === y.v.b && (x.x & y.x & mask) === 0n) {
          const nx = narrowNoBits(x.v, y.v, w);
          if (!holds(nx, x.x, r10)) expect.fail(explain(`jset${w} clear`, r10, x, y, nx));
        }
      }
    }), RUNS);
  });

  it('an access that passed its bounds check leaves its base inside the address space', () => {
    fc.assert(fc.property(pair, fc.integer({ min: -0x8000, max: 0x7fff }), fc.constantFrom(1, 2, 4, 8), ([r10, x], off, size) => {
      const address = BigInt.asUintN(64, x.x + BigInt(off));
      // Only an access to some mapped region passes: [LOWEST_ADDRESS, ADDRESS_LIMIT).
      if (address < BigInt(LOWEST_ADDRESS) || address + BigInt(size) > BigInt(ADDRESS_LIMIT)) return;
      const after = accessed(x.v, off, size);
      if (!holds(after, x.x, r10)) expect.fail(explain('accessed', r10, x, off, size, after));
    }), RUNS);
  });
});
