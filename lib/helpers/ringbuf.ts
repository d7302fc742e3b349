// The ring buffer helpers (130-134) on RINGBUF maps (lib/maps/ringbuf.ts):
//   ringbuf_output(map, data, size, flags): copies size bytes in: 0, -EAGAIN, -EINVAL
//   ringbuf_reserve(map, size, flags): a writable record's address, or 0
//   ringbuf_submit(data, flags) / ringbuf_discard(data, flags): end a reservation
//   ringbuf_query(map, flags): a counter of the ring
// submit and discard get no map: the reservation's address names it (the
// ring buffer whose region holds it). An address no ring buffer holds is a
// HelperError; the kernel's verifier only lets reserved pointers through.

import { EINVAL } from '../errno.js';
import { RingBufMap } from '../maps/index.js';
import type { HelperContext, HelperFn } from '../runtime.js';
import { EMPTY, fail, hex, helper, mapArg, type StandardHelper } from './common.js';

function ringArg(ctx: HelperContext, value: bigint, name: string): RingBufMap {
  const map = mapArg(ctx, value, name, 1);
  if (!(map instanceof RingBufMap)) fail(ctx, name, `map ${map.name} is a ${map.typeName} map, not a ringbuf`);
  return map;
}

/** The ring buffer whose memory holds `address`. */
function ringOf(ctx: HelperContext, address: bigint, name: string): RingBufMap {
  if (address >= 0n && address <= 0xffffffffn) {
    const a = Number(address);
    for (const map of ctx.run.maps.list()) {
      if (map instanceof RingBufMap && map.regions().some((r) => a >= r.base && a < r.end)) return map;
    }
  }
  return fail(ctx, name, `argument 1 (r1 = ${hex(address)}) is not a ring buffer reservation`);
}

/** A u64 size or flags argument as a number; anything past 2^53 stays too large to pass any check. */
const num = (value: bigint): number => Number(value);

const output: HelperFn = (map, data, size, flags, _5, ctx) => {
  const ring = ringArg(ctx, map, 'ringbuf_output');
  const bytes = size === 0n ? EMPTY : ctx.memory.view(data, num(size), 'load', ctx.pc);
  if (flags > 0xffffffffn) return -EINVAL;
  return ring.output(bytes, num(flags));
};

const reserve: HelperFn = (map, size, flags, _4, _5, ctx) =>
  ringArg(ctx, map, 'ringbuf_reserve').reserve(num(size), flags === 0n ? 0 : 1);

function finish(name: string, which: 'submit' | 'discard'): HelperFn {
  return (data, flags, _3, _4, _5, ctx) => {
    ringOf(ctx, data, name)[which](Number(data), num(flags & 0xffffffffn));
    return 0;
  };
}

const query: HelperFn = (map, flags, _3, _4, _5, ctx) =>
  ringArg(ctx, map, 'ringbuf_query').query(flags > 0xffffffffn ? -1 : num(flags));

export const ringbufHelpers: readonly StandardHelper[] = Object.freeze([
  helper(130, 'ringbuf_output', output),
  helper(131, 'ringbuf_reserve', reserve),
  helper(132, 'ringbuf_submit', finish('ringbuf_submit', 'submit')),
  helper(133, 'ringbuf_discard', finish('ringbuf_discard', 'discard')),
  helper(134, 'ringbuf_query', query),
]);
