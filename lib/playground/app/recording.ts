// Stepping in a browser. The debugger's stops are synchronous (onStop runs
// inside the interpreter's loop), and a page cannot wait for a click inside
// a callback, so the page runs the program once under the debugger, stepping
// at every instruction, and records what each stop showed: pc, frame,
// registers, the stack frame and the input bytes. The Step buttons then move
// through the recording, forwards and backwards.
//
// What it does not do: record more than `limit` stops (the run is cut off
// there and the page says so), or record memory other than the input and
// the current stack frame.

import { Debugger } from '../../debug/debugger.js';
import type { EngineName } from '../../vm.js';
import { errorView, type ContextKind, type ErrorView, type RunOutcome, type Session } from './session.js';

/** Stops recorded at most, by default: enough for loops over a packet, small enough for a page's memory. */
export const DEFAULT_STOP_LIMIT = 100_000;

/** The program paused before the instruction at `pc`. */
export interface StopSnapshot {
  readonly program: string;
  readonly pc: number;
  readonly frame: number;
  readonly text: string;
  /** `file:line: text` of the C line, for programs with source lines. */
  readonly line?: string;
  /** r0..r10 (u64). */
  readonly registers: readonly bigint[];
  /** The running function's 512-byte stack frame (shared with the previous stop when unchanged). */
  readonly stack: Uint8Array;
  /** The input bytes (memory or packet) at this point (shared with the previous stop when unchanged). */
  readonly input: Uint8Array;
}

export interface Recording {
  readonly stops: readonly StopSnapshot[];
  /** The run went on past `limit` stops and was cut off there (its result is unknown). */
  readonly truncated: boolean;
  readonly limit: number;
  /** How the run ended (engine 'interp'): r0 or the error, and the input before and after. */
  readonly outcome: RunOutcome;
}

/** Thrown from onStop to end a run that reached the stop limit. */
class StopLimit extends Error {}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs `name` under the debugger on the interpreter, recording every stop (at most `limit`). */
export function record(session: Session, name: string, kind: ContextKind, bytes: Uint8Array, limit = DEFAULT_STOP_LIMIT): Recording {
  const entry = session.program(name);
  const prepared = session.prepare(entry, kind, bytes);
  const stops: StopSnapshot[] = [];
  const engine: EngineName = 'interp';
  let truncated = false;
  let r0: bigint | undefined;
  let error: ErrorView | undefined;
  session.takePrintk();
  try {
    r0 = new Debugger(entry.prog).run(prepared.input, (stop) => {
      if (stops.length >= limit) throw new StopLimit();
      const prev = stops[stops.length - 1];
      const stack = stop.stack();
      // Compared before copying: most instructions leave the input alone, and it may be large.
      const input = prepared.view();
      const line = stop.line;
      stops.push({
        program: stop.program, pc: stop.pc, frame: stop.frame, text: stop.text,
        ...(line === undefined ? {} : { line: `${line.file}:${line.lineNum}: ${line.line.trim()}` }),
        registers: stop.registers(),
        stack: prev !== undefined && same(prev.stack, stack) ? prev.stack : stack,
        input: prev !== undefined && same(prev.input, input) ? prev.input : input.slice(),
      });
      return 'step';
    }, { stopAtEntry: true });
  } catch (e) {
    if (e instanceof StopLimit) truncated = true;
    else error = errorView(e);
  }
  const after = prepared.bytes();
  prepared.release();
  const base = { engine, before: bytes, after, printk: session.takePrintk() };
  const outcome: RunOutcome = r0 !== undefined ? { ...base, ...session.verdictOf(entry, r0) } : error !== undefined ? { ...base, error } : base;
  return { stops, truncated, limit, outcome };
}

/** A breakpoint: a pc in a program (the recording may pass through several programs by tail calls). */
export function breakpointKey(program: string, pc: number): string {
  return `${program}:${pc}`;
}

/** The stop after `at` that is at a breakpoint, or the last stop when none is. */
export function continueFrom(rec: Recording, at: number, breakpoints: ReadonlySet<string>): number {
  for (let i = at + 1; i < rec.stops.length; i++) {
    const s = rec.stops[i]!;
    if (breakpoints.has(breakpointKey(s.program, s.pc))) return i;
  }
  return Math.max(rec.stops.length - 1, 0);
}

/** The stop before `at` that is at a breakpoint, or the first stop when none is. */
export function reverseContinueFrom(rec: Recording, at: number, breakpoints: ReadonlySet<string>): number {
  for (let i = at - 1; i >= 0; i--) {
    const s = rec.stops[i]!;
    if (breakpoints.has(breakpointKey(s.program, s.pc))) return i;
  }
  return 0;
}

/** Step over: the next stop in the same function or a caller (a local call or a helper's callback runs through). */
export function stepOverFrom(rec: Recording, at: number): number {
  const frame = rec.stops[at]?.frame ?? 1;
  for (let i = at + 1; i < rec.stops.length; i++) if (rec.stops[i]!.frame <= frame) return i;
  return Math.max(rec.stops.length - 1, 0);
}

/** The registers that differ between two stops (what the instructions between them wrote). */
export function changedRegisters(a: StopSnapshot | undefined, b: StopSnapshot): Set<number> {
  const out = new Set<number>();
  if (a === undefined) return out;
  b.registers.forEach((v, n) => {
    if (a.registers[n] !== v) out.add(n);
  });
  return out;
}
