// Lowers a conditional jump's test to one JS boolean expression on int32
// register pairs (context.ts): true when the branch is taken. Where the jump
// goes is cfg/structure's business, not this file's.
//
// JMP32 compares the low halves; JMP compares 64-bit values as (hi, lo)
// pairs: the high halves decide unless they are equal (signed conditions
// compare the high halves as int32, the low halves always as uint32).
// Immediates are constants here (JMP sign-extends imm, JMP32 uses it as is),
// so comparisons with 0 and -1 halves fold to short tests.

import { bin, bool, logical, num, unary, type Expr } from './ast.js';
import type { LowerContext } from './context.js';
import type { Instruction, JmpCond } from '../lib/isa.js';
import { and, ex, isConst, or, regOperandAt, sourceOperandAt, u, type Half, type Operand, type Val } from './lower-alu.js';

type Rel = '<' | '<=' | '>' | '>=';

type CondSpec =
  | { readonly test: 'eq' | 'ne' | 'set' }
  | { readonly test: 'rel'; readonly op: Rel; readonly signed: boolean };

const CONDS: Readonly<Record<JmpCond, CondSpec>> = Object.freeze({
  jeq: { test: 'eq' },
  jne: { test: 'ne' },
  // jset: taken when the operands share a set bit.
  jset: { test: 'set' },
  jgt: { test: 'rel', op: '>', signed: false },
  jge: { test: 'rel', op: '>=', signed: false },
  jlt: { test: 'rel', op: '<', signed: false },
  jle: { test: 'rel', op: '<=', signed: false },
  jsgt: { test: 'rel', op: '>', signed: true },
  jsge: { test: 'rel', op: '>=', signed: true },
  jslt: { test: 'rel', op: '<', signed: true },
  jsle: { test: 'rel', op: '<=', signed: true },
});

/** A condition: known at compile time, or an expression. */
type Cond = boolean | Expr;

/** The JS expression that is true when the jcond instruction's branch is taken. */
export function lowerCondition(ctx: LowerContext, insn: Instruction): Expr {
  const { spec } = insn;
  if (spec.kind !== 'jcond') throw new Error(`lowerCondition: ${spec.mnemonic} at pc ${insn.pc} is not a conditional jump`);
  // Halves the register analysis knows (a high half proven 0, say) are constants and fold.
  const a = regOperandAt(ctx, insn.pc, insn.dst);
  // JMP sign-extends imm to 64 bits; JMP32 reads only the low half, which is imm itself.
  const b = sourceOperandAt(ctx, insn);
  const c = spec.width === 32 ? test32(CONDS[spec.jmp!], a.lo, b.lo) : test64(CONDS[spec.jmp!], a, b);
  return typeof c === 'boolean' ? bool(c) : c;
}

function test32(spec: CondSpec, a: Half, b: Half): Cond {
  switch (spec.test) {
    case 'eq': return eq(a, b);
    case 'ne': return not(eq(a, b));
    case 'set': return nonZero(and(a, b));
    case 'rel': return spec.signed ? scmp(a, b, spec.op) : ucmp(a, b, spec.op);
  }
}

function test64(spec: CondSpec, a: Operand, b: Operand): Cond {
  const zero = b.lo === 0 && b.hi === 0;
  switch (spec.test) {
    case 'eq': return zero ? not(nonZero(or(a.lo, a.hi))) : andC(eq(a.lo, b.lo), eq(a.hi, b.hi));
    case 'ne': return zero ? nonZero(or(a.lo, a.hi)) : orC(not(eq(a.lo, b.lo)), not(eq(a.hi, b.hi)));
    case 'set': return nonZero(or(and(a.lo, b.lo), and(a.hi, b.hi)));
    case 'rel': break;
  }
  const { op, signed } = spec;
  // Unsigned x > 0 is x != 0 (and x <= 0 is x == 0): one test of both halves.
  if (zero && !signed && (op === '>' || op === '<=')) {
    const z = nonZero(or(a.lo, a.hi));
    return op === '>' ? z : not(z);
  }
  const hiCmp = signed ? scmp : ucmp;
  const strict: Rel = op === '<=' ? '<' : op === '>=' ? '>' : op;
  const loTest = ucmp(a.lo, b.lo, op);
  // With the low test known, the high halves decide alone: a true low test
  // turns "hi strictly beyond, or equal" into the non-strict compare.
  if (typeof loTest === 'boolean') return hiCmp(a.hi, b.hi, loTest ? (strict === '<' ? '<=' : '>=') : strict);
  // Against a high half of 0 (for >) or 0xffffffff (for <), "strictly beyond"
  // is just "different", and then the low test needs no equality check.
  const strictIsNe = !signed && ((b.hi === 0 && strict === '>') || (b.hi === -1 && strict === '<'));
  if (strictIsNe) return orC(not(eq(a.hi, b.hi)), loTest);
  return orC(hiCmp(a.hi, b.hi, strict), andC(eq(a.hi, b.hi), loTest));
}

// ---------------------------------------------------------------------------
// Folding comparison builders

function eq(x: Half, y: Half): Cond {
  if (x === y) return true;
  if (isConst(x) && isConst(y)) return false;
  return bin('===', ex(x), ex(y));
}

function nonZero(v: Val): Cond {
  return isConst(v) ? v !== 0 : bin('!==', ex(v), num(0));
}

function not(c: Cond): Cond {
  if (typeof c === 'boolean') return !c;
  if (c.type === 'BinaryExpression' && (c.operator === '===' || c.operator === '!==')) {
    return bin(c.operator === '===' ? '!==' : '===', c.left as Expr, c.right);
  }
  return unary('!', c);
}

function andC(x: Cond, y: Cond): Cond {
  if (x === false || y === false) return false;
  if (x === true) return y;
  if (y === true) return x;
  return logical('&&', x, y);
}

function orC(x: Cond, y: Cond): Cond {
  if (x === true || y === true) return true;
  if (x === false) return y;
  if (y === false) return x;
  return logical('||', x, y);
}

const FLIP: Readonly<Record<Rel, Rel>> = Object.freeze({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' });

function holds(x: number, y: number, op: Rel): boolean {
  switch (op) {
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    case '>=': return x >= y;
  }
}

/** Signed compare of int32 halves. */
function scmp(x: Half, y: Half, op: Rel): Cond {
  if (isConst(x) && isConst(y)) return holds(x, y, op);
  if (x === y) return op === '<=' || op === '>=';
  return bin(op, ex(x), ex(y));
}

/** Unsigned compare of int32 halves (as uint32); folds against 0 and 0xffffffff. */
function ucmp(x: Half, y: Half, op: Rel): Cond {
  if (isConst(x) && isConst(y)) return holds(x >>> 0, y >>> 0, op);
  if (x === y) return op === '<=' || op === '>=';
  if (isConst(x)) return ucmp(y, x, FLIP[op]);
  if (isConst(y) && (y === 0 || y === -1)) {
    // y is the smallest (0) or largest (0xffffffff) uint32.
    const min = y === 0;
    switch (op) {
      case '<': return min ? false : not(eq(x, y));
      case '<=': return min ? eq(x, y) : true;
      case '>': return min ? not(eq(x, y)) : false;
      case '>=': return min ? true : eq(x, y);
    }
  }
  return bin(op, u(x), u(y));
}
