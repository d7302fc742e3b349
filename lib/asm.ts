// The assembler: text in the bpf_conformance / uBPF syntax to instruction
// slots. Which mnemonics exist and how their operands map onto slot fields
// comes from the OPCODES table through `syntaxOf`, which the disassembler
// shares, so the two cannot drift apart. This module only encodes: it does
// not check that jumps land inside the program or that registers are
// writable (the validator does).
//
// Syntax summary (one instruction per line, `#` starts a comment):
//   label:                      labels, also `label: insn` on one line
//   add %r1, 5 / add32 %r1, %r2 / neg %r1 / movsx864 %r0, %r1 / be16 %r1
//   ja label / ja +3 / ja32 label / jeq %r1, 5, label / jne32 %r1, %r2, -1
//   call 5 / call map_lookup_elem (a helper by name: standard, or the caller's resolver) / call local f / call kfunc 7 / call %r2 (= callx %r2) / exit
//   lddw %r0, 0x1122334455667788
//   lddw %r1, map_fd 3 | map_value 3, 16 | btf_var 7 | func label | map_idx 0
//        | map_idx_value 0, 8   (lddw pseudo sources 1..6; the optional
//        second number is the second slot's imm)
//   ldxw %r0, [%r1+4] / ldxsb ... / stw [%r10-8], 5 / stxdw [%r10-8], %r1
//   lock add [%r10-8], %r1 / lock fetch or32 ... / lock xchg / lock cmpxchg
//   ldabsw 12 / ldindh %r1, 4
//   .insn opcode=0xff dst=1 src=0 off=0 imm=0   (one raw slot, any fields)
// The label `exit`, unless defined, names the first `exit` instruction (as in
// the conformance suite's own assembler).

import { AssemblerError } from './errors.js';
import { helperIdByName } from './helpers/index.js';
import { LDDW_FORMS, OPCODES, encodeSlots, type OpSpec, type Slot } from './isa.js';

// ---------------------------------------------------------------------------
// Syntax shared with the disassembler.

/**
 * What one operand means:
 * - dst / src: a register stored in that field;
 * - imm: a 32-bit immediate;
 * - memDst / memSrc: `[%rN+off]`, the register in dst / src, the offset in off;
 * - offTarget / immTarget: a label or signed offset stored in off / imm;
 * - imm64: lddw's 64-bit value; pseudo: lddw's `form N` (src 1..6);
 * - imm2: the second slot's imm of an lddw pseudo form.
 */
export type Role =
  | 'dst' | 'src' | 'imm' | 'memDst' | 'memSrc' | 'offTarget' | 'immTarget'
  | 'imm64' | 'pseudo' | 'imm2';

export interface Syntax {
  /** Mnemonic as written, including `lock` / `lock fetch` for atomics. */
  mnemonic: string;
  roles: readonly Role[];
  /** Operands after this many may be left out (only imm2 is optional). */
  minOperands: number;
  /**
   * A word that starts operand `keywordAt` (`local` in `call local f`, the
   * lddw form name). The first is what the disassembler prints.
   */
  keywords?: readonly string[];
  keywordAt?: number;
  /** The keyword may be left out (`call 5` = `call helper 5`). */
  keywordOptional?: boolean;
}

/** The assembly syntax of one OpSpec. */
export function syntaxOf(spec: OpSpec): Syntax {
  const plain = (roles: Role[]): Syntax => ({ mnemonic: spec.mnemonic, roles, minOperands: roles.length });
  switch (spec.kind) {
    case 'alu':
      return plain(['dst', spec.source === 'reg' ? 'src' : 'imm']);
    case 'movsx':
      return plain(['dst', 'src']);
    case 'neg': case 'end': case 'bswap': case 'callx':
      return plain(['dst']);
    case 'ja':
      // gotol keeps its offset in imm: the 16-bit off cannot reach far enough.
      return plain([spec.width === 32 ? 'immTarget' : 'offTarget']);
    case 'jcond':
      return plain(['dst', spec.source === 'reg' ? 'src' : 'imm', 'offTarget']);
    case 'call':
      return { ...plain(['imm']), keywords: ['helper'], keywordAt: 0, keywordOptional: true };
    case 'call_local':
      return { ...plain(['immTarget']), keywords: ['local'], keywordAt: 0 };
    case 'call_kfunc':
      // `runtime` is the conformance suite's word for the same encoding.
      return { ...plain(['imm']), keywords: ['kfunc', 'runtime'], keywordAt: 0 };
    case 'exit':
      return plain([]);
    case 'lddw': {
      const src = spec.lddwSrc ?? 0;
      if (src === 0) return plain(['dst', 'imm64']);
      return { mnemonic: 'lddw', roles: ['dst', 'pseudo', 'imm2'], minOperands: 2, keywords: [LDDW_FORMS[src] ?? ''], keywordAt: 1 };
    }
    case 'ldabs':
      return plain(['imm']);
    case 'ldind':
      return plain(['src', 'imm']);
    case 'ldx': case 'ldsx':
      return plain(['dst', 'memSrc']);
    case 'st':
      return plain(['memDst', 'imm']);
    case 'stx':
      return plain(['memDst', 'src']);
    case 'atomic':
      return { ...plain(['memDst', 'src']), mnemonic: 'lock ' + spec.mnemonic };
  }
}

/** lddw forms whose second number is always printed (it is an offset). */
export const LDDW_FORMS_WITH_OFFSET: ReadonlySet<number> = new Set([2, 6]);

// ---------------------------------------------------------------------------
// Tables derived once from OPCODES (never mutated after construction).

interface Candidate {
  spec: OpSpec;
  syntax: Syntax;
}

/** Other spellings accepted for a mnemonic. */
const ALIASES: Readonly<Record<string, string>> = {
  swap16: 'bswap16', swap32: 'bswap32', swap64: 'bswap64',
  // `call %r2` is how the conformance suite writes callx.
  call: 'callx',
};

const BY_MNEMONIC: ReadonlyMap<string, readonly Candidate[]> = (() => {
  const m = new Map<string, Candidate[]>();
  const add = (name: string, c: Candidate): void => {
    const list = m.get(name) ?? [];
    list.push(c);
    m.set(name, list);
  };
  for (const spec of OPCODES) {
    const c = { spec, syntax: syntaxOf(spec) };
    add(c.syntax.mnemonic, c);
  }
  for (const [alias, target] of Object.entries(ALIASES)) {
    for (const c of m.get(target) ?? []) add(alias, c);
  }
  return m;
})();

const LABEL_RE = /^[A-Za-z_.$][A-Za-z0-9_.$]*$/;
const NUMBER_RE = /^([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)$/;
const REGISTER_RE = /^%?r([0-9]+)$/;

// ---------------------------------------------------------------------------
// Numbers. Ranges: decimal values are signed; hex values are raw bits of the
// field (so 0xffffffff is -1 in a 32-bit field), and `-0x10` is -16.

interface Num {
  value: bigint;
  hex: boolean;
}

function parseNum(text: string): Num | undefined {
  const m = NUMBER_RE.exec(text);
  if (m === null) return undefined;
  const magnitude = BigInt(m[2]!);
  return { value: m[1] === '-' ? -magnitude : magnitude, hex: /^0[xX]/.test(m[2]!) };
}

/** Fits a signed field of `bits`, or (hex, non-negative) its raw bits. */
function fitField(n: Num, bits: number): bigint | undefined {
  const min = -(1n << BigInt(bits - 1));
  const maxSigned = (1n << BigInt(bits - 1)) - 1n;
  const max = n.hex ? (1n << BigInt(bits)) - 1n : maxSigned;
  if (n.value < min || n.value > max) return undefined;
  return BigInt.asIntN(bits, n.value);
}

// ---------------------------------------------------------------------------
// Lines and operands.

/** A piece of source text and the 1-based column where it starts. */
interface Tok {
  text: string;
  col: number;
}

interface Fixup {
  slot: number;
  field: 'off' | 'imm';
  label: Tok;
  line: number;
}

/** Options of assembleSlots. */
export interface AssembleOptions {
  /**
   * The helper id of a name in `call NAME`, or undefined for an unknown name.
   * Default: the standard names (helperIdByName). A Vm passes its own
   * helper names first, then the standard ones.
   */
  resolveHelper?: (name: string) => number | undefined;
}

/** Everything assembling one program accumulates; local to one call. */
interface State {
  slots: Slot[];
  resolveHelper: (name: string) => number | undefined;
  labels: Map<string, { pc: number; line: number }>;
  fixups: Fixup[];
  firstExit: number | undefined;
}

function fail(message: string, line: number, col: number): never {
  throw new AssemblerError(message, line, col);
}

/** Trims `text` (found at column `col`), keeping track of the column. */
function trimTok(text: string, col: number): Tok {
  const lead = text.length - text.trimStart().length;
  return { text: text.trim(), col: col + lead };
}

/** Splits on the first run of whitespace: the word and the rest. */
function firstWord(t: Tok): { word: Tok; rest: Tok } {
  const m = /\s/.exec(t.text);
  const end = m === null ? t.text.length : m.index;
  return { word: { text: t.text.slice(0, end), col: t.col }, rest: trimTok(t.text.slice(end), t.col + end) };
}

function splitOperands(rest: Tok, line: number): Tok[] {
  if (rest.text === '') return [];
  const out: Tok[] = [];
  let start = 0;
  for (const piece of rest.text.split(',')) {
    const t = trimTok(piece, rest.col + start);
    if (t.text === '') fail('missing operand', line, t.col);
    out.push(t);
    start += piece.length + 1;
  }
  return out;
}

function parseRegister(t: Tok, line: number): number {
  const m = REGISTER_RE.exec(t.text);
  if (m !== null) {
    const n = Number(m[1]);
    if (String(n) === m[1] && n <= 10) return n;
    fail(`invalid register '${t.text}'`, line, t.col);
  }
  if (t.text.startsWith('%')) fail(`invalid register '${t.text}'`, line, t.col);
  fail(`expected a register, got '${t.text}'`, line, t.col);
}

function looksLikeRegister(text: string): boolean {
  return text.startsWith('%') || /^r[0-9]+$/.test(text);
}

/** What `call NAME` takes as a helper name (anything else is read as a number). */
export const HELPER_NAME_RE = /^[A-Za-z_]\w*$/;

/**
 * A helper call's operand: an id, or a name `resolve` knows (by default a
 * standard helper's: `map_lookup_elem`, `bpf_map_lookup_elem`).
 */
function parseHelper(t: Tok, line: number, resolve: State['resolveHelper']): number {
  if (!HELPER_NAME_RE.test(t.text)) return parseImm32(t, line);
  const id = resolve(t.text);
  if (id === undefined) fail(`unknown helper name '${t.text}'`, line, t.col);
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) fail(`helper name '${t.text}' resolves to ${String(id)}, not a helper id`, line, t.col);
  return id;
}

function parseImm32(t: Tok, line: number): number {
  if (looksLikeRegister(t.text)) fail(`expected an immediate, got register '${t.text}'`, line, t.col);
  const n = parseNum(t.text);
  if (n === undefined) fail(`invalid immediate '${t.text}'`, line, t.col);
  const v = fitField(n, 32);
  if (v === undefined) fail(`immediate ${t.text} out of range for a 32-bit field`, line, t.col);
  return Number(v);
}

function parseOffset(t: Tok, line: number): number {
  const n = parseNum(t.text.replace(/^([+-])\s+/, '$1'));
  if (n === undefined) fail(`invalid offset '${t.text}'`, line, t.col);
  const v = fitField(n, 16);
  if (v === undefined) fail(`offset ${t.text} out of range for a 16-bit field`, line, t.col);
  return Number(v);
}

/** `[%rN]`, `[%rN+off]`, `[%rN-off]`: the register and the offset. */
function parseMemory(t: Tok, line: number): { reg: number; off: number } {
  if (!t.text.startsWith('[')) fail(`expected a memory operand like [%r1+4], got '${t.text}'`, line, t.col);
  if (!t.text.endsWith(']')) fail(`missing ']' in '${t.text}'`, line, t.col + t.text.length);
  const inner = t.text.slice(1, -1);
  const sign = inner.search(/[+-]/);
  const regEnd = sign < 0 ? inner.length : sign;
  const reg = trimTok(inner.slice(0, regEnd), t.col + 1);
  if (reg.text === '') fail(`missing register in '${t.text}'`, line, t.col);
  const r = parseRegister(reg, line);
  if (sign < 0) return { reg: r, off: 0 };
  const off = trimTok(inner.slice(sign), t.col + 1 + sign);
  return { reg: r, off: parseOffset(off, line) };
}

/**
 * A jump target: `+N` / `-N` (an offset that must fit `bits`), or a label
 * resolved once every label is known.
 */
function parseTarget(t: Tok, line: number, bits: 16 | 32, st: State, slot: number, field: 'off' | 'imm'): number {
  if (/^[+-]/.test(t.text)) {
    const n = parseNum(t.text);
    if (n === undefined) fail(`invalid jump offset '${t.text}'`, line, t.col);
    const v = fitField(n, bits);
    if (v === undefined) fail(`jump offset ${t.text} out of range for a ${bits}-bit field`, line, t.col);
    return Number(v);
  }
  if (/^[0-9]/.test(t.text)) fail(`jump target '${t.text}' needs a sign (+${t.text} or -${t.text}) or a label`, line, t.col);
  if (!LABEL_RE.test(t.text)) fail(`invalid jump target '${t.text}'`, line, t.col);
  st.fixups.push({ slot, field, label: t, line });
  return 0;
}

/** lddw's 64-bit value as the two imm halves (low, high). */
function parseImm64(t: Tok, line: number): [number, number] {
  if (looksLikeRegister(t.text)) fail(`expected an immediate, got register '${t.text}'`, line, t.col);
  const n = parseNum(t.text);
  if (n === undefined) fail(`invalid immediate '${t.text}'`, line, t.col);
  // Decimal may be written as either a signed or an unsigned 64-bit number.
  const ok = n.value >= -(1n << 63n) && n.value < 1n << 64n;
  if (!ok) fail(`immediate ${t.text} out of range for a 64-bit field`, line, t.col);
  return [Number(BigInt.asIntN(32, n.value)), Number(BigInt.asIntN(32, n.value >> 32n))];
}

// ---------------------------------------------------------------------------
// Choosing the spec: by mnemonic, then by keyword, operand count and whether
// operands are registers (add %r1, 5 vs add %r1, %r2).

function keywordOf(op: Tok | undefined): string | undefined {
  if (op === undefined) return undefined;
  const m = /^([A-Za-z_]\w*)\s+\S/.exec(op.text);
  return m === null ? undefined : m[1];
}

/**
 * Does the candidate accept keyword `kw` (undefined: none written) at the
 * position where its mnemonic's specs take one?
 */
function keywordFits(c: Candidate, kw: string | undefined): boolean {
  const s = c.syntax;
  if (s.keywords === undefined) return kw === undefined;
  if (kw === undefined) return s.keywordOptional === true;
  return s.keywords.includes(kw);
}

function countFits(c: Candidate, n: number): boolean {
  return n >= c.syntax.minOperands && n <= c.syntax.roles.length;
}

function shapeFits(c: Candidate, ops: readonly Tok[]): boolean {
  return c.syntax.roles.every((role, i) => {
    const op = ops[i];
    if (op === undefined) return true;
    const isReg = looksLikeRegister(op.text);
    return role === 'dst' || role === 'src' ? isReg : !isReg;
  });
}

function expectText(s: Syntax): string {
  const n = s.roles.length;
  const count = s.minOperands === n ? String(n) : `${s.minOperands} or ${n}`;
  return `${count} operand${n === 1 ? '' : 's'}`;
}

function choose(cands: readonly Candidate[], mn: Tok, ops: readonly Tok[], line: number): Candidate {
  const at = cands.find((c) => c.syntax.keywordAt !== undefined)?.syntax.keywordAt;
  const kwOp = at === undefined ? undefined : ops[at];
  const kw = keywordOf(kwOp);
  const byKeyword = cands.filter((c) => keywordFits(c, kw));
  if (byKeyword.length === 0) {
    if (kwOp !== undefined && kw !== undefined) fail(`unknown operand keyword '${kw}' for '${mn.text}'`, line, kwOp.col);
    fail(`'${mn.text}' expects ${expectText(cands[0]!.syntax)}, got ${ops.length}`, line, mn.col);
  }
  const byCount = byKeyword.filter((c) => countFits(c, ops.length));
  if (byCount.length === 0) fail(`'${mn.text}' expects ${expectText(byKeyword[0]!.syntax)}, got ${ops.length}`, line, mn.col);
  // When no spec fits the operand shapes, the first one's operand parser
  // reports the precise problem (e.g. `expected a register`).
  return byCount.find((c) => shapeFits(c, ops)) ?? byCount[0]!;
}

// ---------------------------------------------------------------------------
// Encoding one instruction.

/** The operand with a keyword (`local f`, `map_fd 3`) stripped to its value. */
function stripKeyword(op: Tok): Tok {
  const { rest } = firstWord(op);
  return rest;
}

function encode(c: Candidate, ops: readonly Tok[], line: number, st: State): void {
  const { spec, syntax } = c;
  const pc = st.slots.length;
  const slot: Slot = { opcode: spec.opcode, dst: 0, src: 0, off: 0, imm: 0 };
  for (const f of ['dst', 'src', 'off', 'imm'] as const) {
    const rule = spec.fields[f];
    if (typeof rule === 'number') slot[f] = rule;
  }
  let imm2 = 0;
  syntax.roles.forEach((role, i) => {
    const raw = ops[i];
    if (raw === undefined) return;
    const op = i === syntax.keywordAt && keywordOf(raw) !== undefined ? stripKeyword(raw) : raw;
    switch (role) {
      case 'dst': slot.dst = parseRegister(op, line); break;
      case 'src': slot.src = parseRegister(op, line); break;
      case 'imm': slot.imm = spec.kind === 'call' ? parseHelper(op, line, st.resolveHelper) : parseImm32(op, line); break;
      case 'imm2': imm2 = parseImm32(op, line); break;
      case 'memDst': { const m = parseMemory(op, line); slot.dst = m.reg; slot.off = m.off; break; }
      case 'memSrc': { const m = parseMemory(op, line); slot.src = m.reg; slot.off = m.off; break; }
      case 'offTarget': slot.off = parseTarget(op, line, 16, st, pc, 'off'); break;
      case 'immTarget': slot.imm = parseTarget(op, line, 32, st, pc, 'imm'); break;
      case 'imm64': [slot.imm, imm2] = parseImm64(op, line); break;
      case 'pseudo':
        // Code addresses (src 4) are pc-relative like local calls.
        slot.imm = spec.lddwSrc === 4 ? parseTarget(op, line, 32, st, pc, 'imm') : parseImm32(op, line);
        break;
    }
  });
  st.slots.push(slot);
  if (spec.kind === 'lddw') st.slots.push({ opcode: 0, dst: 0, src: 0, off: 0, imm: imm2 });
  if (spec.kind === 'exit' && st.firstExit === undefined) st.firstExit = pc;
}

const INSN_FIELDS = ['opcode', 'dst', 'src', 'off', 'imm'] as const;

/** `.insn opcode=0x18 dst=1 src=0 off=0 imm=0`: one raw slot, unchecked. */
function encodeRaw(rest: Tok, line: number, st: State): void {
  const slot: Slot = { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 };
  const seen = new Set<string>();
  const re = /[^\s,]+/g;
  for (let m = re.exec(rest.text); m !== null; m = re.exec(rest.text)) {
    const t: Tok = { text: m[0], col: rest.col + m.index };
    const eq = t.text.indexOf('=');
    const key = eq < 0 ? t.text : t.text.slice(0, eq);
    const field = INSN_FIELDS.find((f) => f === key);
    if (eq < 0 || field === undefined) fail(`expected field=value (opcode, dst, src, off, imm), got '${t.text}'`, line, t.col);
    if (seen.has(field)) fail(`field '${field}' given twice`, line, t.col);
    seen.add(field);
    const value: Tok = { text: t.text.slice(eq + 1), col: t.col + eq + 1 };
    if (field === 'off') {
      slot.off = parseOffset(value, line);
    } else if (field === 'imm') {
      slot.imm = parseImm32(value, line);
    } else {
      const n = parseNum(value.text);
      const max = field === 'opcode' ? 255n : 15n;
      if (n === undefined || n.value < 0n || n.value > max) fail(`${field} must be a number from 0 to ${max}, got '${value.text}'`, line, value.col);
      slot[field] = Number(n.value);
    }
  }
  if (!seen.has('opcode')) fail(`'.insn' needs opcode=N`, line, rest.col);
  st.slots.push(slot);
}

// ---------------------------------------------------------------------------
// Lines.

function defineLabel(name: Tok, line: number, st: State): void {
  if (!LABEL_RE.test(name.text)) fail(`invalid label name '${name.text}'`, line, name.col);
  const prev = st.labels.get(name.text);
  if (prev !== undefined) fail(`duplicate label '${name.text}' (first defined at line ${prev.line})`, line, name.col);
  st.labels.set(name.text, { pc: st.slots.length, line });
}

function assembleLine(source: string, line: number, st: State): void {
  const hash = source.indexOf('#');
  let rest = trimTok(hash < 0 ? source : source.slice(0, hash), 1);
  // Labels: `name:` before the instruction (several are allowed).
  for (;;) {
    const m = /^([^\s:]+)\s*:/.exec(rest.text);
    if (m === null) break;
    defineLabel({ text: m[1]!, col: rest.col }, line, st);
    rest = trimTok(rest.text.slice(m[0].length), rest.col + m[0].length);
  }
  if (rest.text === '') return;
  let { word: mn, rest: operandText } = firstWord(rest);
  if (mn.text === '.insn') {
    encodeRaw(operandText, line, st);
    return;
  }
  if (mn.text === 'lock') {
    // `lock [fetch] op`: the mnemonic is the whole phrase, as in syntaxOf.
    let phrase = mn.text;
    for (let words = 0; words < 2; words++) {
      const next = firstWord(operandText);
      if (next.word.text === '') fail(`missing atomic operation after 'lock'`, line, mn.col);
      phrase += ' ' + next.word.text;
      operandText = next.rest;
      if (next.word.text !== 'fetch') break;
    }
    const cands = BY_MNEMONIC.get(phrase);
    if (cands === undefined) fail(`unknown atomic operation '${phrase.slice(5)}'`, line, trimTok(rest.text.slice(4), rest.col + 4).col);
    mn = { text: phrase, col: mn.col };
  }
  const cands = BY_MNEMONIC.get(mn.text);
  if (cands === undefined) fail(`unknown mnemonic '${mn.text}'`, line, mn.col);
  const ops = splitOperands(operandText, line);
  encode(choose(cands, mn, ops, line), ops, line, st);
}

function resolve(st: State): void {
  for (const fx of st.fixups) {
    const name = fx.label.text;
    const target = st.labels.get(name)?.pc ?? (name === 'exit' ? st.firstExit : undefined);
    if (target === undefined) fail(`undefined label '${name}'`, fx.line, fx.label.col);
    const offset = target - fx.slot - 1;
    const bits = fx.field === 'off' ? 16 : 32;
    if (offset < -(2 ** (bits - 1)) || offset >= 2 ** (bits - 1)) {
      fail(`jump offset ${offset} to label '${name}' does not fit in ${bits} bits`, fx.line, fx.label.col);
    }
    st.slots[fx.slot]![fx.field] = offset;
  }
}

/**
 * Assembles a program to slots (an lddw gives two). Throws AssemblerError,
 * with the 1-based line and column of the offending token, and nothing else.
 * `options.resolveHelper` names the helpers `call NAME` may use (default:
 * the standard names).
 */
export function assembleSlots(text: string, options: AssembleOptions = {}): Slot[] {
  const resolveHelper = options.resolveHelper ?? helperIdByName;
  const st: State = { slots: [], resolveHelper, labels: new Map(), fixups: [], firstExit: undefined };
  text.split('\n').forEach((source, i) => assembleLine(source.replace(/\r$/, ''), i + 1, st));
  resolve(st);
  return st.slots;
}

/** Assembles a program to its bytecode (8 bytes per slot, little-endian). */
export function assemble(text: string): Uint8Array {
  return encodeSlots(assembleSlots(text));
}
