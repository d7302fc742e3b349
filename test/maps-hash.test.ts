import { describe, expect, it } from 'vitest';
import { E2BIG, EEXIST, EINVAL, ENOENT, EPERM } from '../lib/errno.js';
import { MemoryAccessError, UsageError } from '../lib/errors.js';
import { BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, MAP_FLAGS, MapError } from '../lib/maps/index.js';
import { load32, setup, store32, thrown, u32, u64 } from './maps-helpers.js';

describe('HASH maps, BPF side', () => {
  it('lookup returns an address into the map region; writes through it are seen by lookups and JS', () => {
    const { memory, registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(map.lookup(u32(1), 0)).toBe(0);
    expect(map.update(u32(1), u64(7n), BPF_ANY, 0)).toBe(0);
    const address = map.lookup(u32(1), 0);
    expect(address).not.toBe(0);
    expect(memory.regions().some((r) => address >= r.base && address + 8 <= r.end)).toBe(true);
    expect(load32(memory, address)).toBe(7);
    store32(memory, address, 99);
    expect(map.lookup(u32(1), 0)).toBe(address);
    expect(load32(memory, map.lookup(u32(1), 0))).toBe(99);
    expect(map.get(1, 'u64')).toBe(99n);
  });

  it('keeps an address valid across updates of the same key (written in place)', () => {
    const { memory, registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2 });
    map.update(u32(5), u32(1), BPF_ANY, 0);
    const address = map.lookup(u32(5), 0);
    map.update(u32(5), u32(2), BPF_EXIST, 0);
    map.set(5, 3);
    expect(load32(memory, address)).toBe(3);
  });

  it('applies BPF_NOEXIST / BPF_EXIST and rejects other flags, as Linux does', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(map.update(u32(1), u32(10), BPF_EXIST, 0)).toBe(-ENOENT);
    expect(map.update(u32(1), u32(10), BPF_NOEXIST, 0)).toBe(0);
    expect(map.update(u32(1), u32(11), BPF_NOEXIST, 0)).toBe(-EEXIST);
    expect(map.update(u32(1), u32(12), BPF_EXIST, 0)).toBe(0);
    expect(map.get(1, 'u32')).toBe(12);
    expect(map.update(u32(1), u32(13), 3, 0)).toBe(-EINVAL);
    expect(map.update(u32(1), u32(13), BPF_F_LOCK, 0)).toBe(-EINVAL);
    expect(map.get(1, 'u32')).toBe(12);
  });

  it('a full map refuses new keys with -E2BIG but still updates present ones', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(map.update(u32(1), u32(1), BPF_ANY, 0)).toBe(0);
    expect(map.update(u32(2), u32(2), BPF_ANY, 0)).toBe(0);
    expect(map.update(u32(3), u32(3), BPF_ANY, 0)).toBe(-E2BIG);
    expect(map.update(u32(2), u32(20), BPF_ANY, 0)).toBe(0);
    expect(map.size).toBe(2);
    expect(map.delete(u32(1))).toBe(0);
    expect(map.update(u32(3), u32(3), BPF_ANY, 0)).toBe(0);
  });

  it('delete of a missing key is -ENOENT; a deleted element is free for reuse', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(map.delete(u32(9))).toBe(-ENOENT);
    map.update(u32(1), u32(1), BPF_ANY, 0);
    const address = map.lookup(u32(1), 0);
    expect(map.delete(u32(1))).toBe(0);
    expect(map.lookup(u32(1), 0)).toBe(0);
    expect(map.delete(u32(1))).toBe(-ENOENT);
    map.update(u32(2), u32(2), BPF_ANY, 0);
    expect(map.lookup(u32(2), 0)).toBe(address);
  });

  it('compares whole keys of any size (odd sizes, long keys)', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 13, valueSize: 1, maxEntries: 8 });
    const a = new Uint8Array(13).fill(1);
    const b = a.slice();
    b[12] = 2;
    map.update(a, Uint8Array.of(10), BPF_ANY, 0);
    map.update(b, Uint8Array.of(20), BPF_ANY, 0);
    expect(map.get(a)).toEqual(Uint8Array.of(10));
    expect(map.get(b)).toEqual(Uint8Array.of(20));
    const small = registry.create({ type: 'hash', keySize: 3, valueSize: 1, maxEntries: 8 });
    small.set(Uint8Array.of(1, 0, 0), Uint8Array.of(1));
    expect(small.has(Uint8Array.of(0, 0, 1))).toBe(false);
    expect(small.has(Uint8Array.of(1, 0, 0))).toBe(true);
  });

  it('keeps 7- and 8-byte keys apart on both sides of 2^53', () => {
    const { registry } = setup();
    for (const keySize of [7, 8]) {
      const map = registry.create({ type: 'hash', keySize, valueSize: 1, maxEntries: 8 });
      const keys = [2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 56n - 1n, 0n, 1n];
      const bytes = keys.map((k) => u64(k).subarray(0, keySize));
      bytes.forEach((b, i) => map.set(b, Uint8Array.of(i)));
      expect(map.size).toBe(keys.length);
      bytes.forEach((b, i) => expect(map.get(b.slice())).toEqual(Uint8Array.of(i)));
      expect([...map.keys()]).toEqual(bytes);
    }
  });

  it('copies keys and values: later changes to the caller’s bytes do not reach the map', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2 });
    const key = u32(1);
    const value = u32(5);
    map.update(key, value, BPF_ANY, 0);
    key[0] = 2;
    value[0] = 6;
    expect(map.get(1, 'u32')).toBe(5);
    expect([...map.keys()]).toEqual([u32(1)]);
  });

  it('checks key sizes given by the engine and cpu numbers', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(thrown(() => map.lookup(new Uint8Array(3), 0))).toBeInstanceOf(UsageError);
    expect(thrown(() => map.update(u32(1), new Uint8Array(5), BPF_ANY, 0))).toBeInstanceOf(UsageError);
    expect(thrown(() => map.update(u32(1), u32(1), BPF_ANY, 1))).toBeInstanceOf(UsageError);
  });

  it('BPF_F_RDONLY_PROG: the value region is read-only for programs and update is -EPERM; JS may write', () => {
    const { memory, registry } = setup();
    const map = registry.create({
      type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2, flags: MAP_FLAGS.BPF_F_RDONLY_PROG,
    });
    map.set(1, 5);
    expect(map.update(u32(1), u32(6), BPF_ANY, 0)).toBe(-EPERM);
    const address = map.lookup(u32(1), 0);
    expect(load32(memory, address)).toBe(5);
    expect(thrown(() => store32(memory, address, 1))).toBeInstanceOf(MemoryAccessError);
  });
});

describe('HASH maps, JS side', () => {
  it('get/set/has/delete with number and bigint keys and values', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 8, valueSize: 4, maxEntries: 4 });
    map.set(1n, 10).set(2, 20).set(u64(3n), u32(30));
    expect(map.get(1)).toEqual(u32(10));
    expect(map.get(2n, 'u32')).toBe(20);
    expect(map.get(3n, 'u32')).toBe(30);
    expect(map.has(3)).toBe(true);
    expect(map.get(4)).toBeUndefined();
    expect(map.delete(3)).toBe(0);
    expect(map.delete(3)).toBe(-ENOENT);
    expect(map.has(3)).toBe(false);
    expect(map.size).toBe(2);
    map.set(-1, -1); // two's complement
    expect(map.get(0xffffffffffffffffn, 'u32')).toBe(0xffffffff);
  });

  it('set throws MapError with Linux’s code', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, name: 'm' });
    map.set(1, 1);
    const exists = thrown(() => map.set(1, 2, BPF_NOEXIST)) as MapError;
    expect(exists).toBeInstanceOf(MapError);
    expect(exists.code).toBe('EEXIST');
    expect(exists.errno).toBe(EEXIST);
    expect(exists.message).toMatch(/map m/);
    expect((thrown(() => map.set(2, 2, BPF_EXIST)) as MapError).code).toBe('ENOENT');
    expect((thrown(() => map.set(2, 2)) as MapError).code).toBe('E2BIG');
    expect((thrown(() => map.set(1, 2, 7)) as MapError).code).toBe('EINVAL');
  });

  it('rejects JS keys and values of the wrong size or kind with UsageError', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 2, maxEntries: 1 });
    expect(thrown(() => map.set(new Uint8Array(3), Uint8Array.of(1, 2)))).toBeInstanceOf(UsageError);
    expect(thrown(() => map.set(1, 5))).toBeInstanceOf(UsageError); // a 2-byte value takes bytes only
    expect(thrown(() => map.set(2 ** 32, Uint8Array.of(1, 2)))).toBeInstanceOf(UsageError);
    expect(thrown(() => map.set(1.5, Uint8Array.of(1, 2)))).toBeInstanceOf(UsageError);
    expect(map.get(1, 'u32')).toBeUndefined(); // missing key: nothing to decode
    map.set(1, Uint8Array.of(1, 2));
    expect(thrown(() => map.get(1, 'u32'))).toBeInstanceOf(UsageError);
  });

  it('iterates keys, values and entries in insertion order; clear empties it', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 8 });
    map.set(3, 30).set(1, 10).set(2, 20);
    expect([...map.keys()]).toEqual([u32(3), u32(1), u32(2)]);
    expect([...map.values()]).toEqual([u32(30), u32(10), u32(20)]);
    expect([...map].map(([k, v]) => [k[0], v[0]])).toEqual([[3, 30], [1, 10], [2, 20]]);
    expect(map.describe()).toEqual({
      fd: map.fd, name: `map${map.fd}`, type: 'hash', keySize: 4, valueSize: 4, maxEntries: 8, flags: 0, entries: 3,
    });
    map.clear();
    expect(map.size).toBe(0);
    expect(map.lookup(u32(3), 0)).toBe(0);
    map.set(4, 40);
    expect(map.get(4, 'u32')).toBe(40);
  });

  it('get returns a copy: changing it does not change the map', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    map.set(1, 5);
    map.get(1)![0] = 9;
    expect(map.get(1, 'u32')).toBe(5);
  });
});

describe('LRU_HASH', () => {
  it('evicts the least recently used key instead of failing when full', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 3 });
    for (const k of [1, 2, 3]) expect(map.update(u32(k), u32(k * 10), BPF_ANY, 0)).toBe(0);
    expect(map.lookup(u32(1), 0)).not.toBe(0); // 1 is now the most recent: 2 is the oldest
    expect(map.update(u32(4), u32(40), BPF_ANY, 0)).toBe(0);
    expect(map.has(2)).toBe(false);
    expect([...map.keys()].map((k) => k[0])).toEqual([3, 1, 4]);
    map.update(u32(3), u32(31), BPF_EXIST, 0); // an update also counts as a use
    expect(map.update(u32(5), u32(50), BPF_NOEXIST, 0)).toBe(0);
    expect([...map.keys()].map((k) => k[0])).toEqual([4, 3, 5]);
  });

  it('a JS get does not count as a use (like a lookup from the syscall)', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 2 });
    map.set(1, 1).set(2, 2);
    expect(map.get(1, 'u32')).toBe(1);
    map.set(3, 3);
    expect(map.has(1)).toBe(false);
    expect(map.has(2)).toBe(true);
  });

  it('still applies BPF_EXIST to a missing key (no eviction)', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    map.set(1, 1);
    expect(map.update(u32(2), u32(2), BPF_EXIST, 0)).toBe(-ENOENT);
    expect(map.has(1)).toBe(true);
  });

  it('reuses the evicted element’s storage', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    map.set(1, 1);
    const address = map.lookup(u32(1), 0);
    map.set(2, 2);
    expect(map.lookup(u32(2), 0)).toBe(address);
  });
});

describe('PERCPU_HASH and LRU_PERCPU_HASH', () => {
  it('programs see their CPU’s copy; JS sees all of them', () => {
    const { memory, registry } = setup(3);
    const map = registry.create({ type: 'percpu_hash', keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(map.update(u32(1), u32(11), BPF_ANY, 1)).toBe(0);
    // A new element: the other CPUs' copies start zeroed.
    expect(map.get(1, 'u32')).toEqual([0, 11, 0]);
    const a0 = map.lookup(u32(1), 0);
    const a2 = map.lookup(u32(1), 2);
    expect(a0).not.toBe(a2);
    store32(memory, a2, 22);
    expect(map.get(1, 'u32')).toEqual([0, 11, 22]);
    // An existing element: only the current CPU's copy changes.
    map.update(u32(1), u32(5), BPF_EXIST, 0);
    expect(map.get(1, 'u32')).toEqual([5, 11, 22]);
  });

  it('JS set takes one value for every CPU or exactly one per CPU', () => {
    const { registry } = setup(2);
    const map = registry.create({ type: 'percpu_hash', keySize: 4, valueSize: 8, maxEntries: 2 });
    map.set(1, 7n);
    expect(map.get(1, 'u64')).toEqual([7n, 7n]);
    map.set(1, [1n, 2n]);
    expect(map.get(1)).toEqual([u64(1n), u64(2n)]);
    expect(thrown(() => map.set(1, [1n]))).toBeInstanceOf(UsageError);
    expect([...map.values()]).toEqual([[u64(1n), u64(2n)]]);
  });

  it('LRU_PERCPU_HASH evicts like LRU_HASH', () => {
    const { registry } = setup(2);
    const map = registry.create({ type: 'lru_percpu_hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    map.set(1, 1);
    expect(map.update(u32(2), u32(2), BPF_ANY, 1)).toBe(0);
    expect(map.has(1)).toBe(false);
    expect(map.get(2, 'u32')).toEqual([0, 2]);
  });
});
