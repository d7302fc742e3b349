// What an engine needs to run a program once: memory, helpers and limits.
// Shared by the interpreter and the JIT so both see exactly the same world.

import type { Memory } from './memory.js';

/** What a helper can reach besides its five arguments. */
export interface HelperContext {
  /** The VM's memory: helpers read and write program memory through it (bounds-checked). */
  readonly memory: Memory;
  /** pc of the call instruction (for error messages). */
  readonly pc: number;
  /** Helper id being called. */
  readonly id: number;
}

/**
 * A helper: five u64 arguments (r1..r5), returns r0. A number result must be
 * an integer (it is wrapped to u64); void means 0. Throwing an EbpfError
 * aborts the run with that error; any other throw becomes a HelperError.
 */
export type HelperFn = (
  r1: bigint,
  r2: bigint,
  r3: bigint,
  r4: bigint,
  r5: bigint,
  ctx: HelperContext,
) => bigint | number | void;

/** Size of one BPF stack frame in bytes. */
export const FRAME_SIZE = 512;
/** Default maximum number of stack frames (main + nested local calls), as Linux's MAX_CALL_FRAMES. */
export const DEFAULT_MAX_CALL_DEPTH = 8;

/**
 * The budget rule, the same in every engine: each executed instruction
 * counts 1 (an lddw too); the count is compared with the budget only at
 * calls (helper, local, callx: before the call happens) and at jumps taken
 * backwards (target <= pc). When the count exceeds the budget there, the run
 * ends with BudgetExceededError at that instruction's pc. Every loop passes a
 * backward jump or a call, so a runaway program always stops, and a
 * compiled engine pays for the check only on those edges.
 */
export const BUDGET_RULE = 'checked at calls and backward jumps';

export interface RunEnv {
  readonly memory: Memory;
  readonly helpers: ReadonlyMap<number, HelperFn>;
  /** Helper id whose 0 result ends the program at once with r0 = 0 (uBPF's unwind). */
  readonly unwindHelper: number | undefined;
  /** Instruction budget of this run (see the rule below); undefined = unlimited. */
  readonly budget: number | undefined;
  /** Maximum number of frames (main + nested local calls). */
  readonly maxCallDepth: number;
  /** r10 of the main frame: one past the top of frame 0; frame i's r10 is stackTop - i * FRAME_SIZE. */
  readonly stackTop: number;
  /** Initial r1 and r2 (context/memory address and length). */
  readonly r1: bigint;
  readonly r2: bigint;
  /** The packet LD_ABS/LD_IND read: address and length (the input memory until program contexts exist). */
  readonly packet: { readonly address: number; readonly length: number };
}
