// Linux's rules for map_update_elem flags, shared by every keyed map, and
// the JS-side wrapper that turns a negative errno into a thrown MapError.

import { EEXIST, EINVAL, ENOENT, errnoName } from '../errno.js';
import { MapError } from './error.js';
import { BPF_EXIST, BPF_NOEXIST } from './types.js';

/**
 * -EINVAL for flags other than BPF_ANY / BPF_NOEXIST / BPF_EXIST. BPF_F_LOCK
 * is refused too: it needs a bpf_spin_lock in the value, which only BTF can
 * declare and ebpf-js does not read.
 */
export function checkUpdateFlags(flags: number): number {
  return Number.isInteger(flags) && flags >= 0 && flags <= BPF_EXIST ? 0 : -EINVAL;
}

/** -EEXIST (NOEXIST on a present key), -ENOENT (EXIST on a missing one), else 0. */
export function existenceError(flags: number, exists: boolean): number {
  if (exists && flags === BPF_NOEXIST) return -EEXIST;
  if (!exists && flags === BPF_EXIST) return -ENOENT;
  return 0;
}

/** For JS-side writes: throws MapError when `result` is a negative errno. */
export function orThrow(result: number, mapName: string, operation: string): void {
  if (result < 0) {
    throw new MapError(-result, `map ${mapName}: ${operation} failed with ${errnoName(result)}`);
  }
}
