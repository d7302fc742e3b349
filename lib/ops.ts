// Operator families as typed tables: the BigInt semantics of every ALU op,
// jump condition, byte-order conversion, sign extension and atomic op. The
// interpreter runs these directly; the JIT uses them as its reference (tests
// compare the two).
//
// Conventions: every value in and out is a canonical u64 BigInt (0 <= v < 2^64).
// 32-bit forms read only the low 32 bits of their operands and return the
// result zero-extended to 64 bits. These functions do not decode anything:
// turning an instruction's imm into an operand is the caller's job (see
// `immOperand`).

import type { AluOp, AtomicOp, JmpCond, OpSpec } from './isa.js';
import { SRC_X } from './isa.js';

/** Wraps to a canonical u64. */
export function u64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

/** The low 32 bits, zero-extended. */
export function u32(v: bigint): bigint {
  return BigInt.asUintN(32, v);
}

/** The value read as a signed 64-bit integer. */
export function s64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** The low 32 bits read as a signed 32-bit integer. */
export function s32(v: bigint): bigint {
  return BigInt.asIntN(32, v);
}

/** Sign-extends the low `bits` bits of `v` to 64 bits (result as u64). */
export function signExtend(v: bigint, bits: number): bigint {
  return u64(BigInt.asIntN(bits, v));
}

/**
 * The second operand of an ALU/JMP instruction with an immediate: imm
 * sign-extended to 64 bits (as u64), for every op including and/or/xor/mov and
 * unsigned div/mod. The 32-bit forms only look at its low 32 bits, which are
 * imm itself, so the same operand serves both widths. The caller (interpreter,
 * JIT) applies this; the tables below never see a raw imm.
 */
export function immOperand(imm: number): bigint {
  return u64(BigInt(imm));
}

// ---------------------------------------------------------------------------
// ALU

export interface AluSemantics {
  /** 64-bit op on canonical u64 operands. */
  eval64(a: bigint, b: bigint): bigint;
  /** 32-bit op on the low 32 bits of the operands; result zero-extended. */
  eval32(a: bigint, b: bigint): bigint;
}

export const ALU: Readonly<Record<AluOp, AluSemantics>> = Object.freeze({
  add: { eval64: (a, b) => u64(a + b), eval32: (a, b) => u32(a + b) },
  sub: { eval64: (a, b) => u64(a - b), eval32: (a, b) => u32(a - b) },
  // The low 32 bits of a product depend only on the low 32 bits of its factors.
  mul: { eval64: (a, b) => u64(a * b), eval32: (a, b) => u32(a * b) },
  div: {
    // Division by zero gives 0 (no trap in eBPF).
    eval64: (a, b) => (b === 0n ? 0n : a / b),
    // 32-bit div uses only the low 32 bits of the divisor: 0x1_0000_0000 counts as 0.
    eval32: (a, b) => (u32(b) === 0n ? 0n : u32(a) / u32(b)),
  },
  sdiv: {
    // BigInt division truncates toward zero; INT_MIN / -1 = 2^63, which wraps back to INT_MIN.
    eval64: (a, b) => (b === 0n ? 0n : u64(s64(a) / s64(b))),
    eval32: (a, b) => (u32(b) === 0n ? 0n : u32(s32(a) / s32(b))),
  },
  or: { eval64: (a, b) => a | b, eval32: (a, b) => u32(a | b) },
  and: { eval64: (a, b) => a & b, eval32: (a, b) => u32(a & b) },
  xor: { eval64: (a, b) => a ^ b, eval32: (a, b) => u32(a ^ b) },
  // Shift amounts are masked to 6 (64-bit) or 5 (32-bit) bits, never "too large".
  lsh: { eval64: (a, b) => u64(a << (b & 63n)), eval32: (a, b) => u32(a << (b & 31n)) },
  rsh: { eval64: (a, b) => a >> (b & 63n), eval32: (a, b) => u32(a) >> (b & 31n) },
  // arsh32 shifts the low 32 bits as a signed int, then zero-extends.
  arsh: { eval64: (a, b) => u64(s64(a) >> (b & 63n)), eval32: (a, b) => u32(s32(a) >> (b & 31n)) },
  mod: {
    // Modulo by zero leaves dst unchanged (the 32-bit form still zero-extends it).
    eval64: (a, b) => (b === 0n ? a : a % b),
    eval32: (a, b) => (u32(b) === 0n ? u32(a) : u32(a) % u32(b)),
  },
  smod: {
    // BigInt % truncates, so the sign follows the dividend and INT_MIN % -1 = 0.
    eval64: (a, b) => (b === 0n ? a : u64(s64(a) % s64(b))),
    eval32: (a, b) => (u32(b) === 0n ? u32(a) : u32(s32(a) % s32(b))),
  },
  // mov32 zero-extends even for `mov32 wX, wX`.
  mov: { eval64: (_a, b) => b, eval32: (_a, b) => u32(b) },
});

/** Result of an ALU instruction of the given width. */
export function evalAlu(op: AluOp, width: 32 | 64, a: bigint, b: bigint): bigint {
  return width === 64 ? ALU[op].eval64(a, b) : ALU[op].eval32(a, b);
}

/**
 * movsx: sign-extends the low `fromBits` of `v`. The 32-bit class extends
 * into 32 bits, then zero-extends (0x80 -> 0x00000000ffffff80).
 */
export function movsx(v: bigint, fromBits: number, width: 32 | 64): bigint {
  return width === 64 ? signExtend(v, fromBits) : u32(BigInt.asIntN(fromBits, v));
}

/** neg: two's complement; the 32-bit form is (u32)-dst. */
export function neg(v: bigint, width: 32 | 64): bigint {
  return width === 64 ? u64(-v) : u32(-v);
}

// ---------------------------------------------------------------------------
// Jumps

export interface JmpSemantics {
  /** Compares canonical u64 operands (signed conditions as s64). */
  test64(a: bigint, b: bigint): boolean;
  /** Compares the low 32 bits (signed conditions as s32). */
  test32(a: bigint, b: bigint): boolean;
}

export const JMP: Readonly<Record<JmpCond, JmpSemantics>> = Object.freeze({
  jeq: { test64: (a, b) => a === b, test32: (a, b) => u32(a) === u32(b) },
  jne: { test64: (a, b) => a !== b, test32: (a, b) => u32(a) !== u32(b) },
  jgt: { test64: (a, b) => a > b, test32: (a, b) => u32(a) > u32(b) },
  jge: { test64: (a, b) => a >= b, test32: (a, b) => u32(a) >= u32(b) },
  jlt: { test64: (a, b) => a < b, test32: (a, b) => u32(a) < u32(b) },
  jle: { test64: (a, b) => a <= b, test32: (a, b) => u32(a) <= u32(b) },
  // jset: taken when the operands share a set bit.
  jset: { test64: (a, b) => (a & b) !== 0n, test32: (a, b) => u32(a & b) !== 0n },
  jsgt: { test64: (a, b) => s64(a) > s64(b), test32: (a, b) => s32(a) > s32(b) },
  jsge: { test64: (a, b) => s64(a) >= s64(b), test32: (a, b) => s32(a) >= s32(b) },
  jslt: { test64: (a, b) => s64(a) < s64(b), test32: (a, b) => s32(a) < s32(b) },
  jsle: { test64: (a, b) => s64(a) <= s64(b), test32: (a, b) => s32(a) <= s32(b) },
});

/** Outcome of a conditional jump of the given width. */
export function testJmp(cond: JmpCond, width: 32 | 64, a: bigint, b: bigint): boolean {
  return width === 64 ? JMP[cond].test64(a, b) : JMP[cond].test32(a, b);
}

// ---------------------------------------------------------------------------
// Byte order. Our memory model is little-endian, so "to little-endian" only
// truncates and "to big-endian" swaps.

export type ByteOrderWidth = 16 | 32 | 64;
export type ByteOrderOp = 'le' | 'be' | 'bswap';

/** Reverses the bytes of the low `bits` bits of `v` (higher bits are dropped). */
export function bswap(v: bigint, bits: ByteOrderWidth): bigint {
  let r = 0n;
  for (let i = 0; i < bits; i += 8) r = (r << 8n) | ((v >> BigInt(i)) & 0xffn);
  return r;
}

/** le16/le32/le64: a no-op on a little-endian host apart from truncation (zero-extends). */
export function le(v: bigint, bits: ByteOrderWidth): bigint {
  return BigInt.asUintN(bits, v);
}

/** be16/be32/be64: swap, then truncate. */
export function be(v: bigint, bits: ByteOrderWidth): bigint {
  return bswap(v, bits);
}

export const BYTE_ORDER: Readonly<Record<ByteOrderOp, (v: bigint, bits: ByteOrderWidth) => bigint>> =
  Object.freeze({ le, be, bswap });

/**
 * Which conversion an end/bswap spec performs. For END (class ALU) the source
 * bit picks the target order: K (0xd4) = le, X (0xdc) = be.
 */
export function byteOrderOf(spec: OpSpec): ByteOrderOp | undefined {
  if (spec.kind === 'bswap') return 'bswap';
  if (spec.kind === 'end') return (spec.opcode & SRC_X) !== 0 ? 'be' : 'le';
  return undefined;
}

// ---------------------------------------------------------------------------
// Atomics

/** Atomic ops that compute a new memory value from the old one and src. */
export type RmwOp = Exclude<AtomicOp, 'cmpxchg'>;

const RMW: Readonly<Record<RmwOp, (old: bigint, operand: bigint) => bigint>> = Object.freeze({
  add: (old, x) => old + x,
  or: (old, x) => old | x,
  and: (old, x) => old & x,
  xor: (old, x) => old ^ x,
  xchg: (_old, x) => x,
});

/**
 * The value an atomic read-modify-write stores, given the old memory value
 * and the src register, truncated to the access width. (The fetch forms give
 * `old`, which a W load has already zero-extended, to src.)
 */
export function atomicOp(op: RmwOp, old: bigint, operand: bigint, width: 32 | 64): bigint {
  return BigInt.asUintN(width, RMW[op](old, operand));
}

/** cmpxchg's test: old memory value against r0 (only its low 32 bits for W). */
export function cmpxchgMatches(old: bigint, r0: bigint, width: 32 | 64): boolean {
  return BigInt.asUintN(width, old) === BigInt.asUintN(width, r0);
}
