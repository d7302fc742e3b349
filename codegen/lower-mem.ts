// Lowering of memory instructions: ldx, ldsx, st, stx, atomics and the legacy
// packet loads (ldabs/ldind). Every access is bounds-checked inline against
// the slot tables of lib/memory.ts (L/WL: how many bytes from each 16 MiB
// slot's start may be loaded/stored, 0 when unmapped or read-only; O: where
// the slot starts in its region's DataView), then performed on the region's
// DataView, little-endian. A miss calls FAULT, which throws the
// interpreter's MemoryAccessError; FAULT returns only for a store that lies
// in a writable range of a read-only region (a context's writable fields,
// see lib/memory.ts), whose address is good: the cache then holds that
// region's view and offset, so the store after the check performs it. For
// anything else nothing after the check runs on a bad address.
//
// Shape of one access (base register rB, offset off, size n):
//   a = rB + off | 0;         // the address's low 32 bits
//   i = a >>> 24;             // its slot
//   if (i !== cs) { cs = i; cv = V[i]; co = O[i]; cl = L[i]; cw = WL[i]; }
//   a = a & 0xffffff;         // its offset in the slot
//   if (rBh !== 0 || a + n > cl) FAULT(pc, rB, rBh, off, n, isStore);
//   a = a + co;               // now the offset inside the region's view
//   ... cv.getInt32(a, true) ...
//
// cs/cv/co/cl/cw cache the slot table entries of the slot the last checked
// access went to (cs = -1: none yet), so a loop over one buffer reads no
// table at all: measured 10-25% faster on the checksum, sort and scan
// benchmarks. (One cache per base register was slower: more live locals.)
// Functions with a checked atomic cache csh too, the slot's shared flag: an
// atomic on a shared region calls ATOMIC (JS Atomics) instead of the inline
// read-modify-write; a local, as reading SH per atomic cost ~5% on a loop of
// atomics.
// The cache holds exactly what the tables hold, because only helpers map or
// unmap regions: it is emptied after every call (cacheResets), and each
// function or split piece starts with it empty (memoryLocals).
//
// The u64 address rB + sext(off) is a valid 32-bit address exactly when the
// high half is 0 and the sum lies in [0, 2^32); `a` then holds it. A sum
// outside that range is at most 2^15 away from it, so its low 32 bits fall
// in slot 0xff (a negative sum) or slot 0 (2^32 and up), which Memory never
// maps (L = 0 there): the limit test catches it with no test of its own.
// The check is all int32 arithmetic (measured: ~20% faster than the same
// check on double-valued address tables, as in lib/memory.ts's ends/bases).
//
// Registers: rN/rNh int32 pairs; r10 a plain number (no high half). Every
// register the instruction reads is read into the temps a/i/t/u/v/w (or used)
// before any register is assigned, so `ldxdw r1, [r1+0]` and fetch atomics
// whose src is their base are safe.
//
// One access is checked at compile time instead: r10 plus a constant offset
// inside the current frame ([r10 - 512, r10)). Every frame's r10 is
// stackTop - k * 512 with k < maxCallDepth, and the stack region spans
// [stackTop - maxCallDepth * 512, stackTop), so such an access is always in
// the stack region; it goes straight to the stack's view S at `sp + off`,
// sp being r10 - SB (the stack's base), computed once per function (and S
// read once per function into the local `sv`).
//
// The register analysis (analysis.ts, ctx.hints) removes more at compile
// time: a base register whose high half is proven 0 needs no `rBh !== 0`
// test, and a base proven to be r10 + d (a pointer into the frame, say to
// an array on the stack) with [d + off, d + off + size) inside
// [-512, 0) for every d it may hold is a frame access like the one above,
// at `(rB >>> 0) - SB + off` in S: the same reasoning, with d's range
// proven instead of read off the instruction. Values stored whose halves
// are known are stored as constants.
//
// What it does not do: align anything (eBPF allows unaligned access;
// DataView does too).

import type { Instruction } from '../lib/isa.js';
import { SLOT_BYTES, SLOT_SHIFT } from '../lib/memory.js';
import {
  assign, bin, bool, call, cond, constDecl, expr, id, ifStmt, index, letDecl, logical, method, num, str, type Expr, type Stmt,
} from './ast.js';
import { FRAME_SIZE } from '../lib/runtime.js';
import { RT, STACK_OFFSET, hi, lo, type LowerContext } from './context.js';
import { endRun } from './lower-call.js';
import { ex, regOperandAt } from './lower-alu.js';
import type { Fact } from './analysis.js';

type MemWidth = 8 | 16 | 32 | 64;
const BYTES: Readonly<Record<MemWidth, number>> = { 8: 1, 16: 2, 32: 4, 64: 8 };

/** A register's low half as a value (r10, a plain number, is used as is: DataView setters and `|` truncate it). */
function low(reg: number): Expr {
  return id(lo(reg));
}

/** A register's high half as a value; r10 has none, so 0. */
function high(reg: number): Expr {
  return reg === 10 ? num(0) : id(hi(reg));
}

/** A register's halves as values just before `pc`, the ones the analysis knows as constants. */
function halves(ctx: LowerContext, pc: number, reg: number): { lo: Expr; hi: Expr } {
  const op = regOperandAt(ctx, pc, reg);
  return { lo: reg === 10 ? low(reg) : ex(op.lo), hi: ex(op.hi) };
}

/** Where an access lands once checked: a DataView and the byte offset (+ k) in it. */
interface Target {
  readonly view: Expr;
  at(k?: number): Expr;
}

/** `a` (+ k): where a checked access lands in its view. */
function atA(k = 0): Expr {
  return k === 0 ? id('a') : bin('+', id('a'), num(k));
}

/**
 * The function's own copy of the stack's view S. V8 then knows the view of
 * every frame access is one value and checks it once, not once per access
 * through the module binding: measured 6-15% on the sort and packet parsing
 * benchmarks, whose loops spill to the stack.
 */
const STACK_VIEW = 'sv';

/**
 * The slot cache of a function (or split piece): the last slot a checked
 * access went to, and that slot's view, offset, load and store limits.
 */
const CACHE = { slot: 'cs', view: 'cv', offset: 'co', limit: 'cl', writeLimit: 'cw', shared: 'csh' } as const;

/** The cached slot's view at `a` (+ k), after the run-time bounds check. */
const CACHED: Target = {
  view: id(CACHE.view),
  at: atA,
};

/** Does `insn` access memory (other than a packet load)? */
function accessesMemory(insn: Instruction): boolean {
  const k = insn.spec.kind;
  return k === 'ldx' || k === 'ldsx' || k === 'st' || k === 'stx' || k === 'atomic';
}

/** May `insn` need a run-time check (so the slot cache)? Every access but one through r10 inside the frame. */
function usesCache(insn: Instruction): boolean {
  if (!accessesMemory(insn)) return false;
  const k = insn.spec.kind;
  const base = k === 'ldx' || k === 'ldsx' ? insn.src : insn.dst;
  return !inFrame(base, insn.off, BYTES[insn.spec.width as MemWidth]);
}

function anyUsesCache(insns: readonly Instruction[]): boolean {
  return insns.some(usesCache);
}

/**
 * Whether a function's slot cache holds the shared flag too: it has an
 * atomic instruction checked at run time, which must know whether its
 * region is shared (a local then, rather than a table read per atomic).
 */
export function needsSharedFlag(insns: readonly Instruction[]): boolean {
  return insns.some((insn) => insn.spec.kind === 'atomic' && usesCache(insn));
}

/**
 * The locals the memory accesses of `insns` (a function or split piece) use:
 * the stack view's copy, and the slot cache, empty (with the shared flag
 * when the function's `sharedFlag` says).
 */
export function memoryLocals(insns: readonly Instruction[], sharedFlag = false): Stmt[] {
  if (!insns.some(accessesMemory)) return [];
  const view = constDecl(STACK_VIEW, id(RT.stack));
  if (!anyUsesCache(insns)) return [view];
  // The slot starts at -1 (none); the view at a real DataView, so the local only ever holds DataViews.
  return [
    view,
    letDecl([CACHE.slot], num(-1)),
    letDecl([CACHE.view], index(RT.views, num(0))),
    letDecl(sharedFlag ? [CACHE.offset, CACHE.limit, CACHE.writeLimit, CACHE.shared] : [CACHE.offset, CACHE.limit, CACHE.writeLimit], num(0)),
  ];
}

/** Empties the slot cache, if `insns` use it (after a call: a helper may have mapped or unmapped regions). */
export function cacheResets(insns: readonly Instruction[]): Stmt[] {
  return anyUsesCache(insns) ? [assign(CACHE.slot, num(-1))] : [];
}

/** The stack's view at `a` (+ k), `a` set to the offset of a register-based access proven inside the frame. */
const STACK_AT_A: Target = Object.freeze({
  view: id(STACK_VIEW),
  at: atA,
});

/** The stack's view at sp + off (+ k), for accesses proven inside the frame. */
function frameTarget(off: number): Target {
  return {
    view: id(STACK_VIEW),
    at: (k = 0) => (off + k === 0 ? id(STACK_OFFSET) : bin(off + k < 0 ? '-' : '+', id(STACK_OFFSET), num(Math.abs(off + k)))),
  };
}

/** Is [r10 + off, r10 + off + size) inside the current frame? Then it is in bounds whatever the depth. */
function inFrame(base: number, off: number, size: number): boolean {
  return base === 10 && off >= -FRAME_SIZE && off + size <= 0;
}

/** The checks an access needs and where it then lands. */
function access(ctx: LowerContext, pc: number, base: number, off: number, size: number, store: boolean | 'atomic'): { checks: Stmt[]; target: Target } {
  if (inFrame(base, off, size)) return { checks: [], target: frameTarget(off) };
  const fact = base === 10 ? undefined : ctx.hints?.before(pc, base);
  const d = fact?.frame;
  if (d !== undefined && d.min + off >= -FRAME_SIZE && d.max + off + size <= 0) {
    // A known distance from r10: the same access as through r10 itself.
    if (d.min === d.max) return { checks: [], target: frameTarget(d.min + off) };
    // base = r10 + d, so base - SB is sp + d: inside the frame for every d the analysis allows.
    const at = bin('-', bin('>>>', id(lo(base)), num(0)), id(RT.stackBase));
    return { checks: [assign('a', off === 0 ? at : bin(off < 0 ? '-' : '+', at, num(Math.abs(off))))], target: STACK_AT_A };
  }
  return { checks: checkedAccess(pc, base, off, size, store, fact?.hi === 0, ctx.sharedFlag === true), target: CACHED };
}

function get(t: Target, kind: 'Uint8' | 'Int8' | 'Uint16' | 'Int16' | 'Int32', k = 0): Expr {
  // Little-endian: our memory model. (Getting a single byte takes no flag.)
  const args = kind === 'Uint8' || kind === 'Int8' ? [t.at(k)] : [t.at(k), bool(true)];
  return method(t.view, `get${kind}`, args);
}

function set(t: Target, kind: 'Uint8' | 'Uint16' | 'Int32', value: Expr, k = 0): Stmt {
  const args = kind === 'Uint8' ? [t.at(k), value] : [t.at(k), value, bool(true)];
  return expr(method(t.view, `set${kind}`, args));
}

/**
 * The bounds check of an access of `size` bytes at base + off, through the
 * slot cache (see the top of the file), leaving the offset inside the
 * region's view in `a`. Stores (and atomics) check against the write
 * limits, so read-only regions fault. `highZero`: the analysis proved the
 * base's high half 0, so it is not tested (r10 has none).
 */
function checkedAccess(
  pc: number, base: number, off: number, size: number, store: boolean | 'atomic', highZero: boolean, sharedFlag: boolean,
): Stmt[] {
  const c = CACHE;
  const address = off === 0 ? id(lo(base)) : bin(off < 0 ? '-' : '+', id(lo(base)), num(Math.abs(off)));
  const fails: Expr[] = [];
  if (base !== 10 && !highZero) fails.push(bin('!==', id(hi(base)), num(0)));
  fails.push(bin('>', bin('+', id('a'), num(size)), id(store !== false ? c.writeLimit : c.limit)));
  const fault = call(RT.fault, [num(pc), id(lo(base)), high(base), num(off), num(size), store === 'atomic' ? str(store) : bool(store)]);
  return [
    // r10 is the one register local that is not an int32.
    assign('a', off === 0 && base !== 10 ? address : bin('|', address, num(0))),
    assign('i', bin('>>>', id('a'), num(SLOT_SHIFT))),
    ifStmt(bin('!==', id('i'), id(c.slot)), [
      assign(c.slot, id('i')),
      assign(c.view, index(RT.views, id('i'))),
      assign(c.offset, index(RT.offsets, id('i'))),
      assign(c.limit, index(RT.limits, id('i'))),
      assign(c.writeLimit, index(RT.writeLimits, id('i'))),
      ...(sharedFlag ? [assign(c.shared, index(RT.shared, id('i')))] : []),
    ]),
    assign('a', bin('&', id('a'), num(SLOT_BYTES - 1))),
    ifStmt(fails.reduce((x, y) => logical('||', x, y)), [expr(fault)]),
    assign('a', bin('+', id('a'), id(c.offset))),
  ];
}

export function lowerMem(ctx: LowerContext, insn: Instruction): Stmt[] {
  const { spec, pc, dst, src, off, imm } = insn;
  const width = spec.width as MemWidth;
  const size = BYTES[width];
  switch (spec.kind) {
    case 'ldx':
    case 'ldsx': {
      const { checks, target } = access(ctx, pc, src, off, size, false);
      return [...checks, ...load(target, insn, width, ctx.hints?.after(pc, dst))];
    }
    case 'st': {
      // st stores imm truncated to the width; for DW, imm sign-extended to 64 bits.
      const value = width === 8 ? num(imm & 0xff) : width === 16 ? num(imm & 0xffff) : num(imm);
      const { checks, target } = access(ctx, pc, dst, off, size, true);
      return [...checks, ...store(target, width, value, num(imm < 0 ? -1 : 0))];
    }
    case 'stx': {
      const { checks, target } = access(ctx, pc, dst, off, size, true);
      const v = halves(ctx, pc, src);
      return [...checks, ...store(target, width, v.lo, v.hi)];
    }
    case 'atomic': {
      // An atomic is a write: checked as a store before anything is read,
      // so a read-only or missing target faults as a store (as in the
      // interpreter), a context's writable fields included.
      const { checks, target } = access(ctx, pc, dst, off, size, 'atomic');
      const inline = width === 32 ? atomic32(target, insn) : atomic64(target, insn);
      // A checked access may land in a shared region (frame accesses never
      // do: the stack is the Vm's own): there the runtime uses Atomics.
      const shared = ctx.sharedFlag === true ? id(CACHE.shared) : index(RT.shared, id('i'));
      const update = target === CACHED ? [ifStmt(bin('!==', shared, num(0)), sharedAtomic(insn), inline)] : inline;
      return [...checks, ...update, ...atomicResult(insn)];
    }
    case 'ldabs':
    case 'ldind':
      return packetLoad(ctx, insn, size);
    default:
      throw new Error(`internal: lowerMem given ${spec.mnemonic} at pc ${pc}`);
  }
}

/**
 * ldx zero-extends (hi = 0); ldsx sign-extends (hi = copies of the sign bit).
 * A doubleword whose value the analysis knows (a spill slot reloaded) is not
 * read where known: the checks before it still run.
 */
function load(t: Target, insn: Instruction, width: MemWidth, known: Fact | undefined): Stmt[] {
  const d = insn.dst;
  const signed = insn.spec.kind === 'ldsx';
  if (width === 64) {
    if (known?.hi === undefined) return [assign(lo(d), get(t, 'Int32')), assign(hi(d), get(t, 'Int32', 4))];
    const value = known.min === known.max && known.frame === undefined ? num(known.min | 0) : get(t, 'Int32');
    return [assign(lo(d), value), assign(hi(d), num(known.hi))];
  }
  const kind = width === 8 ? (signed ? 'Int8' : 'Uint8') : width === 16 ? (signed ? 'Int16' : 'Uint16') : 'Int32';
  return [
    assign(lo(d), get(t, kind)),
    assign(hi(d), signed ? bin('>>', id(lo(d)), num(31)) : num(0)),
  ];
}

/** Stores the low `width` bits of the value whose halves are given. */
function store(t: Target, width: MemWidth, valueLo: Expr, valueHi: Expr): Stmt[] {
  switch (width) {
    case 8: return [set(t, 'Uint8', valueLo)];
    case 16: return [set(t, 'Uint16', valueLo)];
    case 32: return [set(t, 'Int32', valueLo)];
    case 64: return [set(t, 'Int32', valueLo), set(t, 'Int32', valueHi, 4)];
  }
}

const BITWISE = { or: '|', and: '&', xor: '^' } as const;

/**
 * An atomic instruction on a shared region: ATOMIC does the update with
 * Atomics (i: the slot, a: the offset in its view, both left by the check)
 * and returns the old value, as the inline code leaves it in t (and u).
 */
function sharedAtomic(insn: Instruction): Stmt[] {
  const { pc, src } = insn;
  // r0 only for cmpxchg, the one that reads it (what split.ts and the analysis assume).
  const r0 = insn.spec.atomic === 'cmpxchg' ? [id(lo(0)), id(hi(0))] : [num(0), num(0)];
  const out = [assign('t', call(RT.atomic, [num(pc), id('i'), id('a'), low(src), high(src), ...r0]))];
  // The high half only where atomicResult hands it on.
  if (insn.spec.width === 64 && insn.spec.fetch === true) out.push(assign('u', index(RT.ret, num(1))));
  return out;
}

/**
 * What an atomic hands back, the old value being in t (u: its high half for
 * DW): cmpxchg to r0, fetch forms to src, zero-extended for W (src is never
 * r10: the validator forbids writing it).
 */
function atomicResult(insn: Instruction): Stmt[] {
  const { spec, src } = insn;
  const oldHi = spec.width === 32 ? num(0) : id('u');
  if (spec.atomic === 'cmpxchg') return [assign(lo(0), id('t')), assign(hi(0), oldHi)];
  if (spec.fetch === true) return [assign(lo(src), id('t')), assign(hi(src), oldHi)];
  return [];
}

/** W atomics: t = old value; the result is truncated to 32 bits by setInt32. */
function atomic32(t: Target, insn: Instruction): Stmt[] {
  const { spec, src } = insn;
  const out: Stmt[] = [assign('t', get(t, 'Int32'))];
  switch (spec.atomic!) {
    case 'cmpxchg':
      // Stores src only when memory equals r0's low 32 bits.
      out.push(ifStmt(bin('===', id('t'), id(lo(0))), [set(t, 'Int32', low(src))]));
      break;
    case 'xchg':
      out.push(set(t, 'Int32', low(src)));
      break;
    case 'add':
      out.push(set(t, 'Int32', bin('+', id('t'), low(src))));
      break;
    case 'or': case 'and': case 'xor':
      out.push(set(t, 'Int32', bin(BITWISE[spec.atomic!], id('t'), low(src))));
      break;
  }
  return out;
}

/** DW atomics: t/u = old low/high halves, v/w = new ones where computed. */
function atomic64(t: Target, insn: Instruction): Stmt[] {
  const { spec, src } = insn;
  const out: Stmt[] = [assign('t', get(t, 'Int32')), assign('u', get(t, 'Int32', 4))];
  switch (spec.atomic!) {
    case 'cmpxchg':
      // Stores src only when memory equals all 64 bits of r0.
      out.push(ifStmt(
        logical('&&', bin('===', id('t'), id(lo(0))), bin('===', id('u'), id(hi(0)))),
        [set(t, 'Int32', low(src)), set(t, 'Int32', high(src), 4)],
      ));
      break;
    case 'xchg':
      out.push(set(t, 'Int32', low(src)), set(t, 'Int32', high(src), 4));
      break;
    case 'add':
      // 64-bit add on halves: the low half wrapped (carry) iff it came out below an operand.
      out.push(
        assign('v', bin('|', bin('+', id('t'), low(src)), num(0))),
        assign('w', bin('+', bin('+', id('u'), high(src)),
          cond(bin('<', bin('>>>', id('v'), num(0)), bin('>>>', id('t'), num(0))), num(1), num(0)))),
        set(t, 'Int32', id('v')),
        set(t, 'Int32', id('w'), 4),
      );
      break;
    case 'or': case 'and': case 'xor': {
      const op = BITWISE[spec.atomic!];
      out.push(set(t, 'Int32', bin(op, id('t'), low(src))), set(t, 'Int32', bin(op, id('u'), high(src)), 4));
      break;
    }
  }
  return out;
}

/**
 * ldabs/ldind: r0 = big-endian load from the packet at imm (+ the full u64
 * src for IND). PKT returns the value, or -1 when the offset is outside the
 * packet, which ends the whole run with r0 = 0 (Linux's socket-filter rule).
 */
function packetLoad(ctx: LowerContext, insn: Instruction, size: number): Stmt[] {
  const { pc, src, imm } = insn;
  const ind = insn.spec.kind === 'ldind';
  const v = ind ? halves(ctx, pc, src) : { lo: num(0), hi: num(0) };
  const args = [num(pc), v.lo, v.hi, num(imm), num(size)];
  return [
    assign('t', call(RT.packetLoad, args)),
    ifStmt(bin('<', id('t'), num(0)), endRun()),
    // A W value can exceed 2^31: `| 0` keeps the int32 convention (same bits).
    assign(lo(0), bin('|', id('t'), num(0))),
    assign(hi(0), num(0)),
  ];
}
