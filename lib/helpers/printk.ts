// trace_printk (6) and snprintf (165): Linux's printf dialect for BPF
// (format-parse.ts), printed by format-print.ts.
//
// trace_printk(fmt, fmt_size, a1, a2, a3): the NUL must lie within
// fmt_size bytes; exactly three argument slots, whether used or not. The
// text (at most 1023 bytes, Linux's MAX_BPRINTF_BUF less its NUL) goes to
// the Vm's printk sink as one line, without the final newline most formats
// end with; the result is the text's full length in bytes.
//
// snprintf(str, str_size, fmt, data, data_len): the arguments are data_len
// / 8 u64s at `data` (data_len a multiple of 8, at most 12 of them); str
// receives at most str_size - 1 bytes and always a NUL when str_size > 0;
// the result is the length the whole text needs, NUL included.

import { EINVAL } from '../errno.js';
import type { HelperFn } from '../runtime.js';
import { helper, u32, type StandardHelper } from './common.js';
import { parseFormat } from './format-parse.js';
import { renderFormat } from './format-print.js';

/** MAX_BPRINTF_BUF: trace_printk's line buffer, NUL included. */
const PRINTK_BUF = 1024;
/** MAX_BPRINTF_VARARGS: snprintf's argument limit. */
const MAX_ARGS = 12;

const NEWLINE = 0x0a;

const tracePrintk: HelperFn = (fmt, fmtSize, a1, a2, a3, ctx) => {
  const size = u32(fmtSize);
  if (size === 0) return -EINVAL;
  const raw = ctx.memory.view(fmt, size, 'load', ctx.pc);
  const nul = raw.indexOf(0);
  if (nul < 0) return -EINVAL;
  const pieces = parseFormat(raw.subarray(0, nul), [a1, a2, a3], ctx.memory);
  if (typeof pieces === 'number') return pieces;
  const text = renderFormat(pieces, PRINTK_BUF - 1);
  let end = text.bytes.length;
  if (end > 0 && text.bytes[end - 1] === NEWLINE) end--;
  ctx.run.env.printk(new TextDecoder().decode(text.bytes.subarray(0, end)));
  return text.length;
};

const snprintf: HelperFn = (str, strSize, fmt, data, dataLen, ctx) => {
  const len = u32(dataLen);
  if (len % 8 !== 0 || len > MAX_ARGS * 8 || (len !== 0 && data === 0n)) return -EINVAL;
  const size = u32(strSize);
  const out = size === 0 ? undefined : ctx.memory.view(str, size, 'store', ctx.pc);
  // The format is a NUL-terminated constant string: read up to its NUL, wherever that is in its region.
  const format = ctx.memory.readCString(fmt, Number.MAX_SAFE_INTEGER, ctx.pc);
  const args: bigint[] = [];
  if (len !== 0) {
    const bytes = ctx.memory.view(data, len, 'load', ctx.pc);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let off = 0; off < len; off += 8) args.push(view.getBigUint64(off, true));
  }
  const pieces = parseFormat(format, args, ctx.memory);
  if (typeof pieces === 'number') return pieces;
  const text = renderFormat(pieces, size === 0 ? 0 : size - 1);
  if (out !== undefined) {
    out.set(text.bytes);
    out[text.bytes.length] = 0;
  }
  return text.length + 1;
};

export const printkHelpers: readonly StandardHelper[] = Object.freeze([
  helper(6, 'trace_printk', tracePrintk),
  helper(165, 'snprintf', snprintf),
]);
