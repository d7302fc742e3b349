// The error of classic BPF input: text that does not parse (named by its
// 1-based line), a program Linux would refuse, or one we cannot translate
// (named by the classic pc).

import { atPc, EbpfError } from '../errors.js';

export type CbpfWhere = { readonly line: number } | { readonly pc: number; readonly insn?: string };

export class CbpfError extends EbpfError {
  /** 1-based line of the text (parse errors), else undefined. */
  readonly line: number | undefined;
  /** Classic instruction index (check and translation errors), else undefined. */
  readonly pc: number | undefined;
  constructor(message: string, where?: CbpfWhere) {
    const text =
      where === undefined ? message
      : 'line' in where ? `${message} at line ${where.line}`
      : atPc(message, where.pc, where.insn);
    super('CBPF', text);
    this.line = where !== undefined && 'line' in where ? where.line : undefined;
    this.pc = where !== undefined && 'pc' in where ? where.pc : undefined;
  }
}
