// The one error hierarchy of ebpf-js. Every failure a user can cause (bad
// bytes, bad assembly, a bad memory access at run time) is one of these, with
// the position where it went wrong as typed fields and in the message.
// Nothing from user input is thrown as a bare TypeError/RangeError.

/** Base class: `code` is a stable, machine-readable identifier. */
export class EbpfError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Formats "<msg> at pc N: <insn>", the one place that shape is built. */
export function atPc(message: string, pc: number, insn?: string): string {
  return insn === undefined ? `${message} at pc ${pc}` : `${message} at pc ${pc}: ${insn}`;
}

/** A program rejected at load time. `insn` is the disassembled instruction. */
export class ValidationError extends EbpfError {
  readonly pc: number;
  readonly insn: string;
  constructor(code: string, message: string, pc: number, insn: string) {
    super(code, atPc(message, pc, insn === '' ? undefined : insn));
    this.pc = pc;
    this.insn = insn;
  }
}

/** Assembly text that does not parse. Line and column are 1-based. */
export class AssemblerError extends EbpfError {
  readonly line: number;
  readonly column: number;
  constructor(message: string, line: number, column: number) {
    super('ASSEMBLER', `${message} at line ${line}, column ${column}`);
    this.line = line;
    this.column = column;
  }
}

/** A malformed ELF object. */
export class ElfError extends EbpfError {
  readonly section: string;
  readonly offset: number;
  constructor(message: string, section: string, offset: number) {
    super('ELF', `${message} (section ${section}, offset ${offset})`);
    this.section = section;
    this.offset = offset;
  }
}

export type AccessKind = 'load' | 'store';

/** A load or store outside every mapped region, or a store to a read-only one. */
export class MemoryAccessError extends EbpfError {
  readonly pc: number;
  readonly address: bigint;
  readonly size: number;
  readonly kind: AccessKind;
  constructor(pc: number, address: bigint, size: number, kind: AccessKind, reason = 'out of bounds') {
    super(
      'MEMORY_ACCESS',
      atPc(`invalid memory ${kind} of ${size} bytes at 0x${address.toString(16)} (${reason})`, pc),
    );
    this.pc = pc;
    this.address = address;
    this.size = size;
    this.kind = kind;
  }
}

/** The instruction budget of a run ran out (a runaway loop). */
export class BudgetExceededError extends EbpfError {
  readonly pc: number;
  readonly budget: number;
  constructor(pc: number, budget: number) {
    super('BUDGET_EXCEEDED', atPc(`instruction budget of ${budget} exceeded`, pc));
    this.pc = pc;
    this.budget = budget;
  }
}

/** A helper failed, or was called with arguments it cannot accept. */
export class HelperError extends EbpfError {
  readonly pc: number;
  readonly helper: number;
  constructor(message: string, pc: number, helper: number) {
    super('HELPER', atPc(`helper ${helper}: ${message}`, pc));
    this.pc = pc;
    this.helper = helper;
  }
}

/**
 * Any other run-time failure of a validated program: call depth exceeded,
 * a callx target that is neither a helper nor a function.
 */
export class ExecutionError extends EbpfError {
  readonly pc: number;
  constructor(code: string, message: string, pc: number) {
    super(code, atPc(message, pc));
    this.pc = pc;
  }
}

/** The JIT produced code the JS engine rejected (a bug in the JIT). */
export class JitError extends EbpfError {
  readonly source: string;
  constructor(message: string, source: string) {
    super('JIT', message);
    this.source = source;
  }
}

/** Options or API arguments that make no sense. */
export class UsageError extends EbpfError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
