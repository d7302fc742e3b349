// Register analysis for the JIT: what is known about each register's value
// at each instruction, so lowering can pick cheaper code. A register whose
// high half is provably 0 is a plain uint32 (64-bit operations on it need no
// carry or high-half work, an address in it needs no high-half check); a
// pointer at a known distance from r10 whose access stays inside the frame
// needs no run-time bounds check at all; a known constant folds.
//
// A forward dataflow analysis over the CFG of one function (absval.ts holds
// the abstract values and transfer functions): the state at a block's entry
// is the join of what flows in over its edges, each edge of a conditional
// jump narrowed by the condition that holds on it; iterated over reverse
// postorder to a fixpoint, widening at the targets of retreating edges so
// loops converge in a few passes.
//
// At a function's entry r0 and r6..r9 are 0 (the calling convention,
// context.ts), r10 is the frame pointer and r1..r5 are unknown, except in a
// main function that nothing calls (no local call to it and no callx in the
// program): the runner passes r1 = the input's address or 0, r2 = its
// length or 0, r3..r5 = 0. Memory maps whole slots below slot 0xff, so an
// address and a length are both at most ADDRESS_LIMIT - SLOT_BYTES.
//
// Facts are kept per block entry only; a query replays the block up to the
// instruction asked about. Lowering asks about the instructions of a block in
// order, so the replay is cached and advances one instruction at a time.
//
// Memory is not tracked, except a function's own spill slots (see Frame).
// What it does not do: relations between registers, or facts that flow
// from a call site into its callee (parameters are unknown).

import type { FunctionCfg } from './cfg.js';
import {
  ADDRESS_LIMIT, FP_VAL, FRAME, SCALAR, TOP, TOP_VAL, U32_MAX,
  absolute, accessed, alu32, alu64, byteOrder, constant, equal, flip, immVal, join, lddw, loaded, movsx, narrow32, narrow64,
  narrowNoBits, neg, signedAgrees, u32Range, widen, type Rel, type Val,
} from './absval.js';
import { SLOT_BYTES } from '../lib/memory.js';
import { FRAME_SIZE } from '../lib/runtime.js';
import { FP_REG, branchTarget, type Instruction, type JmpCond } from '../lib/isa.js';
import type { Program } from '../lib/program.js';

/** What is known about a register's value at one point. */
export interface Fact {
  /** The high half as an int32, when known. */
  readonly hi: number | undefined;
  /** Bounds of the low half as a uint32 (0 and 0xffffffff when the high half is unknown). */
  readonly min: number;
  readonly max: number;
  /** The value is r10 + d for a d in [min, max] (a pointer into the stack at a known distance from the frame pointer). */
  readonly frame: { readonly min: number; readonly max: number } | undefined;
}

export interface RegisterHints {
  /** Is the high half of `reg` known to be 0 just before the instruction at `pc` executes? */
  highZero(pc: number, reg: number): boolean;
  /** What is known about `reg` just before the instruction at `pc` executes. */
  before(pc: number, reg: number): Fact;
  /** What is known about `reg` just after the instruction at `pc` (a non-jump) executed. */
  after(pc: number, reg: number): Fact;
}

const UNKNOWN: Fact = Object.freeze({ hi: undefined, min: 0, max: U32_MAX, frame: undefined });

export const NO_HINTS: RegisterHints = Object.freeze({ highZero: () => false, before: () => UNKNOWN, after: () => UNKNOWN });

/** Registers with a state entry (r10 is always FP_VAL). */
const NREG = 10;

export function factOf(v: Val): Fact {
  switch (v.k) {
    case TOP: return UNKNOWN;
    case SCALAR: return { hi: v.h | 0, min: v.a, max: v.b, frame: undefined };
    default: {
      // A frame pointer lies inside [0, 2^32) (absval.ts): its high half is 0.
      const abs = absolute(v);
      return { hi: 0, min: abs.a, max: abs.b, frame: { min: v.a, max: v.b } };
    }
  }
}

// ---------------------------------------------------------------------------
// Transfer of one instruction over a register file

/**
 * r0..r9, then the tracked 8-byte slots of the function's frame (see
 * Frame): a register spilled to the stack and reloaded keeps its facts.
 */
type Regs = Val[];

function get(regs: Regs, reg: number): Val {
  return reg === FP_REG ? FP_VAL : regs[reg]!;
}

const BYTES: Readonly<Record<number, number>> = Object.freeze({ 8: 1, 16: 2, 32: 4, 64: 8 });

/**
 * The frame slots a function's analysis tracks: 8-byte slots at r10 + off
 * that the function both stores and loads as doublewords through r10 (a
 * spilled register). A slot's value changes only by a store, so it is
 * known until something may store to it: a store through r10 or a frame
 * pointer that overlaps it, a store through any other pointer (which may
 * have been forged to point anywhere), a helper call (helpers write through
 * pointers), a local call to a function that may store or call a helper
 * (a callee can reach its caller's frame past its own r10). Nothing else
 * runs while this function does.
 */
export interface Frame {
  /** Frame offset -> index in Regs (NREG and up). */
  readonly slotAt: ReadonlyMap<number, number>;
  /** May a local call to this entry pc change memory? */
  readonly callWrites: (target: number) => boolean;
}

/** No tracked slots (a fresh one each time: no module-level mutable state, not even an empty Map). */
function noFrame(): Frame {
  return { slotAt: new Map(), callWrites: () => true };
}

/** Every tracked slot, forgotten. */
function forgetSlots(regs: Regs): void {
  for (let k = NREG; k < regs.length; k++) regs[k] = TOP_VAL;
}

/** Forgets the tracked slots that [lo, hi) (offsets from r10) overlaps. */
function forgetRange(regs: Regs, frame: Frame, lo: number, hi: number): void {
  for (const [off, k] of frame.slotAt) if (off < hi && off + 8 > lo) regs[k] = TOP_VAL;
}

/** A store of `size` bytes at base + off: what it may overwrite in the frame, and what it tells about the base. */
function stored(regs: Regs, frame: Frame, base: number, off: number, size: number): void {
  const b = get(regs, base);
  if (b.k === FRAME) forgetRange(regs, frame, b.a + off, b.b + off + size);
  else forgetSlots(regs);
  if (base !== FP_REG) regs[base] = accessed(b, off, size);
}

/** Applies the effect of a straight-line instruction (jumps and exit have none on registers). */
export function step(regs: Regs, insn: Instruction, frame: Frame = noFrame()): void {
  const { spec, dst, src } = insn;
  switch (spec.kind) {
    case 'alu': {
      const y = spec.source === 'reg' ? get(regs, src) : immVal(insn.imm);
      const x = get(regs, dst);
      regs[dst] = spec.width === 64 ? alu64(spec.alu!, x, y) : alu32(spec.alu!, x, y);
      return;
    }
    case 'movsx':
      regs[dst] = movsx(get(regs, src), insn.off, spec.width as 32 | 64);
      return;
    case 'neg':
      regs[dst] = neg(get(regs, dst), spec.width as 32 | 64);
      return;
    case 'end':
    case 'bswap':
      regs[dst] = byteOrder(insn, get(regs, dst));
      return;
    case 'lddw':
      regs[dst] = lddw(insn);
      return;
    case 'ldx':
    case 'ldsx': {
      const slot = src === FP_REG && spec.width === 64 ? frame.slotAt.get(insn.off) : undefined;
      if (src !== FP_REG) regs[src] = accessed(regs[src]!, insn.off, BYTES[spec.width]!);
      regs[dst] = slot !== undefined ? regs[slot]! : spec.kind === 'ldx' ? loaded(BYTES[spec.width]!) : TOP_VAL;
      return;
    }
    case 'st':
    case 'stx': {
      const value = spec.kind === 'st' ? immVal(insn.imm) : get(regs, src);
      stored(regs, frame, dst, insn.off, BYTES[spec.width]!);
      const slot = dst === FP_REG && spec.width === 64 ? frame.slotAt.get(insn.off) : undefined;
      if (slot !== undefined) regs[slot] = value;
      return;
    }
    case 'atomic':
      stored(regs, frame, dst, insn.off, BYTES[spec.width]!);
      // Fetch forms hand the old value (zero-extended for W) to src, cmpxchg to r0.
      if (spec.fetch === true) regs[spec.atomic === 'cmpxchg' ? 0 : src] = loaded(BYTES[spec.width]!);
      return;
    case 'ldabs':
    case 'ldind':
      // The run ends unless the load succeeds; r0 gets the (unsigned) value.
      regs[0] = loaded(BYTES[spec.width]!);
      return;
    case 'call_local':
      if (frame.callWrites(branchTarget(insn))) forgetSlots(regs);
      // Calls keep the caller's r1..r9 (context.ts); r0 is the result.
      regs[0] = TOP_VAL;
      return;
    case 'call':
    case 'callx':
      forgetSlots(regs);
      regs[0] = TOP_VAL;
      return;
    case 'ja':
    case 'jcond':
    case 'exit':
    case 'call_kfunc':
      return;
  }
}

/** The frame slots of a function (see Frame); `program` tells what its callees may do (without it, anything). */
function frameOf(cfg: FunctionCfg, program: Program | undefined): Frame {
  const stores = new Set<number>();
  const loads = new Set<number>();
  for (const block of cfg.blocks) {
    for (const insn of block.insns) {
      const k = insn.spec.kind;
      if (insn.spec.width !== 64 || insn.off % 8 !== 0 || insn.off < -FRAME_SIZE || insn.off > -8) continue;
      if ((k === 'st' || k === 'stx') && insn.dst === FP_REG) stores.add(insn.off);
      if (k === 'ldx' && insn.src === FP_REG) loads.add(insn.off);
    }
  }
  const slotAt = new Map<number, number>();
  for (const off of stores) if (loads.has(off)) slotAt.set(off, NREG + slotAt.size);
  if (slotAt.size === 0) return noFrame();
  return { slotAt, callWrites: program === undefined ? () => true : writersOf(program) };
}

/**
 * For a program: may a call to the function at `entry` change memory? It
 * may when it, or a function it calls, stores, runs an atomic op or calls a
 * helper (or makes a callx, whose target is not known). Computed for the
 * whole program on the first question.
 */
function writersOf(program: Program): (entry: number) => boolean {
  let writes: Set<number> | undefined;
  return (entry) => (writes ??= writingFunctions(program)).has(entry);
}

function writingFunctions(program: Program): Set<number> {
  const { functions, insns } = program;
  const writes = new Set<number>();
  /** Callers of each function entry. */
  const callers = new Map<number, Set<number>>();
  let f = 0;
  for (const insn of insns) {
    while (f + 1 < functions.length && insn.pc >= functions[f + 1]!) f++;
    const entry = functions[f]!;
    switch (insn.spec.kind) {
      case 'st': case 'stx': case 'atomic': case 'call': case 'callx': case 'call_kfunc':
        writes.add(entry);
        break;
      case 'call_local': {
        const target = branchTarget(insn);
        if (!callers.has(target)) callers.set(target, new Set());
        callers.get(target)!.add(entry);
        break;
      }
      default:
        break;
    }
  }
  // Whoever calls a writer writes.
  const work = [...writes];
  while (work.length > 0) {
    for (const caller of callers.get(work.pop()!) ?? []) {
      if (!writes.has(caller)) {
        writes.add(caller);
        work.push(caller);
      }
    }
  }
  return writes;
}

/** The relation that holds between dst and src on one edge of a conditional jump, and whether it is signed. */
const EDGE: Readonly<Record<JmpCond, readonly [Rel | 'set', Rel | 'clear', boolean]>> = Object.freeze({
  jeq: ['eq', 'ne', false],
  jne: ['ne', 'eq', false],
  jgt: ['gt', 'le', false],
  jge: ['ge', 'lt', false],
  jlt: ['lt', 'ge', false],
  jle: ['le', 'gt', false],
  jset: ['set', 'clear', false],
  jsgt: ['gt', 'le', true],
  jsge: ['ge', 'lt', true],
  jslt: ['lt', 'ge', true],
  jsle: ['le', 'gt', true],
});

/**
 * Narrows the registers of a conditional jump for the edge where its
 * condition is `taken` (true) or not. Returns false when no value satisfies
 * the condition there (the edge is never followed); the registers are then
 * left as they were.
 */
export function narrowBranch(regs: Regs, insn: Instruction, taken: boolean): boolean {
  const { spec, dst, src } = insn;
  const [onTaken, onFall, signed] = EDGE[spec.jmp!];
  const rel = taken ? onTaken : onFall;
  const width = spec.width as 32 | 64;
  const x = get(regs, dst);
  const y = spec.source === 'reg' ? get(regs, src) : immVal(insn.imm);
  if (rel === 'set') return true;
  if (rel === 'clear') {
    if (dst !== FP_REG) regs[dst] = narrowNoBits(x, y, width);
    return true;
  }
  // A signed compare is an unsigned one when both sides are non-negative at that width.
  if (signed && !(signedAgrees(x, width) && signedAgrees(y, width))) return true;
  const narrowOne = width === 64 ? narrow64 : narrow32;
  const nx = narrowOne(x, rel, y);
  const ny = spec.source === 'reg' ? narrowOne(y, flip(rel), x) : y;
  if (nx === undefined || ny === undefined) return false;
  if (spec.source === 'reg' && src !== FP_REG && src !== dst) regs[src] = ny;
  if (dst !== FP_REG) regs[dst] = nx;
  return true;
}

// ---------------------------------------------------------------------------
// The fixpoint

function entryRegs(cfg: FunctionCfg, program: Program | undefined, frame: Frame): Regs {
  const regs: Regs = new Array<Val>(NREG + frame.slotAt.size).fill(TOP_VAL);
  for (const r of [0, 6, 7, 8, 9]) regs[r] = constant(0, 0);
  if (cfg.entry === 0 && program !== undefined && !isCalled(program, 0)) {
    const bound = ADDRESS_LIMIT - SLOT_BYTES;
    regs[1] = u32Range(0, bound);
    regs[2] = u32Range(0, bound);
    for (const r of [3, 4, 5]) regs[r] = constant(0, 0);
  }
  return regs;
}

/** Can the function at `entry` be reached by a call (a local call to it, or any callx)? */
function isCalled(program: Program, entry: number): boolean {
  return program.insns.some((insn) => insn.spec.kind === 'callx' || (insn.spec.kind === 'call_local' && branchTarget(insn) === entry));
}

/**
 * Widening thresholds per state entry: the constants the function compares
 * each register with (and their neighbours), so a counter's bound is found
 * in a pass or two instead of climbing through every constant of the
 * function; spill slots get all of them.
 */
function thresholds(cfg: FunctionCfg, width: number): (readonly number[])[] {
  const sets = Array.from({ length: NREG }, () => new Set<number>([0xff, 0xffff, 0x7fffffff, U32_MAX]));
  const all = new Set<number>([0xff, 0xffff, 0x7fffffff, U32_MAX]);
  for (const block of cfg.blocks) {
    const t = block.terminator;
    if (t.kind !== 'branch' || t.insn.spec.source === 'reg' || t.insn.imm < 0 || t.insn.dst >= NREG) continue;
    const k = t.insn.imm;
    for (const c of [k - 1, k, k + 1]) {
      if (c < 0) continue;
      sets[t.insn.dst]!.add(c);
      all.add(c);
    }
  }
  const sorted = (set: Set<number>): number[] => [...set].sort((a, b) => a - b);
  const slots = sorted(all);
  return Array.from({ length: width }, (_, r) => (r < NREG ? sorted(sets[r]!) : slots));
}

/** Widenings of one value at a loop header that may stop at a threshold; after them, bounds jump to the top. */
const THRESHOLD_WIDENINGS = 8;
const NO_THRESHOLDS: readonly number[] = Object.freeze([U32_MAX]);

/** Passes after which every join at a widening point widens (see fixpoint), and after which the analysis gives up. */
const EAGER_WIDENING_AFTER = 50;
const GIVE_UP_AFTER = 100;

/**
 * The state at the entry of every block of `cfg` (undefined: not reachable),
 * or undefined when the iteration did not settle (no facts at all).
 *
 * Widening happens where a retreating edge brings a grown value into its
 * target (every cycle has such an edge): values that grow only because an
 * outer loop's range grew reach an inner loop's header over a forward edge
 * and are joined exactly there, which keeps, say, "base + i" below 2^32 in
 * the inner loop. Should that ever fail to settle, every join at a target of
 * a retreating edge widens (the textbook scheme, which always terminates).
 */
function fixpoint(cfg: FunctionCfg, program: Program | undefined, frame: Frame): (Regs | undefined)[] | undefined {
  const nb = cfg.blocks.length;
  const order = new Int32Array(nb).fill(-1);
  cfg.rpo.forEach((b, i) => { order[b] = i; });
  const widenAt = new Uint8Array(nb);
  for (const b of cfg.rpo) for (const s of cfg.blocks[b]!.succs) if (order[s]! <= order[b]!) widenAt[s] = 1;
  const states: (Regs | undefined)[] = new Array<Regs | undefined>(nb).fill(undefined);
  states[0] = entryRegs(cfg, program, frame);
  const width = states[0].length;
  const limits = thresholds(cfg, width);
  // Widenings so far per block and state entry.
  const widenings = new Uint8Array(nb * width);
  let eager = false;

  const flowInto = (s: number, regs: Regs, retreating: boolean): boolean => {
    const old = states[s];
    if (old === undefined) {
      states[s] = regs.slice();
      return true;
    }
    const widening = widenAt[s] === 1 && (retreating || eager);
    let changed = false;
    for (let r = 0; r < old.length; r++) {
      if (old[r] === regs[r]) continue;
      let v = join(old[r]!, regs[r]!);
      if (widening) {
        // The thresholds are for a value's first few widenings (a counter
        // stopping at a compared constant); one still growing after that would
        // climb through every constant of the function, one pass at a time:
        // straight to the top instead.
        const k = s * width + r;
        v = widen(old[r]!, v, widenings[k]! < THRESHOLD_WIDENINGS ? limits[r]! : NO_THRESHOLDS);
        if (!equal(v, old[r]!) && widenings[k]! < 255) widenings[k]!++;
      }
      if (!equal(v, old[r]!)) {
        old[r] = v;
        changed = true;
      }
    }
    return changed;
  };

  // Sweeps over reverse postorder, each visiting only the blocks whose entry
  // state changed since their last visit: an acyclic function takes one.
  const dirty = new Uint8Array(nb);
  dirty[0] = 1;
  let pending = 1;
  for (let pass = 0; pending > 0; pass++) {
    if (pass === GIVE_UP_AFTER) return undefined;
    eager = pass >= EAGER_WIDENING_AFTER;
    for (const b of cfg.rpo) {
      if (dirty[b] === 0) continue;
      dirty[b] = 0;
      pending--;
      const block = cfg.blocks[b]!;
      const regs = states[b]!.slice();
      for (const insn of block.insns) step(regs, insn, frame);
      const t = block.terminator;
      const into = (s: number, edge: Regs): void => {
        if (flowInto(s, edge, order[s]! <= order[b]!) && dirty[s] === 0) {
          dirty[s] = 1;
          pending++;
        }
      };
      if (t.kind === 'branch' && t.taken !== t.fallthrough) {
        const taken = regs.slice();
        // An edge whose condition no value satisfies is never taken: nothing flows over it.
        if (narrowBranch(taken, t.insn, true)) into(t.taken, taken);
        if (narrowBranch(regs, t.insn, false)) into(t.fallthrough, regs);
      } else {
        for (const s of block.succs) into(s, regs);
      }
    }
  }
  return states;
}

// ---------------------------------------------------------------------------
// Queries

class FunctionHints implements RegisterHints {
  readonly #cfg: FunctionCfg;
  readonly #states: readonly (Regs | undefined)[];
  readonly #frame: Frame;
  /** Block id per pc offset from the function's entry. */
  readonly #blockAt: Int32Array;
  // The replay cache: registers just before insns[#index] of block #block.
  #block = -1;
  #index = 0;
  #regs: Regs = [];
  // The state just after the instruction at #afterPc (computed on demand).
  #afterPc = -1;
  #afterRegs: Regs = [];

  constructor(cfg: FunctionCfg, states: readonly (Regs | undefined)[], frame: Frame) {
    this.#cfg = cfg;
    this.#states = states;
    this.#frame = frame;
    const last = cfg.blocks[cfg.blocks.length - 1]!;
    this.#blockAt = new Int32Array(last.end - cfg.entry).fill(-1);
    for (const block of cfg.blocks) this.#blockAt.fill(block.id, block.start - cfg.entry, block.end - cfg.entry);
  }

  highZero(pc: number, reg: number): boolean {
    return this.before(pc, reg).hi === 0;
  }

  before(pc: number, reg: number): Fact {
    const regs = this.#seek(pc);
    return regs === undefined ? UNKNOWN : factOf(get(regs, reg));
  }

  after(pc: number, reg: number): Fact {
    if (this.#afterPc !== pc) {
      const regs = this.#seek(pc);
      if (regs === undefined) return UNKNOWN;
      this.#afterRegs = regs.slice();
      step(this.#afterRegs, this.#insnAt(pc), this.#frame);
      this.#afterPc = pc;
    }
    return factOf(get(this.#afterRegs, reg));
  }

  #insnAt(pc: number): Instruction {
    const block = this.#cfg.blocks[this.#blockAt[pc - this.#cfg.entry]!]!;
    return block.insns.find((insn) => insn.pc === pc)!;
  }

  /** The registers just before `pc` (undefined: unreachable or not an instruction of this function). */
  #seek(pc: number): Regs | undefined {
    const offset = pc - this.#cfg.entry;
    const b = offset >= 0 && offset < this.#blockAt.length ? this.#blockAt[offset]! : -1;
    if (b < 0 || this.#states[b] === undefined) return undefined;
    const insns = this.#cfg.blocks[b]!.insns;
    if (b !== this.#block || insns[this.#index] === undefined || insns[this.#index]!.pc > pc) {
      this.#block = b;
      this.#index = 0;
      this.#regs = this.#states[b]!.slice();
    }
    while (this.#index < insns.length && insns[this.#index]!.pc < pc) {
      const insn = insns[this.#index++]!;
      // Lowering asks what an instruction produces before it moves on: that state is the next one's.
      if (insn.pc === this.#afterPc) {
        this.#regs = this.#afterRegs.slice();
      } else {
        step(this.#regs, insn, this.#frame);
      }
    }
    return insns[this.#index]?.pc === pc ? this.#regs : undefined;
  }

}

/**
 * Facts about the registers of one function. `program` (the whole program)
 * tells whether the main function can also be reached by a call; without it
 * main's parameters are as unknown as any function's.
 */
export function analyzeFunction(cfg: FunctionCfg, program?: Program): RegisterHints {
  const frame = frameOf(cfg, program);
  const states = fixpoint(cfg, program, frame);
  return states === undefined ? NO_HINTS : new FunctionHints(cfg, states, frame);
}
