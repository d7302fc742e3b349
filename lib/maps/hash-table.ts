// The core of HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH: keys indexed
// in a JS Map, values in a preallocated ValueStore region.
//
// Choices, and why:
// - Storage is preallocated (as Linux does unless BPF_F_NO_PREALLOC, which is
//   accepted and ignored): a free element is one pop away and addresses never
//   move. MAX_MAP_STORAGE bounds it.
// - An update of an existing key writes its value in place, so an address a
//   program got from lookup keeps naming the live value (Linux swaps in a new
//   element for non-per-CPU maps; in place is what programs expect and is
//   what Linux does for per-CPU maps).
// - LRU is exact: the JS Map's insertion order is the recency order; a
//   BPF-side lookup or any update moves the key to the end, a JS-side get does
//   not (like Linux's lookup from the syscall); a new key in a full map
//   evicts the first (least recently used) key.

import { E2BIG, ENOENT, EPERM } from '../errno.js';
import { BpfMap, type MapContext } from './base.js';
import { keyIdFunction, toBytes, type BytesInput, type KeyId, type KeyIdFn } from './codec.js';
import type { ValidDefinition } from './definition.js';
import { ValueStore } from './store.js';
import { checkUpdateFlags, existenceError } from './update-flags.js';

export interface HashEntry {
  /** The map's own copy of the key bytes. */
  readonly key: Uint8Array;
  readonly element: number;
}

/** Writes a value into an element; `fresh` when the element was just allocated. */
export type ValueWriter = (element: number, fresh: boolean) => void;

/** `V`: what JS reads for one value (bytes, or an array of per-CPU bytes). */
export abstract class HashTable<V> extends BpfMap {
  protected readonly store: ValueStore;
  private readonly index = new Map<KeyId, HashEntry>();
  private readonly keyId: KeyIdFn;
  private readonly lru: boolean;
  /** Copies of the value per element: cpus for per-CPU maps, else 1. */
  protected readonly copies: number;

  constructor(def: ValidDefinition, ctx: MapContext, percpu: boolean) {
    super(def, ctx);
    this.lru = def.typeName === 'lru_hash' || def.typeName === 'lru_percpu_hash';
    this.copies = percpu ? ctx.cpus : 1;
    this.keyId = keyIdFunction(def.keySize);
    this.store = new ValueStore(ctx.memory, `map ${this.name}`, def.valueSize, def.maxEntries, this.copies, this.progReadonly);
  }

  override lookup(key: Uint8Array, cpu: number): number {
    this.checkKey(key);
    this.checkCpu(cpu);
    return this.lookupAt(key, 0, cpu);
  }

  override lookupAt(bytes: Uint8Array, offset: number, cpu: number): number {
    const id = this.keyId(bytes, offset);
    const entry = this.index.get(id);
    if (entry === undefined) return 0;
    if (this.lru) this.touch(id, entry);
    return this.store.address(entry.element, this.copies === 1 ? 0 : cpu);
  }

  override update(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    this.checkKey(key);
    this.checkValue(value);
    this.checkCpu(cpu);
    if (this.progReadonly) return -EPERM;
    if (this.copies === 1) return this.insert(key, flags, (element) => this.store.view(element, 0).set(value));
    // From a program, a per-CPU update sets the current CPU's copy; a new
    // element's other copies start zeroed (Linux's pcpu_init_value).
    return this.insert(key, flags, (element, fresh) => {
      if (fresh) this.store.clear(element);
      this.store.view(element, cpu).set(value);
    });
  }

  /** Also the JS-side delete: a key as `toBytes` takes it; 0 or -ENOENT. */
  override delete(key: BytesInput): number {
    const id = this.keyId(this.jsKey(key));
    const entry = this.index.get(id);
    if (entry === undefined) return -ENOENT;
    this.index.delete(id);
    this.store.release(entry.element);
    return 0;
  }

  override get size(): number {
    return this.index.size;
  }

  override regions() {
    return [this.store.region];
  }

  /** Removes every element (their addresses become free for reuse). */
  clear(): void {
    this.index.clear();
    this.store.reset();
  }

  /** Whether `key` is present (no LRU effect). */
  has(key: BytesInput): boolean {
    return this.index.has(this.keyId(this.jsKey(key)));
  }

  /** Copies of the keys, in iteration order (insertion order; least recently used first for LRU maps). */
  *keys(): IterableIterator<Uint8Array> {
    for (const entry of this.index.values()) yield entry.key.slice();
  }

  /** Values (copies) in the order of keys(). */
  *values(): IterableIterator<V> {
    for (const entry of this.index.values()) yield this.read(entry.element);
  }

  /** [key, value] copies in the order of keys(). */
  *entries(): IterableIterator<[Uint8Array, V]> {
    for (const entry of this.index.values()) yield [entry.key.slice(), this.read(entry.element)];
  }

  [Symbol.iterator](): IterableIterator<[Uint8Array, V]> {
    return this.entries();
  }

  /** A copy of an element's value as JS reads it. */
  protected abstract read(element: number): V;

  /** A JS key as bytes (UsageError if it has the wrong size). */
  protected jsKey(key: BytesInput): Uint8Array {
    return toBytes(key, this.keySize, `map ${this.name}: key`);
  }

  /** The entry for `key`, moved to the most recent end when `touch`. */
  protected find(key: Uint8Array, touch: boolean): HashEntry | undefined {
    const id = this.keyId(key);
    const entry = this.index.get(id);
    if (entry !== undefined && touch) this.touch(id, entry);
    return entry;
  }

  /** Makes `id` the most recently used key. */
  private touch(id: KeyId, entry: HashEntry): void {
    this.index.delete(id);
    this.index.set(id, entry);
  }

  /**
   * Linux's update: flag checks, then in place for a present key, else a new
   * element (evicting the least recently used key of a full LRU map, -E2BIG
   * for a full ordinary one). `write` fills the value.
   */
  protected insert(key: Uint8Array, flags: number, write: ValueWriter): number {
    const bad = checkUpdateFlags(flags);
    if (bad !== 0) return bad;
    const entry = this.find(key, this.lru);
    const exists = existenceError(flags, entry !== undefined);
    if (exists !== 0) return exists;
    if (entry !== undefined) {
      write(entry.element, false);
      return 0;
    }
    let element = this.store.allocate();
    if (element === undefined && this.lru) {
      const [oldestId, oldest] = this.index.entries().next().value as [KeyId, HashEntry];
      this.index.delete(oldestId);
      this.store.release(oldest.element);
      element = this.store.allocate();
    }
    if (element === undefined) return -E2BIG;
    write(element, true);
    this.index.set(this.keyId(key), { key: key.slice(), element });
    return 0;
  }
}
