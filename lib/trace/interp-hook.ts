// The interpreter's side of tracing: an InstructionHook (called before every
// instruction with the live workspace) that reports to a Tracer what the JIT's
// trace code reports from its locals. Before instruction n it hands over the
// register instruction n - 1 wrote (read now, the value after it), then
// reports instruction n with its memory operand's base value (callx: its
// target, so the Tracer knows whether r0 comes back from a helper).
//
// What it does not do: tail calls' r0 (the interpreter reports a failed one
// itself, lib/interp-slow.ts), or anything with frames (the Tracer works them
// out from the instructions).

import { regIndex } from '../interp-decode.js';
import type { CallStack } from '../interp-slow.js';
import type { Program } from '../program.js';
import { memoryOperand } from './effects.js';
import type { Tracer } from './tracer.js';
import type { InstructionHook } from './types.js';

/** Register n as a u64, from its int32 halves in the workspace. */
function readReg(reg: Int32Array, base: number, n: number): bigint {
  const at = regIndex(base, n);
  return (BigInt(reg[at + 1]! >>> 0) << 32n) | BigInt(reg[at]! >>> 0);
}

export class InterpreterTrace implements InstructionHook {
  private readonly tracer: Tracer;

  constructor(tracer: Tracer) {
    this.tracer = tracer;
  }

  enter(program: Program, frame: number): void {
    this.tracer.enter(program, frame);
  }

  step(pc: number, reg: Int32Array, base: number, _frames: CallStack): void {
    const written = this.tracer.pendingRegister();
    if (written !== undefined) this.tracer.wrote(readReg(reg, base, written));
    const insn = this.tracer.instructionAt(pc);
    if (insn === undefined) return this.tracer.insn(pc);
    const operand = insn.spec.kind === 'callx' ? insn.dst : memoryOperand(insn)?.base;
    this.tracer.insn(pc, operand === undefined ? undefined : readReg(reg, base, operand));
  }

  leave(aborted?: boolean): void {
    this.tracer.leave(aborted);
  }
}
