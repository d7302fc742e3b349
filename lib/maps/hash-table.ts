// The core of HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH: keys indexed
// in a HashIndex (typed arrays), values in a preallocated ValueStore region.
// Both may be SharedArrayBuffers shared by several threads (storage.ts);
// then every operation, BPF side and JS side, holds the index's lock.
//
// Choices, and why:
// - Storage is preallocated (as Linux does unless BPF_F_NO_PREALLOC, which is
//   accepted and ignored): a free element is one pop away and addresses never
//   move. MAX_MAP_STORAGE bounds it.
// - An update of an existing key writes its value in place, so an address a
//   program got from lookup keeps naming the live value (Linux swaps in a new
//   element for non-per-CPU maps; in place is what programs expect and is
//   what Linux does for per-CPU maps).
// - LRU is exact: the index's order list is the recency order; a BPF-side
//   lookup or any update moves the key to the end, a JS-side get does not
//   (like Linux's lookup from the syscall); a new key in a full map evicts
//   the first (least recently used) key.
// - Values are not locked (as in Linux): a program writes the value it
//   looked up with plain stores or atomic instructions. An element deleted
//   by one thread may be reused by another while a third still holds its
//   address (Linux defers reuse with RCU; here the address stays valid
//   memory, it just names the new key's value).
// - Iteration walks a snapshot of the keys taken under the lock; a key
//   deleted before its turn is skipped, one added during it is not visited.

import { E2BIG, ENOENT, EPERM } from '../errno.js';
import { BpfMap, type MapContext } from './base.js';
import { toBytes, type BytesInput } from './codec.js';
import type { ValidDefinition } from './definition.js';
import { HashIndex, LOCK_WORD } from './hash-index.js';
import { lock, unlock } from './lock.js';
import { MapStorage } from './storage.js';
import { ValueStore } from './store.js';
import { checkUpdateFlags, existenceError } from './update-flags.js';

/** Writes a value into an element; `fresh` when the element was just allocated. */
export type ValueWriter = (element: number, fresh: boolean) => void;

/** `V`: what JS reads for one value (bytes, or an array of per-CPU bytes). */
export abstract class HashTable<V> extends BpfMap {
  protected readonly store: ValueStore;
  protected readonly index: HashIndex;
  private readonly lru: boolean;
  /** Whether the map is shared between threads (operations take the lock). */
  private readonly shared: boolean;
  private readonly what: string;
  /** Copies of the value per element: cpus for per-CPU maps, else 1. */
  protected readonly copies: number;

  constructor(def: ValidDefinition, ctx: MapContext, percpu: boolean) {
    super(def, ctx);
    this.lru = def.typeName === 'lru_hash' || def.typeName === 'lru_percpu_hash';
    this.copies = percpu ? ctx.cpus : 1;
    this.what = `map ${this.name}`;
    const storage = ctx.storage ?? new MapStorage(this.what, false);
    this.store = new ValueStore(ctx.memory, this.what, def.valueSize, def.maxEntries, this.copies, this.progReadonly, storage);
    this.index = new HashIndex(def.keySize, def.maxEntries, storage, this.what);
    this.shared = this.index.shared;
  }

  override lookup(key: Uint8Array, cpu: number): number {
    this.checkKey(key);
    this.checkCpu(cpu);
    return this.lookupAt(key, 0, cpu);
  }

  override lookupAt(bytes: Uint8Array, offset: number, cpu: number): number {
    if (this.shared) return this.lookupLocked(bytes, offset, cpu);
    const element = this.index.findAt(bytes, offset);
    if (element < 0) return 0;
    if (this.lru) this.index.touch(element);
    return this.store.address(element, this.copies === 1 ? 0 : cpu);
  }

  override updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
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

  /** A key as `toBytes` takes it (JS's delete comes here too); 0 or -ENOENT. */
  override deleteElem(key: BytesInput): number {
    const bytes = this.jsKey(key);
    return this.locked(() => {
      const element = this.index.findAt(bytes, 0);
      if (element < 0) return -ENOENT;
      this.index.remove(element);
      return 0;
    });
  }

  override get size(): number {
    return this.index.count;
  }

  override regions() {
    return [this.store.region];
  }

  /** Removes every element (their addresses become free for reuse). */
  clear(): void {
    this.assertWritable('clear');
    this.locked(() => this.index.clear());
  }

  /** Whether `key` is present (no LRU effect). */
  has(key: BytesInput): boolean {
    const bytes = this.jsKey(key);
    return this.locked(() => this.index.findAt(bytes, 0) >= 0);
  }

  /** Copies of the keys, in iteration order (insertion order; least recently used first for LRU maps). */
  *keys(): IterableIterator<Uint8Array> {
    for (const key of this.keySnapshot()) if (this.has(key)) yield key;
  }

  /** Values (copies) in the order of keys(). */
  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  /** [key, value] copies in the order of keys(). */
  *entries(): IterableIterator<[Uint8Array, V]> {
    for (const key of this.keySnapshot()) {
      const value = this.withElement(key, (element) => this.read(element));
      if (value !== undefined) yield [key, value];
    }
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

  /** Runs `fn` holding the lock when the map is shared (JS-side operations). */
  protected locked<T>(fn: () => T): T {
    if (!this.shared) return fn();
    lock(this.index.header, LOCK_WORD, this.what);
    try {
      return fn();
    } finally {
      unlock(this.index.header, LOCK_WORD);
    }
  }

  /** `fn(element)` for the element holding `key` (no LRU effect), or undefined; under the lock. */
  protected withElement<T>(key: BytesInput, fn: (element: number) => T): T | undefined {
    const bytes = this.jsKey(key);
    return this.locked(() => {
      const element = this.index.findAt(bytes, 0);
      return element < 0 ? undefined : fn(element);
    });
  }

  /**
   * Linux's update: flag checks, then in place for a present key, else a new
   * element (evicting the least recently used key of a full LRU map, -E2BIG
   * for a full ordinary one). `write` fills the value.
   */
  protected insert(key: Uint8Array, flags: number, write: ValueWriter): number {
    const bad = checkUpdateFlags(flags);
    if (bad !== 0) return bad;
    if (!this.shared) return this.insertUnlocked(key, flags, write);
    lock(this.index.header, LOCK_WORD, this.what);
    try {
      return this.insertUnlocked(key, flags, write);
    } finally {
      unlock(this.index.header, LOCK_WORD);
    }
  }

  private insertUnlocked(key: Uint8Array, flags: number, write: ValueWriter): number {
    const index = this.index;
    const found = index.findAt(key, 0);
    if (found >= 0 && this.lru) index.touch(found); // any update attempt on a present key, even a refused one
    const exists = existenceError(flags, found >= 0);
    if (exists !== 0) return exists;
    if (found >= 0) {
      write(found, false);
      return 0;
    }
    let element = index.insert();
    if (element < 0 && this.lru) {
      const oldest = index.oldest();
      if (oldest >= 0) index.remove(oldest);
      element = index.insert();
    }
    if (element < 0) return -E2BIG;
    write(element, true);
    return 0;
  }

  /** lookupAt under the lock. Nothing in it can throw (typed-array reads and writes), so no try/finally. */
  private lookupLocked(bytes: Uint8Array, offset: number, cpu: number): number {
    const index = this.index;
    lock(index.header, LOCK_WORD, this.what);
    const element = index.findAt(bytes, offset);
    if (element >= 0 && this.lru) index.touch(element);
    unlock(index.header, LOCK_WORD);
    return element < 0 ? 0 : this.store.address(element, this.copies === 1 ? 0 : cpu);
  }

  /** Copies of the keys held now, oldest first, taken under the lock. */
  private keySnapshot(): Uint8Array[] {
    return this.locked(() => this.index.order().map((element) => this.index.keyOf(element)));
  }
}
