// The debugger's InstructionHook: the interpreter calls `step` before every
// instruction of a debugged run, and `enter`/`leave` around every execution
// (the run's program, a tail call's target, a helper's callback). Here it is
// decided whether to stop before that instruction; a stop calls the user's
// onStop synchronously, with the run paused inside this call, and the
// command it returns says when to stop next:
//
//   'step'      the next instruction executed, wherever it is;
//   'next'      the next one at a frame <= this one (over local calls, and
//               over helper calls with the callbacks they run);
//   'finish'    the next one at a frame < this one (after this function returns);
//   'continue'  (or undefined) only at breakpoints.
//
// Breakpoints stop in every mode. Frames are the run's frame numbers, so a
// tail call's target, which takes over its caller's frame, counts as the
// same frame: 'next' over a tail call that succeeds stops at the target's
// first instruction.
//
// An error thrown by onStop ends the run as it is: it is kept in `thrown`,
// every later step throws it again, and the Vm throws the original whatever
// carried it out (CallbackFailure in lib/trace/types.ts).
//
// What it does not do: read or change the run beyond what a Stop reads.

import { UsageError } from '../errors.js';
import type { CallStack } from '../interp-slow.js';
import type { Memory } from '../memory.js';
import type { Program } from '../program.js';
import type { InstructionHook } from '../trace/types.js';
import { Execution, type Describe } from './execution.js';
import { Stop, type StopReason } from './stop.js';

/** What onStop returns: when to stop next (undefined: continue). */
export type StepCommand = 'step' | 'next' | 'finish' | 'continue';

export type OnStop = (stop: Stop) => StepCommand | undefined | void;

const COMMANDS: readonly StepCommand[] = ['step', 'next', 'finish', 'continue'];

export class DebugHook implements InstructionHook {
  /** Active executions, outermost first. */
  private readonly executions: Execution[] = [];
  private mode: StepCommand = 'continue';
  /** The frame of the last stop, which 'next' and 'finish' compare with. */
  private frameAtStop = 0;
  private atEntry: boolean;
  /** Set once onStop threw: the run is being torn down. */
  thrown: { readonly error: unknown } | undefined = undefined;

  constructor(
    private readonly program: Program,
    private readonly breakpoints: Uint8Array,
    private readonly memory: Memory,
    private readonly describe: Describe,
    private readonly onStop: OnStop,
    stopAtEntry: boolean,
  ) {
    this.atEntry = stopAtEntry;
  }

  enter(program: Program, frame: number): void {
    this.executions.push(new Execution(program, frame));
  }

  leave(): void {
    this.executions.pop();
  }

  step(pc: number, reg: Int32Array, base: number, frames: CallStack): void {
    if (this.thrown !== undefined) throw this.thrown.error;
    const x = this.executions[this.executions.length - 1]!;
    x.pc = pc;
    x.reg = reg;
    x.base = base;
    x.frames = frames;
    const reason = this.reason(x, pc, frames.frame);
    if (reason !== undefined) this.stop(reason, frames.frame);
  }

  /** Why to stop before `pc` at `frame`, or undefined to go on. */
  private reason(x: Execution, pc: number, frame: number): StopReason | undefined {
    if (this.atEntry) {
      this.atEntry = false;
      return 'entry';
    }
    // Breakpoints belong to the debugged program: a tail call's target has pcs of its own.
    if (x.program === this.program && this.breakpoints[pc] !== 0) return 'breakpoint';
    switch (this.mode) {
      case 'continue': return undefined;
      case 'step': return 'step';
      case 'next': return frame <= this.frameAtStop ? 'step' : undefined;
      case 'finish': return frame < this.frameAtStop ? 'step' : undefined;
    }
  }

  private stop(reason: StopReason, frame: number): void {
    const stop = new Stop(reason, this.executions, this.memory, this.describe);
    try {
      this.mode = command(this.onStop(stop));
    } catch (e) {
      this.thrown = { error: e };
      throw e;
    } finally {
      stop.expire();
    }
    this.frameAtStop = frame;
  }
}

/** onStop's result as a command; UsageError for anything else. */
function command(value: unknown): StepCommand {
  if (value === undefined) return 'continue';
  if (typeof value === 'string' && (COMMANDS as readonly string[]).includes(value)) return value as StepCommand;
  const shown = typeof value === 'string' ? JSON.stringify(value) : typeof value;
  throw new UsageError(`onStop returned ${shown}: expected 'step', 'next', 'finish', 'continue' or undefined`);
}
