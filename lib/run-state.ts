// The state of one run that both engines share: what a tail-call chain
// carries from one program to the next (the tail-call counter, the
// instruction count, the context, the frame), the run's services for helpers,
// and the dispatch loop that runs a chain.
//
// A Vm owns one RunState and resets it at the start of each run (runs do not
// nest), so a tail call allocates nothing. Each engine
// provides a `ChainStep`: run one program's main function from the fields
// below and say how it ended (`status`). A successful tail call does not call
// the target: it records it here and ends the caller (the JIT returns a
// sentinel out of its JS functions, the interpreter returns from its loop);
// `runChain` then starts the target, so the JS stack stays flat however long
// the chain. A chain that starts inside a subprogram (or a bpf_loop callback)
// runs where that subprogram was called, and its r0 becomes the
// subprogram's result.
//
// What it does not do: decide whether a tail call succeeds (tail-call.ts) or
// run instructions (the engines).

import { CODE_ADDRESS_BASE, codeTarget } from './code-address.js';
import { ExecutionError, UsageError } from './errors.js';
import { SLOT_BYTES } from './memory.js';
import type { RunServices } from './runtime.js';
import type { InstructionHook, TraceSink } from './trace/types.js';

/**
 * The largest r1 or r2 a program's main function starts with: an address or
 * a length, below the map-pointer slot. The JIT compiles main functions for
 * values in this range (codegen/analysis.ts), so the runner checks a
 * context's r1 and r2 against it, and a tail call its r1.
 */
export const MAX_ENTRY_VALUE = CODE_ADDRESS_BASE - SLOT_BYTES;

/** How the last program run by a ChainStep ended. */
export const ChainStatus = {
  /** It returned: r0 is the step's result (high half in r0h). */
  Returned: 0,
  /** It made a successful tail call: `target` and the entry fields describe the next program. */
  TailCall: 1,
  /** It ended the whole run with r0 = 0 (unwind-on-success, packet load out of bounds). */
  Unwound: 2,
} as const;
export type ChainStatus = (typeof ChainStatus)[keyof typeof ChainStatus];

/** Runs `target`'s main function from `state`'s entry fields; returns r0's low half (int32), high half in state.r0h. */
export type ChainStep = (target: unknown, state: RunState) => number;

/** What a helper's `ctx.run.callFunction` reaches: the program running now, in its engine. */
export interface CallbackHost {
  /** Calls the function at code address `address` with r1..r5 = args in a new frame; returns its r0. */
  callFunction(address: bigint, args: readonly bigint[], state: RunState): bigint;
}

/**
 * Thrown by callFunction when the callback (or a chain it started) ended the
 * run: it unwinds the helper that asked for the callback and everything above
 * it up to the runner, which returns r0 = 0. Not an EbpfError: helpers that
 * catch errors they know let it pass, and the engines rethrow it untouched.
 */
export class RunEnded extends Error {
  constructor() {
    super('the run ended inside a callback');
    this.name = 'RunEnded';
  }
}

/** Services before any run: using them is a bug in the caller, said as such. */
const NO_RUN: RunServices = Object.freeze({
  get maps(): never { throw new UsageError('no run in progress: maps are only available to helpers during a run'); },
  get env(): never { throw new UsageError('no run in progress'); },
  get context(): never { throw new UsageError('no run in progress'); },
  cpu: 0,
  callFunction(): never { throw new UsageError('no run in progress'); },
});

export class RunState {
  /** The most tail calls one run may make (Vm option maxTailCalls). */
  readonly maxTailCalls: number;
  /** Runs one program of a chain on the run's engine. */
  step: ChainStep;
  /** What helpers reach through ctx.run during this run. */
  services: RunServices = NO_RUN;
  /** Instruction budget of the run (Infinity: none). */
  budget = Infinity;
  /** Successful tail calls so far in this run. */
  tailCalls = 0;
  /** Instructions counted so far in this run, carried from program to program (only with a budget). */
  executed = 0;
  /** How the last program run by `step` ended. */
  status: ChainStatus = ChainStatus.Returned;
  /** The next program to run (a tail call's target, or the run's program at the start). */
  target: unknown = undefined;
  // The next program's r1, r2 (int32 halves), frame pointer and frame
  // number (1 = the run's main frame): a tail call's target takes over the
  // caller's frame.
  r1 = 0;
  r1h = 0;
  r2 = 0;
  r2h = 0;
  r10 = 0;
  depth = 1;
  /** High half of r0 when a step returns. */
  r0h = 0;
  /**
   * The program whose helper is running now, and that helper call's pc and
   * frame number (for callFunction; the JIT's callback works its frame out
   * itself and leaves helperFrame alone).
   */
  host: CallbackHost | undefined = undefined;
  helperPc = 0;
  helperFrame = 1;
  /** The packet LD_ABS/LD_IND read (the context's; read at each access, since XDP adjustments move it). */
  packet: { readonly address: number; readonly length: number } = { address: 0, length: 0 };
  /** The interpreter's per-instruction hook for this run (tracing, the debugger); undefined: none, and no cost. */
  hook: InstructionHook | undefined = undefined;
  /** Where a traced run reports (the JIT's trace code and both engines' slow paths); undefined: not traced. */
  tracer: TraceSink | undefined = undefined;

  constructor(maxTailCalls: number, step: ChainStep) {
    this.maxTailCalls = maxTailCalls;
    this.step = step;
  }

  /** Starts a run of `target` with r1 and r2 (u64), the main frame's r10, and a budget (undefined: none). */
  begin(target: unknown, r1: bigint, r2: bigint, r10: number, budget: number | undefined): void {
    this.beginWith(target, Number(BigInt.asIntN(32, r1)), Number(BigInt.asIntN(32, r1 >> 32n)),
      Number(BigInt.asIntN(32, r2)), Number(BigInt.asIntN(32, r2 >> 32n)), r10, budget);
  }

  /** begin() with r1 and r2 as int32 halves (no BigInt on a run's way in). */
  beginWith(target: unknown, r1: number, r1h: number, r2: number, r2h: number, r10: number, budget: number | undefined): void {
    this.target = target;
    this.r1 = r1 | 0;
    this.r1h = r1h | 0;
    this.r2 = r2 | 0;
    this.r2h = r2h | 0;
    this.r10 = r10;
    this.depth = 1;
    this.budget = budget ?? Infinity;
    this.tailCalls = 0;
    this.executed = 0;
    this.status = ChainStatus.Returned;
    this.r0h = 0;
    this.host = undefined;
  }

  /** ctx.run.callFunction: the function at `address` of the program whose helper is running. */
  callFunction(address: bigint, args: readonly bigint[]): bigint {
    if (this.host === undefined) throw new UsageError('callFunction is only available to a helper while it runs');
    if (typeof address !== 'bigint' || !Array.isArray(args) || args.length > 5 || args.some((a) => typeof a !== 'bigint')) {
      throw new UsageError('callFunction takes a code address (bigint) and at most 5 bigint arguments');
    }
    return this.host.callFunction(BigInt.asUintN(64, address), args.map((a) => BigInt.asUintN(64, a)), this);
  }
}

/**
 * The dispatch loop: runs `state.target` and every program it tail-calls,
 * one after the other, and returns the last one's r0 (low half; high half
 * in state.r0h; 0 when the run was unwound, status Unwound). The program
 * whose helper is running is restored afterwards, for a chain started
 * inside a subprogram or a callback.
 */
export function runChain(state: RunState): number {
  const host = state.host;
  let r0: number;
  for (;;) {
    state.status = ChainStatus.Returned;
    r0 = state.step(state.target, state);
    if ((state.status as ChainStatus) !== ChainStatus.TailCall) break;
    // The next program takes over the frame with r2 = 0 (r1, r10 and the frame number were set by the tail call).
    state.r2 = 0;
    state.r2h = 0;
  }
  state.host = host;
  if ((state.status as ChainStatus) === ChainStatus.Unwound) {
    state.r0h = 0;
    return 0;
  }
  return r0;
}

/**
 * The entry pc of the callback at code address `address` (a helper's
 * callFunction, at the helper call's `pc`), or an ExecutionError BAD_CALLBACK:
 * it must be a function of the program other than the main function (Linux
 * calls back subprograms only, and the JIT compiles the main function for the
 * runner's arguments alone).
 */
export function callbackTarget(address: bigint, functions: ReadonlySet<number>, pc: number): number {
  const target = codeTarget(address);
  if (target !== undefined && target !== 0 && functions.has(target)) return target;
  const why = target === 0 ? 'is the main function' : 'is not a function of the program';
  throw new ExecutionError('BAD_CALLBACK', `callback address 0x${address.toString(16)} ${why}`, pc);
}
