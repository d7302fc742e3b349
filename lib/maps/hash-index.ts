// The index of a hash map (which key is in which element, in which order)
// in typed arrays over one buffer, so that it can live in a
// SharedArrayBuffer and several threads can use one map. Single-threaded
// maps use the same code over an ArrayBuffer: one implementation.
//
// Layout, in Int32 words: a header, the bucket heads, then per element its
// bucket-chain link, its older and newer neighbours in the order list, and
// its key (the key bytes packed little-endian into words, the last word
// zero-padded). Element ids are 1-based inside the index so that 0 is "none"
// and a zeroed buffer is an empty index; callers see 0-based elements (the
// ValueStore's). Buckets are a power of two at least the capacity, chosen
// by Fibonacci hashing of the key words, so chains stay short.
//
// - Allocation: freed elements are reused last-freed first (a free list
//   through the chain links), then never-used ones in order.
// - Order: a doubly linked list, oldest first. A new key goes at the newest
//   end; touch moves a key there (LRU recency); the oldest is what an LRU
//   map evicts. Iteration follows it, which is JS Map insertion order for
//   maps that never touch.
// - Locking is the caller's (hash-table.ts): the lock word is in the header.

import { EINVAL } from '../errno.js';
import { MapError } from './error.js';
import { lock, unlock } from './lock.js';
import type { MapStorage } from './storage.js';

const LOCK = 0;
const MAGIC = 1;
const KEY_SIZE = 2;
const CAPACITY = 3;
const COUNT = 4;
const OLDEST = 5;
const NEWEST = 6;
const FREE = 7;
const USED = 8;
const HEADER_WORDS = 16;
/** The header word the index's lock lives in (the caller takes it: hash-table.ts). */
export const LOCK_WORD = LOCK;
const INDEX_MAGIC = 0x31485342; // "BSH1"
/** The multiplier of Fibonacci hashing (2^32 / golden ratio). */
const GOLDEN = 0x9e3779b1 | 0;

/** Index bytes per element at most (links, key words, bucket heads), for the storage cap. */
export function indexBytesPerEntry(keySize: number): number {
  return 3 * 4 + Math.ceil(keySize / 4) * 4 + 8;
}

export class HashIndex {
  /** Whether the index is in a SharedArrayBuffer (then every use must hold the lock). */
  readonly shared: boolean;
  readonly keySize: number;
  readonly capacity: number;
  /** The header: the lock word is `header[LOCK_WORD]`. */
  readonly header: Int32Array;
  /** Key words per element. */
  private readonly width: number;
  /** 32 - log2(buckets): Fibonacci hashing keeps the top bits. */
  private readonly shift: number;
  /** Keys of exactly 4 bytes take a shorter path (the commonest size). */
  private readonly word: boolean;
  private readonly heads: Int32Array;
  private readonly chain: Int32Array;
  private readonly older: Int32Array;
  private readonly newer: Int32Array;
  private readonly keys: Int32Array;
  /** The words of the key the last findAt looked for, and its bucket (insert uses both). */
  private readonly probe: Int32Array;
  private bucket = 0;

  constructor(keySize: number, capacity: number, storage: MapStorage, what: string) {
    this.keySize = keySize;
    this.capacity = capacity;
    this.width = Math.ceil(keySize / 4);
    this.word = keySize === 4;
    let bits = 1;
    while (2 ** bits < capacity) bits++;
    this.shift = 32 - bits;
    const buckets = 2 ** bits;
    const slots = capacity + 1;
    const words = HEADER_WORDS + buckets + 3 * slots + this.width * slots;
    const buffer = storage.buffer(words * 4, 'hash index');
    this.shared = storage.shared;
    let at = 0;
    const take = (n: number): Int32Array => {
      const view = new Int32Array(buffer, at * 4, n);
      at += n;
      return view;
    };
    this.header = take(HEADER_WORDS);
    this.heads = take(buckets);
    this.chain = take(slots);
    this.older = take(slots);
    this.newer = take(slots);
    this.keys = take(this.width * slots);
    this.probe = new Int32Array(this.width);
    const h = this.header;
    if (h[MAGIC] === 0 && h[KEY_SIZE] === 0 && h[CAPACITY] === 0) {
      h[MAGIC] = INDEX_MAGIC;
      h[KEY_SIZE] = keySize;
      h[CAPACITY] = capacity;
    } else if (h[MAGIC] !== INDEX_MAGIC || h[KEY_SIZE] !== keySize || h[CAPACITY] !== capacity) {
      throw new MapError(EINVAL, `${what}: the shared hash index is not one for ${keySize}-byte keys and ${capacity} entries`);
    } else {
      // Other threads may be using the index: look at it under the lock.
      lock(h, LOCK, what);
      let problem: string | undefined;
      try {
        problem = this.problem();
      } finally {
        unlock(h, LOCK);
      }
      if (problem !== undefined) throw new MapError(EINVAL, `${what}: the shared hash index is corrupt (${problem})`);
    }
  }

  /** Keys held. */
  get count(): number {
    return this.header[COUNT]!;
  }

  /**
   * The element holding the key at `offset` of `bytes` (keySize bytes, read
   * in place), or -1. Remembers the key for a following insert.
   */
  findAt(bytes: Uint8Array, offset: number): number {
    if (this.word) {
      const k = bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24);
      this.probe[0] = k;
      const b = Math.imul(k ^ (k >>> 16), GOLDEN) >>> this.shift;
      this.bucket = b;
      let e = this.heads[b]!;
      while (e !== 0 && this.keys[e] !== k) e = this.chain[e]!;
      return e - 1;
    }
    const b = this.load(bytes, offset);
    this.bucket = b;
    let e = this.heads[b]!;
    while (e !== 0 && !this.matches(e)) e = this.chain[e]!;
    return e - 1;
  }

  /**
   * Adds the key of the last findAt (which found nothing) as the newest
   * element and returns it, or -1 when every element is in use.
   */
  insert(): number {
    const h = this.header;
    let e = h[FREE]!;
    if (e !== 0) h[FREE] = this.chain[e]!;
    else if (h[USED]! < this.capacity) e = ++h[USED]!;
    else return -1;
    this.keys.set(this.probe, e * this.width);
    this.chain[e] = this.heads[this.bucket]!;
    this.heads[this.bucket] = e;
    this.append(e);
    h[COUNT]!++;
    return e - 1;
  }

  /** Removes an element in use (its key, its place in the order); it becomes the next one reused. */
  remove(element: number): void {
    const e = element + 1;
    const b = this.hashOf(this.keys, e * this.width);
    let p = this.heads[b]!;
    if (p === e) {
      this.heads[b] = this.chain[e]!;
    } else {
      while (p !== 0 && this.chain[p] !== e) p = this.chain[p]!;
      if (p !== 0) this.chain[p] = this.chain[e]!;
    }
    this.unlink(e);
    const h = this.header;
    this.chain[e] = h[FREE]!;
    h[FREE] = e;
    h[COUNT]!--;
  }

  /** Makes an element the newest (most recently used). */
  touch(element: number): void {
    const e = element + 1;
    if (this.header[NEWEST] === e) return;
    this.unlink(e);
    this.append(e);
  }

  /** The oldest element (least recently used), or -1 when empty. */
  oldest(): number {
    return this.header[OLDEST]! - 1;
  }

  /** Forgets every key; elements are handed out from the first again. */
  clear(): void {
    this.heads.fill(0);
    const h = this.header;
    h[COUNT] = 0;
    h[OLDEST] = 0;
    h[NEWEST] = 0;
    h[FREE] = 0;
    h[USED] = 0;
  }

  /** The elements in use, oldest first (a snapshot). */
  order(): number[] {
    const out: number[] = [];
    const limit = this.header[COUNT]!;
    for (let e = this.header[OLDEST]!; e !== 0 && out.length < limit; e = this.newer[e]!) out.push(e - 1);
    return out;
  }

  /** A copy of an element's key. */
  keyOf(element: number): Uint8Array {
    const out = new Uint8Array(this.keySize);
    const base = (element + 1) * this.width;
    for (let i = 0; i < this.keySize; i++) out[i] = this.keys[base + (i >> 2)]! >>> ((i & 3) * 8);
    return out;
  }

  /**
   * What is wrong with an index another thread made, or undefined: every
   * link in range, every chain and list finite, each key in the bucket its
   * hash names, and the counts agreeing. Checked once, on attach, so a
   * corrupt state is MapError rather than a lookup that never ends.
   */
  private problem(): string | undefined {
    const h = this.header;
    const count = h[COUNT]!;
    const used = h[USED]!;
    if (!(used >= 0 && used <= this.capacity && count >= 0 && count <= used)) return `count ${count}, used ${used}`;
    const inRange = (e: number): boolean => e >= 1 && e <= used;
    let chained = 0;
    for (let b = 0; b < this.heads.length; b++) {
      for (let e = this.heads[b]!; e !== 0; e = this.chain[e]!) {
        if (!inRange(e) || ++chained > count) return `bucket ${b}`;
        if (this.hashOf(this.keys, e * this.width) !== b) return `element ${e - 1} is in bucket ${b}, its key is not`;
      }
    }
    if (chained !== count) return `${chained} keys in buckets, count ${count}`;
    let listed = 0;
    for (let e = h[OLDEST]!, before = 0; e !== 0; before = e, e = this.newer[e]!) {
      if (!inRange(e) || ++listed > count || this.older[e] !== before) return 'order list';
      if (this.newer[e] === 0 && h[NEWEST] !== e) return 'order list end';
    }
    if (listed !== count || (count === 0 && h[NEWEST] !== 0)) return `${listed} keys in order, count ${count}`;
    let free = 0;
    for (let e = h[FREE]!; e !== 0; e = this.chain[e]!) {
      if (!inRange(e) || ++free > used - count) return 'free list';
    }
    return free === used - count ? undefined : `${free} free of ${used - count}`;
  }

  /** Loads the key at `offset` of `bytes` into the probe words; returns its bucket. */
  private load(bytes: Uint8Array, offset: number): number {
    const size = this.keySize;
    const probe = this.probe;
    let i = 0;
    let w = 0;
    for (; i + 4 <= size; i += 4, w++) {
      const o = offset + i;
      probe[w] = bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
    }
    if (i < size) {
      let v = 0;
      for (let j = size - 1; j >= i; j--) v = (v << 8) | bytes[offset + j]!;
      probe[w] = v;
    }
    return this.hashOf(probe, 0);
  }

  /** The bucket of the key words at `start` of `words` (the same for the probe and a stored key). */
  private hashOf(words: Int32Array, start: number): number {
    let h = words[start]!;
    for (let i = 1; i < this.width; i++) h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ words[start + i]!;
    return Math.imul(h ^ (h >>> 16), GOLDEN) >>> this.shift;
  }

  private matches(e: number): boolean {
    const base = e * this.width;
    for (let i = 0; i < this.width; i++) if (this.keys[base + i] !== this.probe[i]) return false;
    return true;
  }

  private append(e: number): void {
    const h = this.header;
    const last = h[NEWEST]!;
    this.older[e] = last;
    this.newer[e] = 0;
    if (last === 0) h[OLDEST] = e;
    else this.newer[last] = e;
    h[NEWEST] = e;
  }

  private unlink(e: number): void {
    const h = this.header;
    const before = this.older[e]!;
    const after = this.newer[e]!;
    if (before === 0) h[OLDEST] = after;
    else this.newer[before] = after;
    if (after === 0) h[NEWEST] = before;
    else this.older[after] = before;
  }
}
