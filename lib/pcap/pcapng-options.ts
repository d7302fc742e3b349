// pcapng option lists (code u16, length u16, value padded to 4 bytes, ended by
// opt_endofopt or the end of the block body) and the interface description
// block's timestamp options. Parsing is bounded by the block: every option
// advances by at least 4 bytes, and one that overruns its block is an error.

import { PcapError } from './error.js';

export interface PcapngOption {
  readonly code: number;
  /** Offset of the value within the block. */
  readonly start: number;
  readonly length: number;
}

const OPT_ENDOFOPT = 0;
export const IF_TSRESOL = 9;
export const IF_TSOFFSET = 14;

/** The options in dv[start, end) (block-relative); errors carry `where`. */
export function parseOptions(
  dv: DataView, start: number, end: number, le: boolean, where: { packet: number; offset: number },
): PcapngOption[] {
  const out: PcapngOption[] = [];
  let p = start;
  while (p + 4 <= end) {
    const code = dv.getUint16(p, le);
    const length = dv.getUint16(p + 2, le);
    if (code === OPT_ENDOFOPT) break;
    if (p + 4 + length > end) {
      throw new PcapError(`option ${code} of ${length} bytes overruns its block`, where.packet, where.offset + p);
    }
    out.push({ code, start: p + 4, length });
    p += 4 + ((length + 3) & ~3);
  }
  return out;
}

/**
 * A timestamp unit as a ratio to nanoseconds. if_tsresol: high bit clear ->
 * 10^-v seconds, set -> 2^-v seconds; absent -> microseconds.
 */
export interface TimeUnit {
  readonly mul: bigint;
  readonly div: bigint;
}

export const MICROSECONDS: TimeUnit = { mul: 1000n, div: 1n };

export function timeUnit(tsresol: number): TimeUnit {
  const v = BigInt(tsresol & 0x7f);
  if ((tsresol & 0x80) !== 0) return { mul: 1_000_000_000n, div: 1n << v };
  return v <= 9n ? { mul: 10n ** (9n - v), div: 1n } : { mul: 1n, div: 10n ** (v - 9n) };
}
