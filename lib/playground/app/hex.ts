// Hex text <-> bytes for the page's input box and memory dumps. Parsing is
// forgiving about layout (spaces, newlines, commas, `0x` prefixes, `#`
// comments) because people paste from hexdumps, C arrays and tcpdump -xx.

import { UsageError } from '../../errors.js';

/** The bytes written in `text` as hex digit pairs; UsageError naming the first bad character. */
export function parseHex(text: string): Uint8Array {
  const digits: string[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*/, '').replace(/0x/gi, ' ');
    for (const ch of line) {
      if (/[0-9a-f]/i.test(ch)) digits.push(ch);
      else if (!/[\s,;:]/.test(ch)) throw new UsageError(`input hex: unexpected character ${JSON.stringify(ch)}`);
    }
  }
  if (digits.length % 2 !== 0) throw new UsageError(`input hex: ${digits.length} digits is an odd number (each byte is two)`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits[2 * i]! + digits[2 * i + 1]!, 16);
  return out;
}

/** Bytes as `aa bb cc`, 16 per line: what the input box shows after a sample packet is chosen. */
export function formatHex(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push([...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}

/** One row of a hex dump: offset, the bytes (with whether each differs from `before`), printable text. */
export interface DumpRow {
  readonly offset: number;
  readonly bytes: readonly { readonly value: number; readonly changed: boolean }[];
  readonly text: string;
}

/** A hex dump of `bytes`, `perRow` a row, marking the bytes that differ from `before` (a byte past its end counts as changed). */
export function hexDump(bytes: Uint8Array, before?: Uint8Array, perRow = 16): DumpRow[] {
  const rows: DumpRow[] = [];
  for (let offset = 0; offset < bytes.length; offset += perRow) {
    const chunk = bytes.subarray(offset, offset + perRow);
    rows.push({
      offset,
      bytes: [...chunk].map((value, i) => ({ value, changed: before !== undefined && before[offset + i] !== value })),
      text: [...chunk].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join(''),
    });
  }
  return rows;
}

/** A u64 register value as 0x-hex, and as a signed decimal when negative as s64. */
export function formatU64(value: bigint): { hex: string; dec: string } {
  const signed = BigInt.asIntN(64, value);
  return { hex: `0x${value.toString(16)}`, dec: signed < 0n ? `${value} (${signed})` : String(value) };
}
