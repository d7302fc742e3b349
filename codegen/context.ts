// The conventions every part of the JIT shares: how registers, temporaries
// and runtime bindings are named in generated code, and what a lowering
// function is given. Nothing here generates code; it is the contract between
// cfg/structure (control flow), lower-* (instructions) and emit (assembly of
// the module).
//
// Register representation: every BPF register r0..r9 is a pair of int32 JS
// locals, `rN` (low 32 bits) and `rNh` (high 32 bits), always kept as int32
// (`| 0`), so V8 sees monomorphic small integers. r10, the frame pointer, is
// a single number `r10` (a 32-bit address; its high half is 0 by definition).
// 32-bit ALU results set the high local to 0. BigInt appears only off the hot
// path (helper arguments, 64-bit division by large divisors, faults).
//
// Calls: a BPF function is a JS function
//   fN(r1, r1h, r2, r2h, r3, r3h, r4, r4h, r5, r5h, r10)
// returning r0's low half, with its high half in RET[1]. In the callee, r0 and
// r6..r9 start at 0. After a call (local or helper) the caller's r1..r9 keep
// their values; r0 is the result. The interpreter follows the same rule.
//
// Tail calls: a successful `call 12` returns 0 with RET[2] = 1, the
// sentinel, out of its function; the call site that called that function
// runs the chain (CHAIN) in its place, and the module's entry hands it to the
// runner's dispatch loop. See lower-call.ts and entry.ts.

import type { Program } from '../lib/program.js';
import type { SourceLine } from '../lib/vm-options.js';
import type { RegisterHints } from './analysis.js';

/**
 * Names bound once at the top of the generated module (from the `rt`
 * argument). Lowering refers to these names only.
 */
export const RT = {
  /** DataView per 16 MiB slot (Memory.tables.views). */
  views: 'V',
  /** Per slot: where its first byte is in its view (Memory.tables.offsets, Uint32Array). */
  offsets: 'O',
  /** Per slot: bytes loadable from its first address on, 0 if unmapped (Memory.tables.limits, Int32Array). */
  limits: 'L',
  /** Same for stores: 0 if unmapped or read-only (Memory.tables.writeLimits, Int32Array). */
  writeLimits: 'WL',
  /** Per slot: 1 if its region is shared (Memory.tables.shared, Uint8Array): atomics there call ATOMIC. */
  shared: 'SH',
  /**
   * ATOMIC(pc, i, a, src, srch, r0, r0h): the atomic instruction at pc on
   * slot i's region at view offset a, with Atomics (lib/atomics.ts); returns
   * the old value's low half, its high half in RET[1].
   */
  atomic: 'ATOMIC',
  /** DataView of the stack region (for r10-relative accesses proven inside the frame). */
  stack: 'S',
  /** Base address of the stack region. */
  stackBase: 'SB',
  /**
   * Int32Array(3) scratch: RET[1] carries a returned high half; RET[0] a
   * helper's low half; RET[2] says how the last call ended besides
   * returning: 1 a tail call is pending (the callee returned the sentinel
   * 0), 2 the run was unwound (set by the module's exports, read by the
   * runner and by CHAIN's callers).
   */
  ret: 'RET',
  /**
   * FAULT(pc, lo, hi, off, size, isStore): throws MemoryAccessError for the
   * access at u64(lo|hi<<32) + off. Returns only for a store (isStore true,
   * not 'atomic') inside a writable range of a read-only region, which the
   * code after it then performs (lower-mem.ts).
   */
  fault: 'FAULT',
  /**
   * CALL(id, pc, r1, r1h, ..., r5, r5h): calls helper `id` with BigInt
   * arguments, normalizes the result, writes it to RET[0] (low) and RET[1]
   * (high) and returns the low half.
   */
  callHelper: 'CALL',
  /** CALLX(pc, lo, hi): what a callx register value names: a function entry pc (>= 0) or -1 for a helper (id = lo), else throws. */
  callxTarget: 'CALLX',
  /** BUDGETFAIL(pc, budget): throws BudgetExceededError. */
  budgetFail: 'BUDGETFAIL',
  /** DEPTHFAIL(pc): throws ExecutionError CALL_DEPTH_EXCEEDED. */
  depthFail: 'DEPTHFAIL',
  /** Slow paths for 64-bit arithmetic (BigInt), see lower-alu: DIV64/MOD64/SDIV64/SMOD64(alo, ahi, blo, bhi) return lo, hi in RET[1]. */
  div64: 'DIV64',
  mod64: 'MOD64',
  sdiv64: 'SDIV64',
  smod64: 'SMOD64',
  /** PKT(pc, lo, hi, imm, size): big-endian packet load at u64(hi:lo) + imm (ldabs/ldind); the value, or -1 when out of bounds. */
  packetLoad: 'PKT',
  /**
   * TAIL(pc, r1, r1h, r2, r2h, r3, frame, r10): bpf_tail_call. 0 when it
   * succeeded (RET[2] = 1: the function must return at once, the sentinel),
   * else the negative errno for r0 (its high half is -1).
   */
  tailCall: 'TAIL',
  /**
   * CHAIN(count): runs the pending tail-call chain where a callee returned
   * the sentinel, with the instruction count so far; returns its r0 (high
   * half in RET[1], the count in CNT[0]); RET[2] is 2 if the chain ended
   * the run, else 0.
   */
  chain: 'CHAIN',
  /** Float64Array(1): the instruction count handed back by the exports and CHAIN. */
  count: 'CNT',
  /** r10 of the run's main frame (the stack's end): frame n's r10 is TOP - (n - 1) * 512. */
  stackTop: 'TOP',
} as const;

/** Mutable closure state of a module instance (`let` at module top). */
export const STATE = {
  /** Instructions counted so far in this run (only when budget checks are compiled in). */
  count: 'COUNT',
  /** This run's budget. */
  budget: 'BUDGET',
  /** Number of the running frame (main = 1; a tail call's target keeps its caller's). */
  depth: 'DEPTH',
  /** Maximum frames. */
  maxDepth: 'MAXDEPTH',
  /** Set when the unwind helper returned 0: every frame returns at once. */
  unwound: 'UNWOUND',
} as const;

/** Per-function local: r10 - SB, the frame pointer as an offset in the stack's view. */
export const STACK_OFFSET = 'sp';

/** Temporaries every generated function declares (numbers only). */
export const TEMPS = ['a', 'i', 't', 'u', 'v', 'w'] as const;
export type Temp = (typeof TEMPS)[number];

export function lo(reg: number): string {
  return `r${reg}`;
}

/** High half of a register; r10 has none (callers must not ask). */
export function hi(reg: number): string {
  if (reg === 10) throw new Error('r10 has no high half');
  return `r${reg}h`;
}

export function functionName(entryPc: number): string {
  return `f${entryPc}`;
}

export interface CompileOptions {
  /** Compile instruction counting and checks at calls and backward jumps. */
  readonly budget: boolean;
  /** The helper id whose 0 result ends the run (decided at compile time). */
  readonly unwindHelper: number | undefined;
  /** Helper ids registered when compiling (a call to another id cannot be compiled). */
  readonly helperIds: ReadonlySet<number>;
  /**
   * Entry pcs of the functions that may return the tail-call sentinel
   * (lib/tail-call.ts): those containing `call 12` or a callx. Calls to them
   * check for it. compile.ts fills it in; absent, lowering works it out.
   */
  readonly tailCallers?: ReadonlySet<number>;
  /**
   * Estimated bytecode above which a BPF function is split into several JS
   * functions (split.ts); default SPLIT_LIMIT. Tests set 1 to split every
   * function into one piece per block.
   */
  readonly splitLimit?: number;
  /** For each pc, its C source line: readable output shows each new one (emit.ts). */
  readonly sourceLines?: readonly (SourceLine | undefined)[];
  /**
   * Report every instruction to the run's tracer (trace.ts): a separate,
   * slower compile for traced runs only. Absent or false, not a byte of the
   * generated code changes.
   */
  readonly trace?: boolean;
}

/** What lowering an instruction may look at. */
export interface LowerContext {
  readonly program: Program;
  readonly options: CompileOptions;
  /** Facts about register values in the function being lowered (see analysis.ts); absent = nothing known. */
  readonly hints?: RegisterHints;
  /**
   * The function has an atomic instruction checked at run time: its slot
   * cache then also holds the slot's shared flag (lower-mem.ts).
   */
  readonly sharedFlag?: boolean;
}
