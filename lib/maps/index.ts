// Maps: Linux's map types with Linux's numbering and semantics. This module
// only re-exports.
//
// The model in brief (details in each module):
// - A MapRegistry per VM creates maps from checked definitions (MapError with
//   Linux's errno name as code, before anything is allocated; at most
//   MAX_MAP_STORAGE bytes of values per map), gives fds from 1 and finds a
//   map again from the pointer a program holds (MAP_POINTER_BASE + fd).
// - BPF side (what helpers call): lookup / update / delete with Linux's
//   results (an address or 0; 0 or -errno), plus push/pop/peek, ringbuf
//   reserve/submit/discard/output/query and perf output on those types.
// - Values of hash and array maps live in a memory region of the map, so a
//   lookup returns an address programs load from and store to; JS sees the
//   same bytes.
// - JS side: get/set/has/keys/values/entries/clear/size, keys and values as
//   Uint8Array or as numbers/bigints when 4 or 8 bytes wide; get copies (or
//   decodes with 'u32'/'u64'); set throws MapError; delete returns 0 or
//   -errno like the helper; records arrive through onRecord/records()/drain().
// - Sharing between threads (registry.ts): arrays, hash maps, queues and
//   stacks can keep their state in SharedArrayBuffers that other threads'
//   registries attach to; the other types stay per thread.
// - freeze(): JS-side writes throw MapError EPERM afterwards (BPF_MAP_FREEZE).

export {
  MAP_TYPES, MAP_POINTER_BASE, MAX_FD, MAP_FLAGS, mapTypeName,
  BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, BPF_F_CURRENT_CPU,
  BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP, BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS,
} from './types.js';
export type { MapDefinition, MapTypeName } from './types.js';
export { MapError } from './error.js';
export { MAX_MAP_STORAGE, MAX_KEY_SIZE, MAX_PERCPU_VALUE_SIZE } from './definition.js';
export type { ValidDefinition } from './definition.js';
export { BpfMap } from './base.js';
export type { MapContext, MapDescription } from './base.js';
export type { BytesInput, ValueFormat, Decoded } from './codec.js';
export { HashTable } from './hash-table.js';
export { HashMap, PerCpuHashMap } from './hash.js';
export { ArrayTable, ArrayMap, PerCpuArrayMap } from './array.js';
export { FdArray } from './fd-array.js';
export { ProgArrayMap } from './prog-array.js';
export { ArrayOfMapsMap, HashOfMapsMap } from './map-in-map.js';
export { QueueStackMap } from './queue-stack.js';
export { RingBufMap } from './ringbuf.js';
export { RecordMap } from './records.js';
export { PerfEventArrayMap, PERF_PENDING_LIMIT } from './perf-event-array.js';
export type { PerfRecord } from './perf-event-array.js';
export { MapRegistry, MAX_CPUS } from './registry.js';
export type { MapByType, MapRegistryOptions } from './registry.js';
export { SHARED_STATE_FORMAT } from './shared-state.js';
export type { SharedMapsState, SharedMapState } from './shared-state.js';
