// The maps of one VM: creates them from definitions, gives them fds (from 1,
// never reused, so a stale map pointer can never name a newer map) and
// finds them again by fd or by the pointer a program holds.
//
// Sharing between threads: with `share`, maps that can be shared (arrays,
// hash maps, queues, stacks) keep all their state in SharedArrayBuffers and
// sharedState() describes them; a registry in another thread made with
// `attach: state` then attaches its k-th create(def) to the state's k-th
// map instead of allocating. Other types are per thread (shared-state.ts).

import { EINVAL, EMFILE } from '../errno.js';
import { UsageError } from '../errors.js';
import type { Memory } from '../memory.js';
import { ArrayMap, PerCpuArrayMap } from './array.js';
import type { BpfMap, MapContext } from './base.js';
import { checkDefinition, type ValidDefinition } from './definition.js';
import { MapError } from './error.js';
import { HashMap, PerCpuHashMap } from './hash.js';
import { ArrayOfMapsMap, HashOfMapsMap } from './map-in-map.js';
import { PerfEventArrayMap } from './perf-event-array.js';
import { ProgArrayMap } from './prog-array.js';
import { QueueStackMap } from './queue-stack.js';
import { RingBufMap } from './ringbuf.js';
import {
  checkSameDefinition, checkSharedState, plainDefinition, SHARED_STATE_FORMAT, type SharedMapsState,
} from './shared-state.js';
import { MapStorage } from './storage.js';
import { MAP_POINTER_BASE, MAX_FD, type MapDefinition, type MapTypeName } from './types.js';

/** The class `create` returns for each type. */
export interface MapByType {
  hash: HashMap;
  lru_hash: HashMap;
  percpu_hash: PerCpuHashMap;
  lru_percpu_hash: PerCpuHashMap;
  array: ArrayMap;
  percpu_array: PerCpuArrayMap;
  prog_array: ProgArrayMap;
  perf_event_array: PerfEventArrayMap;
  array_of_maps: ArrayOfMapsMap;
  hash_of_maps: HashOfMapsMap;
  queue: QueueStackMap;
  stack: QueueStackMap;
  ringbuf: RingBufMap;
}

const CLASSES: { readonly [K in MapTypeName]: new (def: ValidDefinition, ctx: MapContext) => MapByType[K] } = {
  hash: HashMap,
  lru_hash: HashMap,
  percpu_hash: PerCpuHashMap,
  lru_percpu_hash: PerCpuHashMap,
  array: ArrayMap,
  percpu_array: PerCpuArrayMap,
  prog_array: ProgArrayMap,
  perf_event_array: PerfEventArrayMap,
  array_of_maps: ArrayOfMapsMap,
  hash_of_maps: HashOfMapsMap,
  queue: QueueStackMap,
  stack: QueueStackMap,
  ringbuf: RingBufMap,
};

/** Most CPUs per-CPU maps may keep values for (each map stores one copy per CPU). */
export const MAX_CPUS = 1024;

export interface MapRegistryOptions {
  /** CPUs per-CPU maps keep a value for (1..MAX_CPUS). */
  readonly cpus: number;
  /** What a PROG_ARRAY slot accepts (the Vm passes a check for its own loaded programs). */
  readonly isProgram: (value: unknown) => boolean;
  /**
   * Keep the maps that can be shared in SharedArrayBuffers, so that
   * sharedState() can hand them to other threads. Default false.
   */
  readonly share?: boolean;
  /**
   * Another registry's sharedState() (for the same cpus): the k-th create
   * attaches to its k-th map, which must have the same definition (else
   * MapError EINVAL). Implies share.
   */
  readonly attach?: SharedMapsState;
}

export class MapRegistry {
  readonly cpus: number;
  private readonly memory: Memory;
  private readonly isProgram: (value: unknown) => boolean;
  private readonly maps = new Map<number, BpfMap>();
  /** The same maps indexed by fd (fds are dense and never reused): byPointer runs on every map helper call. */
  private readonly byFdArray: (BpfMap | undefined)[] = [undefined];
  /**
   * The last pointer byPointer resolved, and its map. Number() of a bigint
   * costs ~20 ns on Node 20, a bigint === ~2 ns, and a loop usually calls
   * helpers on one map. Cleared by destroy (fds are never reused).
   */
  private lastPointer = -1n;
  private lastMap: BpfMap | undefined;
  /** The live ring buffers (endRun runs after every run: it should not walk every map). */
  private readonly rings = new Set<RingBufMap>();
  private nextFd = 1;
  /** Whether maps' storage is shared (share or attach). */
  readonly shared: boolean;
  /** attach: the state the k-th create attaches to. */
  private readonly attached: SharedMapsState | undefined;
  /** share/attach: what every map created so far shares, in creation order. */
  private readonly sharedMaps: { readonly valid: ValidDefinition; readonly buffers: readonly SharedArrayBuffer[] }[] = [];

  constructor(memory: Memory, options: MapRegistryOptions) {
    const { cpus, isProgram, share = false, attach } = options;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
      throw new UsageError(`cpus must be an integer in 1..${MAX_CPUS} (got ${String(cpus)})`);
    }
    if (typeof isProgram !== 'function') throw new UsageError('isProgram must be a function');
    if (typeof share !== 'boolean') throw new UsageError('share must be a boolean');
    this.memory = memory;
    this.cpus = cpus;
    this.isProgram = isProgram;
    this.attached = attach === undefined ? undefined : checkSharedState(attach, cpus);
    this.shared = share || attach !== undefined;
  }

  /**
   * A new map with the next fd. Throws MapError (with Linux's code) for a
   * bad definition, before allocating anything, and ENOMEM when the address
   * space has no room for its values.
   */
  create<T extends MapTypeName>(def: MapDefinition & { type: T }): MapByType[T];
  create(def: MapDefinition): BpfMap;
  create(def: MapDefinition): BpfMap {
    const valid = checkDefinition(def, this.cpus);
    if (this.nextFd > MAX_FD) throw new MapError(EMFILE, `cannot create map: all ${MAX_FD} map fds are used`);
    const storage = this.storageFor(valid);
    const ctx: MapContext = {
      memory: this.memory,
      fd: this.nextFd,
      cpus: this.cpus,
      isProgram: this.isProgram,
      mapByFd: (fd) => this.byFd(fd),
      storage,
    };
    let map: BpfMap;
    try {
      map = new CLASSES[valid.typeName](valid, ctx);
      storage.finish();
    } catch (e) {
      for (const region of storage.regions()) this.memory.unmap(region);
      throw e;
    }
    if (this.shared) this.sharedMaps.push({ valid, buffers: storage.buffers().slice() });
    this.nextFd++;
    this.maps.set(map.fd, map);
    this.byFdArray[map.fd] = map;
    if (map instanceof RingBufMap) this.rings.add(map);
    return map;
  }

  /**
   * A structured-cloneable description of every map created so far (their
   * SharedArrayBuffers included) for `attach` in another thread. MapError
   * EINVAL unless the registry was made with share or attach.
   */
  sharedState(): SharedMapsState {
    if (!this.shared) {
      throw new MapError(EINVAL, 'maps are not shared: create the registry with share: true (a Vm with shareMaps: true)');
    }
    return {
      format: SHARED_STATE_FORMAT,
      cpus: this.cpus,
      maps: this.sharedMaps.map(({ valid, buffers }) => ({ definition: plainDefinition(valid), buffers: [...buffers] })),
    };
  }

  /** Where the next map's buffers come from: fresh (private or shared) or the attached state's. */
  private storageFor(valid: ValidDefinition): MapStorage {
    const what = `map ${valid.name ?? `map${this.nextFd}`}`;
    if (this.attached === undefined) return new MapStorage(what, this.shared);
    const k = this.sharedMaps.length;
    const entry = this.attached.maps[k];
    if (entry === undefined) {
      throw new MapError(EINVAL, `${what}: the shared state describes ${this.attached.maps.length} maps, this would be map ${k}`);
    }
    checkSameDefinition(valid, entry, k, this.cpus);
    return new MapStorage(what, true, entry.buffers);
  }

  byFd(fd: number): BpfMap | undefined {
    return this.maps.get(fd);
  }

  /** The map a register value names (MAP_POINTER_BASE + fd), or undefined. */
  byPointer(value: bigint | number): BpfMap | undefined {
    if (typeof value !== 'bigint') return this.byFdNumber(value - MAP_POINTER_BASE);
    if (value === this.lastPointer) return this.lastMap;
    // Number() of a bigint at or above 2^53 rounds, but never into the small
    // range of map pointers, so no BigInt comparison is needed.
    const map = this.byFdNumber(Number(value) - MAP_POINTER_BASE);
    if (map !== undefined) {
      this.lastPointer = value;
      this.lastMap = map;
    }
    return map;
  }

  private byFdNumber(fd: number): BpfMap | undefined {
    return fd >= 1 && fd < this.byFdArray.length && Number.isInteger(fd) ? this.byFdArray[fd] : undefined;
  }

  /** The first live map with this name. */
  byName(name: string): BpfMap | undefined {
    for (const map of this.maps.values()) if (map.name === name) return map;
    return undefined;
  }

  /** Live maps, by fd. */
  list(): BpfMap[] {
    return [...this.maps.values()];
  }

  /**
   * Called by the Vm when a run ends, however it ends: discards the
   * reservations of every ring buffer that the run neither submitted nor
   * discarded (Linux's verifier guarantees a program releases them; here the
   * run's end does). Every ring is released even when an onRecord callback
   * throws; the first such error is then rethrown.
   */
  endRun(): void {
    if (this.rings.size === 0) return;
    let failure: { error: unknown } | undefined;
    for (const map of this.rings) {
      try {
        map.discardPending();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  /** Unregisters `map`, unmaps its regions and empties the slots of maps that held it. */
  destroy(map: BpfMap): void {
    if (this.maps.get(map.fd) !== map) return;
    this.maps.delete(map.fd);
    this.byFdArray[map.fd] = undefined;
    if (this.lastMap === map) {
      this.lastPointer = -1n;
      this.lastMap = undefined;
    }
    if (map instanceof RingBufMap) this.rings.delete(map);
    for (const region of map.regions()) this.memory.unmap(region);
    for (const other of this.maps.values()) other.forget(map);
  }
}
