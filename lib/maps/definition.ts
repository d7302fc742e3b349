// Checking a map definition before anything is allocated. Definitions come
// from hostile ELF files too (max_entries 2^32 - 1, key size 0, value size
// 2^31), so every field is checked here, with Linux's error codes where
// Linux has a rule, and ebpf-js's own storage cap where Linux would charge
// kernel memory.

import { E2BIG, EINVAL, EOPNOTSUPP } from '../errno.js';
import { MapError } from './error.js';
import { indexBytesPerEntry } from './hash-index.js';
import { MAP_FLAGS, MAP_TYPES, mapTypeName, type MapDefinition, type MapTypeName } from './types.js';

/**
 * The most bytes one map may reserve for its values (all CPUs' copies, the
 * ring buffer's double data area, 8 bytes per slot of a program/map array).
 * Linux charges this memory to the user; here it bounds what a hostile
 * definition can make us allocate. A larger definition is MapError E2BIG.
 */
export const MAX_MAP_STORAGE = 64 * 1024 * 1024;
/** Keys come from the BPF stack, which is 512 bytes (Linux's MAX_BPF_STACK). */
export const MAX_KEY_SIZE = 512;
/** Linux's PCPU_MIN_UNIT_SIZE: the largest per-CPU value (rounded to 8). */
export const MAX_PERCPU_VALUE_SIZE = 32 * 1024;
const MAX_NAME_LENGTH = 255;

export interface ValidDefinition {
  readonly type: number;
  readonly typeName: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string | undefined;
  readonly inner: ValidDefinition | undefined;
}

const F = MAP_FLAGS;
const ACCESS = F.BPF_F_RDONLY | F.BPF_F_WRONLY | F.BPF_F_RDONLY_PROG | F.BPF_F_WRONLY_PROG;
const HASH_FLAGS = F.BPF_F_NO_PREALLOC | F.BPF_F_NUMA_NODE | F.BPF_F_ZERO_SEED | ACCESS;
const ARRAY_FLAGS = F.BPF_F_NUMA_NODE | F.BPF_F_INNER_MAP | ACCESS;

/**
 * What each type demands. A number for keySize/valueSize is the exact size
 * required; 'any' is 1..limit. `bytesPerEntry` is what the storage cap
 * counts (cpus = copies of a per-CPU value).
 */
interface TypeRule {
  readonly keySize: number | 'any';
  readonly valueSize: number | 'any';
  readonly flags: number;
  readonly percpu?: boolean;
  readonly bytesPerEntry: (valueSize: number, cpus: number, keySize: number) => number;
}

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;
const isPowerOf2 = (n: number): boolean => n > 0 && 2 ** Math.round(Math.log2(n)) === n;
const values = (v: number): number => roundUp8(v);
const percpuValues = (v: number, cpus: number): number => roundUp8(v) * cpus;
const slots = (): number => 8;
// Hash maps preallocate their index too (hash-index.ts): keys, links, buckets.
const hashValues = (v: number, cpus: number, keySize: number): number => values(v) + indexBytesPerEntry(keySize);
const percpuHashValues = (v: number, cpus: number, keySize: number): number =>
  percpuValues(v, cpus) + indexBytesPerEntry(keySize);

const RULES: Record<MapTypeName, TypeRule> = {
  hash: { keySize: 'any', valueSize: 'any', flags: HASH_FLAGS, bytesPerEntry: hashValues },
  lru_hash: { keySize: 'any', valueSize: 'any', flags: HASH_FLAGS | F.BPF_F_NO_COMMON_LRU, bytesPerEntry: hashValues },
  percpu_hash: { keySize: 'any', valueSize: 'any', flags: HASH_FLAGS, percpu: true, bytesPerEntry: percpuHashValues },
  lru_percpu_hash: {
    keySize: 'any', valueSize: 'any', flags: HASH_FLAGS | F.BPF_F_NO_COMMON_LRU, percpu: true,
    bytesPerEntry: percpuHashValues,
  },
  array: { keySize: 4, valueSize: 'any', flags: ARRAY_FLAGS | F.BPF_F_MMAPABLE, bytesPerEntry: values },
  percpu_array: { keySize: 4, valueSize: 'any', flags: ARRAY_FLAGS, percpu: true, bytesPerEntry: percpuValues },
  prog_array: { keySize: 4, valueSize: 4, flags: ARRAY_FLAGS, bytesPerEntry: slots },
  perf_event_array: { keySize: 4, valueSize: 4, flags: ARRAY_FLAGS | F.BPF_F_PRESERVE_ELEMS, bytesPerEntry: slots },
  array_of_maps: { keySize: 4, valueSize: 4, flags: ARRAY_FLAGS, bytesPerEntry: slots },
  hash_of_maps: { keySize: 'any', valueSize: 4, flags: HASH_FLAGS, bytesPerEntry: slots },
  queue: { keySize: 0, valueSize: 'any', flags: F.BPF_F_NUMA_NODE | ACCESS, bytesPerEntry: values },
  stack: { keySize: 0, valueSize: 'any', flags: F.BPF_F_NUMA_NODE | ACCESS, bytesPerEntry: values },
  // max_entries is the data area in bytes; it is backed twice (see ringbuf.ts).
  ringbuf: { keySize: 0, valueSize: 0, flags: F.BPF_F_NUMA_NODE, bytesPerEntry: () => 2 },
};

/** Types an ARRAY_OF_MAPS / HASH_OF_MAPS may hold (no nesting, no program or perf arrays). */
const INNER_TYPES: ReadonlySet<MapTypeName> = new Set<MapTypeName>([
  'hash', 'lru_hash', 'percpu_hash', 'lru_percpu_hash', 'array', 'percpu_array', 'queue', 'stack', 'ringbuf',
]);

function u32Field(label: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new MapError(EINVAL, `${label}: ${field} must be an integer in 0..2^32-1 (got ${String(value)})`);
  }
  return value;
}

function sizeField(label: string, field: string, value: number, rule: number | 'any', typeName: string, max: number): void {
  if (rule === 'any') {
    if (value === 0) throw new MapError(EINVAL, `${label}: ${field} must not be 0 for ${typeName} maps`);
    if (value > max) throw new MapError(E2BIG, `${label}: ${field} ${value} is larger than ${max}`);
  } else if (value !== rule) {
    throw new MapError(EINVAL, `${label}: ${field} must be ${rule} for ${typeName} maps (got ${value})`);
  }
}

/**
 * Checks `def` completely and returns it normalized, or throws MapError.
 * `cpus` is the number of CPUs per-CPU maps keep a value for; `storage`
 * false skips the storage cap (inner map templates allocate nothing).
 */
export function checkDefinition(def: MapDefinition, cpus: number, storage = true): ValidDefinition {
  if (typeof def !== 'object' || def === null) throw new MapError(EINVAL, 'a map definition must be an object');
  const name = def.name;
  if (name !== undefined && (typeof name !== 'string' || name.length > MAX_NAME_LENGTH)) {
    throw new MapError(EINVAL, `map name must be a string of at most ${MAX_NAME_LENGTH} characters`);
  }
  const label = name === undefined ? 'map' : `map ${JSON.stringify(name)}`;
  const typeName = typeof def.type === 'string'
    ? (Object.hasOwn(MAP_TYPES, def.type) ? def.type : undefined)
    : typeof def.type === 'number' ? mapTypeName(def.type) : undefined;
  if (typeName === undefined) throw new MapError(EINVAL, `${label}: type ${String(def.type)} is not a supported map type`);
  const rule = RULES[typeName];
  const keySize = u32Field(label, 'keySize', def.keySize);
  const valueSize = u32Field(label, 'valueSize', def.valueSize);
  const maxEntries = u32Field(label, 'maxEntries', def.maxEntries);
  const flags = u32Field(label, 'flags', def.flags ?? 0);

  sizeField(label, 'keySize', keySize, rule.keySize, typeName, MAX_KEY_SIZE);
  // MAX_PERCPU_VALUE_SIZE is a multiple of 8, so comparing the unrounded size is Linux's check.
  sizeField(label, 'valueSize', valueSize, rule.valueSize, typeName, rule.percpu ? MAX_PERCPU_VALUE_SIZE : MAX_MAP_STORAGE);
  if (maxEntries === 0) throw new MapError(EINVAL, `${label}: maxEntries must not be 0`);
  if (typeName === 'ringbuf' && (!isPowerOf2(maxEntries) || maxEntries % 4096 !== 0)) {
    throw new MapError(EINVAL, `${label}: maxEntries of a ringbuf must be a power of 2 and a multiple of 4096 (got ${maxEntries})`);
  }
  if ((flags & ~rule.flags) !== 0) {
    throw new MapError(EINVAL, `${label}: flags 0x${((flags & ~rule.flags) >>> 0).toString(16)} are not valid for ${typeName} maps`);
  }
  if (typeName.startsWith('lru') && (flags & F.BPF_F_NO_PREALLOC) !== 0) {
    throw new MapError(EOPNOTSUPP, `${label}: flags: LRU maps are always preallocated (BPF_F_NO_PREALLOC)`);
  }
  if (storage) {
    const bytes = maxEntries * rule.bytesPerEntry(valueSize, cpus, keySize);
    if (bytes > MAX_MAP_STORAGE) {
      throw new MapError(E2BIG, `${label}: maxEntries ${maxEntries} x valueSize ${valueSize} (keySize ${keySize}) needs ${bytes} bytes, more than the ${MAX_MAP_STORAGE}-byte limit of a map`);
    }
  }

  let inner: ValidDefinition | undefined;
  if (typeName === 'array_of_maps' || typeName === 'hash_of_maps') {
    if (def.inner === undefined) throw new MapError(EINVAL, `${label}: inner (the inner map template) is required for ${typeName}`);
    inner = checkDefinition(def.inner, cpus, false);
    if (!INNER_TYPES.has(inner.typeName)) {
      throw new MapError(EINVAL, `${label}: inner: ${inner.typeName} maps cannot be held by another map`);
    }
  } else if (def.inner !== undefined) {
    throw new MapError(EINVAL, `${label}: inner is only for array_of_maps and hash_of_maps`);
  }
  return { type: MAP_TYPES[typeName], typeName, keySize, valueSize, maxEntries, flags, name, inner };
}
