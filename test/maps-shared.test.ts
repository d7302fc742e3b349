// Maps shared between registries (as between threads): a registry made with
// share and one attached to its sharedState() see the same maps. Here both
// are in one thread (each with its own Memory, as a worker would have);
// maps-shared-workers.test.ts runs real threads.

import { describe, expect, it } from 'vitest';
import { Memory } from '../lib/memory.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';
import {
  ArrayOfMapsMap, BPF_NOEXIST, MapError, MapRegistry, SHARED_STATE_FORMAT,
  type MapByType, type MapDefinition, type MapTypeName, type SharedMapsState,
} from '../lib/maps/index.js';
import { load32, store32, thrown, u32, u64 } from './maps-helpers.js';

const isProgram = (): boolean => false;

/** A sharing registry and `defs` created in it, then a second registry attached to its state with the same defs. */
function pair<T extends MapTypeName>(defs: (MapDefinition & { type: T })[], cpus = 1) {
  const a = { memory: new Memory(), registry: undefined as unknown as MapRegistry };
  a.registry = new MapRegistry(a.memory, { cpus, isProgram, share: true });
  const mapsA: MapByType[T][] = defs.map((d) => a.registry.create(d));
  // postMessage clones the state: so do we, to prove it survives cloning.
  const state = structuredClone(a.registry.sharedState());
  const bMemory = new Memory();
  const b = { memory: bMemory, registry: new MapRegistry(bMemory, { cpus, isProgram, attach: state }) };
  const mapsB: MapByType[T][] = defs.map((d) => b.registry.create(d));
  return { a, b, mapsA, mapsB, state };
}

function mapError(fn: () => unknown, code: string, text: string): void {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(MapError);
  expect((e as MapError).code).toBe(code);
  expect((e as MapError).message).toContain(text);
}

describe('shared arrays', () => {
  it('array: JS and program-side writes on one side are seen on the other', () => {
    const { a, b, mapsA: [ma], mapsB: [mb] } = pair([{ type: 'array', keySize: 4, valueSize: 4, maxEntries: 4, name: 'counts' }]);
    ma!.set(1, 11);
    expect(mb!.get(1, 'u32')).toBe(11);
    const address = mb!.lookup(u32(2), 0);
    store32(b.memory, address, 22);
    expect(ma!.get(2, 'u32')).toBe(22);
    expect(load32(a.memory, ma!.lookup(u32(2), 0))).toBe(22);
    expect(mb!.updateElem(u32(3), u32(33), 0, 0)).toBe(0);
    expect([...ma!.values()].map((v) => v[0])).toEqual([0, 11, 22, 33]);
    expect(a.memory.resolve(BigInt(ma!.lookup(u32(0), 0)), 4, 'load', 0).bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('global data (a one-entry array): valueAddress names the same bytes in both', () => {
    const def = { type: 'array', keySize: 4, valueSize: 16, maxEntries: 1, name: '.data' } as const;
    const { a, b, mapsA: [ma], mapsB: [mb] } = pair([def]);
    store32(a.memory, ma!.valueAddress(8), 0xdead);
    expect(load32(b.memory, mb!.valueAddress(8))).toBe(0xdead);
  });

  it('percpu_array: each CPU (worker) has its copy, all visible on both sides', () => {
    const { mapsA: [ma], mapsB: [mb] } = pair([{ type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 2 }], 2);
    expect(ma!.updateElem(u32(0), u32(5), 0, 0)).toBe(0);
    expect(mb!.updateElem(u32(0), u32(6), 0, 1)).toBe(0);
    expect(ma!.get(0, 'u32')).toEqual([5, 6]);
    expect(mb!.get(0, 'u32')).toEqual([5, 6]);
    mb!.set(1, [7, 8]);
    expect(ma!.get(1, 'u32')).toEqual([7, 8]);
  });
});

describe('shared hash maps', () => {
  for (const type of ['hash', 'lru_hash'] as const) {
    it(`${type}: inserts, updates and deletes from either side, JS or program side`, () => {
      const { a, b, mapsA: [ma], mapsB: [mb] } = pair([{ type, keySize: 8, valueSize: 8, maxEntries: 64 }]);
      ma!.set(1n, 100n);
      expect(mb!.get(1n, 'u64')).toBe(100n);
      expect(mb!.updateElem(u64(2n), u64(200n), BPF_NOEXIST, 0)).toBe(0);
      expect(ma!.get(2n, 'u64')).toBe(200n);
      expect(ma!.updateElem(u64(2n), u64(1n), BPF_NOEXIST, 0)).toBe(-17);
      // A program's store through its lookup's address, seen by the other side.
      const address = mb!.lookup(u64(1n), 0);
      store32(b.memory, address, 101);
      expect(ma!.get(1n, 'u64')).toBe(101n);
      expect(load32(a.memory, ma!.lookup(u64(1n), 0))).toBe(101);
      expect(ma!.deleteElem(u64(1n))).toBe(0);
      expect(mb!.lookup(u64(1n), 0)).toBe(0);
      expect(mb!.has(1n)).toBe(false);
      expect(mb!.delete(2n)).toBe(0);
      expect(ma!.size).toBe(0);
      for (let k = 0n; k < 40n; k++) (k % 2n === 0n ? ma : mb)!.set(k, k * 3n);
      expect(mb!.size).toBe(40);
      expect([...mb!.keys()].map((k) => new DataView(k.buffer).getBigUint64(0, true))).toEqual(
        [...ma!.keys()].map((k) => new DataView(k.buffer).getBigUint64(0, true)));
      expect([...ma!.entries()].every(([k, v]) => new DataView(v.buffer).getBigUint64(0, true)
        === new DataView(k.buffer).getBigUint64(0, true) * 3n)).toBe(true);
      mb!.clear();
      expect(ma!.size).toBe(0);
      expect(ma!.get(4n)).toBeUndefined();
    });
  }

  it('lru_hash: a lookup on one side changes what the other side evicts', () => {
    const { mapsA: [ma], mapsB: [mb] } = pair([{ type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 3 }]);
    ma!.set(1, 1).set(2, 2).set(3, 3);
    expect(mb!.lookup(u32(1), 0)).not.toBe(0); // 1 becomes the most recently used
    ma!.set(4, 4); // evicts 2, the least recently used
    expect([...mb!.keys()].map((k) => k[0])).toEqual([3, 1, 4]);
  });

  for (const type of ['percpu_hash', 'lru_percpu_hash'] as const) {
    it(`${type}: per-CPU copies shared, a program updates its own CPU's copy`, () => {
      const { mapsA: [ma], mapsB: [mb] } = pair([{ type, keySize: 4, valueSize: 4, maxEntries: 8 }], 3);
      expect(ma!.updateElem(u32(9), u32(1), 0, 0)).toBe(0);
      expect(mb!.updateElem(u32(9), u32(2), 0, 2)).toBe(0);
      expect(ma!.get(9, 'u32')).toEqual([1, 0, 2]);
      mb!.set(10, [4, 5, 6]);
      expect(ma!.get(10, 'u32')).toEqual([4, 5, 6]);
      expect(ma!.delete(10)).toBe(0);
      expect(mb!.has(10)).toBe(false);
      expect(mb!.size).toBe(1);
    });
  }

  it('a full shared hash map is full on both sides (-E2BIG)', () => {
    const { mapsA: [ma], mapsB: [mb] } = pair([{ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2 }]);
    ma!.set(1, 1);
    mb!.set(2, 2);
    expect(ma!.updateElem(u32(3), u32(3), 0, 0)).toBe(-7);
    expect(mb!.updateElem(u32(3), u32(3), 0, 0)).toBe(-7);
  });
});

describe('shared queues and stacks', () => {
  it('queue: pushed on one side, popped in order on the other', () => {
    const { mapsA: [qa], mapsB: [qb] } = pair([{ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 3 }]);
    qa!.push(u32(1));
    expect(qb!.pushElem(u32(2))).toBe(0);
    qa!.push(u32(3));
    expect(qb!.push(u32(4))).toBe(-7);
    expect(qb!.size).toBe(3);
    expect([...qb!.values()].map((v) => v[0])).toEqual([1, 2, 3]);
    expect(qb!.pop('u32')).toBe(1);
    const out = new Uint8Array(4);
    expect(qa!.popElem(out)).toBe(0);
    expect(out[0]).toBe(2);
    expect(qb!.peek('u32')).toBe(3);
  });

  it('stack: last in, first out across both sides', () => {
    const { mapsA: [sa], mapsB: [sb] } = pair([{ type: 'stack', keySize: 0, valueSize: 4, maxEntries: 3 }]);
    sa!.push(u32(1));
    sb!.push(u32(2));
    expect(sa!.pop('u32')).toBe(2);
    expect(sb!.pop('u32')).toBe(1);
    expect(sa!.pop()).toBeUndefined();
  });
});

describe('sharedState', () => {
  it('lists every map in creation order; per-thread types have no buffers and attach fresh', () => {
    const inner = { type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 } as const;
    const defs: (MapDefinition & { type: MapTypeName })[] = [
      { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 },
      { type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 1 },
      { type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2 },
      { type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, inner },
      { type: 'hash_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, inner },
      inner,
      { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2 },
      { type: 'queue', keySize: 0, valueSize: 4, maxEntries: 2 },
    ];
    const { state, mapsA, mapsB } = pair(defs);
    expect(state.format).toBe(SHARED_STATE_FORMAT);
    expect(state.cpus).toBe(1);
    expect(state.maps.map((m) => m.definition.type)).toEqual(defs.map((d) => d.type));
    expect(state.maps.map((m) => m.buffers.length)).toEqual([0, 0, 0, 0, 0, 1, 2, 1]);
    // Per thread: a map put in one side's array_of_maps is not in the other's.
    const aom = mapsA[3] as ArrayOfMapsMap;
    aom.set(0, mapsA[5]!);
    expect(aom.size).toBe(1);
    expect((mapsB[3] as ArrayOfMapsMap).size).toBe(0);
  });

  it('is refused when the registry does not share', () => {
    const registry = new MapRegistry(new Memory(), { cpus: 1, isProgram });
    expect(registry.shared).toBe(false);
    mapError(() => registry.sharedState(), 'EINVAL', 'not shared');
  });

  it('a registry attached to a state describes the same buffers', () => {
    const { b, state } = pair([{ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2 }]);
    const again = b.registry.sharedState();
    expect(again.maps[0]!.buffers.length).toBe(2);
    expect(again.maps[0]!.buffers[0]!.byteLength).toBe(state.maps[0]!.buffers[0]!.byteLength);
  });

  it('a frozen map stays attachable; freezing is per registry', () => {
    const { mapsA: [ma], mapsB: [mb] } = pair([{ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 }]);
    ma!.freeze();
    mb!.set(0, 3);
    expect(ma!.get(0, 'u32')).toBe(3);
  });
});

describe('hostile shared states', () => {
  const def = { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, name: 'h' } as const;
  const good = (): SharedMapsState => {
    const r = new MapRegistry(new Memory(), { cpus: 2, isProgram, share: true });
    r.create(def);
    return r.sharedState();
  };
  const attach = (state: unknown, cpus = 2) => new MapRegistry(new Memory(), { cpus, isProgram, attach: state as SharedMapsState });
  const attachAndCreate = (state: unknown, d: MapDefinition = def) => attach(state).create(d);

  it('refuses a state of the wrong shape', () => {
    mapError(() => attach(null), 'EINVAL', 'must be an object');
    mapError(() => attach({ ...good(), format: 'other/9' }), 'EINVAL', 'format');
    mapError(() => attach(good(), 3), 'EINVAL', 'for 2 cpus, this registry has 3');
    mapError(() => attach({ ...good(), maps: 'x' }), 'EINVAL', 'maps must be an array');
    mapError(() => attach({ ...good(), maps: [7] }), 'EINVAL', 'map 0 must be an object');
    mapError(() => attach({ ...good(), maps: [{ buffers: [] }] }), 'EINVAL', 'map 0 has no definition');
    mapError(() => attach({ ...good(), maps: [{ definition: def }] }), 'EINVAL', 'buffers must be an array');
  });

  it('refuses a definition that differs or is invalid, and maps past the end', () => {
    mapError(() => attachAndCreate(good(), { ...def, keySize: 8 }), 'EINVAL', 'keySize: 8 here, 4 there');
    mapError(() => attachAndCreate(good(), { ...def, name: 'g' }), 'EINVAL', 'name');
    mapError(() => attachAndCreate(good(), { ...def, type: 'lru_hash' }), 'EINVAL', 'typeName');
    const s = good();
    mapError(() => attachAndCreate({ ...s, maps: [{ ...s.maps[0], definition: { type: 'nope' } }] }), 'EINVAL', 'not valid');
    const r = attach(good());
    r.create(def);
    mapError(() => r.create(def), 'EINVAL', 'describes 1 maps, this would be map 1');
  });

  it('refuses missing, extra, non-shared and wrongly sized buffers, and a foreign index', () => {
    const s = good();
    const [values, index] = s.maps[0]!.buffers;
    const withBuffers = (buffers: unknown[]) => ({ ...s, maps: [{ definition: s.maps[0]!.definition, buffers }] });
    mapError(() => attachAndCreate(withBuffers([])), 'EINVAL', 'no SharedArrayBuffer for its values');
    mapError(() => attachAndCreate(withBuffers([values])), 'EINVAL', 'no SharedArrayBuffer for its hash index');
    mapError(() => attachAndCreate(withBuffers([values, index, index])), 'EINVAL', 'has 3 buffer(s) for this map, it uses 2');
    mapError(() => attachAndCreate(withBuffers([new ArrayBuffer(values!.byteLength), index])), 'EINVAL', 'no SharedArrayBuffer');
    mapError(() => attachAndCreate(withBuffers([new SharedArrayBuffer(3), index])), 'EINVAL', 'is 3 bytes, expected');
    mapError(() => attachAndCreate(withBuffers([index, values])), 'EINVAL', 'bytes, expected');
    const foreign = new SharedArrayBuffer(index!.byteLength);
    new Int32Array(foreign)[1] = 12345; // not the index magic
    mapError(() => attachAndCreate(withBuffers([values, foreign])), 'EINVAL', 'not one for 4-byte keys');
    const corrupt = new SharedArrayBuffer(index!.byteLength);
    new Uint8Array(corrupt).set(new Uint8Array(index!));
    new Int32Array(corrupt)[4] = 1000; // count past the capacity
    mapError(() => attachAndCreate(withBuffers([values, corrupt])), 'EINVAL', 'corrupt');
  });

  it('refuses an index whose links are out of range or loop (instead of hanging later)', () => {
    const registry = new MapRegistry(new Memory(), { cpus: 2, isProgram, share: true });
    const map = registry.create(def);
    map.set(1, 1).set(2, 2).set(3, 3);
    map.delete(2);
    const s = registry.sharedState();
    const [values, index] = s.maps[0]!.buffers;
    const words = new Int32Array(index!);
    expect(attach(s).create(def).size).toBe(2); // intact: attaches
    // Header 16 words, then 4 bucket heads (capacity 4), then the chain links of elements 0..4.
    const damaged = (change: (w: Int32Array) => void) => {
      const copy = new SharedArrayBuffer(index!.byteLength);
      new Uint8Array(copy).set(new Uint8Array(index!));
      change(new Int32Array(copy));
      return { ...s, maps: [{ definition: s.maps[0]!.definition, buffers: [values!, copy] }] };
    };
    const head = words.slice(16, 20).findIndex((e) => e !== 0) + 16;
    mapError(() => attachAndCreate(damaged((w) => { w[head] = 99; })), 'EINVAL', 'bucket');
    mapError(() => attachAndCreate(damaged((w) => { w[head] = -5; })), 'EINVAL', 'bucket');
    const first = words[head]!;
    mapError(() => attachAndCreate(damaged((w) => { w[20 + first] = first; })), 'EINVAL', 'corrupt'); // a chain looping on itself
    mapError(() => attachAndCreate(damaged((w) => { w[5] = 0; })), 'EINVAL', 'keys in order'); // oldest lost
    mapError(() => attachAndCreate(damaged((w) => { w[7] = 0; })), 'EINVAL', 'free'); // the freed element lost
  });

  it('leaves nothing mapped when attaching fails half-way', () => {
    const s = good();
    const memory = new Memory();
    const r = new MapRegistry(memory, { cpus: 2, isProgram, attach: { ...s, maps: [{ ...s.maps[0]!, buffers: [s.maps[0]!.buffers[0]!] }] } });
    const first = memory.map(new Uint8Array(1), { name: 'probe' }).base;
    mapError(() => r.create(def), 'EINVAL', 'hash index');
    const second = memory.map(new Uint8Array(1), { name: 'probe' }).base;
    // Regions take the lowest free slot: the values region mapped before the
    // failure was unmapped, so the second probe gets the slot right after the first.
    const third = memory.map(new Uint8Array(1), { name: 'probe' }).base;
    expect(second - first).toBe(third - second);
    expect(r.list()).toEqual([]);
  });

  it('refuses a corrupt queue ring', () => {
    const r = new MapRegistry(new Memory(), { cpus: 1, isProgram, share: true });
    const q = { type: 'queue', keySize: 0, valueSize: 4, maxEntries: 2 } as const;
    r.create(q);
    const s = r.sharedState();
    new Int32Array(s.maps[0]!.buffers[0]!)[2] = 9;
    mapError(() => new MapRegistry(new Memory(), { cpus: 1, isProgram, attach: s }).create(q), 'EINVAL', 'corrupt');
  });
});

describe.each(AVAILABLE_ENGINES)('programs on two Vms sharing maps (%s)', (engine) => {
  /** Looks up key 1 of map `fd` and atomically adds 5 to its u64 value; r0 = 0. */
  const counter = (fd: number): string => `
    mov %r1, 1
    stxw [%r10-4], %r1
    mov %r2, %r10
    add %r2, -4
    lddw %r1, map_fd ${fd}
    call 1
    jeq %r0, 0, out
    mov %r1, 5
    lock add [%r0+0], %r1
  out:
    mov %r0, 0
    exit`;

  for (const type of ['hash', 'array', 'lru_hash'] as const) {
    it(`${type}: both Vms' programs add to the same counter`, () => {
      const def = { type, keySize: 4, valueSize: 8, maxEntries: 4 };
      const a = new Vm({ engine, shareMaps: true, cpus: 2 });
      const ma = a.createMap(def);
      const b = new Vm({ engine, sharedMaps: a.maps.sharedState(), cpus: 2 });
      const mb = b.createMap(def);
      ma.set(1, 0n);
      const pa = a.load(counter(ma.fd));
      const pb = b.load(counter(mb.fd));
      for (let i = 0; i < 10; i++) {
        expect(pa.run()).toBe(0n);
        expect(pb.run(undefined, { cpu: 1 })).toBe(0n);
      }
      expect(ma.get(1, 'u64')).toBe(100n);
      expect(mb.get(1, 'u64')).toBe(100n);
    });
  }

  it('percpu_array: each Vm running as its own CPU fills its own copy', () => {
    const def = { type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 2 } as const;
    const a = new Vm({ engine, shareMaps: true, cpus: 2 });
    const ma = a.createMap(def);
    const b = new Vm({ engine, sharedMaps: a.maps.sharedState(), cpus: 2 });
    const mb = b.createMap(def);
    a.load(counter(ma.fd)).run(undefined, { cpu: 0 });
    const pb = b.load(counter(mb.fd));
    pb.run(undefined, { cpu: 1 });
    pb.run(undefined, { cpu: 1 });
    expect(ma.get(1, 'u64')).toEqual([5n, 10n]);
  });
});
