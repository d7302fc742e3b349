// ARRAY (ArrayMap) and PERCPU_ARRAY (PerCpuArrayMap): max_entries
// preallocated, zeroed values indexed by a u32 key. Every index below
// max_entries always exists; nothing can be deleted (-EINVAL, as Linux).
//
// JS side: keys are indices (a number, or the 4 key bytes); `get` returns a
// copy (or u32/u64 with a format), undefined past the end; `set(index,
// value, flags = BPF_ANY)` throws MapError (E2BIG past the end, EEXIST for
// BPF_NOEXIST, EINVAL for bad flags); iteration yields [index, value].

import { E2BIG, EEXIST, EINVAL, EPERM } from '../errno.js';
import { BpfMap, type MapContext } from './base.js';
import { checkFormat, decode, indexOf, toBytes, u32At, type BytesInput, type Decoded, type ValueFormat } from './codec.js';
import type { ValidDefinition } from './definition.js';
import { MapError } from './error.js';
import { perCpuValues } from './percpu.js';
import { MapStorage } from './storage.js';
import { ValueStore } from './store.js';
import { BPF_ANY, BPF_NOEXIST } from './types.js';
import { checkUpdateFlags, orThrow } from './update-flags.js';

/** `V`: what JS reads for one value (bytes, or an array of per-CPU bytes). */
export abstract class ArrayTable<V> extends BpfMap {
  protected readonly store: ValueStore;
  protected readonly copies: number;

  constructor(def: ValidDefinition, ctx: MapContext, percpu: boolean) {
    super(def, ctx);
    this.copies = percpu ? ctx.cpus : 1;
    const storage = ctx.storage ?? new MapStorage(`map ${this.name}`, false);
    this.store = new ValueStore(ctx.memory, `map ${this.name}`, def.valueSize, def.maxEntries, this.copies, this.progReadonly, storage);
  }

  override lookup(key: Uint8Array, cpu: number): number {
    this.checkKey(key);
    this.checkCpu(cpu);
    return this.lookupAt(key, 0, cpu);
  }

  override lookupAt(bytes: Uint8Array, offset: number, cpu: number): number {
    const index = u32At(bytes, offset);
    if (index >= this.maxEntries) return 0;
    return this.store.address(index, this.copies === 1 ? 0 : cpu);
  }

  /** From a program, a per-CPU array's update sets the current CPU's copy. */
  override updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    this.checkKey(key);
    this.checkValue(value);
    this.checkCpu(cpu);
    if (this.progReadonly) return -EPERM;
    return this.write(u32At(key), flags, (index) => this.store.view(index, this.copies === 1 ? 0 : cpu).set(value));
  }

  /** Array elements cannot be deleted: always -EINVAL (JS too). */
  override deleteElem(key: BytesInput): number {
    indexOf(key, `map ${this.name}: key`);
    return -EINVAL;
  }

  /** Always max_entries: every index exists. */
  override get size(): number {
    return this.maxEntries;
  }

  override regions() {
    return [this.store.region];
  }

  has(index: BytesInput): boolean {
    return indexOf(index, `map ${this.name}: key`) < this.maxEntries;
  }

  /** Zeroes every value (a JS convenience; Linux has no such operation). */
  clear(): void {
    this.assertWritable('clear');
    this.store.region.bytes.fill(0);
  }

  *keys(): IterableIterator<number> {
    for (let i = 0; i < this.maxEntries; i++) yield i;
  }

  *values(): IterableIterator<V> {
    for (let i = 0; i < this.maxEntries; i++) yield this.read(i);
  }

  *entries(): IterableIterator<[number, V]> {
    for (let i = 0; i < this.maxEntries; i++) yield [i, this.read(i)];
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }

  protected abstract read(index: number): V;

  /** The index a JS key names, or undefined past the end. */
  protected jsIndex(key: BytesInput): number | undefined {
    const index = indexOf(key, `map ${this.name}: key`);
    return index < this.maxEntries ? index : undefined;
  }

  /** Linux's checks, in Linux's order, then `fill(index)`. */
  protected write(index: number, flags: number, fill: (index: number) => void): number {
    const bad = checkUpdateFlags(flags);
    if (bad !== 0) return bad;
    if (index >= this.maxEntries) return -E2BIG;
    if (flags === BPF_NOEXIST) return -EEXIST;
    fill(index);
    return 0;
  }
}

export class ArrayMap extends ArrayTable<Uint8Array> {
  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx, false);
  }

  /**
   * lddw map_value: the address of byte `offset` of entry 0 (global data
   * sections are one-entry arrays). `offset` must be inside the value.
   */
  override valueAddress(offset: number): number {
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.valueSize) {
      throw new MapError(EINVAL, `map ${this.name}: value offset ${offset} is outside the ${this.valueSize}-byte value`);
    }
    return this.store.address(0, 0) + offset;
  }

  get(index: BytesInput): Uint8Array | undefined;
  get<F extends ValueFormat>(index: BytesInput, format: F): Decoded<F> | undefined;
  get(index: BytesInput, format: ValueFormat = 'bytes'): Uint8Array | number | bigint | undefined {
    checkFormat(format, `map ${this.name}: get`);
    const i = this.jsIndex(index);
    return i === undefined ? undefined : decode(this.store.view(i, 0), format, `map ${this.name}: value`);
  }

  set(index: BytesInput, value: BytesInput, flags: number = BPF_ANY): this {
    this.assertWritable('set');
    const bytes = toBytes(value, this.valueSize, `map ${this.name}: value`);
    const result = this.write(indexOf(index, `map ${this.name}: key`), flags, (i) => this.store.view(i, 0).set(bytes));
    orThrow(result, this.name, 'set');
    return this;
  }

  protected read(index: number): Uint8Array {
    return this.store.view(index, 0).slice();
  }
}

/** One value per CPU and index; JS reads arrays indexed by CPU and writes one value for all or one per CPU. */
export class PerCpuArrayMap extends ArrayTable<Uint8Array[]> {
  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx, true);
  }

  get(index: BytesInput): Uint8Array[] | undefined;
  get<F extends ValueFormat>(index: BytesInput, format: F): Decoded<F>[] | undefined;
  get(index: BytesInput, format: ValueFormat = 'bytes'): (Uint8Array | number | bigint)[] | undefined {
    checkFormat(format, `map ${this.name}: get`);
    const i = this.jsIndex(index);
    if (i === undefined) return undefined;
    return Array.from({ length: this.copies }, (_, cpu) => decode(this.store.view(i, cpu), format, `map ${this.name}: value`));
  }

  set(index: BytesInput, value: BytesInput | readonly BytesInput[], flags: number = BPF_ANY): this {
    this.assertWritable('set');
    const values = perCpuValues(value, this.copies, this.valueSize, this.name);
    const result = this.write(indexOf(index, `map ${this.name}: key`), flags, (i) => {
      values.forEach((bytes, cpu) => this.store.view(i, cpu).set(bytes));
    });
    orThrow(result, this.name, 'set');
    return this;
  }

  protected read(index: number): Uint8Array[] {
    return Array.from({ length: this.copies }, (_, cpu) => this.store.view(index, cpu).slice());
  }
}
