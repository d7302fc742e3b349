// Source maps (v3) for generated JavaScript: from a position in the printed
// code back to the BPF instruction it was lowered from, and through BTF line
// info to the C line when the program was loaded with sourceLines.
//
// The printer (print.ts) calls `mark` as each statement starts; the emitter
// (emit.ts) says which pc each statement came from (`pcs`). Only statements
// are mapped (and the conditions of `if`/`while`, which carry a branch's pc),
// not expressions inside them: a debugger steps by statement anyway.
//
// Sources: `NAME.bpf`, a virtual file whose line N + 1 is the disassembly of
// pc N (given in full as sourcesContent), and each C file named by
// sourceLines. A statement maps to its C line when its pc has one, else to
// its BPF line. C files' sourcesContent holds the lines the line info
// carries (others empty), or null when a line number is above 65,536.
//
// Everything taken from the program (file names, source text) goes into the
// map through JSON.stringify, and the map into a comment only as base64, so
// no text can end the comment or inject code.

import { formatInstruction } from '../lib/disasm.js';
import type { Program } from '../lib/program.js';
import type { SourceLine } from '../lib/vm-options.js';

/** Highest C line number for which sourcesContent is built (a hostile lineNum must not allocate a huge array). */
const MAX_CONTENT_LINES = 1 << 16;

/** Where printing is, and what has been mapped so far. */
export class MapRecorder {
  /** The pc each marked node was lowered from (statements, and if/while conditions). */
  readonly pcs = new Map<object, number>();
  /** Flat triples: generated line (0-based), generated column, pc (-1: no source). */
  readonly segments: number[] = [];
  line = 0;
  column = 0;

  /** Advances the position over printed text. */
  advance(code: string): void {
    const last = code.lastIndexOf('\n');
    if (last < 0) {
      this.column += code.length;
      return;
    }
    for (let i = code.indexOf('\n'); i >= 0; i = code.indexOf('\n', i + 1)) this.line++;
    // Columns count UTF-16 code units, as JS strings (and source maps) do.
    this.column = code.length - last - 1;
  }

  /** How many statements with a pc enclose the one being printed. */
  #inside = 0;

  /**
   * Records the current position for `node`, a statement about to be
   * printed: its pc if it (or, for an `if` or `while`, its condition) has
   * one. The printer calls `leave` with the result once the statement is
   * printed.
   *
   * A statement of no instruction that no such statement encloses
   * (declarations, the module's head and exports, a split function's
   * dispatch) is marked as having no source, else a debugger would take the
   * nearest mapping before it, some unrelated pc; one inside a lowered
   * statement (the fault call in a bounds check) belongs to that statement's
   * pc. Blocks and labels get no mark: their contents are marked.
   */
  mark(node: object): boolean {
    let pc = this.pcs.get(node);
    if (pc === undefined) {
      // A condition, possibly negated by structure.ts (`!(test)`).
      const test = (node as { test?: { argument?: object } | null }).test;
      if (test != null) pc = this.pcs.get(test) ?? (test.argument === undefined ? undefined : this.pcs.get(test.argument));
    }
    const { segments } = this;
    if (pc !== undefined) {
      segments.push(this.line, this.column, pc);
      this.#inside++;
      return true;
    }
    if (this.#inside > 0) return false;
    const type = (node as { type?: string }).type;
    if (type === 'BlockStatement' || type === 'LabeledStatement') return false;
    if (segments.length === 0 || segments[segments.length - 1] !== -1) segments.push(this.line, this.column, -1);
    return false;
  }

  /** After printing a statement `mark` was given: `marked` is what it returned. */
  leave(marked: boolean): void {
    if (marked) this.#inside--;
  }
}

/** A Source Map v3 object. */
export interface SourceMapV3 {
  readonly version: 3;
  readonly file: string;
  readonly sources: string[];
  readonly sourcesContent: (string | null)[];
  readonly names: string[];
  readonly mappings: string;
}

/** Line and column numbers from line info, kept where VLQ arithmetic (32-bit) is exact. */
function clamp(n: number): number {
  return Math.min(Math.max(0, n), 0x3fffffff);
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** One signed number in base64 VLQ (sign in the lowest bit, 5 bits per digit, continuation bit 32). */
export function vlq(value: number): string {
  let v = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += BASE64[digit]!;
  } while (v > 0);
  return out;
}

/** The virtual BPF source: line N + 1 is pc N's disassembly (the second slot of an lddw gets a note). */
export function bpfListing(program: Program): string {
  const lines: string[] = [];
  for (const insn of program.insns) {
    while (lines.length < insn.pc) lines.push(`; second slot of pc ${lines.length - 1}`);
    lines.push(formatInstruction(insn, insn.pc, insn.imm2));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The map of code printed with `recorder` marking it. `lineOffset`: lines
 * before the printed text in the script the map describes (2 for the body of
 * `new Function`, which V8 prefixes with `function anonymous(rt\n) {\n`).
 */
export function buildSourceMap(
  recorder: MapRecorder, program: Program, name: string,
  sourceLines: readonly (SourceLine | undefined)[] | undefined, lineOffset: number,
): SourceMapV3 {
  const sources = [`${safeName(name)}.bpf`];
  const sourcesContent: (string | null)[] = [bpfListing(program)];
  const fileIndex = new Map<string, number>();
  const cLines = new Map<number, Map<number, string>>();
  const sourceOf = (pc: number): { source: number; line: number; column: number } => {
    const l = sourceLines?.[pc];
    if (l === undefined) return { source: 0, line: pc, column: 0 };
    let index = fileIndex.get(l.file);
    if (index === undefined) {
      index = sources.length;
      fileIndex.set(l.file, index);
      sources.push(l.file);
      sourcesContent.push(null);
      cLines.set(index, new Map());
    }
    return { source: index, line: clamp(l.lineNum - 1), column: clamp(l.col - 1) };
  };
  const { segments } = recorder;
  let mappings = ';'.repeat(lineOffset);
  let genLine = 0;
  let prevCol = 0;
  let prevSource = 0;
  let prevLine = 0;
  let prevOrigCol = 0;
  let first = true;
  for (let i = 0; i < segments.length; i += 3) {
    const line = segments[i]!;
    const col = segments[i + 1]!;
    if (line > genLine) {
      mappings += ';'.repeat(line - genLine);
      genLine = line;
      prevCol = 0;
      first = true;
    }
    const pc = segments[i + 2]!;
    if (!first) mappings += ',';
    first = false;
    if (pc < 0) {
      // A segment of one field: a generated column with no source.
      mappings += vlq(col - prevCol);
      prevCol = col;
      continue;
    }
    const s = sourceOf(pc);
    mappings += vlq(col - prevCol) + vlq(s.source - prevSource) + vlq(s.line - prevLine) + vlq(s.column - prevOrigCol);
    prevCol = col;
    prevSource = s.source;
    prevLine = s.line;
    prevOrigCol = s.column;
  }
  // Every line the line info gives for a file the map names, mapped or not (an instruction may lower to no statement).
  if (sourceLines !== undefined) {
    for (const l of sourceLines) {
      const index = l === undefined ? undefined : fileIndex.get(l.file);
      if (index !== undefined) cLines.get(index)!.set(l!.lineNum, l!.line);
    }
  }
  for (const [index, lines] of cLines) {
    // (A loop, not Math.max(...keys): a program's worth of lines would overflow the argument list.)
    let max = 0;
    for (const n of lines.keys()) if (n > max) max = n;
    if (max < 1 || max > MAX_CONTENT_LINES) continue;
    const text: string[] = new Array<string>(max).fill('');
    // A line's text is one line: embedded line breaks would shift every later line.
    for (const [n, t] of lines) if (n >= 1) text[n - 1] = t.replace(/\r?\n$/, '').replace(/[\r\n\u2028\u2029]/g, ' ');
    sourcesContent[index] = `${text.join('\n')}\n`;
  }
  return { version: 3, file: `${safeName(name)}.js`, sources, sourcesContent, names: [], mappings };
}

/** A name safe in a URL path and a comment: anything but letters, digits, `_`, `-` and `.` becomes `_`. */
export function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100);
  return s === '' ? 'prog' : s;
}

/** Base64 of a string's UTF-8 bytes, without Buffer (Deno, browsers). */
function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += BASE64[n >> 18]! + BASE64[(n >> 12) & 63]! + BASE64[(n >> 6) & 63]! + BASE64[n & 63]!;
  }
  if (i < bytes.length) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += BASE64[n >> 18]! + BASE64[(n >> 12) & 63]! + (i + 1 < bytes.length ? BASE64[(n >> 6) & 63]! : '=') + '=';
  }
  return out;
}

/** The comments that name generated code and attach its map (appended to the code, each on its own line). */
export function sourceMapComments(name: string, map: SourceMapV3): string {
  return `\n//# sourceURL=ebpf-js/${safeName(name)}.js\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${base64Utf8(JSON.stringify(map))}\n`;
}
