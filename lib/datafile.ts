// Parser for test cases in the bpf_conformance `.data` format: sections that
// start with `-- NAME` lines (asm, raw, mem, result, error, c, ...). Lines
// before the first section and `#` lines outside asm are comments. Unknown
// sections are kept by name and otherwise ignored, as the suite's runner does.

import { EbpfError } from './errors.js';

export interface DataCase {
  /** Assembly text, when the case has an `-- asm` section. */
  asm?: string;
  /** Line number (1-based) in the file where the asm section's text starts. */
  asmLine?: number;
  /** Program bytes from a `-- raw` section. */
  raw?: Uint8Array;
  /** Input memory from `-- mem` (absent: r1 = r2 = 0). */
  mem?: Uint8Array;
  /** Expected r0 (u64) from `-- result`. */
  result?: bigint;
  /** Expected failure: a pattern for the message (may be empty). */
  error?: string;
  /** Every section's raw text by name, including ones not interpreted here. */
  sections: Map<string, string>;
}

export class DataFileError extends EbpfError {
  readonly line: number;
  constructor(message: string, line: number) {
    super('DATA_FILE', `${message} at line ${line}`);
    this.line = line;
  }
}

/** Hex bytes separated by whitespace ("00 0a ff"), as in `-- mem`. */
export function parseHexBytes(text: string, line = 1): Uint8Array {
  const tokens = text.split(/\s+/).filter((t) => t !== '');
  const out = new Uint8Array(tokens.length);
  tokens.forEach((t, i) => {
    if (!/^(0x)?[0-9a-fA-F]{1,2}$/.test(t)) throw new DataFileError(`bad hex byte '${t}'`, line);
    out[i] = parseInt(t.replace(/^0x/, ''), 16);
  });
  return out;
}

/**
 * `-- raw` holds either one 64-bit word per line (`0x...`, the instruction's
 * 8 bytes read as a little-endian u64) or lines of hex bytes.
 */
function parseRaw(text: string, firstLine: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  text.split('\n').forEach((lineText, i) => {
    const t = lineText.replace(/#.*/, '').trim();
    if (t === '') return;
    const lineNo = firstLine + i;
    if (/^0x[0-9a-fA-F]{1,16}$/.test(t) || (/^[0-9a-fA-F]{16}$/.test(t))) {
      const word = BigInt(t.startsWith('0x') ? t : `0x${t}`);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, word, true);
      chunks.push(b);
    } else {
      chunks.push(parseHexBytes(t, lineNo));
    }
  });
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function parseResult(text: string, line: number): bigint {
  const t = text.replace(/#.*/g, '').trim();
  if (!/^(0x)?[0-9a-fA-F]+$/.test(t)) throw new DataFileError(`bad result '${t}'`, line);
  const v = BigInt(t.startsWith('0x') ? t : `0x${t}`);
  if (v > 0xffffffffffffffffn) throw new DataFileError(`result '${t}' wider than 64 bits`, line);
  return v;
}

export function parseDataFile(text: string): DataCase {
  const sections = new Map<string, string>();
  const starts = new Map<string, number>();
  let current: string | undefined;
  let body: string[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const flush = () => {
    if (current !== undefined) sections.set(current, body.join('\n'));
  };
  lines.forEach((line, i) => {
    const m = /^--\s*(.*?)\s*$/.exec(line);
    if (m !== null) {
      flush();
      current = m[1]!.toLowerCase();
      starts.set(current, i + 2);
      body = [];
    } else if (current !== undefined) {
      body.push(line);
    }
  });
  flush();

  const c: DataCase = { sections };
  const get = (name: string) => sections.get(name);
  const asm = get('asm');
  if (asm !== undefined) {
    c.asm = asm;
    c.asmLine = starts.get('asm')!;
  }
  const raw = get('raw');
  if (raw !== undefined) c.raw = parseRaw(raw, starts.get('raw')!);
  const mem = get('mem');
  if (mem !== undefined) c.mem = parseHexBytes(mem.replace(/#.*/g, ''), starts.get('mem')!);
  const result = get('result');
  if (result !== undefined) c.result = parseResult(result, starts.get('result')!);
  const error = get('error');
  if (error !== undefined) c.error = error.trim();
  return c;
}

/** Does an error message satisfy a case's `-- error` pattern? */
export function errorMatches(pattern: string, message: string): boolean {
  if (pattern === '') return true;
  if (message.toLowerCase().includes(pattern.toLowerCase())) return true;
  try {
    return new RegExp(pattern, 'i').test(message);
  } catch {
    return false;
  }
}
