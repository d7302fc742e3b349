// The abstract values of the JIT's register analysis (analysis.ts) and the
// transfer function of every instruction over them. Pure functions, no
// state: analysis.ts runs them to a fixpoint over the CFG.
//
// A register's abstract value is one of:
//   TOP     nothing known (any u64);
//   SCALAR  the high half is the constant h, the low half lies in [a, b]
//           (uint32 bounds). h = 0 is the common case: a u64 below 2^32.
//           a = b is a known constant, whatever h;
//   FRAME   r10 + d for some integer d in [a, b]: a pointer into the stack
//           at a known distance from this function's frame pointer.
//
// Facts about addresses that every value here relies on (each one is an
// invariant of lib/memory.ts and of the runner, checked by
// test/analysis.test.ts):
//   - slot 0 is never mapped, so an access that passed its bounds check was
//     at an address >= SLOT_BYTES;
//   - nothing is ever mapped at or above CODE_ADDRESS_BASE (slot 0xff), so an
//     access that passed its check ended at or below it;
//   - r10 is the top of a frame inside the stack region: at least
//     SLOT_BYTES + FRAME_SIZE (the stack's base is in slot 1 or above and
//     has room for the frame below r10) and at most CODE_ADDRESS_BASE.
// From these, r10 + d with |d| <= FRAME_SPAN is a u64 below 2^32, so a FRAME
// value has a high half of 0.
//
// What it does not do: track memory contents, or relations between
// registers (apart from FRAME, which is "r10 plus something").

import { CODE_ADDRESS_BASE, codeAddress } from '../lib/code-address.js';
import type { AluOp, Instruction } from '../lib/isa.js';
import { SLOT_BYTES } from '../lib/memory.js';
import { BYTE_ORDER, byteOrderOf, evalAlu, movsx as movsxRef, neg as negRef } from '../lib/ops.js';
import { FRAME_SIZE } from '../lib/runtime.js';

export const TOP = 0;
export const SCALAR = 1;
export const FRAME = 2;

export interface Val {
  readonly k: typeof TOP | typeof SCALAR | typeof FRAME;
  /** SCALAR: lowest low half (uint32); FRAME: lowest offset from r10. */
  readonly a: number;
  /** SCALAR: highest low half (uint32); FRAME: highest offset from r10. */
  readonly b: number;
  /** SCALAR: the high half (uint32). */
  readonly h: number;
}

export const U32_MAX = 0xffffffff;
const TWO32 = 4294967296;
const INT32_MAX = 0x7fffffff;

/** One past the highest address any region may end at. */
export const ADDRESS_LIMIT = CODE_ADDRESS_BASE;
/** The lowest address an access may touch (slot 0 is never mapped). */
export const LOWEST_ADDRESS = SLOT_BYTES;
/** The lowest and highest value r10 can have. */
export const FRAME_LOW = SLOT_BYTES + FRAME_SIZE;
export const FRAME_HIGH = CODE_ADDRESS_BASE;
/**
 * Offsets from r10 tracked as FRAME (|d| <= FRAME_SPAN); beyond, a value
 * becomes a plain range. FRAME_HIGH + FRAME_SPAN is still below 2^32.
 */
export const FRAME_SPAN = SLOT_BYTES - 1;

export const TOP_VAL: Val = Object.freeze({ k: TOP, a: 0, b: 0, h: 0 });
const FULL32: Val = Object.freeze({ k: SCALAR, a: 0, b: U32_MAX, h: 0 });
/** r10 itself. */
export const FP_VAL: Val = Object.freeze({ k: FRAME, a: 0, b: 0, h: 0 });

export function scalar(h: number, a: number, b: number): Val {
  return { k: SCALAR, a, b, h };
}

/** A u64 below 2^32 in [a, b]. */
export function u32Range(a: number, b: number): Val {
  return a === 0 && b === U32_MAX ? FULL32 : { k: SCALAR, a, b, h: 0 };
}

/** The constant with these halves (either sign: only the bits count). */
export function constant(lo: number, hi: number): Val {
  return { k: SCALAR, a: lo >>> 0, b: lo >>> 0, h: hi >>> 0 };
}

/** r10 + [a, b]; offsets out of FRAME_SPAN make a plain range (or TOP). */
export function frame(a: number, b: number): Val {
  if (a >= -FRAME_SPAN && b <= FRAME_SPAN) return { k: FRAME, a, b, h: 0 };
  return fromSmall(FRAME_LOW + a, FRAME_HIGH + b);
}

export function isConst(v: Val): boolean {
  return v.k === SCALAR && v.a === v.b;
}

export function equal(x: Val, y: Val): boolean {
  return x === y || x.k === y.k && x.a === y.a && x.b === y.b && x.h === y.h;
}

/** The value as a SCALAR when it is a FRAME (its absolute range), else itself. */
export function absolute(v: Val): Val {
  return v.k === FRAME ? u32Range(FRAME_LOW + v.a, FRAME_HIGH + v.b) : v;
}

/** [min, max] of a value known to be below 2^32, else undefined. */
function nonNeg(v: Val): readonly [number, number] | undefined {
  if (v.k === FRAME) return [FRAME_LOW + v.a, FRAME_HIGH + v.b];
  return v.k === SCALAR && v.h === 0 ? [v.a, v.b] : undefined;
}

/** [min, max] of the value as a signed integer when it lies in [-2^32, 2^32), else undefined. */
function small(v: Val): readonly [number, number] | undefined {
  if (v.k === SCALAR && v.h === U32_MAX) return [v.a - TWO32, v.b - TWO32];
  return nonNeg(v);
}

/** The value for a signed range: below 2^32 (high half 0), or in [-2^32, 0) (high half all ones), else TOP. */
function fromSmall(s: number, e: number): Val {
  if (s >= 0 && e <= U32_MAX) return u32Range(s, e);
  if (s >= -TWO32 && e < 0) return scalar(U32_MAX, s + TWO32, e + TWO32);
  return TOP_VAL;
}

/** [min, max] of the low half as a uint32 (everything when unknown). */
function low(v: Val): readonly [number, number] {
  if (v.k === SCALAR) return [v.a, v.b];
  if (v.k === FRAME) return [FRAME_LOW + v.a, FRAME_HIGH + v.b];
  return [0, U32_MAX];
}

function toBig(v: Val): bigint {
  return (BigInt(v.h) << 32n) | BigInt(v.a);
}

function fromBig(x: bigint): Val {
  return constant(Number(x & 0xffffffffn), Number((x >> 32n) & 0xffffffffn));
}

/** 2^p - 1 for the smallest p with 2^p > m: a bound on x | y and x ^ y for x, y <= m. */
function ones(m: number): number {
  return m === 0 ? 0 : 2 ** (32 - Math.clz32(m)) - 1;
}

// ---------------------------------------------------------------------------
// Join and widening

export function join(x: Val, y: Val): Val {
  if (x === y) return x;
  if (x.k === FRAME && y.k === FRAME) return x.a <= y.a && x.b >= y.b ? x : frame(Math.min(x.a, y.a), Math.max(x.b, y.b));
  if (x.k === TOP || y.k === TOP) return TOP_VAL;
  const p = absolute(x);
  const q = absolute(y);
  if (p.h !== q.h) return TOP_VAL;
  if (p.a <= q.a && p.b >= q.b) return p;
  return scalar(p.h, Math.min(p.a, q.a), Math.max(p.b, q.b));
}

/**
 * Widening at a loop header: `next` (the join of `old` and what flows in)
 * grows a bound of `old`. A grown upper bound jumps to the next threshold
 * (constants the function compares with, then U32_MAX), a grown lower bound
 * to 0; frame offsets jump to the frame's bounds, then to FRAME_SPAN. Every
 * value can only be widened a bounded number of times, so the analysis ends.
 */
export function widen(old: Val, next: Val, thresholds: readonly number[]): Val {
  if (equal(old, next) || old.k !== next.k) return next;
  if (next.k === FRAME) {
    const a = next.a < old.a ? (next.a >= -FRAME_SIZE ? -FRAME_SIZE : -FRAME_SPAN) : next.a;
    const b = next.b > old.b ? (next.b <= 0 ? 0 : FRAME_SPAN) : next.b;
    return frame(a, b);
  }
  if (next.k !== SCALAR || next.h !== old.h) return next;
  const a = next.a < old.a ? 0 : next.a;
  let b = next.b;
  if (b > old.b) b = thresholds.find((t) => t >= next.b) ?? U32_MAX;
  return scalar(next.h, a, b);
}

// ---------------------------------------------------------------------------
// ALU

/** The abstract result of a 64-bit ALU op. */
export function alu64(op: AluOp, x: Val, y: Val): Val {
  if (op === 'mov') return y;
  if (isConst(x) && isConst(y)) return fromBig(evalAlu(op, 64, toBig(x), toBig(y)));
  switch (op) {
    case 'add': {
      if (x.k === FRAME && y.k !== FRAME) return shiftFrame(x, small(y), 1);
      if (y.k === FRAME && x.k !== FRAME) return shiftFrame(y, small(x), 1);
      const p = small(x);
      const q = small(y);
      return p && q ? fromSmall(p[0] + q[0], p[1] + q[1]) : TOP_VAL;
    }
    case 'sub': {
      // Two frame pointers of the same frame differ by the difference of their offsets.
      if (x.k === FRAME && y.k === FRAME) return fromSmall(x.a - y.b, x.b - y.a);
      if (x.k === FRAME) return shiftFrame(x, small(y), -1);
      const p = small(x);
      const q = small(y);
      return p && q ? fromSmall(p[0] - q[1], p[1] - q[0]) : TOP_VAL;
    }
    case 'mul': {
      const p = nonNeg(x);
      const q = nonNeg(y);
      return p && q && p[1] * q[1] <= U32_MAX ? u32Range(p[0] * q[0], p[1] * q[1]) : TOP_VAL;
    }
    case 'div':
    case 'sdiv': {
      // Below 2^32 both operands are non-negative as s64, where sdiv is div.
      const p = nonNeg(x);
      const q = nonNeg(y);
      if (op === 'sdiv' && q === undefined) return TOP_VAL;
      return p ? quotient(p, q) : TOP_VAL;
    }
    case 'mod':
    case 'smod': {
      // Modulo by zero leaves dst; otherwise the remainder is below the divisor
      // and (for a non-negative dividend, whatever the divisor's sign) at most the dividend.
      const p = nonNeg(x);
      const q = nonNeg(y);
      if (op === 'smod') return p ? remainder(p, q) : TOP_VAL;
      if (p) return remainder(p, q);
      return q && q[0] >= 1 ? u32Range(0, q[1] - 1) : TOP_VAL;
    }
    case 'and': {
      const p = nonNeg(x);
      const q = nonNeg(y);
      if (p && q) return u32Range(0, Math.min(p[1], q[1]));
      if (p || q) return u32Range(0, (p ?? q)![1]);
      return TOP_VAL;
    }
    case 'or':
    case 'xor': {
      const p = nonNeg(x);
      const q = nonNeg(y);
      if (!p || !q) return TOP_VAL;
      return u32Range(op === 'or' ? Math.max(p[0], q[0]) : 0, ones(Math.max(p[1], q[1])));
    }
    case 'lsh': {
      const p = nonNeg(x);
      const [s, e] = shiftAmount(y, 63);
      if (!p || p[1] * 2 ** e > U32_MAX) return TOP_VAL;
      return u32Range(p[0] * 2 ** s, p[1] * 2 ** e);
    }
    case 'rsh':
    case 'arsh': {
      const p = nonNeg(x);
      // Below 2^63 an arithmetic shift is a logical one.
      if (p) {
        const [s, e] = shiftAmount(y, 63);
        return u32Range(Math.floor(p[0] / 2 ** e), Math.floor(p[1] / 2 ** s));
      }
      if (op === 'arsh' || !isConst(y)) return TOP_VAL;
      const k = y.a & 63;
      if (k >= 32) return x.k === SCALAR ? constant(x.h >>> (k - 32), 0) : u32Range(0, 2 ** (64 - k) - 1);
      return x.k === SCALAR ? shiftRightKnownHigh(x, k) : TOP_VAL;
    }
  }
  return TOP_VAL;
}

/** frame + sign * [s, e] (an unknown addend makes TOP). */
function shiftFrame(f: Val, r: readonly [number, number] | undefined, sign: 1 | -1): Val {
  if (r === undefined) return TOP_VAL;
  return sign === 1 ? frame(f.a + r[0], f.b + r[1]) : frame(f.a - r[1], f.b - r[0]);
}

/** Unsigned x / y for x in p and y in q (undefined: anything); division by zero gives 0. */
function quotient(p: readonly [number, number], q: readonly [number, number] | undefined): Val {
  if (q === undefined || q[0] === 0) return u32Range(0, p[1]);
  return u32Range(Math.floor(p[0] / q[1]), Math.floor(p[1] / q[0]));
}

/** x mod y for non-negative x in p: at most x (modulo by zero leaves x), and below y when y >= 1. */
function remainder(p: readonly [number, number], q: readonly [number, number] | undefined): Val {
  return u32Range(0, q && q[0] >= 1 ? Math.min(p[1], q[1] - 1) : p[1]);
}

/** Range of a shift amount (masked to `mask` = 31 or 63): exact for a constant, else [0, mask] unless the value is small. */
function shiftAmount(y: Val, mask: number): readonly [number, number] {
  if (isConst(y)) return [y.a & mask, y.a & mask];
  const [s, e] = low(y);
  return e <= mask ? [s, e] : [0, mask];
}

/** x >> k (0 < k < 32) for x with a known high half h: the high half is h >>> k, the low half monotone in x's. */
function shiftRightKnownHigh(x: Val, k: number): Val {
  const carried = (x.h % 2 ** k) * 2 ** (32 - k);
  return scalar(x.h >>> k, carried + Math.floor(x.a / 2 ** k), carried + Math.floor(x.b / 2 ** k));
}

/** The abstract result of a 32-bit ALU op (always below 2^32). */
export function alu32(op: AluOp, x: Val, y: Val): Val {
  if (isConst(x) && isConst(y)) return fromBig(evalAlu(op, 32, toBig(x), toBig(y)));
  const [xs, xe] = low(x);
  const [ys, ye] = low(y);
  switch (op) {
    case 'mov': return u32Range(ys, ye);
    case 'add': return xe + ye <= U32_MAX ? u32Range(xs + ys, xe + ye) : FULL32;
    case 'sub': return xs - ye >= 0 ? u32Range(xs - ye, xe - ys) : FULL32;
    case 'mul': return xe * ye <= U32_MAX ? u32Range(xs * ys, xe * ye) : FULL32;
    case 'div': return quotient([xs, xe], [ys, ye]);
    // Below 2^31 both are non-negative as s32, where sdiv is div.
    case 'sdiv': return xe <= INT32_MAX && ye <= INT32_MAX ? quotient([xs, xe], [ys, ye]) : FULL32;
    case 'mod': return remainder([xs, xe], [ys, ye]);
    case 'smod': return xe <= INT32_MAX ? remainder([xs, xe], ye <= INT32_MAX ? [ys, ye] : undefined) : FULL32;
    case 'and': return u32Range(0, Math.min(xe, ye));
    case 'or': return u32Range(Math.max(xs, ys), ones(Math.max(xe, ye)));
    case 'xor': return u32Range(0, ones(Math.max(xe, ye)));
    case 'lsh': {
      const [s, e] = shiftAmount(y, 31);
      return xe * 2 ** e <= U32_MAX ? u32Range(xs * 2 ** s, xe * 2 ** e) : FULL32;
    }
    case 'rsh':
    case 'arsh': {
      if (op === 'arsh' && xe > INT32_MAX) return FULL32;
      const [s, e] = shiftAmount(y, 31);
      return u32Range(Math.floor(xs / 2 ** e), Math.floor(xe / 2 ** s));
    }
  }
  return FULL32;
}

export function neg(x: Val, width: 32 | 64): Val {
  if (isConst(x)) return fromBig(negRef(toBig(x), width));
  if (width === 64) {
    const p = small(x);
    return p ? fromSmall(-p[1], -p[0]) : TOP_VAL;
  }
  const [s, e] = low(x);
  return s >= 1 ? u32Range(TWO32 - e, TWO32 - s) : FULL32;
}

/** movsx: sign-extends the low `bits` of x (to 64 bits, or to 32 and then zero-extended). */
export function movsx(x: Val, bits: number, width: 32 | 64): Val {
  if (isConst(x)) return fromBig(movsxRef(toBig(x), bits, width));
  const [s, e] = low(x);
  const sign = 2 ** (bits - 1);
  if (e < sign) return u32Range(s, e);
  // All negative at that width: the value is x - 2^bits.
  if (s >= sign && e < 2 * sign) return width === 64 ? fromSmall(s - 2 * sign, e - 2 * sign) : u32Range(s - 2 * sign + TWO32, e - 2 * sign + TWO32);
  return width === 64 ? TOP_VAL : FULL32;
}

/** end/bswap of `bits` bits. */
export function byteOrder(insn: Instruction, x: Val): Val {
  const op = byteOrderOf(insn.spec)!;
  const bits = insn.spec.width as 16 | 32 | 64;
  if (isConst(x)) return fromBig(BYTE_ORDER[op](toBig(x), bits));
  if (op === 'le') {
    // Only truncates.
    if (bits === 64) return x;
    const [s, e] = low(x);
    const mask = bits === 16 ? 0xffff : U32_MAX;
    return e <= mask ? u32Range(s, e) : u32Range(0, mask);
  }
  return bits === 64 ? TOP_VAL : u32Range(0, bits === 16 ? 0xffff : U32_MAX);
}

export function lddw(insn: Instruction): Val {
  switch (insn.spec.lddwSrc) {
    case 0: return constant(insn.imm, insn.imm2);
    case 4: return constant(codeAddress(insn.pc + 1 + insn.imm), 0);
    default: return TOP_VAL;
  }
}

/** An immediate operand: imm sign-extended to 64 bits. */
export function immVal(imm: number): Val {
  return constant(imm, imm < 0 ? -1 : 0);
}

const LOADED: Readonly<Record<number, Val>> = Object.freeze({
  1: Object.freeze(u32Range(0, 0xff)), 2: Object.freeze(u32Range(0, 0xffff)), 4: FULL32, 8: TOP_VAL,
});

/** A value loaded by ldx of `bytes` bytes (zero-extended). */
export function loaded(bytes: number): Val {
  return LOADED[bytes]!;
}

/**
 * The base register after an access of `size` bytes at base + off passed its
 * bounds check: the address was in some region, so at least LOWEST_ADDRESS
 * and ending at most at ADDRESS_LIMIT (and the high half was 0). A frame
 * pointer whose access is proven inside the frame keeps its (more useful)
 * frame form.
 */
export function accessed(base: Val, off: number, size: number): Val {
  if (base.k === FRAME) {
    if (base.a + off >= -FRAME_SIZE && base.b + off + size <= 0) return base;
    // Not provably in the frame (a pointer moved by a loop, say): its absolute bounds are worth more.
    base = absolute(base);
  }
  const a = Math.max(0, LOWEST_ADDRESS - off);
  const b = ADDRESS_LIMIT - size - off;
  if (base.k === TOP) return u32Range(a, b);
  if (base.h !== 0 || base.a > b || base.b < a) return base; // always faults: what follows never runs
  return u32Range(Math.max(a, base.a), Math.min(b, base.b));
}

// ---------------------------------------------------------------------------
// Branch conditions

/** An unsigned relation between two values, as it holds on one edge of a branch. */
export type Rel = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';

const FLIP: Readonly<Record<Rel, Rel>> = Object.freeze({ lt: 'gt', le: 'ge', gt: 'lt', ge: 'le', eq: 'eq', ne: 'ne' });

/** Narrows [s, e] by `x REL [ys, ye]`; undefined when no value satisfies it. */
function narrow(s: number, e: number, rel: Rel, ys: number, ye: number): readonly [number, number] | undefined {
  switch (rel) {
    case 'lt': e = Math.min(e, ye - 1); break;
    case 'le': e = Math.min(e, ye); break;
    case 'gt': s = Math.max(s, ys + 1); break;
    case 'ge': s = Math.max(s, ys); break;
    case 'eq': s = Math.max(s, ys); e = Math.min(e, ye); break;
    case 'ne':
      if (ys === ye) {
        if (s === ys) s++;
        if (e === ys) e--;
      }
      break;
  }
  return s <= e ? [s, e] : undefined;
}

/**
 * What `x REL y` (64-bit, unsigned) says about x; undefined when the
 * relation cannot hold. Frame pointers of the same frame compare by their
 * offsets; a frame pointer is never narrowed by a plain value (its absolute
 * position is not known at compile time).
 */
export function narrow64(x: Val, rel: Rel, y: Val): Val | undefined {
  if (x.k === FRAME) {
    if (y.k !== FRAME) return x;
    const r = narrow(x.a, x.b, rel, y.a, y.b);
    return r && frame(r[0], r[1]);
  }
  if (rel === 'eq') {
    if (x.k === TOP) return y;
    const q = absolute(y);
    if (q.k !== SCALAR || q.h !== x.h) return q.k === SCALAR ? undefined : x;
    const r = narrow(x.a, x.b, rel, q.a, q.b);
    return r && scalar(x.h, r[0], r[1]);
  }
  const p = nonNeg(x);
  const q = nonNeg(y);
  // Nothing known about y below 2^32: nothing to narrow x by.
  if (q === undefined) return x;
  if (p === undefined) {
    // Only an upper bound below 2^32 says anything about an unknown x.
    if (x.k !== TOP || (rel !== 'lt' && rel !== 'le')) return x;
    const r = narrow(0, U32_MAX, rel, q[0], q[1]);
    return r && u32Range(r[0], r[1]);
  }
  const r = narrow(p[0], p[1], rel, q[0], q[1]);
  return r && u32Range(r[0], r[1]);
}

/** What `low32(x) REL low32(y)` (unsigned) says about x: only its low half's range, when its high half is known. */
export function narrow32(x: Val, rel: Rel, y: Val): Val | undefined {
  if (x.k !== SCALAR) return x;
  const [ys, ye] = low(y);
  const r = narrow(x.a, x.b, rel, ys, ye);
  return r && scalar(x.h, r[0], r[1]);
}

export function flip(rel: Rel): Rel {
  return FLIP[rel];
}

/** Is the value below 2^31 as seen by a signed 32-bit compare (its low half) / a signed 64-bit one (the whole value)? */
export function signedAgrees(v: Val, width: 32 | 64): boolean {
  if (width === 32) return low(v)[1] <= INT32_MAX;
  return nonNeg(v) !== undefined;
}

/**
 * `x & mask == 0` (a jset not taken) with a constant mask: x's low half has
 * no bit of the mask's low half; a mask with every high bit set (a negative
 * imm) also clears x's high half.
 */
export function narrowNoBits(x: Val, mask: Val, width: 32 | 64): Val {
  if (!isConst(mask)) return x;
  const bound = ~mask.a >>> 0;
  if (x.k === SCALAR) return x.a > bound ? x : scalar(x.h, x.a, Math.min(x.b, bound));
  if (x.k === TOP && width === 64 && mask.h === U32_MAX) return u32Range(0, bound);
  return x;
}
