import { describe, expect, it } from 'vitest';
import { E2BIG, EEXIST, EINVAL } from '../lib/errno.js';
import { MemoryAccessError } from '../lib/errors.js';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, MAP_FLAGS, MapError } from '../lib/maps/index.js';
import { load32, setup, store32, thrown, u32, u64 } from './maps-helpers.js';

describe('ARRAY', () => {
  it('is preallocated and zeroed: every index below max_entries exists', () => {
    const { memory, registry } = setup();
    const map = registry.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 3 });
    expect(map.size).toBe(3);
    for (const i of [0, 1, 2]) {
      const address = map.lookup(u32(i), 0);
      expect(address).not.toBe(0);
      expect(load32(memory, address)).toBe(0);
    }
    expect(map.lookup(u32(3), 0)).toBe(0);
    expect(map.lookup(u32(0xffffffff), 0)).toBe(0);
    expect([...map.keys()]).toEqual([0, 1, 2]);
  });

  it('lays values out every round_up(value_size, 8) bytes', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'array', keySize: 4, valueSize: 5, maxEntries: 3 });
    expect(map.lookup(u32(1), 0) - map.lookup(u32(0), 0)).toBe(8);
    expect(map.lookup(u32(2), 0) - map.lookup(u32(0), 0)).toBe(16);
  });

  it('update: -E2BIG past the end, -EEXIST with BPF_NOEXIST, BPF_EXIST works, bad flags -EINVAL', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 });
    expect(map.update(u32(2), u64(1n), BPF_ANY, 0)).toBe(-E2BIG);
    expect(map.update(u32(0), u64(1n), BPF_NOEXIST, 0)).toBe(-EEXIST);
    expect(map.update(u32(1), u64(5n), BPF_EXIST, 0)).toBe(0);
    expect(map.update(u32(1), u64(6n), 3, 0)).toBe(-EINVAL);
    // Linux checks the flags before the index.
    expect(map.update(u32(9), u64(6n), 3, 0)).toBe(-EINVAL);
    expect(map.get(1, 'u64')).toBe(5n);
  });

  it('delete is always -EINVAL', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 2 });
    map.set(0, 1);
    expect(map.delete(u32(0))).toBe(-EINVAL);
    expect(map.delete(5)).toBe(-EINVAL);
    expect(map.get(0, 'u32')).toBe(1);
  });

  it('JS get/set/has and iteration; set throws MapError', () => {
    const { memory, registry } = setup();
    const map = registry.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 2 });
    map.set(1, 42);
    expect(load32(memory, map.lookup(u32(1), 0))).toBe(42);
    store32(memory, map.lookup(u32(0), 0), 7);
    expect([...map]).toEqual([[0, u32(7)], [1, u32(42)]]);
    expect([...map.values()].map((v) => v[0])).toEqual([7, 42]);
    expect(map.get(2)).toBeUndefined();
    expect(map.has(1)).toBe(true);
    expect(map.has(2)).toBe(false);
    expect(map.get(u32(1), 'u32')).toBe(42);
    const err = thrown(() => map.set(2, 1)) as MapError;
    expect(err).toBeInstanceOf(MapError);
    expect(err.code).toBe('E2BIG');
    expect((thrown(() => map.set(0, 1, BPF_NOEXIST)) as MapError).code).toBe('EEXIST');
    map.clear();
    expect(map.get(1, 'u32')).toBe(0);
  });

  it('valueAddress gives addresses inside entry 0 (lddw map_value), MapError outside', () => {
    const { memory, registry } = setup();
    const map = registry.create({ type: 'array', keySize: 4, valueSize: 16, maxEntries: 1, name: '.data' });
    const base = map.valueAddress(0);
    expect(base).toBe(map.lookup(u32(0), 0));
    expect(map.valueAddress(12)).toBe(base + 12);
    store32(memory, map.valueAddress(12), 77);
    expect(map.get(0)!.subarray(12)).toEqual(u32(77));
    for (const bad of [16, -1, 1.5]) {
      const err = thrown(() => map.valueAddress(bad)) as MapError;
      expect(err).toBeInstanceOf(MapError);
      expect(err.code).toBe('EINVAL');
    }
    const hash = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(thrown(() => hash.valueAddress(0))).toBeInstanceOf(MapError);
  });

  it('a .rodata-style map (BPF_F_RDONLY_PROG) faults on program stores', () => {
    const { memory, registry } = setup();
    const map = registry.create({
      type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: MAP_FLAGS.BPF_F_RDONLY_PROG,
    });
    map.set(0, 5n);
    expect(load32(memory, map.valueAddress(0))).toBe(5);
    expect(thrown(() => store32(memory, map.valueAddress(0), 1))).toBeInstanceOf(MemoryAccessError);
  });
});

describe('PERCPU_ARRAY', () => {
  it('one copy per CPU: a program updates and sees its own, JS sees all', () => {
    const { memory, registry } = setup(2);
    const map = registry.create({ type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(map.update(u32(1), u32(5), BPF_ANY, 1)).toBe(0);
    expect(map.get(1, 'u32')).toEqual([0, 5]);
    store32(memory, map.lookup(u32(1), 0), 3);
    expect(map.get(1, 'u32')).toEqual([3, 5]);
    expect(load32(memory, map.lookup(u32(1), 1))).toBe(5);
    map.set(0, [1, 2]);
    expect(map.get(0)).toEqual([u32(1), u32(2)]);
    map.set(0, 9);
    expect([...map.values()].map((v) => v.map((b) => b[0]))).toEqual([[9, 9], [3, 5]]);
    expect(map.update(u32(2), u32(1), BPF_ANY, 0)).toBe(-E2BIG);
    expect(map.delete(u32(0))).toBe(-EINVAL);
  });

  it('has no direct value address', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(thrown(() => map.valueAddress(0))).toBeInstanceOf(MapError);
  });
});
