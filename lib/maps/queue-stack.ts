// QUEUE (FIFO) and STACK (LIFO): values without keys, copied in on push and
// out on pop/peek, as bpf_map_push_elem / pop_elem / peek_elem do. A ring of
// max_entries values, preallocated like Linux's.
//
// One API for both sides (helpers and JS), Linux's results as numbers:
// - push(value, flags = BPF_ANY): 0; -E2BIG when full, unless flags is
//   BPF_EXIST, which drops the oldest value to make room; -EINVAL for other flags.
// - pop(out) / peek(out): copy into `out`, 0 or -ENOENT when empty.
// - JS convenience: pop() / peek() (no buffer) return a copy, or a u32/u64
//   with a format argument, or undefined when empty.
// The generic map operations are Linux's answers for these types: lookup
// finds nothing, update and delete are -EINVAL.

import { E2BIG, EINVAL, ENOENT } from '../errno.js';
import { UsageError } from '../errors.js';
import { BpfMap, type MapContext } from './base.js';
import { checkFormat, decode, toBytes, type BytesInput, type Decoded, type ValueFormat } from './codec.js';
import type { ValidDefinition } from './definition.js';
import { BPF_ANY, BPF_EXIST } from './types.js';

export class QueueStackMap extends BpfMap {
  private readonly elements: Uint8Array;
  /** Index of the oldest value, and how many are held. */
  private tail = 0;
  private count = 0;
  private readonly lifo: boolean;

  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx);
    this.lifo = def.typeName === 'stack';
    this.elements = new Uint8Array(def.maxEntries * def.valueSize);
  }

  override update(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    return -EINVAL;
  }

  override delete(key: Uint8Array): number {
    return -EINVAL;
  }

  override get size(): number {
    return this.count;
  }

  push(value: BytesInput, flags: number = BPF_ANY): number {
    const bytes = toBytes(value, this.valueSize, `map ${this.name}: value`);
    if (flags !== BPF_ANY && flags !== BPF_EXIST) return -EINVAL;
    if (this.count === this.maxEntries) {
      if (flags !== BPF_EXIST) return -E2BIG;
      this.tail = (this.tail + 1) % this.maxEntries; // the oldest goes, for a stack too
      this.count--;
    }
    this.elements.set(bytes, this.slot(this.count) * this.valueSize);
    this.count++;
    return 0;
  }

  /** Removes the next value (oldest for a queue, newest for a stack). */
  pop(out: Uint8Array): number;
  pop(): Uint8Array | undefined;
  pop<F extends ValueFormat>(format: F): Decoded<F> | undefined;
  pop(out: Uint8Array | ValueFormat = 'bytes'): number | Uint8Array | bigint | undefined {
    const result = this.peekInto(out);
    if (this.count > 0) {
      if (!this.lifo) this.tail = (this.tail + 1) % this.maxEntries;
      this.count--;
    }
    return result;
  }

  /** The next value, left in place. */
  peek(out: Uint8Array): number;
  peek(): Uint8Array | undefined;
  peek<F extends ValueFormat>(format: F): Decoded<F> | undefined;
  peek(out: Uint8Array | ValueFormat = 'bytes'): number | Uint8Array | bigint | undefined {
    return this.peekInto(out);
  }

  clear(): void {
    this.tail = 0;
    this.count = 0;
  }

  /** Copies of the values in the order pop would return them. */
  *values(): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.count; i++) {
      yield this.valueAt(this.lifo ? this.count - 1 - i : i).slice();
    }
  }

  [Symbol.iterator](): IterableIterator<Uint8Array> {
    return this.values();
  }

  /** Element index of the i-th oldest value. */
  private slot(i: number): number {
    return (this.tail + i) % this.maxEntries;
  }

  private valueAt(i: number): Uint8Array {
    const start = this.slot(i) * this.valueSize;
    return this.elements.subarray(start, start + this.valueSize);
  }

  private peekInto(out: Uint8Array | ValueFormat): number | Uint8Array | bigint | undefined {
    if (typeof out === 'string') checkFormat(out, `map ${this.name}: pop/peek`); // before pop removes anything
    const next = this.count === 0 ? undefined : this.valueAt(this.lifo ? this.count - 1 : 0);
    if (typeof out === 'string') return next && decode(next, out, `map ${this.name}: value`);
    if (!(out instanceof Uint8Array) || out.byteLength < this.valueSize) {
      throw new UsageError(`map ${this.name}: pop/peek needs a buffer of ${this.valueSize} bytes`);
    }
    if (next === undefined) return -ENOENT;
    out.set(next);
    return 0;
  }
}
