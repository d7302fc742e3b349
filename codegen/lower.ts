// Instruction lowering, dispatched by kind to one builder per operation
// family. Control-flow terminators (ja, conditional jumps, exit) are not
// lowered here: structure.ts places them, asking lower-jmp for conditions
// and lower-call for exits.

import type { Instruction } from '../lib/isa.js';
import type { Stmt } from './ast.js';
import type { LowerContext } from './context.js';
import { lowerAlu } from './lower-alu.js';
import { lowerCall } from './lower-call.js';
import { lowerMem } from './lower-mem.js';

/** Statements for one straight-line instruction (anything but ja/jcond/exit). */
export function lowerInsn(ctx: LowerContext, insn: Instruction): Stmt[] {
  switch (insn.spec.kind) {
    case 'alu': case 'movsx': case 'neg': case 'end': case 'bswap': case 'lddw':
      return lowerAlu(ctx, insn);
    case 'ldx': case 'ldsx': case 'st': case 'stx': case 'atomic': case 'ldabs': case 'ldind':
      return lowerMem(ctx, insn);
    case 'call': case 'call_local': case 'callx':
      return lowerCall(ctx, insn);
    case 'ja': case 'jcond': case 'exit':
      throw new Error(`internal: terminator ${insn.spec.mnemonic} at pc ${insn.pc} reached lowerInsn`);
    case 'call_kfunc':
      throw new Error(`internal: kfunc call at pc ${insn.pc} passed validation`);
  }
}
