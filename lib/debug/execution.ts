// One execution the debugger is watching: a run's program, a tail call's
// target or a helper's callback, as the interpreter's hook reports them
// (enter, then step before each instruction, then leave). The record points
// at the interpreter's live workspace and call stack, so it always shows the
// state before the instruction about to run; the debugger only reads it, and
// only while the run is paused inside the hook.
//
// What it does not do: decide when to stop (hook.ts) or guard against use
// after the run moved on (stop.ts does).

import { regIndex } from '../interp-decode.js';
import type { CallStack } from '../interp-slow.js';
import { lddwValue } from '../isa.js';
import type { Program } from '../program.js';
import type { SourceLine } from '../vm-options.js';

/** One entry of a backtrace: a function active in the run, and the pc it is at (a call's pc in its callers). */
export interface CallFrame {
  /** The program's name (LoadedProgram.name). */
  readonly program: string;
  readonly pc: number;
  /** Frame number: 1 for the run's main function, one more per local call or helper callback. */
  readonly frame: number;
  readonly line?: SourceLine;
}

/** What the debugger knows of a program: its name and C lines (from its LoadedProgram). */
export type Describe = (program: Program) => { readonly name: string; readonly sourceLines?: readonly (SourceLine | undefined)[] | undefined };

export class Execution {
  /** The instruction about to run (-1 before the first step). */
  pc = -1;
  reg: Int32Array = new Int32Array(0);
  base = 0;
  frames: CallStack | undefined = undefined;

  /** `first`: the frame number the execution starts at. */
  constructor(readonly program: Program, readonly first: number) {}

  /** The running function's frame number. */
  get frame(): number {
    return this.frames === undefined ? this.first : this.frames.frame;
  }

  /** Register n as a u64. */
  register(n: number): bigint {
    const at = regIndex(this.base, n);
    return lddwValue(this.reg[at]!, this.reg[at + 1]!);
  }

  /**
   * This execution's active functions, innermost first, each with its frame
   * number and pc (the call instruction, for a caller), leaving out frames
   * numbered `below` or more: those an inner execution replaced (a tail
   * call made in a subprogram runs its target in that subprogram's frame).
   */
  backtrace(describe: Describe, below: number): CallFrame[] {
    const { name, sourceLines } = describe(this.program);
    const out: CallFrame[] = [];
    const depth = this.frames?.depth ?? 0;
    for (let k = depth; k >= 0; k--) {
      const frame = this.first + k;
      if (frame >= below) continue;
      // A caller is paused at its call: the return pc less one (local calls are one slot).
      const pc = k === depth ? this.pc : this.frames!.returnPc(k) - 1;
      const line = sourceLines?.[pc];
      out.push(line === undefined ? { program: name, pc, frame } : { program: name, pc, frame, line });
    }
    return out;
  }
}

/** The backtrace of a run paused in the innermost of `executions` (outermost first in the array): innermost first. */
export function callStack(executions: readonly Execution[], describe: Describe): CallFrame[] {
  const out: CallFrame[] = [];
  let below = Infinity;
  for (let e = executions.length - 1; e >= 0; e--) {
    const x = executions[e]!;
    out.push(...x.backtrace(describe, below));
    below = Math.min(below, x.first);
  }
  return out;
}
