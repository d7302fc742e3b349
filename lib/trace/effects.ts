// What one instruction does to registers and memory, for traces: the single
// statement of the trace semantics both engines follow (the interpreter's
// hook and the JIT's trace code both ask here), derived from the ISA table.
//
// Rules (values are read after the instruction):
// - ALU64/ALU32 (incl. mov, neg, end/bswap, movsx), LDX/LDSX and lddw (every
//   src form): dst.
// - LD_ABS/LD_IND: r0 (none when the load ends the run: nothing follows).
// - Atomics: the fetch forms (incl. xchg) write src, cmpxchg writes r0, the
//   others write no register. All three report their memory operand.
// - call helper / callx to a helper: r0 (none when unwind-on-success ends the
//   run). A tail call (helper 12, or callx to 12) writes r0 only when it
//   fails; the engine reports that value itself, since only it knows.
//   call local / callx to a function, exit, jumps, ST/STX: no register.
//
// What it does not do: decide at run time (callx's target, a tail call's
// outcome); `writtenRegister` says which register the instruction writes
// *when it writes one*.

import type { Instruction } from '../isa.js';
import { TAIL_CALL_HELPER } from '../tail-call.js';

/** A memory operand: the address is u64(register `base` + `off`). */
export interface MemoryOperand {
  readonly base: number;
  readonly off: number;
  readonly size: 1 | 2 | 4 | 8;
  readonly kind: 'load' | 'store' | 'atomic';
}

const BYTES = { 8: 1, 16: 2, 32: 4, 64: 8 } as const;

/**
 * The register `insn` writes when it writes one (see the rules above):
 * for call and callx r0, which the engine reports only when the call does
 * write it (a helper's result, a failed tail call). Undefined: never.
 */
export function writtenRegister(insn: Instruction): number | undefined {
  const { spec } = insn;
  switch (spec.kind) {
    case 'alu': case 'movsx': case 'neg': case 'end': case 'bswap':
    case 'lddw': case 'ldx': case 'ldsx':
      return insn.dst;
    case 'ldabs': case 'ldind':
      return 0;
    case 'atomic':
      if (spec.atomic === 'cmpxchg') return 0;
      return spec.fetch === true ? insn.src : undefined;
    case 'call': case 'callx':
      return 0;
    default:
      return undefined;
  }
}

/** Whether `insn` is a tail call by its encoding (call 12); callx is one when its target value is 12. */
export function isTailCall(insn: Instruction): boolean {
  return insn.spec.kind === 'call' && insn.imm === TAIL_CALL_HELPER;
}

/**
 * The memory `insn` itself accesses: loads (ldx, ldsx) through src, stores
 * (st, stx) and atomics through dst. LD_ABS/LD_IND (packet loads) and what
 * helpers touch are not reported.
 */
export function memoryOperand(insn: Instruction): MemoryOperand | undefined {
  const { spec } = insn;
  switch (spec.kind) {
    case 'ldx': case 'ldsx':
      return { base: insn.src, off: insn.off, size: BYTES[spec.width], kind: 'load' };
    case 'st': case 'stx':
      return { base: insn.dst, off: insn.off, size: BYTES[spec.width], kind: 'store' };
    case 'atomic':
      return { base: insn.dst, off: insn.off, size: BYTES[spec.width], kind: 'atomic' };
    default:
      return undefined;
  }
}
