// map_lookup_elem (1), map_update_elem (2), map_delete_elem (3): the map
// pointer resolves through the run's registry; the key (keySize bytes) and
// value (valueSize bytes) are read from program memory and handed to the
// map, which implements Linux's semantics for its type (lib/maps). A map
// with keySize 0 (queue, stack) reads no key, so its key pointer may be NULL.

import { EINVAL } from '../errno.js';
import type { HelperFn } from '../runtime.js';
import { EMPTY, helper, mapArg, mapBytes, type StandardHelper } from './common.js';

/**
 * void *bpf_map_lookup_elem(map, key): the value's address, or 0 (NULL).
 * The hottest helper: the key is read in place (lookupAt) rather than
 * through a view, and the map skips the size checks this call guarantees.
 */
const lookup: HelperFn = (map, key, _3, _4, _5, ctx) => {
  const m = mapArg(ctx, map, 'map_lookup_elem', 1);
  const size = m.keySize;
  if (size === 0) return m.lookup(EMPTY, ctx.run.cpu);
  const region = ctx.memory.resolve(key, size, 'load', ctx.pc);
  return m.lookupAt(region.bytes, Number(key) - region.base, ctx.run.cpu);
};

/** long bpf_map_update_elem(map, key, value, u64 flags) */
const update: HelperFn = (map, key, value, flags, _5, ctx) => {
  const m = mapArg(ctx, map, 'map_update_elem', 1);
  const k = mapBytes(ctx, key, m.keySize);
  const v = mapBytes(ctx, value, m.valueSize);
  // Every flag Linux knows fits 32 bits; a higher bit is -EINVAL there too (and JS bit operations would drop it).
  if (flags > 0xffffffffn) return -EINVAL;
  return m.updateElem(k, v, Number(flags), ctx.run.cpu);
};

/** long bpf_map_delete_elem(map, key) */
const remove: HelperFn = (map, key, _3, _4, _5, ctx) => {
  const m = mapArg(ctx, map, 'map_delete_elem', 1);
  return m.deleteElem(mapBytes(ctx, key, m.keySize));
};

export const mapHelpers: readonly StandardHelper[] = Object.freeze([
  helper(1, 'map_lookup_elem', lookup),
  helper(2, 'map_update_elem', update),
  helper(3, 'map_delete_elem', remove),
]);
