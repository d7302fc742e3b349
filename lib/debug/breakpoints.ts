// The breakpoints of one Debugger: where they are (pcs of the debugged
// program, resolved once when set) and a per-pc table the debugger's hook
// reads before every instruction, so checking costs one array read.
//
// A line breakpoint stands for the first pc of each run of consecutive
// instructions attributed to that line: clang spreads a C line over several
// places (a loop's condition is at its top and again at its bottom), and
// stopping at every instruction of a run would stop once per instruction
// instead of once per time the line is reached.
//
// What it does not do: stop anything (lib/debug/hook.ts does), or know about
// other programs (a tail call's target has pcs of its own).

import { UsageError } from '../errors.js';
import type { Program } from '../program.js';
import type { SourceLine } from '../vm-options.js';

/** Where a breakpoint stops: a pc, or a C line (optionally of one file). */
export type BreakpointLocation = number | { readonly line: number; readonly file?: string };

/** One breakpoint, as `Debugger.breakpoints` lists it. */
export interface Breakpoint {
  readonly id: number;
  /** The pcs it stops at (one for a pc breakpoint; one per run of the line's pcs for a line breakpoint). */
  readonly pcs: readonly number[];
  /** The C line asked for, for a line breakpoint. */
  readonly line?: number;
  readonly file?: string;
}

export class Breakpoints {
  /** Per pc: how many breakpoints stop there (several may share a pc). Read by the hook. */
  readonly at: Uint8Array;
  private readonly list = new Map<number, Breakpoint>();
  private nextId = 1;

  constructor(private readonly program: Program, private readonly sourceLines: readonly (SourceLine | undefined)[] | undefined) {
    this.at = new Uint8Array(program.slotCount);
  }

  /** Adds a breakpoint; returns its id. UsageError when `where` names no instruction. */
  add(where: BreakpointLocation): number {
    const bp = typeof where === 'number' ? { pcs: [this.checkPc(where)] } : this.lineBreakpoint(where);
    // A count per pc tops out at 255 breakpoints on one pc, far beyond any use; refuse rather than wrap.
    if (bp.pcs.some((pc) => this.at[pc] === 255)) throw new UsageError('too many breakpoints at one pc');
    const id = this.nextId++;
    this.list.set(id, { id, ...bp });
    for (const pc of bp.pcs) this.at[pc]!++;
    return id;
  }

  /** Removes breakpoint `id`; UsageError when there is none. */
  clear(id: number): void {
    const bp = this.list.get(id);
    if (bp === undefined) throw new UsageError(`no breakpoint ${String(id)}`);
    this.list.delete(id);
    for (const pc of bp.pcs) this.at[pc]!--;
  }

  all(): Breakpoint[] {
    return [...this.list.values()];
  }

  private checkPc(pc: number): number {
    if (!Number.isInteger(pc) || pc < 0 || pc >= this.program.slotCount) {
      throw new UsageError(`breakpoint pc ${String(pc)} is outside the program (0..${this.program.slotCount - 1})`);
    }
    if (this.program.byPc[pc] === undefined) throw new UsageError(`breakpoint pc ${pc} is the second slot of an lddw, not an instruction`);
    return pc;
  }

  private lineBreakpoint(where: unknown): { pcs: number[]; line: number; file?: string } {
    if (typeof where !== 'object' || where === null) throw new UsageError('breakAt() takes a pc or { line, file? }');
    const { line, file } = where as { line?: unknown; file?: unknown };
    if (!Number.isInteger(line) || (line as number) < 1) throw new UsageError('breakpoint line must be a positive integer');
    if (file !== undefined && (typeof file !== 'string' || file === '')) throw new UsageError('breakpoint file must be a non-empty string');
    if (this.sourceLines === undefined) throw new UsageError('the program has no source lines (load it from an object with BTF line info, or with the sourceLines option)');
    const pcs = linePcs(this.program, this.sourceLines, line as number, file);
    const place = file === undefined ? `line ${String(line)}` : `${file}:${String(line)}`;
    if (pcs.length === 0) throw new UsageError(`no instruction is on ${place}`);
    return file === undefined ? { pcs, line: line as number } : { pcs, line: line as number, file };
  }
}

/**
 * A source file named `file`: the same path, or one ending in `/file` (the
 * object records the path clang was given, often with directories).
 */
function sameFile(recorded: string, file: string): boolean {
  return recorded === file || recorded.endsWith(`/${file}`);
}

/** The first pc of each maximal run of consecutive instructions on `line` (of `file`, when given). */
export function linePcs(program: Program, sourceLines: readonly (SourceLine | undefined)[], line: number, file?: string): number[] {
  const pcs: number[] = [];
  // The file of the run the previous instruction belongs to (undefined: not on the line).
  let run: string | undefined;
  for (const insn of program.insns) {
    const l = sourceLines[insn.pc];
    const on = l !== undefined && l.lineNum === line && (file === undefined || sameFile(l.file, file));
    if (on && run !== l.file) pcs.push(insn.pc);
    run = on ? l.file : undefined;
  }
  return pcs;
}
