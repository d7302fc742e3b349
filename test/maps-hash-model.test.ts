// The typed-array hash index against a model of the documented behaviour
// (a JS Map in insertion order, LRU as delete-and-reinsert, elements reused
// last-freed first): random operations on small key spaces, for several key
// sizes (packed in 1, 2 or many words) and every hash type, comparing every
// result, the address each key's value has, and the iteration order.

import { describe, expect, it } from 'vitest';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, type HashMap, type PerCpuHashMap } from '../lib/maps/index.js';
import { setup } from './maps-helpers.js';

const E2BIG = -7, EEXIST = -17, ENOENT = -2;

/** The old implementation's semantics, written plainly. */
class Model {
  readonly order = new Map<string, number>(); // key (hex) -> element
  private free: number[] = [];
  private used = 0;
  constructor(private readonly capacity: number, private readonly lru: boolean) {}

  lookup(k: string): number | undefined {
    const e = this.order.get(k);
    if (e !== undefined && this.lru) this.touch(k, e);
    return e;
  }

  update(k: string, flags: number): number {
    const e = this.order.get(k);
    if (e !== undefined && this.lru) this.touch(k, e); // even when the flags refuse the update
    if (e !== undefined && flags === BPF_NOEXIST) return EEXIST;
    if (e === undefined && flags === BPF_EXIST) return ENOENT;
    if (e !== undefined) return 0;
    let element = this.allocate();
    if (element === undefined && this.lru) {
      const [oldest, oe] = this.order.entries().next().value as [string, number];
      this.order.delete(oldest);
      this.free.push(oe);
      element = this.allocate();
    }
    if (element === undefined) return E2BIG;
    this.order.set(k, element);
    return 0;
  }

  delete(k: string): number {
    const e = this.order.get(k);
    if (e === undefined) return ENOENT;
    this.order.delete(k);
    this.free.push(e);
    return 0;
  }

  clear(): void {
    this.order.clear();
    this.free = [];
    this.used = 0;
  }

  private allocate(): number | undefined {
    const e = this.free.pop();
    if (e !== undefined) return e;
    return this.used < this.capacity ? this.used++ : undefined;
  }

  private touch(k: string, e: number): void {
    this.order.delete(k);
    this.order.set(k, e);
  }
}

/** A small seeded PRNG (mulberry32): the same sequence on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('hash index against the model', () => {
  for (const type of ['hash', 'lru_hash', 'percpu_hash', 'lru_percpu_hash'] as const) {
    for (const keySize of [1, 3, 4, 5, 8, 13]) {
      it(`${type}, ${keySize}-byte keys: results, addresses and order match over 4000 random operations`, () => {
        const random = rng(keySize * 31 + type.length);
        const { registry } = setup(2);
        const capacity = 24;
        const map = registry.create({ type, keySize, valueSize: 4, maxEntries: capacity }) as HashMap | PerCpuHashMap;
        const model = new Model(capacity, type.startsWith('lru'));
        const base = map.lookup(new Uint8Array(keySize), 0); // nothing yet
        expect(base).toBe(0);
        const region = map.regions()[0]!;
        const stride = type.includes('percpu') ? 16 : 8;
        // Keys from a space of 40: enough to fill the map and collide in buckets.
        const keyOf = (n: number): Uint8Array => {
          const k = new Uint8Array(keySize);
          for (let i = 0; i < keySize; i++) k[i] = (n * (i + 7) + (i === keySize - 1 ? n : 0)) & 0xff;
          k[0] = n;
          return k;
        };
        const value = new Uint8Array(4);
        // expect() only on a mismatch: 4000 steps of expect() cost seconds.
        const same = (got: number | boolean, want: number | boolean, what: string): void => {
          if (got !== want) expect(got, what).toBe(want);
        };
        for (let step = 0; step < 4000; step++) {
          const key = keyOf(Math.floor(random() * 40));
          const k = hex(key);
          const op = random();
          if (op < 0.4) {
            const flags = [BPF_ANY, BPF_NOEXIST, BPF_EXIST][Math.floor(random() * 3)]!;
            same(map.updateElem(key, value, flags, 0), model.update(k, flags), `update ${k} at step ${step}`);
          } else if (op < 0.6) {
            same(map.deleteElem(key), model.delete(k), `delete ${k} at step ${step}`);
          } else if (op < 0.9) {
            const e = model.lookup(k);
            same(map.lookup(key, 0), e === undefined ? 0 : region.base + e * stride, `lookup ${k} at step ${step}`);
          } else if (op < 0.998) {
            same(map.has(key), model.order.has(k), `has ${k} at step ${step}`);
          } else {
            map.clear();
            model.clear();
          }
          same(map.size, model.order.size, `size at step ${step}`);
        }
        expect([...map.keys()].map(hex)).toEqual([...model.order.keys()]);
      });
    }
  }

  it('iteration skips keys deleted while it runs and survives deleting every key', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 8 });
    for (let k = 0; k < 6; k++) map.set(k, k);
    const seen: number[] = [];
    for (const [key] of map) {
      seen.push(key[0]!);
      map.delete(key);
      if (key[0] === 1) map.delete(2);
    }
    expect(seen).toEqual([0, 1, 3, 4, 5]);
    expect(map.size).toBe(0);
  });
});
