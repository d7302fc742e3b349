// The code a traced compile (CompileOptions.trace) adds: before every
// instruction a call telling the run's tracer (RunState.tracer, a
// TraceSink) which pc is about to run, with the base register's value for
// memory instructions, and after every instruction that writes a register
// a call with that register's new value. The interpreter reports the same
// things at the same points (lib/trace/interp-hook.ts), so a trace is the
// same on both engines.
//
// The calls go through runtime functions (runtime.ts) bound once at the
// top of the module, and only a traced compile binds or calls them: code
// compiled without `trace` is byte for byte what it was before tracing
// existed, and pays nothing.
//
// Which register an instruction writes is lib/trace/effects.ts's rule,
// except for calls, whose writes depend on what happens at run time (a
// tail call writes r0 only when it fails, callx writes it only when it
// names a helper, the unwind helper's 0 ends the run before r0 is
// reported): lower-call.ts emits those where they happen.
//
// Nothing is reordered or left out for a trace: every instruction the
// JIT compiles, including those whose lowering is empty (`mov r1, r1`)
// and the jumps and exits structure.ts turns into control flow, gets its
// call, placed in the instruction's own position in its block (emit.ts).
// The register analysis's folding stays on: it changes how a value is
// computed, never whether the register's locals hold it (lowering writes a
// known constant to them too), and the reports read the locals. Pieces of
// split functions are planned smaller (emit.ts), as the calls add bytecode.

import type { Instruction } from '../lib/isa.js';
import { memoryOperand, writtenRegister } from '../lib/trace/effects.js';
import { call, constDecl, expr, id, member, num, type Expr, type Stmt } from './ast.js';
import { hi, lo } from './context.js';

/** The runtime bindings of traced code (runtime.ts implements them). */
export const TRACE_RT = {
  /** TI(pc): tracer.insn(pc), an instruction without a memory operand is about to run. */
  insn: 'TI',
  /** TB(pc, lo, hi): tracer.insn(pc, u64(hi:lo)), a memory instruction whose base register (or a callx whose target) holds hi:lo. */
  base: 'TB',
  /** TW(lo, hi): tracer.wrote(u64(hi:lo)), the register the last instruction wrote now holds hi:lo. */
  wrote: 'TW',
  /** TE(frame): tracer.enter(program, frame), a callback starts (the runner reports the other executions). */
  enter: 'TE',
  /** TL(aborted): tracer.leave(aborted), the callback ended, normally (false) or by throwing (true). */
  leave: 'TL',
} as const;

/** `const TI = rt.TI; ...`: the module's trace bindings (traced compiles only). */
export function traceBindings(): Stmt[] {
  return Object.values(TRACE_RT).map((name) => constDecl(name, member('rt', name)));
}

/** A register's halves as expressions: r10 is a plain number with no high local (its high half is 0). */
function halves(reg: number): [lo: Expr, hi: Expr] {
  return reg === 10 ? [id(lo(10)), num(0)] : [id(lo(reg)), id(hi(reg))];
}

/**
 * The statement before `insn` runs: TI(pc), or TB(pc, value) for a load,
 * store or atomic (its base register) and for callx (its target, which
 * tells the Tracer whether r0 comes back from a helper, as the
 * interpreter's hook does).
 */
export function traceBefore(insn: Instruction): Stmt {
  const reg = insn.spec.kind === 'callx' ? insn.dst : memoryOperand(insn)?.base;
  if (reg === undefined) return expr(call(TRACE_RT.insn, [num(insn.pc)]));
  return expr(call(TRACE_RT.base, [num(insn.pc), ...halves(reg)]));
}

/** `TW(rN, rNh)`: the value register `reg` holds now. */
export function traceWrote(reg: number): Stmt {
  return expr(call(TRACE_RT.wrote, halves(reg)));
}

/**
 * The statements after `insn` ran (emit.ts): TW of the register it wrote.
 * Calls report their own (lower-call.ts), and an instruction that ends the
 * run (an LD_ABS outside the packet) has returned before getting here.
 */
export function traceAfter(insn: Instruction): Stmt[] {
  const k = insn.spec.kind;
  if (k === 'call' || k === 'call_local' || k === 'callx') return [];
  const reg = writtenRegister(insn);
  return reg === undefined ? [] : [traceWrote(reg)];
}
