// Arrays whose slots hold objects rather than bytes: PROG_ARRAY (programs)
// and ARRAY_OF_MAPS (maps). In Linux user space fills them with fds; here JS
// puts the objects themselves (or a map's fd). Slots start empty and are
// stored sparsely, so max_entries costs nothing until slots are filled.
//
// Programs cannot fill slots: a BPF-side update is -EOPNOTSUPP (Linux's
// verifier refuses it). Delete works from both sides, like Linux's syscall:
// -E2BIG past the end, -ENOENT for an empty slot.

import { E2BIG, EINVAL, ENOENT, EOPNOTSUPP } from '../errno.js';
import { BpfMap } from './base.js';
import { indexOf, type BytesInput } from './codec.js';
import { BPF_ANY } from './types.js';
import { orThrow } from './update-flags.js';

/** `T`: what a slot holds; `In`: what JS may put in (a map's fd as well as the map, for ARRAY_OF_MAPS). */
export abstract class FdArray<T, In = T> extends BpfMap {
  private readonly slots = new Map<number, T>();

  /** `value` as a slot value, or a thrown MapError/UsageError saying why not. */
  protected abstract accept(value: In): T;

  override updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    return -EOPNOTSUPP;
  }

  /** Also the JS-side delete (index as a number or 4 bytes): 0, -E2BIG or -ENOENT. */
  override deleteElem(key: BytesInput): number {
    const index = indexOf(key, `map ${this.name}: key`);
    if (index >= this.maxEntries) return -E2BIG;
    return this.slots.delete(index) ? 0 : -ENOENT;
  }

  /** Filled slots. */
  override get size(): number {
    return this.slots.size;
  }

  override forget(map: BpfMap): void {
    for (const [index, value] of this.slots) if (value === map) this.slots.delete(index);
  }

  /** The object in slot `index`, or undefined (empty or past the end). */
  get(index: BytesInput): T | undefined {
    return this.slots.get(indexOf(index, `map ${this.name}: key`));
  }

  /**
   * Puts `value` in slot `index` (null empties it). Throws MapError: E2BIG
   * past the end, EINVAL for flags other than BPF_ANY (Linux's rule for fd
   * arrays) or a value the map cannot hold.
   */
  set(index: BytesInput, value: In | null, flags: number = BPF_ANY): this {
    this.assertWritable('set');
    const i = indexOf(index, `map ${this.name}: key`);
    if (flags !== BPF_ANY) orThrow(-EINVAL, this.name, 'set');
    if (i >= this.maxEntries) orThrow(-E2BIG, this.name, `set at index ${i}`);
    if (value === null) this.slots.delete(i);
    else this.slots.set(i, this.accept(value));
    return this;
  }

  has(index: BytesInput): boolean {
    return this.slots.has(indexOf(index, `map ${this.name}: key`));
  }

  /** Empties every slot. */
  clear(): void {
    this.assertWritable('clear');
    this.slots.clear();
  }

  /** Filled indices, ascending. */
  *keys(): IterableIterator<number> {
    yield* [...this.slots.keys()].sort((a, b) => a - b);
  }

  *values(): IterableIterator<T> {
    for (const index of this.keys()) yield this.slots.get(index)!;
  }

  *entries(): IterableIterator<[number, T]> {
    for (const index of this.keys()) yield [index, this.slots.get(index)!];
  }

  [Symbol.iterator](): IterableIterator<[number, T]> {
    return this.entries();
  }

  /** The object in slot `index` for BPF-side users (tail calls, map-in-map lookups). */
  protected slot(index: number): T | undefined {
    return this.slots.get(index);
  }
}
