import { describe, expect, it } from 'vitest';
import { MemoryAccessError, UsageError } from '../lib/errors.js';
import { Memory, SLOT_BYTES } from '../lib/memory.js';
import {
  ArrayMap, HashMap, MAP_FLAGS, MAP_POINTER_BASE, MAP_TYPES, MAX_MAP_STORAGE, MapError, MapRegistry,
  type MapDefinition,
} from '../lib/maps/index.js';
import { keyIdFunction } from '../lib/maps/codec.js';
import { setup, thrown, u32 } from './maps-helpers.js';

describe('MapRegistry', () => {
  it('gives fds from 1 and pointers MAP_POINTER_BASE + fd, and finds maps by both', () => {
    const { registry } = setup();
    const a = registry.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, name: 'a' });
    const b = registry.create({ type: MAP_TYPES.array, keySize: 4, valueSize: 4, maxEntries: 1 });
    expect([a.fd, b.fd]).toEqual([1, 2]);
    expect(a).toBeInstanceOf(HashMap);
    expect(b).toBeInstanceOf(ArrayMap);
    expect(b.typeName).toBe('array');
    expect(a.pointer).toBe(0xfe000001);
    expect(registry.byPointer(a.pointer)).toBe(a);
    expect(registry.byPointer(BigInt(b.pointer))).toBe(b);
    expect(registry.byFd(2)).toBe(b);
    expect(registry.byName('a')).toBe(a);
    expect(registry.list()).toEqual([a, b]);
    for (const bad of [0, 1, MAP_POINTER_BASE, MAP_POINTER_BASE + 3, a.pointer + 0.5, 2n ** 32n + 1n, -1n]) {
      expect(registry.byPointer(bad)).toBeUndefined();
    }
  });

  it('map pointers never name memory: slot 0xfe is never mapped', () => {
    const memory = new Memory();
    for (;;) {
      try {
        memory.map(new Uint8Array(1), { name: 'filler' });
      } catch {
        break;
      }
    }
    expect(memory.regions().every((r) => r.end <= MAP_POINTER_BASE)).toBe(true);
    expect(memory.tables.limits[0xfe]).toBe(0);
    expect(thrown(() => memory.load(BigInt(MAP_POINTER_BASE + 1), 1, 0))).toBeInstanceOf(MemoryAccessError);
    expect(MAP_POINTER_BASE >>> 24).toBe(0xfe);
    expect(SLOT_BYTES).toBe(1 << 24);
  });

  it('destroy unregisters the map and unmaps its values; fds are not reused', () => {
    const { memory, registry } = setup();
    const a = registry.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const address = a.lookup(u32(0), 0);
    const regions = memory.regions().length;
    registry.destroy(a);
    expect(memory.regions().length).toBe(regions - 1);
    expect(registry.byFd(a.fd)).toBeUndefined();
    expect(thrown(() => memory.load(BigInt(address), 4, 0))).toBeInstanceOf(MemoryAccessError);
    registry.destroy(a); // a second time does nothing
    expect(registry.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 }).fd).toBe(2);
  });

  it('a full address space is MapError ENOMEM, not a crash', () => {
    const { registry } = setup();
    const err = thrown(() => {
      for (let i = 0; i < 300; i++) registry.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    }) as MapError;
    expect(err).toBeInstanceOf(MapError);
    expect(err.code).toBe('ENOMEM');
    expect(registry.list().length).toBe(0xfd); // slots 1..0xfd
  });

  it('validates its options', () => {
    const memory = new Memory();
    const isProgram = () => false;
    for (const cpus of [0, -1, 1.5, 5000, NaN]) {
      expect(thrown(() => new MapRegistry(memory, { cpus, isProgram }))).toBeInstanceOf(UsageError);
    }
    expect(thrown(() => new MapRegistry(memory, { cpus: 1, isProgram: 3 as never }))).toBeInstanceOf(UsageError);
  });

  it('describe/toJSON give a readable listing', () => {
    const { registry } = setup();
    const m = registry.create({ type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 10, name: 'flows' });
    m.set(1, 2n);
    expect(JSON.parse(JSON.stringify(m))).toEqual({
      fd: 1, name: 'flows', type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 10, flags: 0, entries: 1,
    });
  });
});

describe('hostile and invalid definitions', () => {
  const hash = { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 16 } as const;
  const inner = { type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 } as const;
  const cases: [string, MapDefinition, string, RegExp][] = [
    ['max_entries 2^32-1', { ...hash, maxEntries: 2 ** 32 - 1 }, 'E2BIG', /maxEntries/],
    ['max_entries 2^32', { ...hash, maxEntries: 2 ** 32 }, 'EINVAL', /maxEntries/],
    ['value size 2^31', { ...hash, valueSize: 2 ** 31 }, 'E2BIG', /valueSize/],
    ['array of 2^31-byte values', { ...inner, valueSize: 2 ** 31 - 1 }, 'E2BIG', /valueSize/],
    ['zero max_entries', { ...hash, maxEntries: 0 }, 'EINVAL', /maxEntries/],
    ['zero key size', { ...hash, keySize: 0 }, 'EINVAL', /keySize/],
    ['zero value size', { ...hash, valueSize: 0 }, 'EINVAL', /valueSize/],
    ['huge key', { ...hash, keySize: 513 }, 'E2BIG', /keySize/],
    ['negative size', { ...hash, keySize: -4 }, 'EINVAL', /keySize/],
    ['fractional size', { ...hash, valueSize: 1.5 }, 'EINVAL', /valueSize/],
    ['NaN entries', { ...hash, maxEntries: NaN }, 'EINVAL', /maxEntries/],
    ['string size', { ...hash, keySize: '4' as never }, 'EINVAL', /keySize/],
    ['array key of 8 bytes', { ...inner, keySize: 8 }, 'EINVAL', /keySize/],
    ['queue with a key', { type: 'queue', keySize: 4, valueSize: 4, maxEntries: 4 }, 'EINVAL', /keySize/],
    ['prog_array of 8-byte values', { type: 'prog_array', keySize: 4, valueSize: 8, maxEntries: 4 }, 'EINVAL', /valueSize/],
    ['per-CPU value over 32 KiB', { ...hash, type: 'percpu_hash', valueSize: 32 * 1024 + 1 }, 'E2BIG', /valueSize/],
    ['ringbuf not a power of 2', { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 3 * 4096 }, 'EINVAL', /maxEntries/],
    ['ringbuf below a page', { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 1024 }, 'EINVAL', /maxEntries/],
    ['ringbuf of 2 GiB', { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 2 ** 31 }, 'E2BIG', /maxEntries/],
    ['ringbuf with a value size', { type: 'ringbuf', keySize: 0, valueSize: 4, maxEntries: 4096 }, 'EINVAL', /valueSize/],
    ['unknown type number', { ...hash, type: 99 }, 'EINVAL', /type/],
    ['unknown type name', { ...hash, type: 'lpm_trie' as never }, 'EINVAL', /type/],
    ['prototype type name', { ...hash, type: 'toString' as never }, 'EINVAL', /type/],
    ['unknown flags', { ...hash, flags: 1 << 20 }, 'EINVAL', /flags/],
    ['NO_COMMON_LRU on a plain hash', { ...hash, flags: MAP_FLAGS.BPF_F_NO_COMMON_LRU }, 'EINVAL', /flags/],
    ['LRU without preallocation', { ...hash, type: 'lru_hash', flags: MAP_FLAGS.BPF_F_NO_PREALLOC }, 'EOPNOTSUPP', /flags/],
    ['map-in-map without template', { type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 1 }, 'EINVAL', /inner/],
    ['nested map-in-map', {
      type: 'hash_of_maps', keySize: 4, valueSize: 4, maxEntries: 1,
      inner: { type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 1, inner },
    }, 'EINVAL', /inner/],
    ['bad inner template', { type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 1, inner: { ...inner, keySize: 0 } }, 'EINVAL', /keySize/],
    ['template on a plain map', { ...hash, inner }, 'EINVAL', /inner/],
    ['fd array of 2^32-1 slots', { type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2 ** 32 - 1 }, 'E2BIG', /maxEntries/],
    ['over-long name', { ...hash, name: 'x'.repeat(300) }, 'EINVAL', /name/],
  ];

  for (const [label, def, code, field] of cases) {
    it(`${label}: MapError ${code} naming the field, nothing allocated`, () => {
      const { memory, registry } = setup();
      const err = thrown(() => registry.create(def)) as MapError;
      expect(err).toBeInstanceOf(MapError);
      expect(err.code).toBe(code);
      expect(err.message).toMatch(field);
      expect(memory.regions()).toEqual([]);
      expect(registry.list()).toEqual([]);
    });
  }

  it('per-CPU storage counts every CPU’s copy against the limit', () => {
    const { registry } = setup(64);
    const entries = MAX_MAP_STORAGE / 8 / 64;
    expect(registry.create({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: entries }).size).toBe(entries);
    const err = thrown(() => registry.create({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: entries + 1 }));
    expect((err as MapError).code).toBe('E2BIG');
  });

  it('a definition that is not an object is MapError', () => {
    const { registry } = setup();
    expect(thrown(() => registry.create(null as never))).toBeInstanceOf(MapError);
  });
});

describe('value formats', () => {
  it('an unknown format is a UsageError at every JS entry point, present value or not', () => {
    const { registry } = setup(2);
    const hash = registry.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    const pcHash = registry.create({ type: 'percpu_hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    const array = registry.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 });
    const pcArray = registry.create({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 4 });
    const queue = registry.create({ type: 'queue', keySize: 0, valueSize: 8, maxEntries: 4 });
    hash.set(1, 5n);
    pcHash.set(1, 5n);
    const bad = 'zz' as 'u64';
    const calls: [string, () => unknown][] = [
      ['hash, present', () => hash.get(1, bad)],
      ['hash, missing', () => hash.get(2, bad)],
      ['percpu_hash, present', () => pcHash.get(1, bad)],
      ['percpu_hash, missing', () => pcHash.get(2, bad)],
      ['array', () => array.get(1, bad)],
      ['array, past the end', () => array.get(9, bad)],
      ['percpu_array', () => pcArray.get(1, bad)],
      ['queue peek, empty', () => queue.peek(bad)],
      ['queue pop, empty', () => queue.pop(bad)],
    ];
    for (const [what, call] of calls) {
      const error = thrown(call);
      expect(error, what).toBeInstanceOf(UsageError);
      expect((error as Error).message, what).toMatch(/unknown format "zz"/);
    }
  });

  it('a bad format to pop removes nothing', () => {
    const { registry } = setup();
    const queue = registry.create({ type: 'queue', keySize: 0, valueSize: 8, maxEntries: 4 });
    queue.push(7n);
    expect(thrown(() => queue.pop('U64' as 'u64'))).toBeInstanceOf(UsageError);
    expect(queue.size).toBe(1);
    expect(queue.pop('u64')).toBe(7n);
  });
});

describe('the helpers\' fast paths', () => {
  it('byPointer remembers the last map but forgets a destroyed one', () => {
    const { registry } = setup();
    const a = registry.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    const b = registry.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    expect(registry.byPointer(BigInt(a.pointer))).toBe(a);
    expect(registry.byPointer(BigInt(a.pointer))).toBe(a);
    expect(registry.byPointer(BigInt(b.pointer))).toBe(b);
    registry.destroy(b);
    expect(registry.byPointer(BigInt(b.pointer))).toBeUndefined();
    expect(registry.byPointer(b.pointer)).toBeUndefined();
    expect(registry.byPointer(BigInt(a.pointer) + (1n << 64n))).toBeUndefined();
    expect(registry.byPointer(BigInt(a.pointer))).toBe(a);
  });

  it('keyIdFunction reads a key in place: the same id at any offset, whatever bytes follow', () => {
    for (const size of [1, 3, 4, 5, 7, 8, 9, 16]) {
      const id = keyIdFunction(size);
      for (const fill of [0x00, 0xff]) {
        const key = Uint8Array.from({ length: size }, (_, i) => (i * 37 + size) & 0xff);
        const around = new Uint8Array(size + 6).fill(fill);
        around.set(key, 3);
        expect(id(around, 3), `size ${size}`).toEqual(id(key.slice()));
        const other = key.slice();
        other[size - 1] ^= 1;
        expect(id(other), `size ${size}`).not.toEqual(id(key));
      }
    }
  });

  it('lookupAt gives what lookup gives (hash, LRU, array, per-CPU)', () => {
    const { registry } = setup(2);
    const maps = [
      registry.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 }),
      registry.create({ type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 4 }),
      registry.create({ type: 'percpu_hash', keySize: 4, valueSize: 8, maxEntries: 4 }),
      registry.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 }),
      registry.create({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 4 }),
    ];
    const around = new Uint8Array(12).fill(0xee);
    for (const map of maps) {
      if (!(map instanceof ArrayMap) && 'set' in map) (map as HashMap).set(2, 9n);
      for (const k of [2, 3, 7]) {
        around.set(u32(k), 5);
        for (const cpu of [0, 1]) expect(map.lookupAt(around, 5, cpu), `${map.typeName} ${k}`).toBe(map.lookup(u32(k), cpu));
      }
    }
  });
});
