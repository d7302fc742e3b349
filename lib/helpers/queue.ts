// map_push_elem (87), map_pop_elem (88), map_peek_elem (89): QUEUE and STACK
// maps. The value is valueSize bytes of program memory. Linux zeroes the
// destination of a pop or peek that finds the map empty (-ENOENT), so a
// program ignoring the result never reads stale bytes; so does this.

import { EINVAL, ENOENT } from '../errno.js';
import { QueueStackMap } from '../maps/index.js';
import type { HelperContext, HelperFn } from '../runtime.js';
import { fail, helper, mapArg, mapBytes, type StandardHelper } from './common.js';

function queueArg(ctx: HelperContext, value: bigint, name: string): QueueStackMap {
  const map = mapArg(ctx, value, name, 1);
  if (!(map instanceof QueueStackMap)) fail(ctx, name, `map ${map.name} is a ${map.typeName} map, not a queue or stack`);
  return map;
}

/** long bpf_map_push_elem(map, const void *value, u64 flags) */
const push: HelperFn = (map, value, flags, _4, _5, ctx) => {
  const q = queueArg(ctx, map, 'map_push_elem');
  const v = mapBytes(ctx, value, q.valueSize);
  if (flags > 0xffffffffn) return -EINVAL;
  return q.pushElem(v, Number(flags));
};

function take(name: string, remove: boolean): HelperFn {
  return (map, value, _3, _4, _5, ctx) => {
    const q = queueArg(ctx, map, name);
    const out = ctx.memory.view(value, q.valueSize, 'store', ctx.pc);
    const result = remove ? q.popElem(out) : q.peek(out);
    if (result === -ENOENT) out.fill(0);
    return result;
  };
}

export const queueHelpers: readonly StandardHelper[] = Object.freeze([
  helper(87, 'map_push_elem', push),
  helper(88, 'map_pop_elem', take('map_pop_elem', true)),
  helper(89, 'map_peek_elem', take('map_peek_elem', false)),
]);
