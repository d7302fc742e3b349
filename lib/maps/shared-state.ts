// The description of a registry's maps that another thread attaches to
// (MapRegistry.sharedState / the `attach` option): plain objects, numbers,
// strings and SharedArrayBuffers, so postMessage can carry it.
//
// It comes from another thread, so it is checked like any input: a wrong
// shape, a definition that differs from the one the attaching thread
// creates, missing buffers or buffers of the wrong size are MapError EINVAL
// naming the map, never a crash.

import { EINVAL } from '../errno.js';
import { checkDefinition, type ValidDefinition } from './definition.js';
import { MapError } from './error.js';
import type { MapDefinition } from './types.js';

/** What `format` holds: a state from another version of this layout is refused. */
export const SHARED_STATE_FORMAT = 'ebpf-js-shared-maps/1';

export interface SharedMapState {
  /** The map's definition (normalized: type by name, flags always present). */
  readonly definition: MapDefinition;
  /**
   * The map's storage, in the order the map takes it (values first, then
   * index or ring). Empty for types kept per thread (ring buffers, perf event
   * arrays, prog arrays, maps of maps): each thread has its own.
   */
  readonly buffers: readonly SharedArrayBuffer[];
}

export interface SharedMapsState {
  readonly format: typeof SHARED_STATE_FORMAT;
  /** CPUs of the registry: per-CPU maps hold one value per CPU (per worker). */
  readonly cpus: number;
  /** Every map the registry created, in creation order (destroyed ones included: order is what matches them). */
  readonly maps: readonly SharedMapState[];
}

/** A plain, cloneable copy of a checked definition. */
export function plainDefinition(def: ValidDefinition): MapDefinition {
  const out: MapDefinition = {
    type: def.typeName, keySize: def.keySize, valueSize: def.valueSize, maxEntries: def.maxEntries, flags: def.flags,
  };
  if (def.name !== undefined) out.name = def.name;
  if (def.inner !== undefined) out.inner = plainDefinition(def.inner);
  return out;
}

/** Checks the shape of a state for a registry of `cpus` CPUs (definitions and buffers are checked map by map). */
export function checkSharedState(state: unknown, cpus: number): SharedMapsState {
  if (typeof state !== 'object' || state === null) throw new MapError(EINVAL, 'shared maps state must be an object');
  const s = state as Partial<Record<keyof SharedMapsState, unknown>>;
  if (s.format !== SHARED_STATE_FORMAT) {
    throw new MapError(EINVAL, `shared maps state: format must be ${JSON.stringify(SHARED_STATE_FORMAT)} (got ${describe(s.format)})`);
  }
  if (s.cpus !== cpus) {
    throw new MapError(EINVAL, `shared maps state: it is for ${describe(s.cpus)} cpus, this registry has ${cpus}`);
  }
  if (!Array.isArray(s.maps)) throw new MapError(EINVAL, 'shared maps state: maps must be an array');
  s.maps.forEach((entry: unknown, k) => {
    if (typeof entry !== 'object' || entry === null) throw new MapError(EINVAL, `shared maps state: map ${k} must be an object`);
    const e = entry as Partial<Record<keyof SharedMapState, unknown>>;
    if (typeof e.definition !== 'object' || e.definition === null) {
      throw new MapError(EINVAL, `shared maps state: map ${k} has no definition`);
    }
    if (!Array.isArray(e.buffers)) throw new MapError(EINVAL, `shared maps state: map ${k}: buffers must be an array`);
  });
  return state as SharedMapsState;
}

/**
 * MapError EINVAL unless the state's k-th definition is `def` (the one the
 * attaching thread is creating): type, sizes, flags, name and inner template.
 */
export function checkSameDefinition(def: ValidDefinition, entry: SharedMapState, k: number, cpus: number): void {
  const label = `map ${def.name ?? `#${k}`}`;
  let theirs: ValidDefinition;
  try {
    theirs = checkDefinition(entry.definition, cpus, false);
  } catch (e) {
    if (e instanceof MapError) throw new MapError(EINVAL, `${label}: the shared state's map ${k} is not valid: ${e.message}`);
    throw e;
  }
  const differs = firstDifference(def, theirs);
  if (differs !== undefined) {
    throw new MapError(EINVAL, `${label}: differs from the shared state's map ${k} (${differs})`);
  }
}

function firstDifference(a: ValidDefinition, b: ValidDefinition): string | undefined {
  for (const field of ['typeName', 'keySize', 'valueSize', 'maxEntries', 'flags', 'name'] as const) {
    if (a[field] !== b[field]) return `${field}: ${describe(a[field])} here, ${describe(b[field])} there`;
  }
  if ((a.inner === undefined) !== (b.inner === undefined)) return 'inner';
  if (a.inner !== undefined && b.inner !== undefined) {
    const inner = firstDifference(a.inner, b.inner);
    if (inner !== undefined) return `inner ${inner}`;
  }
  return undefined;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' ? typeof value : String(value);
}
