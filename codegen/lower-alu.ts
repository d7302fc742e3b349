// Lowers the arithmetic instructions (alu, movsx, neg, end, bswap, lddw) to
// statements on int32 register pairs `rN` (low) / `rNh` (high), following the
// conventions of context.ts. The results are exactly lib/ops.ts's; every
// value written to a register local is an int32, so V8 keeps them as small
// integers (a double in a register local deoptimizes the loop around it).
//
// Operands are pairs of halves, each a known int32 constant or the name of an
// int32 local. Immediates become constants at compile time and fold, and so
// do the halves the register analysis (analysis.ts, ctx.hints) knows: a high
// half proven 0 is the constant 0 (the local still holds 0 there, it is just
// not read), a register proven constant is its value. A result whose high
// half (or whole value) the analysis knows is written as that constant: a
// 64-bit add that provably does not carry is a 32-bit add.
//
// What it does not do: choose representations, or touch memory and calls.

import {
  assign, bin, call, cond, id, ifStmt, index, member, num, unary, type Expr, type Stmt,
} from './ast.js';
import { RT, hi, lo, type LowerContext } from './context.js';
import { FP_REG, type AluOp, type Instruction } from '../lib/isa.js';
import { byteOrderOf, type ByteOrderOp } from '../lib/ops.js';
import { codeAddress } from '../lib/code-address.js';

/** One 32-bit half of an operand: a known int32 constant, or the name of a local holding one. */
export type Half = number | string;

/** A 64-bit operand as two halves. */
export interface Operand {
  readonly lo: Half;
  readonly hi: Half;
}

/** An int32-valued result: a Half, or an expression built for a single use. */
export type Val = Half | Expr;

/** The temporaries this file uses (declared by every generated function, see context.ts TEMPS). */
const T = 't';

const FP_LOCAL = lo(FP_REG);

// ---------------------------------------------------------------------------
// Operands and small folding builders (shared with lower-jmp.ts)

/** A register as an operand. r10 has no high local: its high half is 0. */
export function regOperand(reg: number): Operand {
  return reg === FP_REG ? { lo: FP_LOCAL, hi: 0 } : { lo: lo(reg), hi: hi(reg) };
}

/** An immediate as a 64-bit operand: imm sign-extended, for every op (32-bit forms read only lo). */
export function immOperand(imm: number): Operand {
  return { lo: imm | 0, hi: imm < 0 ? -1 : 0 };
}

/** The second operand of an alu/jcond instruction. */
export function sourceOperand(insn: Instruction): Operand {
  return insn.spec.source === 'reg' ? regOperand(insn.src) : immOperand(insn.imm);
}

/** A register as an operand just before the instruction at `pc`: the halves the analysis knows are constants. */
export function regOperandAt(ctx: LowerContext, pc: number, reg: number): Operand {
  const plain = regOperand(reg);
  const fact = ctx.hints?.before(pc, reg);
  if (fact?.hi === undefined) return plain;
  // A frame pointer's low half is r10 + d: never a compile-time constant.
  if (fact.min === fact.max && fact.frame === undefined) return { lo: fact.min | 0, hi: fact.hi };
  return { lo: plain.lo, hi: fact.hi };
}

/** The second operand of an alu/jcond instruction, with what the analysis knows about a register. */
export function sourceOperandAt(ctx: LowerContext, insn: Instruction): Operand {
  return insn.spec.source === 'reg' ? regOperandAt(ctx, insn.pc, insn.src) : immOperand(insn.imm);
}

/** What the analysis knows about dst just after `insn`: its high half (int32) and, for a known value, its low half. */
function resultOf(ctx: LowerContext, insn: Instruction): { hi: number | undefined; lo: number | undefined } {
  const fact = ctx.hints?.after(insn.pc, insn.dst);
  if (fact?.hi === undefined) return { hi: undefined, lo: undefined };
  return { hi: fact.hi, lo: fact.min === fact.max && fact.frame === undefined ? fact.min | 0 : undefined };
}

export function isConst(v: Val): v is number {
  return typeof v === 'number';
}

/** The expression for a value (a fresh node for names and constants). */
export function ex(v: Val): Expr {
  if (typeof v === 'number') return num(v);
  if (typeof v === 'string') {
    // r10 is the one register local not kept int32 (a stack in a slot >= 0x80 is above 2^31).
    return v === FP_LOCAL ? bin('|', id(v), num(0)) : id(v);
  }
  return v;
}

/** The value as a uint32 expression (`x >>> 0`). */
export function u(v: Val): Expr {
  return isConst(v) ? num(v >>> 0) : bin('>>>', ex(v), num(0));
}

/** `(e) | 0`: back to int32 after arithmetic that may leave it. */
function wrap(e: Expr): Expr {
  return bin('|', e, num(0));
}

export function and(x: Val, y: Val): Val {
  if (isConst(x) && isConst(y)) return x & y;
  if (x === 0 || y === 0) return 0;
  if (y === -1 || x === y) return x;
  if (x === -1) return y;
  return bin('&', ex(x), ex(y));
}

export function or(x: Val, y: Val): Val {
  if (isConst(x) && isConst(y)) return x | y;
  if (x === -1 || y === -1) return -1;
  if (y === 0 || x === y) return x;
  if (x === 0) return y;
  return bin('|', ex(x), ex(y));
}

export function xor(x: Val, y: Val): Val {
  if (isConst(x) && isConst(y)) return x ^ y;
  if (x === y) return 0;
  if (y === 0) return x;
  if (x === 0) return y;
  if (y === -1) return unary('~', ex(x));
  if (x === -1) return unary('~', ex(y));
  return bin('^', ex(x), ex(y));
}

/** Wrapping int32 sum of the terms (zeros dropped). */
function sum(terms: readonly Val[]): Val {
  const live = terms.filter((t) => t !== 0);
  if (live.length === 0) return 0;
  if (live.length === 1) return live[0]!;
  // A negative constant term prints as a subtraction (`x - 1`, not `x + -1`).
  return wrap(live.slice(1).reduce<Expr>((acc, t) => (isConst(t) && t < 0 ? bin('-', acc, num(-t)) : bin('+', acc, ex(t))), ex(live[0]!)));
}

function neg32(x: Val): Val {
  return isConst(x) ? -x | 0 : wrap(unary('-', ex(x)));
}

function imul(x: Val, y: Val): Val {
  if (isConst(x) && isConst(y)) return Math.imul(x, y);
  if (x === 0 || y === 0) return 0;
  if (y === 1) return x;
  if (x === 1) return y;
  if (y === -1) return neg32(x);
  if (x === -1) return neg32(y);
  // By a power of two, a shift: the same low 32 bits, and a shift is cheaper than a multiply.
  const k = isConst(y) ? log2(y >>> 0) : isConst(x) ? log2(x >>> 0) : undefined;
  if (k !== undefined) return shl32(isConst(y) ? x : y, k);
  return call(member('Math', 'imul'), [ex(x), ex(y)]);
}

/** log2 of a uint32 power of two, else undefined. */
function log2(n: number): number | undefined {
  const k = Math.log2(n);
  return n > 0 && Number.isInteger(k) ? k : undefined;
}

/** `name = v;`, or nothing when v is that very local. */
function set(name: string, v: Val): Stmt[] {
  return v === name ? [] : [assign(name, ex(v))];
}

/** The destination of a 64-bit op: the locals written and the operand they hold before. */
interface Dst {
  readonly lo: string;
  readonly hi: string;
  readonly a: Operand;
  /** The source is the destination register itself: write order matters. */
  readonly alias: boolean;
}

// ---------------------------------------------------------------------------
// 32-bit ALU: every op is one int32 expression on the low halves; the caller
// writes it to rN and zeroes rNh (32-bit results are zero-extended).

type Op32 = (a: Half, b: Half) => Val;

const ALU32: Readonly<Record<AluOp, Op32>> = Object.freeze({
  add: (a, b) => sum([a, b]),
  sub: (a, b) => (b === 0 ? a : a === b ? 0 : wrap(bin('-', ex(a), ex(b)))),
  mul: (a, b) => {
    const k = isConst(b) && b > 0 ? log2(b) : undefined;
    return k !== undefined ? shl32(a, k) : imul(a, b);
  },
  div: (a, b) => {
    if (isConst(b)) {
      // Division by zero gives 0.
      if (b === 0) return 0;
      const k = log2(b >>> 0);
      if (k !== undefined) return k === 0 ? a : bin('>>>', ex(a), num(k));
    }
    // x / 0 is Infinity or NaN, and both `| 0` to 0: eBPF's division by zero, for free.
    return wrap(bin('/', u(a), u(b)));
  },
  sdiv: (a, b) => {
    if (b === 0) return 0;
    if (b === 1) return a;
    if (b === -1) return neg32(a);
    // `| 0` truncates toward zero; INT_MIN / -1 = 2^31 wraps to INT_MIN and x / 0 gives 0, as eBPF wants.
    return wrap(bin('/', ex(a), ex(b)));
  },
  mod: (a, b) => {
    if (isConst(b)) {
      // Modulo by zero leaves dst unchanged (the caller still zero-extends it).
      if (b === 0) return a;
      const k = log2(b >>> 0);
      if (k !== undefined) return and(a, (b >>> 0) - 1);
      return wrap(bin('%', u(a), u(b)));
    }
    // Modulo by zero leaves dst unchanged (x % 0 would be NaN).
    return cond(bin('===', ex(b), num(0)), ex(a), wrap(bin('%', u(a), u(b))));
  },
  smod: (a, b) => {
    if (b === 0) return a;
    if (b === 1 || b === -1) return 0;
    // JS % truncates like eBPF (sign of the dividend); INT_MIN % -1 is -0, which `| 0` makes 0.
    const r = wrap(bin('%', ex(a), ex(b)));
    return isConst(b) ? r : cond(bin('===', ex(b), num(0)), ex(a), r);
  },
  or: (a, b) => or(a, b),
  and: (a, b) => and(a, b),
  xor: (a, b) => xor(a, b),
  // JS masks shift counts to 5 bits: exactly eBPF's 32-bit shift rule.
  lsh: (a, b) => (isConst(b) ? shl32(a, b & 31) : bin('<<', ex(a), ex(b))),
  rsh: (a, b) => {
    if (!isConst(b)) return wrap(bin('>>>', ex(a), ex(b)));
    // A constant shift of 1..31 leaves a value below 2^31: no `| 0` needed.
    return (b & 31) === 0 ? a : bin('>>>', ex(a), num(b & 31));
  },
  arsh: (a, b) => (isConst(b) ? ((b & 31) === 0 ? a : bin('>>', ex(a), num(b & 31))) : bin('>>', ex(a), ex(b))),
  mov: (_a, b) => b,
});

function shl32(a: Val, k: number): Val {
  if (isConst(a)) return a << k;
  return k === 0 ? a : bin('<<', ex(a), num(k));
}

/** a >>> k (a result below 2^31 for k >= 1, so still int32) or a >> k, for 0 <= k < 32. */
function shr32(a: Val, k: number, signed: boolean): Val {
  if (isConst(a)) return signed ? a >> k : (a >>> k) | 0;
  return k === 0 ? a : bin(signed ? '>>' : '>>>', ex(a), num(k));
}

// ---------------------------------------------------------------------------
// 64-bit ALU: statements writing both halves. Halves are written in an order
// that never reads a half already overwritten, including when src is dst.

type Op64 = (d: Dst, b: Operand) => Stmt[];

const ALU64: Readonly<Record<AluOp, Op64>> = Object.freeze({
  mov: (d, b) => [...set(d.lo, b.lo), ...set(d.hi, b.hi)],
  and: (d, b) => [...set(d.lo, and(d.a.lo, b.lo)), ...set(d.hi, and(d.a.hi, b.hi))],
  or: (d, b) => [...set(d.lo, or(d.a.lo, b.lo)), ...set(d.hi, or(d.a.hi, b.hi))],
  xor: (d, b) => [...set(d.lo, xor(d.a.lo, b.lo)), ...set(d.hi, xor(d.a.hi, b.hi))],
  add: (d, b) => {
    if (b.lo === 0) return set(d.hi, sum([d.a.hi, b.hi]));
    // The low sum wrapped (carry out) iff it is below an operand, compared as uint32.
    // (An int32 compare measured faster than summing uint32 halves as doubles.)
    const carry = cond(bin('<', u(T), u(isConst(b.lo) ? b.lo : d.a.lo)), num(1), num(0));
    return [
      assign(T, wrap(bin('+', ex(d.a.lo), ex(b.lo)))),
      assign(d.hi, ex(sum([d.a.hi, b.hi, carry]))),
      assign(d.lo, id(T)),
    ];
  },
  sub: (d, b) => {
    if (d.alias) return [...set(d.lo, 0), ...set(d.hi, 0)];
    if (b.lo === 0) return set(d.hi, ALU32.sub(d.a.hi, b.hi));
    // Borrow from the high half iff the low halves compare a < b as uint32.
    const borrow = cond(bin('<', u(d.a.lo), u(b.lo)), num(1), num(0));
    const high = b.hi === 0 ? ex(d.a.hi) : bin('-', ex(d.a.hi), ex(b.hi));
    return [assign(d.hi, wrap(bin('-', high, borrow))), assign(d.lo, wrap(bin('-', ex(d.a.lo), ex(b.lo))))];
  },
  mul: (d, b) => {
    const k = b.hi === 0 && isConst(b.lo) && b.lo > 0 ? log2(b.lo) : undefined;
    if (k !== undefined) return ALU64.lsh(d, { lo: k, hi: 0 });
    // (ah:al) * (bh:bl) mod 2^64 = mulhi(al, bl) + al*bh + ah*bl in the high half (mod 2^32).
    const low = imul(d.a.lo, b.lo);
    const lowInT = mulhiReadsLow(d.a.lo, b.lo) && !isConst(low) && typeof low !== 'string';
    const high = mulhiU32(d.a.lo, b.lo, lowInT ? T : low);
    const hiStmt = set(d.hi, sum([high, imul(d.a.lo, b.hi), imul(d.a.hi, b.lo)]));
    // The low product goes to T first when the high half reads it (dst's low half is an operand).
    return lowInT ? [assign(T, ex(low)), ...hiStmt, assign(d.lo, id(T))] : [...hiStmt, ...set(d.lo, low)];
  },
  div: (d, b) => divmod64('div', d, b),
  mod: (d, b) => divmod64('mod', d, b),
  sdiv: (d, b) => divmod64('sdiv', d, b),
  smod: (d, b) => divmod64('smod', d, b),
  lsh: (d, b) => shift64('lsh', d, b),
  rsh: (d, b) => shift64('rsh', d, b),
  arsh: (d, b) => shift64('arsh', d, b),
});

/**
 * The high 32 bits of the unsigned product of two uint32 halves, as an int32
 * value; `low` is their low product (Math.imul), available as a value.
 *
 * In doubles: the product p = x * y < 2^64 rounds to within 2^11 of itself,
 * and so does p - lo(p) (= hi * 2^32, exact in theory); divided by 2^32 that
 * is hi within 2^-20, so adding 0.5 and truncating (`| 0`, positive here)
 * gives hi exactly. A constant factor up to 2^21 keeps the product below
 * 2^53, exact: then one multiply and a scale do.
 */
function mulhiU32(x: Half, y: Half, low: Val): Val {
  if (!mulhiReadsLow(x, y)) return mulhiExact(x, y);
  const product = bin('*', u(x), u(y));
  return wrap(bin('+', bin('/', bin('-', product, u(low)), num(2 ** 32)), num(0.5)));
}

/** Does mulhiU32 need the low product (or is the product exact in a double)? */
function mulhiReadsLow(x: Half, y: Half): boolean {
  if (isConst(x) && isConst(y)) return false;
  const k = isConst(x) ? x >>> 0 : isConst(y) ? y >>> 0 : undefined;
  return k === undefined || (k > 2 ** 21 && log2(k) === undefined);
}

/**
 * mulhiU32 when the product is exact in a double: both factors constant, or
 * one at most 2^21, or a power of two (then the high half is a shift).
 */
function mulhiExact(x: Half, y: Half): Val {
  if (isConst(x) && isConst(y)) return Number((BigInt(x >>> 0) * BigInt(y >>> 0)) >> 32n) | 0;
  const [v, k] = isConst(x) ? [y, x >>> 0] : [x, (y as number) >>> 0];
  if (k <= 1) return 0;
  const shift = log2(k);
  if (shift !== undefined) return bin('>>>', ex(v), num(32 - shift));
  return wrap(bin('/', bin('*', u(v), num(k)), num(2 ** 32)));
}

type DivKind = 'div' | 'mod' | 'sdiv' | 'smod';

/** Runtime slow path per op: f(alo, ahi, blo, bhi) returns lo and leaves hi in RET[1]. */
const DIV_SLOW: Readonly<Record<DivKind, string>> = Object.freeze({
  div: RT.div64, mod: RT.mod64, sdiv: RT.sdiv64, smod: RT.smod64,
});

function divmod64(kind: DivKind, d: Dst, b: Operand): Stmt[] {
  const isDiv = kind === 'div' || kind === 'sdiv';
  if (isConst(b.lo) && isConst(b.hi)) {
    // Division by zero gives 0; modulo by zero leaves dst unchanged.
    if (b.lo === 0 && b.hi === 0) return isDiv ? [...set(d.lo, 0), ...set(d.hi, 0)] : [];
    const k = b.hi === 0 && (kind === 'div' || kind === 'mod') ? log2(b.lo >>> 0) : undefined;
    if (k !== undefined) return kind === 'div' ? shift64('rsh', d, { lo: k, hi: 0 }) : ALU64.and(d, { lo: (b.lo >>> 0) - 1, hi: 0 });
    if (kind === 'sdiv' && b.lo === 1 && b.hi === 0) return [];
    if (kind === 'sdiv' && b.lo === -1 && b.hi === -1) return negate64(d);
    if (kind === 'smod' && (b.lo === 1 || b.lo === -1) && b.hi === (b.lo >> 31)) return [...set(d.lo, 0), ...set(d.hi, 0)];
  }
  const slow = [
    assign(d.lo, call(DIV_SLOW[kind], [ex(d.a.lo), ex(d.a.hi), ex(b.lo), ex(b.hi)])),
    assign(d.hi, index(RT.ret, num(1))),
  ];
  // Both high halves 0: non-negative operands below 2^32, where signed and
  // unsigned agree and a double division is exact. The high half stays 0.
  const bothSmall = eqZero(or(d.a.hi, b.hi));
  if (bothSmall === false) return slow;
  const fast = set(d.lo, (isDiv ? ALU32.div : ALU32.mod)(d.a.lo, b.lo));
  // Tested at run time, dst's high half is 0 on the fast path already; known at compile time, it is written.
  return bothSmall === true ? [...fast, ...set(d.hi, 0)] : [ifStmt(bothSmall, fast, slow)];
}

/** `v === 0`, folded when v is a constant. */
function eqZero(v: Val): boolean | Expr {
  return isConst(v) ? v === 0 : bin('===', ex(v), num(0));
}

type ShiftOp = 'lsh' | 'rsh' | 'arsh';

/**
 * 64-bit shifts. The amount is masked to 6 bits; JS masks its own shift
 * counts to 5, so amounts of 32..63 take the other branch, and the bits that
 * cross halves use `(x >>> 1) >>> ~s` (= x >>> (32 - s), and 0 when s = 0).
 */
function shift64(op: ShiftOp, d: Dst, b: Operand): Stmt[] {
  const { a } = d;
  if (isConst(b.lo)) {
    const k = b.lo & 63;
    if (k === 0) return [];
    if (op === 'lsh') {
      if (k >= 32) return [...set(d.hi, shl32(a.lo, k - 32)), ...set(d.lo, 0)];
      return [...set(d.hi, or(shl32(a.hi, k), shr32(a.lo, 32 - k, false))), ...set(d.lo, shl32(a.lo, k))];
    }
    const signed = op === 'arsh';
    if (k >= 32) return [...set(d.lo, shr32(a.hi, k - 32, signed)), ...set(d.hi, signed ? shr32(a.hi, 31, true) : 0)];
    // k >= 1, so >>> leaves a value below 2^31.
    return [...set(d.lo, or(shr32(a.lo, k, false), shl32(a.hi, 32 - k))), ...set(d.hi, shr32(a.hi, k, signed))];
  }
  // When src is dst, the amount must survive the first write.
  const pre = d.alias ? [assign(T, ex(b.lo))] : [];
  const s = d.alias ? T : b.lo;
  const small = bin('===', bin('&', ex(s), num(32)), num(0));
  if (op === 'lsh') {
    return [...pre, ifStmt(small, [
      assign(d.hi, bin('|', bin('<<', ex(a.hi), ex(s)), bin('>>>', bin('>>>', ex(a.lo), num(1)), unary('~', ex(s))))),
      assign(d.lo, bin('<<', ex(a.lo), ex(s))),
    ], [
      assign(d.hi, bin('<<', ex(a.lo), ex(s))),
      assign(d.lo, num(0)),
    ])];
  }
  const right = op === 'arsh' ? '>>' : '>>>';
  const hiRight = (e: Expr): Expr => (op === 'arsh' ? e : wrap(e));
  return [...pre, ifStmt(small, [
    assign(d.lo, bin('|', bin('>>>', ex(a.lo), ex(s)), bin('<<', bin('<<', ex(a.hi), num(1)), unary('~', ex(s))))),
    assign(d.hi, hiRight(bin(right, ex(a.hi), ex(s)))),
  ], [
    assign(d.lo, hiRight(bin(right, ex(a.hi), ex(s)))),
    assign(d.hi, op === 'arsh' ? bin('>>', ex(a.hi), num(31)) : num(0)),
  ])];
}

/** 64-bit two's complement negation of dst. */
function negate64(d: Dst): Stmt[] {
  // -x = ~x + 1: the +1 carries into the high half only when the low half is 0.
  return [
    assign(d.hi, cond(bin('===', ex(d.a.lo), num(0)), ex(neg32(d.a.hi)), ex(xor(d.a.hi, -1)))),
    ...set(d.lo, neg32(d.a.lo)),
  ];
}

// ---------------------------------------------------------------------------
// Byte order, sign extension, lddw

/** Reverses the 4 bytes of an int32 value. */
function bswap32(x: Val): Expr {
  return bin('|', bin('|', bin('|',
    bin('<<', ex(x), num(24)),
    bin('<<', bin('&', ex(x), num(0xff00)), num(8))),
    bin('&', bin('>>>', ex(x), num(8)), num(0xff00))),
    bin('>>>', ex(x), num(24)));
}

function byteOrder(op: ByteOrderOp, bits: 16 | 32 | 64, d: Dst): Stmt[] {
  const { a } = d;
  // On our little-endian model "to little-endian" only truncates (zero-extends).
  if (op === 'le') {
    if (bits === 64) return [];
    return [...set(d.lo, bits === 16 ? and(a.lo, 0xffff) : a.lo), ...set(d.hi, 0)];
  }
  if (bits === 16) {
    const swapped = bin('|', bin('<<', ex(and(a.lo, 0xff)), num(8)), bin('&', bin('>>>', ex(a.lo), num(8)), num(0xff)));
    return [assign(d.lo, swapped), ...set(d.hi, 0)];
  }
  if (bits === 32) return [assign(d.lo, bswap32(a.lo)), ...set(d.hi, 0)];
  // 64 bits: swap each half and exchange them.
  return [assign(T, bswap32(a.lo)), assign(d.lo, bswap32(a.hi)), assign(d.hi, id(T))];
}

/** Sign-extends the low `bits` (8, 16 or 32) of an int32 value to int32. */
function signExtend32(x: Half, bits: number): Val {
  return bits === 32 ? x : bin('>>', bin('<<', ex(x), num(32 - bits)), num(32 - bits));
}

function lddw(insn: Instruction, d: Dst): Stmt[] {
  switch (insn.spec.lddwSrc) {
    case 0:
      return [...set(d.lo, insn.imm | 0), ...set(d.hi, insn.imm2 | 0)];
    case 4:
      // A function pointer: the code address of pc + 1 + imm (above 2^31, so stored wrapped to int32).
      return [...set(d.lo, codeAddress(insn.pc + 1 + insn.imm) | 0), ...set(d.hi, 0)];
    default:
      // The validator rejects the forms that need a loader (map fds, BTF ids).
      throw new Error(`lowerAlu: lddw src ${insn.src} at pc ${insn.pc} cannot be compiled`);
  }
}

// ---------------------------------------------------------------------------

/** Statements for one alu/movsx/neg/end/bswap/lddw instruction. */
export function lowerAlu(ctx: LowerContext, insn: Instruction): Stmt[] {
  const { spec } = insn;
  const d: Dst = {
    lo: lo(insn.dst),
    hi: hi(insn.dst),
    a: regOperandAt(ctx, insn.pc, insn.dst),
    alias: spec.source === 'reg' && insn.src === insn.dst,
  };
  // A result the analysis knows is a constant: ALU ops have no other effect.
  const known = spec.kind === 'lddw' ? { hi: undefined, lo: undefined } : resultOf(ctx, insn);
  if (known.lo !== undefined) return [...set(d.lo, known.lo), ...set(d.hi, known.hi!)];
  switch (spec.kind) {
    case 'alu': {
      const b = sourceOperandAt(ctx, insn);
      const op = spec.alu!;
      if (spec.width === 64) {
        const low = known.hi === undefined ? undefined : lowHalf64(op, d.a, b);
        // The high half is known: only the low half is computed (it never depends on the high halves for these ops).
        if (low !== undefined) return [...set(d.lo, low), ...set(d.hi, known.hi!)];
        return ALU64[op](d, b);
      }
      // 32-bit results are zero-extended to 64 bits, mov32 wX, wX included.
      return [...set(d.lo, ALU32[op](d.a.lo, b.lo)), ...set(d.hi, 0)];
    }
    case 'movsx': {
      const s = regOperandAt(ctx, insn.pc, insn.src);
      const low = signExtend32(s.lo, insn.off);
      // The 32-bit class sign-extends into 32 bits and then zero-extends.
      if (spec.width === 32) return [...set(d.lo, low), ...set(d.hi, 0)];
      if (known.hi !== undefined) return [...set(d.lo, low), ...set(d.hi, known.hi)];
      return [...set(d.lo, low), assign(d.hi, bin('>>', id(d.lo), num(31)))];
    }
    case 'neg':
      if (spec.width === 64 && known.hi !== undefined) return [...set(d.lo, neg32(d.a.lo)), ...set(d.hi, known.hi)];
      return spec.width === 64 ? negate64(d) : [...set(d.lo, neg32(d.a.lo)), ...set(d.hi, 0)];
    case 'end':
    case 'bswap':
      return byteOrder(byteOrderOf(spec)!, spec.width as 16 | 32 | 64, d);
    case 'lddw':
      return lddw(insn, d);
    default:
      throw new Error(`lowerAlu: ${spec.mnemonic} at pc ${insn.pc} is not an ALU instruction`);
  }
}

/**
 * The low half of a 64-bit op's result when it depends on the low halves
 * alone (add, sub, mul, a constant left shift), else undefined.
 */
function lowHalf64(op: AluOp, a: Operand, b: Operand): Val | undefined {
  switch (op) {
    case 'add': case 'sub': case 'mul':
      return ALU32[op](a.lo, b.lo);
    case 'lsh':
      if (!isConst(b.lo)) return undefined;
      return (b.lo & 63) >= 32 ? 0 : shl32(a.lo, b.lo & 63);
    default:
      return undefined;
  }
}
