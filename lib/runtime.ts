// What an engine needs to run a program once: memory, helpers and limits.
// Shared by the interpreter and the JIT so both see exactly the same world.

import type { HelperEnv } from './helpers/env.js';
import type { MapRegistry } from './maps/index.js';
import type { Memory } from './memory.js';

/** What a helper can reach besides its five arguments. */
export interface HelperContext {
  /** The VM's memory: helpers read and write program memory through it (bounds-checked). */
  readonly memory: Memory;
  /** pc of the call instruction (for error messages). */
  readonly pc: number;
  /** Helper id being called. */
  readonly id: number;
  /** The services of the current run (maps, clock, printk, packet, callbacks). */
  readonly run: RunServices;
}

/** XDP packet adjustment (helpers 44 and 65): 0 or a negative errno. */
export interface XdpBuffer {
  adjustHead(delta: number): number;
  adjustTail(delta: number): number;
}

/**
 * What a program runs on: r1/r2 at entry and the packet LD_ABS/LD_IND and
 * skb_load_bytes read. Plain input memory, an XDP context (lib/xdp.ts) and
 * later skb contexts all provide it.
 */
export interface ProgramContext {
  /** r1 at entry (the context's or the memory's address). */
  readonly r1: bigint;
  /** r2 at entry (the memory's length; 0 for a context). */
  readonly r2: bigint;
  /** The packet bytes; read at each access, since XDP adjustments move them. */
  readonly packet: { readonly address: number; readonly length: number };
  readonly xdp?: XdpBuffer;
}

/** Per run: what helpers use beyond memory. One object per run, shared by every helper call. */
export interface RunServices {
  readonly maps: MapRegistry;
  /** CPU this run executes on (per-CPU maps, get_smp_processor_id). */
  readonly cpu: number;
  readonly env: HelperEnv;
  readonly context: ProgramContext;
  /**
   * Calls the BPF function at a code address (lddw src=4 value) with r1..r5 =
   * args, in a new frame of the current run, and returns its r0 (bpf_loop's
   * callback). Throws ExecutionError when the address is not a function entry.
   */
  callFunction(address: bigint, args: readonly bigint[]): bigint;
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
