// Shared by the debugger tests: a run that records what each stop showed.

import type { CallFrame, DebugRunOptions, Debugger, Stop, StepCommand, StopReason } from '../lib/debug/debugger.js';
import type { RunInput, SourceLine } from '../lib/vm.js';

/** What a stop showed, copied out while it was current. */
export interface Seen {
  readonly reason: StopReason;
  readonly pc: number;
  readonly frame: number;
  readonly program: string;
  readonly line: SourceLine | undefined;
  readonly text: string;
  readonly registers: bigint[];
  readonly callStack: CallFrame[];
}

/** Runs `dbg`, answering each stop with `command` (or what it returns); returns r0 and the stops seen. */
export function collect(
  dbg: Debugger, input?: RunInput, command: StepCommand | ((stop: Stop) => StepCommand) = 'continue', options: DebugRunOptions = {},
): { r0: bigint; stops: Seen[] } {
  const stops: Seen[] = [];
  const r0 = dbg.run(input, (stop) => {
    const { reason, pc, frame, program, line, text, callStack } = stop;
    stops.push({ reason, pc, frame, program, line, text, registers: stop.registers(), callStack });
    return typeof command === 'function' ? command(stop) : command;
  }, options);
  return { r0, stops };
}

