// Classic BPF as text, in the two forms tcpdump prints:
//
//   tcpdump -ddd EXPR          tcpdump -dd EXPR
//   4                          { 0x28, 0, 0, 0x0000000c },
//   40 0 0 12                  { 0x15, 0, 1, 0x00000800 },
//   21 0 1 2048                { 0x6, 0, 0, 0x00040000 },
//   6 0 0 262144               { 0x6, 0, 0, 0x00000000 },
//   6 0 0 0
//
// -ddd: a count line, then one "code jt jf k" line of decimal numbers per
// instruction; the count must match. -dd: one C initializer per line
// (numbers decimal or 0x hex, the trailing comma optional on the last).
// Blank lines and surrounding whitespace are ignored. The form is told by
// the first non-blank line. Anything else is a CbpfError naming its line.
//
// What it does not do: check the program (checkCbpf does), or accept the
// full C declaration around -dd's lines, or tcpdump -d's assembly.

import { CbpfError } from './error.js';
import { CBPF_MAX_INSNS, type CbpfInsn } from './opcodes.js';

const DDD_LINE = /^(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/;
const NUM = '(0[xX][0-9a-fA-F]+|\\d+)';
const DD_LINE = new RegExp(`^\\{\\s*${NUM}\\s*,\\s*${NUM}\\s*,\\s*${NUM}\\s*,\\s*${NUM}\\s*\\}\\s*(,?)$`);
/** Field names and their largest values (u16 code, u8 jt/jf, u32 k). */
const FIELDS = [['code', 0xffff], ['jt', 0xff], ['jf', 0xff], ['k', 0xffffffff]] as const;

interface Line {
  readonly text: string;
  /** 1-based. */
  readonly number: number;
}

/** Parses `tcpdump -ddd` or `tcpdump -dd` output into instructions. */
export function parseCbpf(text: string): CbpfInsn[] {
  if (typeof text !== 'string') throw new CbpfError('classic BPF text must be a string');
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const t = raw.trim();
    if (t !== '') lines.push({ text: t, number: i + 1 });
  });
  const first = lines[0];
  if (first === undefined) throw new CbpfError('no classic BPF instructions (empty text)', { line: 1 });
  // No program has more (one -ddd count line aside): stop before parsing a huge text.
  const extra = lines[CBPF_MAX_INSNS + (first.text.startsWith('{') ? 0 : 1)];
  if (extra !== undefined) throw new CbpfError(`more than ${CBPF_MAX_INSNS} instructions (Linux's BPF_MAXINSNS)`, { line: extra.number });
  return first.text.startsWith('{') ? parseDd(lines) : parseDdd(lines);
}

function parseDdd(lines: readonly Line[]): CbpfInsn[] {
  const [countLine, ...body] = lines;
  if (!/^\d+$/.test(countLine!.text)) {
    throw new CbpfError(`expected the instruction count (tcpdump -ddd) or a "{ code, jt, jf, k }," line (tcpdump -dd), got '${clip(countLine!.text)}'`, { line: countLine!.number });
  }
  const count = Number(countLine!.text);
  if (count > CBPF_MAX_INSNS) throw new CbpfError(`the count line says ${countLine!.text} instructions (at most ${CBPF_MAX_INSNS})`, { line: countLine!.number });
  const insns = body.map((line) => {
    const m = DDD_LINE.exec(line.text);
    if (m === null) throw new CbpfError(`expected "code jt jf k" (four decimal numbers), got '${clip(line.text)}'`, { line: line.number });
    return insnOf(m.slice(1, 5), line);
  });
  if (insns.length !== count) {
    const where = { line: (body[body.length - 1] ?? countLine!).number };
    throw new CbpfError(`the count line says ${count} instructions but ${insns.length} follow`, where);
  }
  return insns;
}

function parseDd(lines: readonly Line[]): CbpfInsn[] {
  return lines.map((line, i) => {
    const m = DD_LINE.exec(line.text);
    if (m === null) throw new CbpfError(`expected "{ code, jt, jf, k },", got '${clip(line.text)}'`, { line: line.number });
    // A missing comma between two initializers would not compile as C either.
    if (m[5] === '' && i !== lines.length - 1) throw new CbpfError('missing "," after the instruction', { line: line.number });
    return insnOf(m.slice(1, 5), line);
  });
}

function insnOf(fields: readonly string[], line: Line): CbpfInsn {
  const values = FIELDS.map(([name, max], i) => {
    const s = fields[i]!;
    const v = /^0[xX]/.test(s) ? parseInt(s.slice(2), 16) : Number(s);
    // Long digit strings are caught here too: they parse to huge numbers.
    if (!Number.isSafeInteger(v) || v > max) throw new CbpfError(`${name} ${s} does not fit (largest ${max})`, { line: line.number });
    return v;
  });
  return { code: values[0]!, jt: values[1]!, jf: values[2]!, k: values[3]! };
}

/** At most 60 characters of user text in a message. */
function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
