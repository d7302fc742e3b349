// Map types, flags and definitions, numbered as Linux numbers them
// (include/uapi/linux/bpf.h): ELF objects and programs carry these numbers,
// so they are the kernel's, not ours to choose.

export const MAP_TYPES = {
  hash: 1,
  array: 2,
  prog_array: 3,
  perf_event_array: 4,
  percpu_hash: 5,
  percpu_array: 6,
  lru_hash: 9,
  lru_percpu_hash: 10,
  array_of_maps: 12,
  hash_of_maps: 13,
  queue: 22,
  stack: 23,
  ringbuf: 27,
} as const;

export type MapTypeName = keyof typeof MAP_TYPES;

/** The type name of a Linux map type number, or undefined when ebpf-js has no such type. */
export function mapTypeName(type: number): MapTypeName | undefined {
  for (const [name, value] of Object.entries(MAP_TYPES)) {
    if (value === type) return name as MapTypeName;
  }
  return undefined;
}

/**
 * A register holding a map holds MAP_POINTER_BASE + fd: the start of memory
 * slot 0xfe, which Memory never maps, so a map pointer never names bytes and
 * dereferencing one faults (like code addresses in slot 0xff).
 */
export const MAP_POINTER_BASE = 0xfe000000;
/** fds stay below this so that a map pointer stays inside slot 0xfe. */
export const MAX_FD = 0xffffff;

/** map_update_elem flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
/** Needs a bpf_spin_lock in the value (BTF), which ebpf-js does not model: -EINVAL. */
export const BPF_F_LOCK = 4;

/** Map creation flags (map_flags) ebpf-js accepts somewhere; the rest are EINVAL. */
export const MAP_FLAGS = {
  BPF_F_NO_PREALLOC: 1 << 0,
  BPF_F_NO_COMMON_LRU: 1 << 1,
  BPF_F_NUMA_NODE: 1 << 2,
  BPF_F_RDONLY: 1 << 3,
  BPF_F_WRONLY: 1 << 4,
  BPF_F_ZERO_SEED: 1 << 6,
  BPF_F_RDONLY_PROG: 1 << 7,
  BPF_F_WRONLY_PROG: 1 << 8,
  BPF_F_MMAPABLE: 1 << 10,
  BPF_F_PRESERVE_ELEMS: 1 << 11,
  BPF_F_INNER_MAP: 1 << 12,
} as const;

/** bpf_perf_event_output: use the current CPU's slot (index 'current' on the JS side). */
export const BPF_F_CURRENT_CPU = 0xffffffff;

/** Ring buffer submit/discard/output flags. */
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
/** bpf_ringbuf_query flags. */
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;

export interface MapDefinition {
  /** A type name or its Linux number. */
  type: MapTypeName | number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** Linux map_flags (MAP_FLAGS); 0 when absent. */
  flags?: number;
  /** Shown in listings, messages and region names; `map<fd>` when absent. */
  name?: string;
  /** ARRAY_OF_MAPS / HASH_OF_MAPS: what every inner map must look like (Linux's inner map template). */
  inner?: MapDefinition;
}
