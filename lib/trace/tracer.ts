// The Tracer: turns what an engine reports (TraceSink: enter, insn, wrote,
// leave) into one TraceEvent per executed instruction. Both engines report
// to the same Tracer, so the rules that make their traces identical live
// here, once: an instruction's event completes at the next report of its
// execution (the next insn, or leave); its registers are only those whose
// value the engine handed over with wrote(); its memory value is read here,
// from Memory, when it completes (the bytes after the instruction).
//
// Frames are worked out from the instructions seen, never asked of the
// engine: enter() gives an execution's first frame, and each completed
// instruction moves the frame for the next one (a local call +1, an exit
// -1, a tail call that succeeded inside a subprogram -1: its chain ran in
// place and returned to the caller).
//
// Nothing here throws at an engine over an odd sequence (an insn with no
// execution, a leave too many): such reports are ignored, because a trace
// must never change how a run ends. The one error that does reach the run
// is the trace callback's own, and after it the Tracer stays silent.
//
// What it does not do: look at registers (engines report values), or decide
// what an instruction writes (effects.ts says).

import { codeTarget } from '../code-address.js';
import type { Instruction } from '../isa.js';
import type { Memory } from '../memory.js';
import type { Program } from '../program.js';
import { TAIL_CALL_HELPER } from '../tail-call.js';
import type { SourceLine } from '../vm-options.js';
import { isTailCall, memoryOperand, writtenRegister } from './effects.js';
import type { TraceAccess, TraceCallback, TraceEvent, TraceRegister, TraceSink } from './types.js';

/** What the Tracer needs to know of a program: its name and C lines (a LoadedProgram). */
export interface TracedProgram {
  readonly name: string;
  readonly sourceLines?: readonly (SourceLine | undefined)[] | undefined;
}

/** The instruction an execution is running, reported by insn() and not yet complete. */
interface Pending {
  readonly insn: Instruction;
  readonly frame: number;
  /** insn()'s base: a memory operand's base register value, or callx's target value. */
  readonly base: bigint | undefined;
  /** The value wrote() handed over, if any. */
  value: bigint | undefined;
  /** Whether an execution ran inside this instruction (a callback, a tail-call chain). */
  nested: boolean;
}

/** One execution: a run's program, a tail call's target or a helper's callback. */
interface Execution {
  readonly program: Program;
  readonly described: TracedProgram;
  /** The frame the next instruction runs at. */
  frame: number;
  pending: Pending | undefined;
}

const U64 = (1n << 64n) - 1n;

export class Tracer implements TraceSink {
  private readonly memory: Memory;
  private readonly describe: (p: Program) => TracedProgram;
  private readonly onEvent: TraceCallback;
  private readonly stack: Execution[] = [];
  /**
   * What the callback threw, once it has: the run ends with that error (the
   * Vm rethrows it as it was, even where a helper running a callback wrapped
   * it in a HelperError), and nothing more is delivered.
   */
  thrown: { readonly error: unknown } | undefined = undefined;
  /** Set while the run unwinds (a fault, or the run ended early): leaves give no events. Cleared when execution goes on. */
  private unwinding = false;

  constructor(memory: Memory, describe: (p: Program) => TracedProgram, onEvent: TraceCallback) {
    this.memory = memory;
    this.describe = describe;
    this.onEvent = onEvent;
  }

  enter(program: Program, frame: number): void {
    this.unwinding = false;
    const outer = this.stack[this.stack.length - 1];
    if (outer?.pending !== undefined) outer.pending.nested = true;
    let described: TracedProgram;
    try {
      described = this.describe(program);
    } catch {
      // A program the Vm cannot name (not loaded through it): trace it anyway.
      described = { name: 'prog' };
    }
    this.stack.push({ program, described, frame, pending: undefined });
  }

  insn(pc: number, base?: bigint): void {
    // The callback threw and something swallowed it: the run still ends (CallbackFailure).
    if (this.thrown !== undefined) throw this.thrown.error;
    const exec = this.stack[this.stack.length - 1];
    if (exec === undefined) return;
    this.unwinding = false;
    if (exec.pending !== undefined) this.complete(exec, true);
    const insn = exec.program.byPc[pc];
    if (insn === undefined) return;
    exec.pending = { insn, frame: exec.frame, base, value: undefined, nested: false };
  }

  wrote(value: bigint): void {
    const pending = this.stack[this.stack.length - 1]?.pending;
    if (pending === undefined) return;
    pending.value = value & U64;
    this.unwinding = false;
  }

  /**
   * The execution on top ends. Its pending instruction gets its event when it
   * is the one that ended the execution normally (exit, a tail call, a call
   * that unwound the run, a packet load out of bounds). `aborted`: the
   * execution ends by throwing, so the pending instruction did not complete
   * (it faulted, or a call it made did). Undefined (an engine that does not
   * say): an instruction that cannot end an execution, or one whose callee
   * failed, did not complete. Once the run is ending (a fault, or an
   * instruction that ends the whole run), the executions it unwinds through
   * give their pending instructions (the calls running them) no event.
   */
  leave(aborted?: boolean): void {
    const exec = this.stack.pop();
    if (exec === undefined) return;
    const pending = exec.pending;
    if (pending === undefined || aborted === true || this.unwinding || (aborted === undefined && !canEnd(pending.insn))) {
      // No event; the calls this execution ran inside end the same way (a normal end always has a pending instruction).
      if (aborted !== false || pending !== undefined) this.unwinding = true;
      return;
    }
    this.complete(exec, false);
    if (endsRun(pending, exec.program)) this.unwinding = true;
  }

  /**
   * The register the pending instruction wrote, if it writes one whose value
   * has not arrived: what the interpreter's hook reads from its workspace
   * before the next instruction. Tail calls report their own (failure) value.
   */
  pendingRegister(): number | undefined {
    const pending = this.stack[this.stack.length - 1]?.pending;
    if (pending === undefined || pending.value !== undefined) return undefined;
    const { insn } = pending;
    if (isTailCall(insn)) return undefined;
    if (insn.spec.kind === 'callx' && callxKind(pending, this.stack[this.stack.length - 1]!.program) !== 'helper') return undefined;
    return writtenRegister(insn);
  }

  /** The instruction at `pc` of the running program (for the hook to find its operands). */
  instructionAt(pc: number): Instruction | undefined {
    return this.stack[this.stack.length - 1]?.program.byPc[pc];
  }

  /**
   * Delivers the pending instruction's event; `continues`: the execution goes
   * on with another instruction, whose frame this one decides.
   */
  private complete(exec: Execution, continues: boolean): void {
    const pending = exec.pending!;
    exec.pending = undefined;
    if (continues) exec.frame = nextFrame(pending, exec.program);
    if (this.thrown !== undefined) return;
    const event = this.event(exec, pending);
    try {
      this.onEvent(event);
    } catch (e) {
      this.thrown = { error: e };
      throw e;
    }
  }

  private event(exec: Execution, pending: Pending): TraceEvent {
    const { insn } = pending;
    const registers: TraceRegister[] = [];
    const reg = writtenRegister(insn);
    if (reg !== undefined && pending.value !== undefined) registers.push({ reg, value: pending.value });
    const memory: TraceAccess[] = [];
    const operand = memoryOperand(insn);
    if (operand !== undefined && pending.base !== undefined) {
      const address = (pending.base + BigInt(operand.off)) & U64;
      const value = this.read(address, operand.size, insn.pc);
      if (value !== undefined) memory.push({ kind: operand.kind, address, size: operand.size, value });
    }
    const line = exec.described.sourceLines?.[insn.pc];
    const event: TraceEvent = { program: exec.described.name, pc: insn.pc, frame: pending.frame, registers, memory };
    return line === undefined ? event : { ...event, line };
  }

  /** The bytes at `address` now; the instruction's own access succeeded, so this cannot fault (undefined if it somehow does). */
  private read(address: bigint, size: 1 | 2 | 4 | 8, pc: number): bigint | undefined {
    try {
      return this.memory.load(address, size, pc);
    } catch {
      return undefined;
    }
  }
}

type CallxKind = 'local' | 'helper' | 'tail' | 'unknown';

/** What a callx called, from its target value when the engine gave it. */
function callxKind(pending: Pending, program: Program): CallxKind {
  const target = pending.base;
  if (target === undefined) return 'unknown';
  if (target === BigInt(TAIL_CALL_HELPER)) return 'tail';
  const pc = codeTarget(target);
  return pc !== undefined && program.functions.includes(pc) ? 'local' : 'helper';
}

/** The frame of the instruction after `pending` in the same execution. */
function nextFrame(pending: Pending, program: Program): number {
  const { insn, frame } = pending;
  switch (insn.spec.kind) {
    case 'call_local':
      return frame + 1;
    case 'exit':
      // An exit that ends the execution is followed by leave, not here.
      return frame - 1;
    case 'call':
      // A tail call that succeeded and was followed in this execution ran in
      // a subprogram: its chain ran in place and the subprogram returned.
      return isTailCall(insn) && pending.value === undefined ? frame - 1 : frame;
    case 'callx': {
      let kind = callxKind(pending, program);
      // Without the target: a helper (or a failed tail call) hands r0 over;
      // a tail call that succeeded ran a chain inside; a local call neither.
      if (kind === 'unknown') kind = pending.value !== undefined ? 'helper' : pending.nested ? 'tail' : 'local';
      if (kind === 'local') return frame + 1;
      if (kind === 'tail' && pending.value === undefined) return frame - 1;
      return frame;
    }
    default:
      return frame;
  }
}

/**
 * Whether the completed `pending`, the last instruction of its execution,
 * ended the whole run: a helper call that returned no r0 (unwind-on-success)
 * or a packet load that wrote no r0 (out of bounds). A tail call that ended
 * its execution goes on in its target.
 */
function endsRun(pending: Pending, program: Program): boolean {
  if (pending.value !== undefined) return false;
  switch (pending.insn.spec.kind) {
    case 'call': return !isTailCall(pending.insn);
    case 'callx': return callxKind(pending, program) === 'helper';
    case 'ldabs': case 'ldind': return true;
    default: return false;
  }
}

/** Whether `insn` can be the last instruction of an execution that ends normally. */
function canEnd(insn: Instruction): boolean {
  switch (insn.spec.kind) {
    case 'exit': case 'call': case 'callx': case 'ldabs': case 'ldind':
      return true;
    default:
      return false;
  }
}
