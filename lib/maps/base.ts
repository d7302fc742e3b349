// What every map is: its definition, its fd and pointer, the BPF-side
// operations helpers call (lookup/update/delete, with Linux's results), and
// a description for listings. Concrete maps add their JS-side API.
//
// The BPF-side defaults are what Linux answers for a type without that
// operation: no lookup (0), update and delete -EOPNOTSUPP (the kernel's
// internal ENOTSUPP, 524, is not a user-visible errno; EOPNOTSUPP is).

import { EINVAL, EOPNOTSUPP, EPERM } from '../errno.js';
import { UsageError } from '../errors.js';
import type { Memory, Region } from '../memory.js';
import type { BytesInput } from './codec.js';
import type { ValidDefinition } from './definition.js';
import { MapError } from './error.js';
import type { MapStorage } from './storage.js';
import { MAP_FLAGS, MAP_POINTER_BASE, type MapTypeName } from './types.js';

/** What the registry gives a map it creates. */
export interface MapContext {
  readonly memory: Memory;
  readonly fd: number;
  /** CPUs per-CPU maps keep a value for (cpu arguments are 0..cpus-1). */
  readonly cpus: number;
  /** Whether a value may sit in a PROG_ARRAY slot (the Vm accepts its own loaded programs). */
  readonly isProgram: (value: unknown) => boolean;
  /** The live map with this fd (map-in-map values given as fds). */
  readonly mapByFd: (fd: number) => BpfMap | undefined;
  /**
   * Where maps that can be shared between threads take their buffers from
   * (storage.ts); absent: private ArrayBuffers.
   */
  readonly storage?: MapStorage;
}

/** A map as listings show it (JSON-friendly). */
export interface MapDescription {
  readonly fd: number;
  readonly name: string;
  readonly type: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Elements held now (records pending, for ring buffers and perf event arrays). */
  readonly entries: number;
}

export abstract class BpfMap {
  readonly fd: number;
  /** What a register holding this map holds: MAP_POINTER_BASE + fd. */
  readonly pointer: number;
  readonly type: number;
  readonly typeName: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  /** The checked definition (map-in-map compares inner maps against templates with it). */
  readonly definition: ValidDefinition;
  protected readonly cpus: number;
  /**
   * BPF_F_RDONLY_PROG: programs may read the values but not write them (the
   * value region is read-only; update from a program is -EPERM, where Linux's
   * verifier would refuse the program). JS writes are allowed.
   */
  protected readonly progReadonly: boolean;
  private isFrozen = false;

  constructor(def: ValidDefinition, ctx: MapContext) {
    this.definition = def;
    this.fd = ctx.fd;
    this.pointer = MAP_POINTER_BASE + ctx.fd;
    this.type = def.type;
    this.typeName = def.typeName;
    this.keySize = def.keySize;
    this.valueSize = def.valueSize;
    this.maxEntries = def.maxEntries;
    this.flags = def.flags;
    this.name = def.name ?? `map${ctx.fd}`;
    this.cpus = ctx.cpus;
    this.progReadonly = (def.flags & MAP_FLAGS.BPF_F_RDONLY_PROG) !== 0;
  }

  /**
   * BPF side (bpf_map_lookup_elem): the address of the value for `key`
   * (keySize bytes) as seen from `cpu`, or 0 when there is none. For
   * *_OF_MAPS, the inner map's pointer.
   */
  lookup(key: Uint8Array, cpu: number): number {
    return 0;
  }

  /**
   * The lookup helpers call: the key is the keySize bytes at `offset` of
   * `bytes` (the program memory's region, read in place: no view is made),
   * and `cpu` is the run's, which the Vm has checked. Maps on the hot path
   * override it to skip lookup's argument checks; the result is lookup's.
   */
  lookupAt(bytes: Uint8Array, offset: number, cpu: number): number {
    return this.lookup(bytes.subarray(offset, offset + this.keySize), cpu);
  }

  /**
   * bpf_map_update_elem from JS (the syscall side): MapError EPERM once the
   * map is frozen, else updateElem's result.
   */
  update(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    this.assertWritable('update');
    return this.updateElem(key, value, flags, cpu);
  }

  /**
   * BPF side (bpf_map_update_elem, what the helper calls): 0 or a negative
   * errno. The map copies key and value. Freezing does not affect it.
   */
  updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    return -EOPNOTSUPP;
  }

  /**
   * JS-side delete, with a key as `get` takes it: deleteElem's result (0 or
   * -errno, -ENOENT for a missing key; not a boolean, so both sides read
   * alike: use `has` to test); MapError EPERM once the map is frozen.
   */
  delete(key: BytesInput): number {
    this.assertWritable('delete');
    return this.deleteElem(key);
  }

  /** BPF side (bpf_map_delete_elem): 0 or a negative errno. Freezing does not affect it. */
  deleteElem(key: BytesInput): number {
    return -EOPNOTSUPP;
  }

  /** Whether freeze() was called: JS-side writes now throw MapError EPERM. */
  get frozen(): boolean {
    return this.isFrozen;
  }

  /**
   * BPF_MAP_FREEZE: from now on every JS-side write (set, update, delete,
   * clear, push, pop) throws MapError EPERM; programs read and write as
   * before (make the map BPF_F_RDONLY_PROG to stop them too). There is no thaw.
   */
  freeze(): void {
    this.isFrozen = true;
  }

  /**
   * lddw map_value (src 2): the address of byte `offset` of the map's value
   * (global data). Only ARRAY maps have one; anything else is MapError.
   */
  valueAddress(offset: number): number {
    throw new MapError(EINVAL, `map ${this.name}: ${this.typeName} maps have no direct value address`);
  }

  /** Elements held now. */
  abstract get size(): number;

  describe(): MapDescription {
    const { fd, name, typeName: type, keySize, valueSize, maxEntries, flags } = this;
    return { fd, name, type, keySize, valueSize, maxEntries, flags, entries: this.size };
  }

  toJSON(): MapDescription {
    return this.describe();
  }

  /** The regions this map owns in memory (unmapped when the registry destroys it). */
  regions(): readonly Region[] {
    return [];
  }

  /** Called by the registry when `map` is destroyed: drop any reference to it (most maps hold none). */
  forget(map: BpfMap): void {}

  /** MapError EPERM when the map is frozen (the syscall side's check, made before any other). */
  protected assertWritable(operation: string): void {
    if (this.isFrozen) throw new MapError(EPERM, `map ${this.name}: ${operation} refused: the map is frozen`);
  }

  /** Throws unless `key` is keySize bytes (helpers pass views of exactly that size). */
  protected checkKey(key: Uint8Array): void {
    if (key.byteLength !== this.keySize) {
      throw new UsageError(`map ${this.name}: key must be ${this.keySize} bytes (got ${key.byteLength})`);
    }
  }

  /** Throws unless `value` is valueSize bytes. */
  protected checkValue(value: Uint8Array): void {
    if (value.byteLength !== this.valueSize) {
      throw new UsageError(`map ${this.name}: value must be ${this.valueSize} bytes (got ${value.byteLength})`);
    }
  }

  /** Throws unless `cpu` is one of the registry's CPUs. */
  protected checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) {
      throw new UsageError(`map ${this.name}: cpu ${cpu} is not in 0..${this.cpus - 1}`);
    }
  }
}
