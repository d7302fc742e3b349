import { describe, expect, it } from 'vitest';
import { E2BIG, ENOENT, EOPNOTSUPP } from '../lib/errno.js';
import { BPF_ANY, BPF_NOEXIST, MAP_FLAGS, MAP_POINTER_BASE, MapError } from '../lib/maps/index.js';
import { program, setup, thrown, u32, u64 } from './maps-helpers.js';

describe('PROG_ARRAY', () => {
  it('JS sets, replaces and clears slots; target() reads them', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 4 });
    const a = program('a');
    const b = program('b');
    expect(map.target(0)).toBeUndefined();
    map.set(0, a);
    expect(map.target(0)).toBe(a);
    map.set(0, b);
    expect(map.target(0)).toBe(b);
    expect(map.get(0)).toBe(b);
    map.set(0, null);
    expect(map.target(0)).toBeUndefined();
    map.set(3, a);
    expect(map.delete(3)).toBe(0);
    expect(map.delete(3)).toBe(-ENOENT);
    expect(map.delete(4)).toBe(-E2BIG);
    expect(map.target(4)).toBeUndefined();
    expect(map.target(0xffffffff)).toBeUndefined();
  });

  it('accepts only what isProgram accepts, and only indices below max_entries', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2 });
    const notProgram = thrown(() => map.set(0, { name: 'x' })) as MapError;
    expect(notProgram).toBeInstanceOf(MapError);
    expect(notProgram.code).toBe('EINVAL');
    expect((thrown(() => map.set(2, program('p'))) as MapError).code).toBe('E2BIG');
    expect((thrown(() => map.set(0, program('p'), BPF_NOEXIST)) as MapError).code).toBe('EINVAL');
    expect(map.size).toBe(0);
  });

  it('programs cannot look up or update slots', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2 });
    map.set(0, program('p'));
    expect(map.lookup(u32(0), 0)).toBe(0);
    expect(map.update(u32(1), u32(1), BPF_ANY, 0)).toBe(-EOPNOTSUPP);
  });

  it('iterates filled slots by index', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 8 });
    const p = [program('0'), program('1')];
    map.set(5, p[0]).set(2, p[1]);
    expect([...map.keys()]).toEqual([2, 5]);
    expect([...map]).toEqual([[2, p[1]], [5, p[0]]]);
    expect(map.describe().entries).toBe(2);
    map.clear();
    expect(map.size).toBe(0);
  });

  it('a huge max_entries costs nothing until slots are used', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1 << 20 });
    map.set((1 << 20) - 1, program('last'));
    expect(map.size).toBe(1);
  });
});

describe('ARRAY_OF_MAPS', () => {
  const inner = { type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 } as const;

  it('a program’s lookup gives the inner map’s pointer, which the registry resolves', () => {
    const { registry } = setup();
    const outer = registry.create({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, inner });
    const a = registry.create(inner);
    outer.set(1, a);
    expect(outer.lookup(u32(0), 0)).toBe(0);
    const pointer = outer.lookup(u32(1), 0);
    expect(pointer).toBe(MAP_POINTER_BASE + a.fd);
    expect(registry.byPointer(pointer)).toBe(a);
    expect(outer.get(1)).toBe(a);
    expect(outer.lookup(u32(2), 0)).toBe(0);
  });

  it('JS may give an fd; maps not matching the template are EINVAL', () => {
    const { registry } = setup();
    const outer = registry.create({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, inner });
    const a = registry.create(inner);
    outer.set(0, a.fd);
    expect(outer.get(0)).toBe(a);
    const wrong = [
      registry.create({ ...inner, type: 'hash' }),
      registry.create({ ...inner, valueSize: 4 }),
      registry.create({ ...inner, maxEntries: 8 }),
    ];
    for (const m of wrong) {
      const err = thrown(() => outer.set(1, m)) as MapError;
      expect(err).toBeInstanceOf(MapError);
      expect(err.code).toBe('EINVAL');
    }
    expect((thrown(() => outer.set(1, 999)) as MapError).code).toBe('EINVAL');
    expect((thrown(() => outer.set(1, outer as never)) as MapError).code).toBe('EINVAL');
    expect(outer.update(u32(1), u32(a.fd), BPF_ANY, 0)).toBe(-EOPNOTSUPP);
  });

  it('BPF_F_INNER_MAP in the template lets array sizes differ', () => {
    const { registry } = setup();
    const template = { ...inner, flags: MAP_FLAGS.BPF_F_INNER_MAP };
    const outer = registry.create({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, inner: template });
    outer.set(0, registry.create({ ...inner, maxEntries: 100 }));
    expect(outer.size).toBe(1);
  });

  it('destroying an inner map empties the slots holding it', () => {
    const { registry } = setup();
    const outer = registry.create({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, inner });
    const a = registry.create(inner);
    outer.set(0, a).set(1, a);
    registry.destroy(a);
    expect(outer.size).toBe(0);
    expect(outer.lookup(u32(0), 0)).toBe(0);
    expect(registry.byPointer(MAP_POINTER_BASE + a.fd)).toBeUndefined();
  });
});

describe('HASH_OF_MAPS', () => {
  const inner = { type: 'hash', keySize: 8, valueSize: 8, maxEntries: 16 } as const;

  it('keys like a hash map, values maps; update flags and capacity as Linux', () => {
    const { registry } = setup();
    const outer = registry.create({ type: 'hash_of_maps', keySize: 8, valueSize: 4, maxEntries: 1, inner });
    const a = registry.create(inner);
    const b = registry.create({ ...inner, maxEntries: 99 }); // hash templates do not compare max_entries
    outer.set(7n, a);
    expect(outer.lookup(u64(7n), 0)).toBe(a.pointer);
    expect(outer.lookup(u64(8n), 0)).toBe(0);
    expect((thrown(() => outer.set(7n, b, BPF_NOEXIST)) as MapError).code).toBe('EEXIST');
    expect((thrown(() => outer.set(8n, b)) as MapError).code).toBe('E2BIG');
    outer.set(7n, b.fd);
    expect(outer.get(7n)).toBe(b);
    expect([...outer.keys()]).toEqual([u64(7n)]);
    expect([...outer.values()]).toEqual([b]);
    expect(outer.delete(u64(7n))).toBe(0);
    expect(outer.delete(7n)).toBe(-ENOENT);
    expect(outer.has(7n)).toBe(false);
    expect(outer.update(u64(1n), u32(a.fd), BPF_ANY, 0)).toBe(-EOPNOTSUPP);
  });
});
