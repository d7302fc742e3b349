// The printf dialect of trace_printk (6) and snprintf (165): Linux's
// bpf_bprintf_prepare, which checks a format against its arguments and
// fetches what the specifiers point at, before anything is printed.
//
// Accepted, as in Linux: printable ASCII and whitespace; %% ; flags from
// "0+- " and a width (no precision, no '#', no '*'); %d %i %u %x %X with an
// optional l or ll; %c; %s, %pks, %pus (strings); %p, %pK, %px (pointers);
// %ps, %pS, %pB (symbols); %pI4 %pi4 %pI6 %pi6 (IP addresses). Anything
// else, or more specifiers than arguments, is -EINVAL. %s and %p must be
// followed by the end, a space or punctuation. Strings and IP bytes are
// copied into a 512-byte argument buffer (MAX_BPRINTF_BIN_ARGS) with the
// kernel's packing, so a long string is cut short and a full buffer is
// -ENOSPC exactly where Linux says so.
//
// What this does not do: print (format-print.ts) or hash pointers: there
// is no kernel address to hide, so %p and %pK print the address as %px
// does. After a %p conversion every following letter or digit is skipped,
// as Linux's printf does.

import { EINVAL, ENOSPC } from '../errno.js';
import type { Memory } from '../memory.js';
import { probeBytes, probeString } from './probe.js';

export interface Spec {
  readonly left: boolean;
  readonly plus: boolean;
  readonly space: boolean;
  readonly zero: boolean;
  /** Field width, or -1 when none was given. */
  readonly width: number;
}

export type Piece =
  | { readonly kind: 'text'; readonly bytes: Uint8Array }
  | {
      readonly kind: 'number'; readonly spec: Spec; readonly value: bigint;
      /** %d/%i: a sign (or the '+' / ' ' flag's) is printed. */
      readonly signed: boolean;
      readonly base: 10 | 16; readonly upper: boolean;
    }
  | { readonly kind: 'char'; readonly spec: Spec; readonly code: number }
  | { readonly kind: 'string'; readonly spec: Spec; readonly bytes: Uint8Array };

/** MAX_BPRINTF_BIN_ARGS: bytes of the buffer the arguments are packed into. */
const BIN_ARGS = 512;
/** vsprintf's FIELD_WIDTH_MAX: a larger width is clamped to it. */
const FIELD_WIDTH_MAX = (1 << 23) - 1;

const PERCENT = 0x25;

/** Linux's ispunct on ASCII: printable, not alphanumeric, not space. */
function isPunct(c: number): boolean {
  return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}
function isAlnum(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a));
}
/** What may follow %s or a bare %p: the end (c is undefined past it), a space or punctuation. */
function endsWord(c: number | undefined): boolean {
  return c === undefined || isSpace(c) || isPunct(c);
}

/**
 * The pieces `fmt` (without its NUL) prints with `args`, or a negative errno.
 * Pointer arguments of %s, %pI4... are read from `memory`; a bad one reads as
 * an empty string or zero bytes, as in Linux.
 */
export function parseFormat(fmt: Uint8Array, args: readonly bigint[], memory: Memory): Piece[] | number {
  const pieces: Piece[] = [];
  let text = 0; // start of pending literal text
  let used = 0; // bytes of the argument buffer taken so far
  let n = 0; // specifiers seen
  const flush = (end: number): void => {
    if (end > text) pieces.push({ kind: 'text', bytes: fmt.subarray(text, end) });
  };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c > 0x7e || (c < 0x20 && !isSpace(c))) return -EINVAL;
    if (c !== PERCENT) continue;
    flush(i);
    if (fmt[i + 1] === PERCENT) {
      text = i + 1; // the second '%' starts the next literal text
      i++;
      continue;
    }
    if (n >= args.length) return -EINVAL;
    const arg = args[n]!;
    n++;
    i++;
    let left = false, plus = false, space = false, zero = false;
    for (;; i++) {
      const f = fmt[i];
      if (f === 0x2d) left = true;
      else if (f === 0x2b) plus = true;
      else if (f === 0x20) space = true;
      else if (f === 0x30) zero = true;
      else break;
    }
    let width = -1;
    if (fmt[i] !== undefined && fmt[i]! >= 0x31 && fmt[i]! <= 0x39) {
      width = 0;
      while (fmt[i] !== undefined && fmt[i]! >= 0x30 && fmt[i]! <= 0x39) {
        width = Math.min(width * 10 + fmt[i]! - 0x30, FIELD_WIDTH_MAX);
        i++;
      }
    }
    const spec: Spec = { left, plus, space, zero: zero && !left, width };
    const conv = fmt[i];
    const next = fmt[i + 1];
    let piece: Piece;
    if (conv === 0x70 /* p */) {
      const p = pointerPiece(fmt, i, spec, arg, memory, used);
      if (typeof p === 'number') return p;
      piece = p.piece;
      used = p.used;
      // Linux's printf skips every letter and digit after a %p conversion ("%pxyz" is "%p").
      for (i = p.end; isAlnum(fmt[i + 1]); ) i++;
    } else if (conv === 0x73 /* s */) {
      const s = stringPiece(spec, arg, memory, used, next);
      if (typeof s === 'number') return s;
      [piece, used] = s;
    } else if (conv === 0x63 /* c */) {
      if (used === BIN_ARGS) return -ENOSPC;
      used += 1;
      piece = { kind: 'char', spec, code: Number(arg & 0xffn) };
    } else {
      let bits = 32;
      if (fmt[i] === 0x6c /* l */) { bits = 64; i++; }
      if (fmt[i] === 0x6c) i++;
      const t = fmt[i];
      const signed = t === 0x64 /* d */ || t === 0x69; /* i */
      if (!signed && t !== 0x75 /* u */ && t !== 0x78 /* x */ && t !== 0x58 /* X */) return -EINVAL;
      used = packNumber(used, bits / 8);
      if (used < 0) return -ENOSPC;
      const value = signed ? BigInt.asIntN(bits, arg) : BigInt.asUintN(bits, arg);
      piece = { kind: 'number', spec, value, signed, base: t === 0x75 || signed ? 10 : 16, upper: t === 0x58 };
    }
    pieces.push(piece);
    text = i + 1;
  }
  flush(fmt.length);
  return pieces;
}

/** The buffer offset after packing a number of `size` bytes (4-aligned), or -1 when it does not fit. */
function packNumber(used: number, size: number): number {
  const at = (used + 3) & ~3;
  return BIN_ARGS - at < size ? -1 : at + size;
}

function stringPiece(
  spec: Spec, arg: bigint, memory: Memory, used: number, next: number | undefined,
): [Piece, number] | number {
  if (!endsWord(next)) return -EINVAL;
  if (used === BIN_ARGS) return -ENOSPC;
  const s = probeString(memory, arg, BIN_ARGS - used);
  // A faulting pointer prints as an empty string and still takes its NUL's byte.
  if (s === undefined) return [{ kind: 'string', spec, bytes: new Uint8Array(0) }, used + 1];
  return [{ kind: 'string', spec, bytes: s.bytes }, used + s.result];
}

interface PointerResult {
  readonly piece: Piece;
  /** Index of the last format byte the specifier used. */
  readonly end: number;
  readonly used: number;
}

/** %p and its extensions; `i` is the index of the 'p'. */
function pointerPiece(
  fmt: Uint8Array, i: number, spec: Spec, arg: bigint, memory: Memory, used: number,
): PointerResult | number {
  const e1 = fmt[i + 1];
  const e2 = fmt[i + 2];
  const address = BigInt.asUintN(64, arg);
  if (endsWord(e1) || e1 === 0x4b /* K */ || e1 === 0x78 /* x */) {
    const at = packNumber(used, 8);
    if (at < 0) return -ENOSPC;
    // Without a width, a pointer prints as 16 zero-padded hex digits (vsprintf's pointer_string).
    const pspec = spec.width < 0 ? { ...spec, width: 16, zero: !spec.left } : spec;
    const piece: Piece = { kind: 'number', spec: pspec, value: address, signed: false, base: 16, upper: false };
    return { piece, end: endsWord(e1) ? i : i + 1, used: at };
  }
  if ((e1 === 0x6b /* k */ || e1 === 0x75 /* u */) && e2 === 0x73 /* s */) {
    const s = stringPiece(spec, arg, memory, used, fmt[i + 3]);
    if (typeof s === 'number') return s;
    return { piece: s[0], end: i + 2, used: s[1] };
  }
  if (e1 === 0x73 /* s */ || e1 === 0x53 /* S */ || e1 === 0x42 /* B */) {
    // No kernel symbols here: kallsyms prints an unknown address as 0x<hex>.
    const text = new TextEncoder().encode(`0x${address.toString(16)}`);
    if (e1 !== 0x42) {
      const at = packNumber(used, 8);
      if (at < 0) return -ENOSPC;
      return { piece: { kind: 'string', spec, bytes: text }, end: i + 1, used: at };
    }
    return preformatted(spec, text, i + 1, used);
  }
  if ((e1 === 0x69 /* i */ || e1 === 0x49 /* I */) && (e2 === 0x34 /* 4 */ || e2 === 0x36 /* 6 */)) {
    const size = e2 === 0x34 ? 4 : 16;
    if (BIN_ARGS - used < size) return -ENOSPC;
    const bytes = probeBytes(memory, address, size) ?? new Uint8Array(size); // a fault prints zeros
    return preformatted(spec, new TextEncoder().encode(ipText(bytes, e1 === 0x49)), i + 2, used);
  }
  return -EINVAL;
}

/**
 * Linux formats %pB and IP addresses into the argument buffer as text (with
 * a NUL); text that does not fit is cut to the space left.
 */
function preformatted(spec: Spec, text: Uint8Array, end: number, used: number): PointerResult {
  const room = BIN_ARGS - used;
  const bytes = text.length < room ? text : text.subarray(0, Math.max(0, room - 1));
  return { piece: { kind: 'string', spec, bytes }, end, used: Math.min(BIN_ARGS, used + text.length + 1) };
}

/** %pI4 1.2.3.4, %pi4 001.002.003.004, %pI6 8 groups of 4 hex digits with colons, %pi6 without. */
function ipText(bytes: Uint8Array, upperI: boolean): string {
  if (bytes.length === 4) return [...bytes].map((b) => (upperI ? String(b) : String(b).padStart(3, '0'))).join('.');
  const groups: string[] = [];
  for (let k = 0; k < 16; k += 2) groups.push(((bytes[k]! << 8) | bytes[k + 1]!).toString(16).padStart(4, '0'));
  return groups.join(upperI ? ':' : '');
}
