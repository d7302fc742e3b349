// Trace events as text (`ebpf-js run --trace`) and as JSON (`--json`): one
// line per executed instruction, its pc, indented by frame, its disassembly,
// what it wrote (`r2 = 0x2a`, `store u32 [0x1000008] = 0x2a`) and, when the
// C line changes, that line beside it. The same events give the same text on
// either engine.
//
// What it does not do: collect events (the Tracer) or run anything.

import { UsageError } from '../errors.js';
import { formatInstruction } from '../disasm.js';
import type { Program } from '../program.js';
import type { SourceLine } from '../vm-options.js';
import type { TraceAccess, TraceEvent } from './types.js';
import { sourceLineText } from '../source-line.js';

/** Finds a traced program by its name (TraceEvent.program) for its instructions' text. */
export type ProgramLookup = (name: string) => Program | undefined;

const TYPES = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' } as Record<number, string>;
/** Column where the effects start (pc, indentation and instruction padded to it), and where a C line starts. */
const EFFECTS_AT = 40;
const LINE_AT = 84;

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** C0 and C1 control characters but the line feeds format() itself puts between lines. */
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g;

/** The disassembly of the instruction at `pc` (`?` when the program or pc is unknown). */
export function instructionText(program: Program | undefined, pc: number): string {
  const insn = program?.byPc[pc];
  return insn === undefined ? '?' : formatInstruction(insn, pc, insn.spec.kind === 'lddw' ? insn.imm2 : undefined);
}

/** `load u32 [0x1000000] = 0x2a`. */
export function accessText(access: TraceAccess): string {
  return `${access.kind} ${TYPES[access.size] ?? `${access.size}B`} [${hex(access.address)}] = ${hex(access.value)}`;
}

/** What the instruction did: registers written, then memory touched, comma-separated. */
export function effectsText(event: TraceEvent): string {
  return [...event.registers.map((r) => `r${r.reg} = ${hex(r.value)}`), ...event.memory.map(accessText)].join(', ');
}

function sameLine(a: SourceLine | undefined, b: SourceLine | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.file === b.file && a.lineNum === b.lineNum);
}

/**
 * Formats a run's events in order (so it remembers the last program and C
 * line: a line is shown when it changes, a program's name when a tail call
 * switches to another).
 */
export class TraceText {
  private readonly programs: ProgramLookup;
  private program: string | undefined;
  private line: SourceLine | undefined;

  constructor(programs: ProgramLookup) {
    this.programs = programs;
  }

  /** The text of one event: one line, preceded by `-> NAME` when the program changed. */
  format(event: TraceEvent): string {
    const lines: string[] = [];
    if (this.program !== undefined && this.program !== event.program) lines.push(`-> ${event.program}`);
    const changedProgram = this.program !== event.program;
    this.program = event.program;
    const pc = `${String(event.pc).padStart(5)}: `;
    const text = pc + '  '.repeat(Math.max(0, event.frame - 1)) + instructionText(this.programs(event.program), event.pc);
    const effects = effectsText(event);
    let out = effects === '' ? text : `${text.padEnd(EFFECTS_AT - 2)}  ${effects}`;
    if (event.line !== undefined && (changedProgram || !sameLine(event.line, this.line))) {
      out = `${out.padEnd(LINE_AT - 2)}  // ${sourceLineText(event.line)}`;
    }
    this.line = event.line;
    lines.push(out.trimEnd());
    // Names and C lines come from the object file: its control characters must not reach a terminal as escapes.
    return lines.join('\n').replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  }
}

/** An event as JSON: bigints as hex strings, the instruction's text added. */
export function eventJson(event: TraceEvent, programs: ProgramLookup): Record<string, unknown> {
  const json: Record<string, unknown> = {
    program: event.program,
    pc: event.pc,
    frame: event.frame,
    insn: instructionText(programs(event.program), event.pc),
    registers: event.registers.map((r) => ({ reg: r.reg, value: hex(r.value) })),
    memory: event.memory.map((m) => ({ kind: m.kind, address: hex(m.address), size: m.size, value: hex(m.value) })),
  };
  if (event.line !== undefined) json.line = { file: event.line.file, line: event.line.lineNum, text: event.line.line.trim() };
  return json;
}

/** Characters of trace text written at once (one write per line would dominate a long trace). */
const BATCH_CHARS = 64 * 1024;

/**
 * Where `run --trace` sends events: lines of text to `out`, in batches,
 * flushed when the run ends however it ends (so a run that faults shows how
 * it got there). Under --json the events stream the same way, one per line,
 * as the "trace" array that opens the JSON document; `finish` closes the
 * array and adds the document's other fields (JSON allows the line breaks),
 * so a trace of millions of instructions is never held in memory.
 */
export class TraceWriter {
  readonly callback: (event: TraceEvent) => void;
  private readonly json: boolean;
  private readonly out: (s: string) => void;
  private readonly programs: ProgramLookup;
  private batch: string[] = [];
  private chars = 0;
  /** Under --json: whether the document's opening (`{"trace":[`) has been written. */
  private opened = false;
  /** The text of the run being traced (undefined under --json). */
  private text: TraceText | undefined;

  constructor(json: boolean, programs: ProgramLookup, out: (s: string) => void) {
    this.json = json;
    this.out = out;
    this.programs = programs;
    this.text = json ? undefined : new TraceText(programs);
    this.callback = (event) => {
      this.add(this.text === undefined ? JSON.stringify(eventJson(event, programs)) : this.text.format(event));
    };
  }

  /**
   * Text mode: a line of its own among the trace's (a packet's heading, its
   * verdict), in order; after a heading (`newRun`), the next run's trace
   * starts afresh (its first C line and program are shown again).
   */
  line(text: string, newRun = false): void {
    if (this.json) throw new UsageError('a JSON trace holds events only');
    this.add(text);
    if (newRun) this.text = new TraceText(this.programs);
  }

  private add(line: string): void {
    this.batch.push(line);
    this.chars += line.length + 1;
    if (this.chars >= BATCH_CHARS) this.flush();
  }

  /**
   * Runs a traced run and writes out what remains of its trace. When it
   * fails under --json, ends the JSON document with the error before the
   * error goes on to be reported.
   */
  run(run: () => bigint): bigint {
    try {
      return run();
    } catch (e) {
      if (this.json) this.finish({ error: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      this.flush();
    }
  }

  /** Under --json, after the run: closes the "trace" array and ends the document with `fields`. */
  finish(fields: Record<string, unknown>): void {
    this.flush();
    const rest = JSON.stringify(fields).slice(1);
    this.out(`${this.opened ? '' : '{"trace":['}]${rest === '}' ? '' : ','}${rest}`);
  }

  /** Writes out what is batched. */
  flush(): void {
    if (this.batch.length === 0) return;
    const lines = this.batch;
    this.batch = [];
    this.chars = 0;
    if (!this.json) {
      this.out(lines.join('\n'));
      return;
    }
    // Array elements: the first batch opens the document, later ones follow a comma.
    this.out(`${this.opened ? ',' : '{"trace":[\n'}${lines.join(',\n')}`);
    this.opened = true;
  }
}
