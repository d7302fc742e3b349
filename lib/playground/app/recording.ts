// Stepping in a browser. The debugger's stops are synchronous (onStop runs
// inside the interpreter's loop), and a page cannot wait for a click inside
// a callback, so the page runs the program once under the debugger, stepping
// at every instruction, and records what each stop showed: pc, frame,
// registers, the stack frame and the input bytes. The Step buttons then move
// through the recording, forwards and backwards.
//
// Memory is recorded as changes, not copies (byte-history.ts): at each stop
// only the bytes the previous instruction could have written are compared.
// A store or atomic writes its operand's bytes (lib/trace/effects.ts, at the
// address its base register held at the previous stop); a helper call
// (which may write anywhere, and runs callbacks), callx, and a return that
// is not to a local call (a callback's exit goes back into its helper) may
// have written any byte of the input, which is then compared whole; nothing
// else writes memory. The stack frame (512 bytes) and the registers (88
// bytes) are compared whole, and recorded as changes the same way.
//
// What it does not do: record more than `limit` stops or about `byteLimit`
// bytes (the run is cut off there and the page says so), or record memory
// other than the input and the current stack frame.

import { Debugger } from '../../debug/debugger.js';
import type { Instruction } from '../../isa.js';
import { memoryOperand } from '../../trace/effects.js';
import type { EngineName } from '../../vm.js';
import { ByteHistory } from './byte-history.js';
import { IntColumn } from './columns.js';
import { DEFAULT_BUDGET, errorView, type ContextKind, type ErrorView, type RunOutcome, type Session } from './session.js';
import { sourceLineText } from '../../source-line.js';

/** Stops recorded at most, by default: enough for loops over a packet, small enough for a page's memory. */
export const DEFAULT_STOP_LIMIT = 100_000;
/** Bytes a recording may hold, by default (checked at each stop: it may go over by one stop's bytes or one growth). */
export const DEFAULT_BYTE_LIMIT = 256 * 1024 * 1024;
/**
 * Input bytes compared at most, by default: after each helper call the whole
 * input is compared (a helper may write it), so a big input and many helper
 * calls would keep the page busy for minutes; about a second of comparing.
 */
export const DEFAULT_COMPARE_LIMIT = 2 * 1024 * 1024 * 1024;

const REGISTERS = 11;

/** Where a stop is: what navigation needs. */
export interface StopPlace {
  readonly program: string;
  readonly pc: number;
  readonly frame: number;
}

/** The program paused before the instruction at `pc`, as the page shows it. */
export interface StopSnapshot extends StopPlace {
  readonly text: string;
  /** `file:line: text` of the C line, for programs with source lines. */
  readonly line?: string;
  /** r0..r10 (u64). */
  readonly registers: readonly bigint[];
  /** The running function's 512-byte stack frame (a copy). */
  readonly stack: Uint8Array;
  /** The input bytes (memory or packet) at this point (a copy). */
  readonly input: Uint8Array;
}

export interface RecordOptions {
  /** Stops recorded at most (DEFAULT_STOP_LIMIT). */
  readonly limit?: number;
  /** Bytes recorded at most, about (DEFAULT_BYTE_LIMIT). */
  readonly byteLimit?: number;
  /** The run's instruction budget (DEFAULT_BUDGET). */
  readonly budget?: number;
  /** Input bytes compared at most (DEFAULT_COMPARE_LIMIT). */
  readonly compareLimit?: number;
}

/** Why a recording ended before the run did: too many stops, or too many bytes. */
export type CutOff = 'stops' | 'bytes' | 'compare';

/** Thrown from onStop to end a run that reached a limit. */
class LimitReached extends Error {
  constructor(readonly why: CutOff) {
    super(`recording limit: ${why}`);
  }
}

/** What an instruction may have written of the input: nothing, a byte range of it, or any byte. */
type Written = 'none' | 'all' | { readonly from: number; readonly to: number };

export class Recording {
  private readonly pcs = new IntColumn();
  private readonly frames = new IntColumn();
  private readonly programIndex = new IntColumn();
  private readonly regs = new ByteHistory();
  private readonly input = new ByteHistory();
  private readonly stack = new ByteHistory();
  /** Program names, and per program the disassembly and C line of each pc once shown. */
  private readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  private readonly texts = new Map<string, { text: string; line?: string }>();
  private cut: CutOff | undefined;
  private result: RunOutcome | undefined;

  constructor(readonly limit: number, readonly byteLimit: number) {}

  /** Stops recorded. */
  get length(): number {
    return this.pcs.length;
  }

  /** Why the run was cut off before it ended (its result is then unknown), or undefined. */
  get cutOff(): CutOff | undefined {
    return this.cut;
  }

  get truncated(): boolean {
    return this.cut !== undefined;
  }

  /** How the run ended (engine 'interp'): r0 or the error, and the input before and after. */
  get outcome(): RunOutcome {
    if (this.result === undefined) throw new Error('recording not finished');
    return this.result;
  }

  /** Bytes the recording holds: per-stop tables, registers, and the input's and stack's histories. */
  get bytes(): number {
    return this.pcs.bytes + this.frames.bytes + this.programIndex.bytes + this.regs.bytes + this.input.bytes + this.stack.bytes;
  }

  /** Where stop `k` is (cheap: for navigation). */
  place(k: number): StopPlace {
    return { program: this.names[this.programIndex.get(k)]!, pc: this.pcs.get(k), frame: this.frames.get(k) };
  }

  /** r0..r10 at stop `k`. */
  registers(k: number): bigint[] {
    const bytes = this.regs.at(k);
    return [...new BigUint64Array(bytes.buffer, bytes.byteOffset, REGISTERS)];
  }

  /** Stop `k` in full, memory rebuilt from the recorded changes. */
  snapshot(k: number): StopSnapshot {
    if (!Number.isInteger(k) || k < 0 || k >= this.length) throw new RangeError(`no stop ${k} (${this.length} recorded)`);
    const place = this.place(k);
    const shown = this.texts.get(`${this.programIndex.get(k)}:${place.pc}`)!;
    const registers = this.registers(k);
    return {
      ...place, text: shown.text, ...(shown.line === undefined ? {} : { line: shown.line }),
      registers, stack: this.stack.at(k), input: this.input.at(k),
    };
  }

  /** @internal recording: the place of the next stop (its registers, stack and input go to histories()). */
  add(program: string, pc: number, frame: number, describe: () => { text: string; line?: string }): void {
    let index = this.nameIndex.get(program);
    if (index === undefined) {
      index = this.names.push(program) - 1;
      this.nameIndex.set(program, index);
    }
    const key = `${index}:${pc}`;
    if (!this.texts.has(key)) this.texts.set(key, describe());
    this.pcs.push(pc);
    this.frames.push(frame);
    this.programIndex.push(index);
  }

  /** @internal recording */
  histories(): { input: ByteHistory; stack: ByteHistory; registers: ByteHistory } {
    return { input: this.input, stack: this.stack, registers: this.regs };
  }

  /** @internal recording */
  finish(outcome: RunOutcome, cut: CutOff | undefined): void {
    this.result = outcome;
    this.cut = cut;
  }
}

/**
 * What the instruction `insn` (run at the previous stop, with `register`
 * giving that stop's registers) may have written of the input, which lies at
 * [base, base + length): see the rules at the top. `returnsToLocalCall`: the
 * stop after it follows a local call in a caller's frame.
 */
function written(insn: Instruction | undefined, register: (n: number) => bigint, base: number, length: number, returnsToLocalCall: () => boolean): Written {
  if (insn === undefined) return 'all';
  switch (insn.spec.kind) {
    case 'st': case 'stx': case 'atomic': {
      const op = memoryOperand(insn)!;
      const address = BigInt.asUintN(64, register(op.base) + BigInt(op.off));
      const from = address - BigInt(base);
      if (from + BigInt(op.size) <= 0n || from >= BigInt(length)) return 'none';
      return { from: Math.max(0, Number(from)), to: Math.min(length, Number(from) + op.size) };
    }
    case 'call': case 'callx': case 'call_kfunc':
      return 'all';
    case 'exit':
      return returnsToLocalCall() ? 'none' : 'all';
    default:
      return 'none';
  }
}

/** Runs `name` under the debugger on the interpreter, recording every stop (within the limits). */
export function record(session: Session, name: string, kind: ContextKind, bytes: Uint8Array, options: RecordOptions = {}): Recording {
  const limit = options.limit ?? DEFAULT_STOP_LIMIT;
  const byteLimit = options.byteLimit ?? DEFAULT_BYTE_LIMIT;
  const compareLimit = options.compareLimit ?? DEFAULT_COMPARE_LIMIT;
  let compared = 0;
  const entry = session.program(name);
  const prepared = session.prepare(entry, kind, bytes);
  const rec = new Recording(limit, byteLimit);
  const { input, stack, registers } = rec.histories();
  /** The stop's registers, as bytes for the history; and the previous stop's, for its store's address. */
  let regs = new BigUint64Array(REGISTERS);
  let prevRegs = new BigUint64Array(REGISTERS);
  const engine: EngineName = 'interp';
  const instructionAt = (program: string, pc: number): Instruction | undefined => session.findProgram(program)?.prog.program.byPc[pc];
  let cut: CutOff | undefined;
  let r0: bigint | undefined;
  let error: ErrorView | undefined;
  /** The input's address for memory input: r1 at entry. */
  let memoryBase = 0;
  session.takePrintk();
  try {
    r0 = new Debugger(entry.prog).run(prepared.input, (stop) => {
      const k = rec.length;
      if (k >= limit) throw new LimitReached('stops');
      if (rec.bytes >= byteLimit) throw new LimitReached('bytes');
      const { program, pc, frame } = stop;
      const live = prepared.live();
      // What the previous instruction may have written of the input (`regs` still holds that stop's registers),
      // decided before this stop is recorded, so a limit reached here leaves every history the same length.
      let what: Written = 'all';
      if (k > 0) {
        const prev = rec.place(k - 1);
        const previousRegs = regs;
        what = written(instructionAt(prev.program, prev.pc), (n) => previousRegs[n]!, live.address ?? memoryBase, live.bytes.length, () => {
          const before = instructionAt(program, pc - 1);
          return frame === prev.frame - 1 && before?.spec.kind === 'call_local';
        });
        if (what === 'all') {
          compared += live.bytes.length;
          if (compared > compareLimit) throw new LimitReached('compare');
        }
      }
      rec.add(program, pc, frame, () => {
        const line = stop.line;
        return { text: stop.text, ...(line === undefined ? {} : { line: sourceLineText(line) }) };
      });
      [prevRegs, regs] = [regs, prevRegs];
      stop.registers().forEach((v, n) => { regs[n] = v; });
      registers.record(new Uint8Array(regs.buffer));
      if (k === 0) memoryBase = Number(regs[1]);
      stack.record(stop.stack());
      if (k === 0) {
        input.record(live.bytes);
        return 'step';
      }
      if (what === 'none') input.same();
      else if (what === 'all') input.record(live.bytes);
      else input.record(live.bytes, what.from, what.to);
      return 'step';
    }, { stopAtEntry: true, budget: options.budget ?? DEFAULT_BUDGET });
  } catch (e) {
    if (e instanceof LimitReached) cut = e.why;
    else error = errorView(e);
  }
  const after = prepared.bytes();
  prepared.release();
  const base = { engine, before: bytes, after, printk: session.takePrintk() };
  rec.finish(r0 !== undefined ? { ...base, ...session.verdictOf(entry, r0) } : error !== undefined ? { ...base, error } : base, cut);
  return rec;
}

/** A breakpoint: a pc in a program (the recording may pass through several programs by tail calls). */
export function breakpointKey(program: string, pc: number): string {
  return `${program}:${pc}`;
}

/** The stop after `at` that is at a breakpoint, or the last stop when none is. */
export function continueFrom(rec: Recording, at: number, breakpoints: ReadonlySet<string>): number {
  for (let i = at + 1; i < rec.length; i++) {
    const s = rec.place(i);
    if (breakpoints.has(breakpointKey(s.program, s.pc))) return i;
  }
  return Math.max(rec.length - 1, 0);
}

/** The stop before `at` that is at a breakpoint, or the first stop when none is. */
export function reverseContinueFrom(rec: Recording, at: number, breakpoints: ReadonlySet<string>): number {
  for (let i = at - 1; i >= 0; i--) {
    const s = rec.place(i);
    if (breakpoints.has(breakpointKey(s.program, s.pc))) return i;
  }
  return 0;
}

/** Step over: the next stop in the same function or a caller (a local call or a helper's callback runs through). */
export function stepOverFrom(rec: Recording, at: number): number {
  const frame = at < rec.length ? rec.place(at).frame : 1;
  for (let i = at + 1; i < rec.length; i++) if (rec.place(i).frame <= frame) return i;
  return Math.max(rec.length - 1, 0);
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
