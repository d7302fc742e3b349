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
// - push/pop are the JS side (MapError EPERM once frozen); helpers call
//   pushElem/popElem, which freezing does not affect.
// The generic map operations are Linux's answers for these types: lookup
// finds nothing, update and delete are -EINVAL.
//
// The ring and its position (oldest index, count) are in one buffer from the
// map's storage, so a queue can be shared between threads; then every
// operation holds the lock in the buffer's first word.

import { E2BIG, EINVAL, ENOENT } from '../errno.js';
import { UsageError } from '../errors.js';
import { BpfMap, type MapContext } from './base.js';
import { checkFormat, decode, toBytes, type BytesInput, type Decoded, type ValueFormat } from './codec.js';
import type { ValidDefinition } from './definition.js';
import { MapError } from './error.js';
import { lock, unlock } from './lock.js';
import { MapStorage } from './storage.js';
import { BPF_ANY, BPF_EXIST } from './types.js';

/** Words of the header: the lock, the index of the oldest value, how many are held. */
const LOCK = 0;
const TAIL = 1;
const COUNT = 2;
const HEADER_BYTES = 16;

export class QueueStackMap extends BpfMap {
  private readonly elements: Uint8Array;
  private readonly header: Int32Array;
  private readonly lifo: boolean;
  private readonly shared: boolean;

  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx);
    this.lifo = def.typeName === 'stack';
    const storage = ctx.storage ?? new MapStorage(`map ${this.name}`, false);
    const buffer = storage.buffer(HEADER_BYTES + def.maxEntries * def.valueSize, 'ring');
    this.shared = storage.shared;
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.elements = new Uint8Array(buffer, HEADER_BYTES);
    const h = this.header;
    if (!(h[TAIL]! >= 0 && h[TAIL]! < def.maxEntries && h[COUNT]! >= 0 && h[COUNT]! <= def.maxEntries)) {
      throw new MapError(EINVAL, `map ${this.name}: the shared ring is corrupt (tail ${h[TAIL]}, count ${h[COUNT]})`);
    }
  }

  private get tail(): number {
    return this.header[TAIL]!;
  }

  private set tail(value: number) {
    this.header[TAIL] = value;
  }

  private get count(): number {
    return this.header[COUNT]!;
  }

  private set count(value: number) {
    this.header[COUNT] = value;
  }

  override updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    return -EINVAL;
  }

  override deleteElem(key: Uint8Array): number {
    return -EINVAL;
  }

  override get size(): number {
    return this.count;
  }

  /** JS push: pushElem's result; MapError EPERM once the map is frozen. */
  push(value: BytesInput, flags: number = BPF_ANY): number {
    this.assertWritable('push');
    return this.pushElem(value, flags);
  }

  /** BPF side (bpf_map_push_elem): 0, -E2BIG when full (unless BPF_EXIST), -EINVAL. Freezing does not affect it. */
  pushElem(value: BytesInput, flags: number = BPF_ANY): number {
    const bytes = toBytes(value, this.valueSize, `map ${this.name}: value`);
    if (flags !== BPF_ANY && flags !== BPF_EXIST) return -EINVAL;
    return this.locked(() => this.pushLocked(bytes, flags));
  }

  private pushLocked(bytes: Uint8Array, flags: number): number {
    if (this.count === this.maxEntries) {
      if (flags !== BPF_EXIST) return -E2BIG;
      this.tail = (this.tail + 1) % this.maxEntries; // the oldest goes, for a stack too
      this.count--;
    }
    this.elements.set(bytes, this.slot(this.count) * this.valueSize);
    this.count++;
    return 0;
  }

  /** Removes the next value (oldest for a queue, newest for a stack); MapError EPERM once frozen. */
  pop(out: Uint8Array): number;
  pop(): Uint8Array | undefined;
  pop<F extends ValueFormat>(format: F): Decoded<F> | undefined;
  pop(out: Uint8Array | ValueFormat = 'bytes'): number | Uint8Array | bigint | undefined {
    this.assertWritable('pop');
    return this.popElem(out as Uint8Array);
  }

  /** BPF side (bpf_map_pop_elem), with pop's forms. Freezing does not affect it. */
  popElem(out: Uint8Array): number;
  popElem(): Uint8Array | undefined;
  popElem<F extends ValueFormat>(format: F): Decoded<F> | undefined;
  popElem(out: Uint8Array | ValueFormat = 'bytes'): number | Uint8Array | bigint | undefined {
    return this.locked(() => {
      const result = this.peekInto(out);
      if (this.count > 0) {
        if (!this.lifo) this.tail = (this.tail + 1) % this.maxEntries;
        this.count--;
      }
      return result;
    });
  }

  /** The next value, left in place. */
  peek(out: Uint8Array): number;
  peek(): Uint8Array | undefined;
  peek<F extends ValueFormat>(format: F): Decoded<F> | undefined;
  peek(out: Uint8Array | ValueFormat = 'bytes'): number | Uint8Array | bigint | undefined {
    return this.locked(() => this.peekInto(out));
  }

  clear(): void {
    this.assertWritable('clear');
    this.locked(() => {
      this.tail = 0;
      this.count = 0;
    });
  }

  /** Copies of the values in the order pop would return them (a snapshot). */
  *values(): IterableIterator<Uint8Array> {
    yield* this.locked(() => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < this.count; i++) out.push(this.valueAt(this.lifo ? this.count - 1 - i : i).slice());
      return out;
    });
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

  /** Runs `fn` holding the lock when the map is shared. */
  private locked<T>(fn: () => T): T {
    if (!this.shared) return fn();
    lock(this.header, LOCK, `map ${this.name}`);
    try {
      return fn();
    } finally {
      unlock(this.header, LOCK);
    }
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
