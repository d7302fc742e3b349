// What tracing and debugging see of a run: the events a trace delivers, and
// the two interfaces the engines report to. Both engines report the same
// things at the same points, so a trace is the same on either (tests compare
// them); the interpreter through an InstructionHook called at the top of its
// loop, the JIT through code it emits only when compiling for a trace.

import type { CallStack } from '../interp-slow.js';
import type { Program } from '../program.js';
import type { SourceLine } from '../vm-options.js';

/** One memory access of an instruction: its u64 address, size in bytes and the bytes there afterwards (little-endian, zero-extended). */
export interface TraceAccess {
  readonly kind: 'load' | 'store' | 'atomic';
  readonly address: bigint;
  readonly size: number;
  readonly value: bigint;
}

/** A register an instruction wrote, and its value afterwards (u64). */
export interface TraceRegister {
  readonly reg: number;
  readonly value: bigint;
}

/** One executed instruction, delivered once it has completed. */
export interface TraceEvent {
  /** The running program's name (LoadedProgram.name): a tail call changes it. */
  readonly program: string;
  readonly pc: number;
  /** Frame number: 1 for a run's main function, one more per local call or helper callback. */
  readonly frame: number;
  /** The registers the instruction writes (ISA rules, lib/trace/effects.ts), with their new values. */
  readonly registers: readonly TraceRegister[];
  /** The memory the instruction itself accessed (not what a helper it calls does). */
  readonly memory: readonly TraceAccess[];
  /** The instruction's C line, when the program was loaded with sourceLines. */
  readonly line?: SourceLine;
}

export type TraceCallback = (event: TraceEvent) => void;

/**
 * What a user's callback (a trace function, a debugger's onStop) threw, once
 * it has. The Vm ends the run with that error as it was thrown: a helper
 * running a callback (bpf_loop) may have wrapped it in a HelperError, or
 * swallowed it; the one who set it throws it again at the next instruction.
 */
export interface CallbackFailure {
  readonly thrown: { readonly error: unknown } | undefined;
}

/**
 * What both engines report to while a run is traced (lib/trace/tracer.ts).
 * Calls come in this order: enter (an execution starts: a run's program, a
 * tail call's target or a helper's callback), then per instruction `insn`
 * before it executes and, for an instruction that writes a register, `wrote`
 * after it, and `leave` when that execution ends (normally or by throwing).
 * Executions nest (a callback inside a helper call).
 */
export interface TraceSink extends CallbackFailure {
  enter(program: Program, frame: number): void;
  /**
   * Before the instruction at `pc`. `base` is the value (u64) of the
   * register its memory address is based on, for loads (src), stores and
   * atomics (dst); for callx, the target's value (it tells a helper call,
   * which hands r0 back, from a local call or a tail call); undefined for
   * other instructions.
   */
  insn(pc: number, base?: bigint): void;
  /** After an instruction that writes a register: that register's value (u64). */
  wrote(value: bigint): void;
  /** The execution ends; `aborted`: by throwing (its pending instruction did not complete: no event for it). */
  leave(aborted?: boolean): void;
}

/**
 * The interpreter's hook (RunState.hook): called before every instruction
 * with the live workspace (register n is reg[regIndex(base, n)], low half,
 * then high half) and call stack. The interpreter only looks for a hook at
 * the top of its loop when one is set, so runs without one pay nothing.
 */
export interface InstructionHook extends Partial<CallbackFailure> {
  enter(program: Program, frame: number): void;
  step(pc: number, reg: Int32Array, base: number, frames: CallStack): void;
  /** As TraceSink.leave. */
  leave(aborted?: boolean): void;
}
