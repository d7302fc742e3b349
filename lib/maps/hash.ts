// The JS side of the hash maps: HASH and LRU_HASH (HashMap), PERCPU_HASH and
// LRU_PERCPU_HASH (PerCpuHashMap). The BPF side and the storage rules are in
// hash-table.ts.
//
// Keys and values are bytes, or numbers/bigints when 4 or 8 bytes wide
// (codec.ts). `get` returns a copy (or a u32/u64 with a format argument),
// `set(key, value, flags = BPF_ANY)` throws MapError with Linux's code
// (EEXIST, ENOENT, E2BIG, EINVAL), `delete` returns 0 or -ENOENT.

import type { MapContext } from './base.js';
import { checkFormat, decode, toBytes, type BytesInput, type Decoded, type ValueFormat } from './codec.js';
import type { ValidDefinition } from './definition.js';
import { HashTable } from './hash-table.js';
import { perCpuValues } from './percpu.js';
import { BPF_ANY } from './types.js';
import { orThrow } from './update-flags.js';

export class HashMap extends HashTable<Uint8Array> {
  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx, false);
  }

  /** A copy of the value for `key`, or undefined. */
  get(key: BytesInput): Uint8Array | undefined;
  get<F extends ValueFormat>(key: BytesInput, format: F): Decoded<F> | undefined;
  get(key: BytesInput, format: ValueFormat = 'bytes'): Uint8Array | number | bigint | undefined {
    checkFormat(format, `map ${this.name}: get`);
    return this.withElement(key, (element) => decode(this.store.view(element, 0), format, `map ${this.name}: value`));
  }

  /** Inserts or replaces (per `flags`); throws MapError when Linux would fail. */
  set(key: BytesInput, value: BytesInput, flags: number = BPF_ANY): this {
    this.assertWritable('set');
    const bytes = toBytes(value, this.valueSize, `map ${this.name}: value`);
    const result = this.insert(this.jsKey(key), flags, (element) => this.store.view(element, 0).set(bytes));
    orThrow(result, this.name, 'set');
    return this;
  }

  protected read(element: number): Uint8Array {
    return this.store.view(element, 0).slice();
  }
}

/**
 * One value per CPU. Programs see their CPU's copy; JS reads all of them
 * (an array indexed by CPU) and writes one value to every CPU or an array of
 * exactly `cpus` values.
 */
export class PerCpuHashMap extends HashTable<Uint8Array[]> {
  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx, true);
  }

  get(key: BytesInput): Uint8Array[] | undefined;
  get<F extends ValueFormat>(key: BytesInput, format: F): Decoded<F>[] | undefined;
  get(key: BytesInput, format: ValueFormat = 'bytes'): (Uint8Array | number | bigint)[] | undefined {
    checkFormat(format, `map ${this.name}: get`);
    return this.withElement(key, (element) => Array.from({ length: this.copies }, (_, cpu) =>
      decode(this.store.view(element, cpu), format, `map ${this.name}: value`)));
  }

  set(key: BytesInput, value: BytesInput | readonly BytesInput[], flags: number = BPF_ANY): this {
    this.assertWritable('set');
    const values = perCpuValues(value, this.copies, this.valueSize, this.name);
    const result = this.insert(this.jsKey(key), flags, (element) => {
      values.forEach((bytes, cpu) => this.store.view(element, cpu).set(bytes));
    });
    orThrow(result, this.name, 'set');
    return this;
  }

  protected read(element: number): Uint8Array[] {
    return Array.from({ length: this.copies }, (_, cpu) => this.store.view(element, cpu).slice());
  }
}
