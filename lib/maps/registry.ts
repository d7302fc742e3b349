// The maps of one VM: creates them from definitions, gives them fds (from 1,
// never reused, so a stale map pointer can never name a newer map) and
// finds them again by fd or by the pointer a program holds.

import { EMFILE } from '../errno.js';
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

  constructor(memory: Memory, options: MapRegistryOptions) {
    const { cpus, isProgram } = options;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
      throw new UsageError(`cpus must be an integer in 1..${MAX_CPUS} (got ${String(cpus)})`);
    }
    if (typeof isProgram !== 'function') throw new UsageError('isProgram must be a function');
    this.memory = memory;
    this.cpus = cpus;
    this.isProgram = isProgram;
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
    const ctx: MapContext = {
      memory: this.memory,
      fd: this.nextFd,
      cpus: this.cpus,
      isProgram: this.isProgram,
      mapByFd: (fd) => this.byFd(fd),
    };
    const map: BpfMap = new CLASSES[valid.typeName](valid, ctx);
    this.nextFd++;
    this.maps.set(map.fd, map);
    this.byFdArray[map.fd] = map;
    if (map instanceof RingBufMap) this.rings.add(map);
    return map;
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
