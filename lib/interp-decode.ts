// The interpreter's decoded form of a program: per instruction, one small
// integer opcode (Op) and three int32 operands in an Int32Array, so the
// interpreter's loop switches on a dense integer and reads typed-array
// elements instead of walking Instruction objects and their OpSpecs.
//
// Decoding happens once per program (`prepare`); the Vm keeps the result
// with its LoadedProgram. Only forms with a fixed meaning are decoded into
// operands; the rare ones (atomics, legacy packet loads, kfunc calls, lddw
// forms that need a loader) decode to an Op that sends the interpreter to a
// slow path reading the original Instruction.
//
// What it does not do: validate (the Program has passed `validate`) or
// anything that depends on a run (memory, helpers, budget).

import { branchTarget, type AluOp, type Instruction, type JmpCond } from './isa.js';
import type { Program } from './program.js';
import { codeAddress } from './code-address.js';
import { byteOrderOf } from './ops.js';
import { TAIL_CALL_HELPER } from './tail-call.js';

/**
 * Interpreter opcodes. A decoded slot is four int32s [op, d, b, c]:
 *   d: the register written, or the base register of a store;
 *   b: the second operand: a register in _X forms, the imm in _K forms;
 *   c: an offset (memory), an absolute jump or call target, or a constant
 *      worked out at decode time (see each entry).
 * A register operand is stored as the index of its low half in the run's
 * workspace (see `regIndex`), so the interpreter uses it directly.
 *
 * The interpreter writes each case as a literal (`case 1 satisfies
 * Op.ADD64_X`): V8 compiles a switch to a jump table only when every label is
 * a number literal, and `satisfies` makes the compiler check each number
 * against its name. New opcodes go at the end.
 */
export enum Op {
  /** Starts no instruction (an lddw's second slot, one past the end). 0, so a fresh array holds only BAD_PC. */
  BAD_PC = 0,

  // ALU, 64-bit then 32-bit, each op with a register (X) and an immediate (K) source.
  ADD64_X = 1, ADD64_K = 2, SUB64_X = 3, SUB64_K = 4, MUL64_X = 5, MUL64_K = 6, DIV64_X = 7, DIV64_K = 8,
  SDIV64_X = 9, SDIV64_K = 10, MOD64_X = 11, MOD64_K = 12, SMOD64_X = 13, SMOD64_K = 14, OR64_X = 15, OR64_K = 16,
  AND64_X = 17, AND64_K = 18, XOR64_X = 19, XOR64_K = 20, LSH64_X = 21, LSH64_K = 22, RSH64_X = 23, RSH64_K = 24,
  ARSH64_X = 25, ARSH64_K = 26, MOV64_X = 27, MOV64_K = 28,
  ADD32_X = 29, ADD32_K = 30, SUB32_X = 31, SUB32_K = 32, MUL32_X = 33, MUL32_K = 34, DIV32_X = 35, DIV32_K = 36,
  SDIV32_X = 37, SDIV32_K = 38, MOD32_X = 39, MOD32_K = 40, SMOD32_X = 41, SMOD32_K = 42, OR32_X = 43, OR32_K = 44,
  AND32_X = 45, AND32_K = 46, XOR32_X = 47, XOR32_K = 48, LSH32_X = 49, LSH32_K = 50, RSH32_X = 51, RSH32_K = 52,
  ARSH32_X = 53, ARSH32_K = 54, MOV32_X = 55, MOV32_K = 56,
  /** movsx: b = src, c = 32 - bits (the shift that brings the sign bit to bit 31). */
  MOVSX64 = 57, MOVSX32 = 58,
  NEG64 = 59, NEG32 = 60,
  /** Byte order (le truncates, be and bswap swap then truncate). le64 changes nothing: NOP. */
  LE16 = 61, LE32 = 62, BE16 = 63, BE32 = 64, BE64 = 65, NOP = 66,
  /** lddw src 0 or 4: b = low 32 bits, c = high 32 bits of the value. */
  LDDW = 67,
  /** ja (off) and ja32 (imm): c = target. */
  JA = 68,
  // Conditional jumps, 64-bit then 32-bit, X and K: c = target.
  JEQ64_X = 69, JEQ64_K = 70, JNE64_X = 71, JNE64_K = 72, JGT64_X = 73, JGT64_K = 74, JGE64_X = 75, JGE64_K = 76,
  JLT64_X = 77, JLT64_K = 78, JLE64_X = 79, JLE64_K = 80, JSET64_X = 81, JSET64_K = 82, JSGT64_X = 83, JSGT64_K = 84,
  JSGE64_X = 85, JSGE64_K = 86, JSLT64_X = 87, JSLT64_K = 88, JSLE64_X = 89, JSLE64_K = 90,
  JEQ32_X = 91, JEQ32_K = 92, JNE32_X = 93, JNE32_K = 94, JGT32_X = 95, JGT32_K = 96, JGE32_X = 97, JGE32_K = 98,
  JLT32_X = 99, JLT32_K = 100, JLE32_X = 101, JLE32_K = 102, JSET32_X = 103, JSET32_K = 104, JSGT32_X = 105,
  JSGT32_K = 106, JSGE32_X = 107, JSGE32_K = 108, JSLT32_X = 109, JSLT32_K = 110, JSLE32_X = 111, JSLE32_K = 112,
  /** Loads: d = dst, b = base register, c = off. */
  LDXB = 113, LDXH = 114, LDXW = 115, LDXDW = 116, LDSXB = 117, LDSXH = 118, LDSXW = 119,
  /** Stores: d = base register, b = imm (ST) or src register (STX), c = off. */
  STB = 120, STH = 121, STW = 122, STDW = 123, STXB = 124, STXH = 125, STXW = 126, STXDW = 127,
  /** call helper: b = id. call local: c = target. callx: d = the register. */
  CALL = 128, CALL_LOCAL = 129, CALLX = 130, EXIT = 131,
  /** Slow paths that read the Instruction itself. */
  ATOMIC = 132, PACKET = 133, KFUNC = 134, LDDW_LOADER = 135,
  /** call 12 (bpf_tail_call), which the engine does itself (lib/tail-call.ts). */
  TAIL_CALL = 136,
}

/** Int32s per decoded slot. */
export const STRIDE = 4;

/**
 * Where register rN lives in a run's workspace: the decoded code, then r0..r10
 * as (low, high) int32 pairs. `base` is the code's length.
 */
export function regIndex(base: number, n: number): number {
  return base + 2 * n;
}

/** Int32s the registers take after the code: 11 registers of two halves. */
export const REGISTER_INTS = 22;

/** A program decoded for the interpreter; build it with `prepare`. */
export class PreparedProgram {
  readonly program: Program;
  /** (slotCount + 1) slots of [op, d, b, c]; the extra slot catches a run falling off the end. */
  readonly code: Int32Array;
  /** Entry pcs of the BPF functions (callx and callback targets). */
  readonly functions: ReadonlySet<number>;
  /**
   * Workspaces of finished executions, kept for the next one (interpreter.ts
   * owns their shape): a run, a tail call or a bpf_loop callback then costs
   * no copy of the code. Executions that overlap (a callback, a chain inside
   * a subprogram) each take their own.
   */
  readonly spares: object[] = [];
  constructor(program: Program, code: Int32Array) {
    this.program = program;
    this.code = code;
    this.functions = new Set(program.functions);
  }
}

type Forms = readonly [x: Op, k: Op];

const ALU64: Readonly<Record<AluOp, Forms>> = {
  add: [Op.ADD64_X, Op.ADD64_K], sub: [Op.SUB64_X, Op.SUB64_K], mul: [Op.MUL64_X, Op.MUL64_K],
  div: [Op.DIV64_X, Op.DIV64_K], sdiv: [Op.SDIV64_X, Op.SDIV64_K], mod: [Op.MOD64_X, Op.MOD64_K],
  smod: [Op.SMOD64_X, Op.SMOD64_K], or: [Op.OR64_X, Op.OR64_K], and: [Op.AND64_X, Op.AND64_K],
  xor: [Op.XOR64_X, Op.XOR64_K], lsh: [Op.LSH64_X, Op.LSH64_K], rsh: [Op.RSH64_X, Op.RSH64_K],
  arsh: [Op.ARSH64_X, Op.ARSH64_K], mov: [Op.MOV64_X, Op.MOV64_K],
};

const ALU32: Readonly<Record<AluOp, Forms>> = {
  add: [Op.ADD32_X, Op.ADD32_K], sub: [Op.SUB32_X, Op.SUB32_K], mul: [Op.MUL32_X, Op.MUL32_K],
  div: [Op.DIV32_X, Op.DIV32_K], sdiv: [Op.SDIV32_X, Op.SDIV32_K], mod: [Op.MOD32_X, Op.MOD32_K],
  smod: [Op.SMOD32_X, Op.SMOD32_K], or: [Op.OR32_X, Op.OR32_K], and: [Op.AND32_X, Op.AND32_K],
  xor: [Op.XOR32_X, Op.XOR32_K], lsh: [Op.LSH32_X, Op.LSH32_K], rsh: [Op.RSH32_X, Op.RSH32_K],
  arsh: [Op.ARSH32_X, Op.ARSH32_K], mov: [Op.MOV32_X, Op.MOV32_K],
};

const JMP64: Readonly<Record<JmpCond, Forms>> = {
  jeq: [Op.JEQ64_X, Op.JEQ64_K], jne: [Op.JNE64_X, Op.JNE64_K], jgt: [Op.JGT64_X, Op.JGT64_K],
  jge: [Op.JGE64_X, Op.JGE64_K], jlt: [Op.JLT64_X, Op.JLT64_K], jle: [Op.JLE64_X, Op.JLE64_K],
  jset: [Op.JSET64_X, Op.JSET64_K], jsgt: [Op.JSGT64_X, Op.JSGT64_K], jsge: [Op.JSGE64_X, Op.JSGE64_K],
  jslt: [Op.JSLT64_X, Op.JSLT64_K], jsle: [Op.JSLE64_X, Op.JSLE64_K],
};

const JMP32: Readonly<Record<JmpCond, Forms>> = {
  jeq: [Op.JEQ32_X, Op.JEQ32_K], jne: [Op.JNE32_X, Op.JNE32_K], jgt: [Op.JGT32_X, Op.JGT32_K],
  jge: [Op.JGE32_X, Op.JGE32_K], jlt: [Op.JLT32_X, Op.JLT32_K], jle: [Op.JLE32_X, Op.JLE32_K],
  jset: [Op.JSET32_X, Op.JSET32_K], jsgt: [Op.JSGT32_X, Op.JSGT32_K], jsge: [Op.JSGE32_X, Op.JSGE32_K],
  jslt: [Op.JSLT32_X, Op.JSLT32_K], jsle: [Op.JSLE32_X, Op.JSLE32_K],
};

/** By access width in bits. */
const LDX = { 8: Op.LDXB, 16: Op.LDXH, 32: Op.LDXW, 64: Op.LDXDW } as const;
const LDSX: Readonly<Record<number, Op>> = { 8: Op.LDSXB, 16: Op.LDSXH, 32: Op.LDSXW };
const ST = { 8: Op.STB, 16: Op.STH, 32: Op.STW, 64: Op.STDW } as const;
const STX = { 8: Op.STXB, 16: Op.STXH, 32: Op.STXW, 64: Op.STXDW } as const;

/** [op, d, b, c] of one instruction; `reg(n)` is where register n lives. */
function decode(insn: Instruction, reg: (n: number) => number): readonly [Op, number, number, number] {
  const { spec, off, imm } = insn;
  const dst = reg(insn.dst);
  const src = reg(insn.src);
  // The second operand: a register for X forms, the imm for K forms.
  const form = spec.source === 'reg' ? 0 : 1;
  const operand = form === 0 ? src : imm;
  switch (spec.kind) {
    case 'alu':
      return [(spec.width === 64 ? ALU64 : ALU32)[spec.alu!][form], dst, operand, 0];
    case 'movsx':
      return [spec.width === 64 ? Op.MOVSX64 : Op.MOVSX32, dst, src, 32 - off];
    case 'neg':
      return [spec.width === 64 ? Op.NEG64 : Op.NEG32, dst, 0, 0];
    case 'end':
    case 'bswap':
      // bswap and be are the same swap on our little-endian model.
      if (byteOrderOf(spec) === 'le') return [spec.width === 16 ? Op.LE16 : spec.width === 32 ? Op.LE32 : Op.NOP, dst, 0, 0];
      return [spec.width === 16 ? Op.BE16 : spec.width === 32 ? Op.BE32 : Op.BE64, dst, 0, 0];
    case 'lddw':
      // src 0: the 64-bit immediate; src 4: the code address of the function at pc + 1 + imm.
      if (spec.lddwSrc === 0) return [Op.LDDW, dst, imm, insn.imm2];
      if (spec.lddwSrc === 4) return [Op.LDDW, dst, codeAddress(insn.pc + 1 + imm) | 0, 0];
      return [Op.LDDW_LOADER, 0, 0, 0];
    case 'ja':
      return [Op.JA, 0, 0, branchTarget(insn)];
    case 'jcond':
      return [(spec.width === 64 ? JMP64 : JMP32)[spec.jmp!][form], dst, operand, branchTarget(insn)];
    case 'ldx':
      return [LDX[spec.width], dst, src, off];
    case 'ldsx':
      return [LDSX[spec.width]!, dst, src, off];
    case 'st':
      return [ST[spec.width], dst, imm, off];
    case 'stx':
      return [STX[spec.width], dst, src, off];
    case 'call':
      return [imm === TAIL_CALL_HELPER ? Op.TAIL_CALL : Op.CALL, 0, imm, 0];
    case 'call_local':
      return [Op.CALL_LOCAL, 0, 0, branchTarget(insn)];
    case 'callx':
      return [Op.CALLX, dst, 0, 0];
    case 'exit':
      return [Op.EXIT, 0, 0, 0];
    case 'atomic':
      return [Op.ATOMIC, 0, 0, 0];
    case 'ldabs':
    case 'ldind':
      return [Op.PACKET, 0, 0, 0];
    case 'call_kfunc':
      return [Op.KFUNC, 0, 0, 0];
  }
}

/** Decodes `program` for `interpret`. Linear in its length; do it once per program. */
export function prepare(program: Program): PreparedProgram {
  const code = new Int32Array((program.slotCount + 1) * STRIDE);
  const reg = (n: number) => regIndex(code.length, n);
  for (const insn of program.insns) {
    const [op, d, b, c] = decode(insn, reg);
    const at = insn.pc * STRIDE;
    code[at] = op;
    code[at + 1] = d;
    code[at + 2] = b;
    code[at + 3] = c;
  }
  return new PreparedProgram(program, code);
}
