// Prints the pieces format-parse.ts produced, as Linux's bstr_printf does:
// into a buffer of bounded size, while counting the full length the text
// would have. Output is bytes, since %s and %c copy bytes verbatim.
//
// Padding follows vsprintf's number()/widen_string(): spaces before unless
// '-' (then after); '0' pads numbers with zeros after the sign; strings and
// %c always pad with spaces.

import type { Piece, Spec } from './format-parse.js';

export interface Rendered {
  /** The first `limit` bytes of the text (no NUL). */
  readonly bytes: Uint8Array;
  /** The full length of the text: what Linux's printf functions return. */
  readonly length: number;
}

const SPACE = 0x20;
const ZERO = 0x30;

/** Collects at most `limit` bytes and counts all of them; grows its buffer as text arrives. */
class Output {
  private buf = new Uint8Array(64);
  private stored = 0;
  length = 0;
  constructor(private readonly limit: number) {}

  private room(n: number): number {
    const take = Math.min(n, this.limit - this.stored);
    if (take > 0 && this.stored + take > this.buf.length) {
      const next = new Uint8Array(Math.min(this.limit, Math.max(this.buf.length * 2, this.stored + take)));
      next.set(this.buf.subarray(0, this.stored));
      this.buf = next;
    }
    return Math.max(0, take);
  }

  bytes(b: Uint8Array): void {
    const take = this.room(b.length);
    this.buf.set(b.subarray(0, take), this.stored);
    this.stored += take;
    this.length += b.length;
  }

  repeat(byte: number, count: number): void {
    if (count <= 0) return;
    const take = this.room(count);
    this.buf.fill(byte, this.stored, this.stored + take);
    this.stored += take;
    this.length += count;
  }

  result(): Rendered {
    return { bytes: this.buf.slice(0, this.stored), length: this.length };
  }
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

function padded(out: Output, spec: Spec, body: Uint8Array): void {
  const pad = spec.width - body.length;
  if (!spec.left) out.repeat(SPACE, pad);
  out.bytes(body);
  if (spec.left) out.repeat(SPACE, pad);
}

function number(out: Output, p: Extract<Piece, { kind: 'number' }>): void {
  const { spec } = p;
  let v = p.value;
  let sign = '';
  if (v < 0n) {
    sign = '-';
    v = -v;
  } else if (p.signed && spec.plus) sign = '+';
  else if (p.signed && spec.space) sign = ' ';
  let digits = v.toString(p.base);
  if (p.upper) digits = digits.toUpperCase();
  const pad = spec.width - sign.length - digits.length;
  if (!spec.left && !spec.zero) out.repeat(SPACE, pad);
  out.bytes(ascii(sign));
  if (!spec.left && spec.zero) out.repeat(ZERO, pad);
  out.bytes(ascii(digits));
  if (spec.left) out.repeat(SPACE, pad);
}

/** The text of `pieces`, keeping at most `limit` bytes of it. */
export function renderFormat(pieces: readonly Piece[], limit: number): Rendered {
  const out = new Output(Math.max(0, limit));
  for (const p of pieces) {
    switch (p.kind) {
      case 'text': out.bytes(p.bytes); break;
      case 'number': number(out, p); break;
      case 'char': padded(out, p.spec, Uint8Array.of(p.code)); break;
      case 'string': padded(out, p.spec, p.bytes); break;
    }
  }
  return out.result();
}
