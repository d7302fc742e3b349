// A stepping debugger on the interpreter: breakpoints by pc or C line, then
// a run that calls back at each stop with the program paused, to read its
// registers, stack, memory and call stack and say how to go on.
//
//   const dbg = new Debugger(prog);
//   dbg.breakAt({ line: 27 });
//   const r0 = dbg.run(input, (stop) => {
//     console.log(stop.pc, stop.text, stop.register(0));
//     return 'next';
//   });
//
// Stops are synchronous: onStop runs inside the interpreter's loop, before
// the instruction at stop.pc (lib/debug/hook.ts has the rules of each
// command). A debugged run always uses the interpreter; runs without a
// debugger pay nothing for it (the interpreter only looks for a hook when one
// is set).
//
// What it does not do: change registers or memory, or set breakpoints in
// other programs (a tail call's target is stepped into, but its pcs are its
// own).

import { UsageError } from '../errors.js';
import type { Program } from '../program.js';
import { LoadedProgram, type RunInput } from '../vm.js';
import { Breakpoints, type Breakpoint, type BreakpointLocation } from './breakpoints.js';
import type { Describe } from './execution.js';
import { DebugHook, type OnStop } from './hook.js';

export type { Breakpoint, BreakpointLocation } from './breakpoints.js';
export type { CallFrame } from './execution.js';
export type { OnStop, StepCommand } from './hook.js';
export { Stop, type StopReason } from './stop.js';

export interface DebugRunOptions {
  /** Stop before the run's first instruction (reason 'entry'). */
  stopAtEntry?: boolean;
  /** Instruction budget of this run (as RunOptions.budget). */
  budget?: number;
  /** The CPU the run is on (as RunOptions.cpu). */
  cpu?: number;
}

export class Debugger {
  readonly prog: LoadedProgram;
  private readonly points: Breakpoints;

  constructor(prog: LoadedProgram) {
    if (!(prog instanceof LoadedProgram)) throw new UsageError('new Debugger() takes a program loaded by a Vm');
    this.prog = prog;
    this.points = new Breakpoints(prog.program, prog.sourceLines);
  }

  /**
   * Sets a breakpoint before the instruction at a pc, or at a C line
   * (`{ line, file? }`, for programs with source lines): there, at the first
   * pc of each run of consecutive instructions on that line. Returns its id.
   * UsageError for a pc that starts no instruction or a line without one.
   */
  breakAt(where: BreakpointLocation): number {
    return this.points.add(where);
  }

  /** Removes a breakpoint by id (UsageError when there is none). May be called from onStop. */
  clearBreakpoint(id: number): void {
    this.points.clear(id);
  }

  /** The breakpoints set, with the pcs each stops at. */
  get breakpoints(): Breakpoint[] {
    return this.points.all();
  }

  /**
   * Runs the program on `input` (as LoadedProgram.run) on the interpreter,
   * calling `onStop` at each stop; returns r0. What onStop throws ends the
   * run and is thrown from here; the Vm can run again afterwards.
   */
  run(input: RunInput | undefined, onStop: OnStop, options: DebugRunOptions = {}): bigint {
    if (typeof onStop !== 'function') throw new UsageError('run() takes an onStop function');
    if (typeof options !== 'object' || options === null) throw new UsageError('debugger run() options must be an object');
    if (options.stopAtEntry !== undefined && typeof options.stopAtEntry !== 'boolean') throw new UsageError('option stopAtEntry must be a boolean');
    const { vm } = this.prog;
    const describe: Describe = (p: Program) => vm.loadedProgram(p);
    const hook = new DebugHook(this.prog.program, this.points.at, vm.memory, describe, onStop, options.stopAtEntry === true);
    const runOptions = { engine: 'interp' as const, ...(options.budget === undefined ? {} : { budget: options.budget }), ...(options.cpu === undefined ? {} : { cpu: options.cpu }) };
    // What onStop throws comes out of execute as thrown (CallbackFailure).
    return vm.execute(this.prog, input, runOptions, hook);
  }
}
