import { describe, expect, it } from 'vitest';
import { HelperError, MemoryAccessError } from '../lib/errors.js';
import { BPF_EXIST, BPF_F_CURRENT_CPU, BPF_NOEXIST, BPF_RB_RING_SIZE, BPF_RB_AVAIL_DATA } from '../lib/maps/index.js';
import { makeWorld, PC } from './helpers-world.js';

const LOOKUP = 1, UPDATE = 2, DELETE = 3;
const PERF_OUTPUT = 25;
const PUSH = 87, POP = 88, PEEK = 89;
const RB_OUTPUT = 130, RB_RESERVE = 131, RB_SUBMIT = 132, RB_DISCARD = 133, RB_QUERY = 134;
const ENOENT = -2n, E2BIG = -7n, EFAULT = -14n, EEXIST = -17n, EINVAL = -22n;

const u32le = (v: number) => Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);

function thrown(f: () => unknown): unknown {
  try { f(); } catch (e) { return e; }
  return undefined;
}

describe('map_lookup_elem, map_update_elem, map_delete_elem', () => {
  it('stores, finds and deletes hash elements with Linux results', () => {
    const w = makeWorld();
    const m = w.maps.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    const key = w.put(0, u32le(7));
    const value = w.put(8, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(w.call(LOOKUP, m.pointer, key)).toBe(0n);
    expect(w.call(UPDATE, m.pointer, key, value, 0)).toBe(0n);
    const addr = w.call(LOOKUP, m.pointer, key);
    expect(addr).not.toBe(0n);
    expect(w.memory.load(addr, 8, 0)).toBe(0x0807060504030201n);
    // Writes through the address are the map's value.
    w.memory.store(addr, 1, 0x99n, 0);
    expect(m.get(7)![0]).toBe(0x99);
    expect(w.call(UPDATE, m.pointer, key, value, BPF_NOEXIST)).toBe(EEXIST);
    expect(w.call(UPDATE, m.pointer, w.put(16, u32le(8)), value, BPF_EXIST)).toBe(ENOENT);
    expect(w.call(UPDATE, m.pointer, key, value, 1n << 40n)).toBe(EINVAL);
    expect(w.call(DELETE, m.pointer, key)).toBe(0n);
    expect(w.call(DELETE, m.pointer, key)).toBe(ENOENT);
    expect(w.call(LOOKUP, m.pointer, key)).toBe(0n);
  });

  it('copies the key and value: later writes to program memory do not change the map', () => {
    const w = makeWorld();
    const m = w.maps.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(w.call(UPDATE, m.pointer, w.put(0, u32le(1)), w.put(4, u32le(10)), 0)).toBe(0n);
    w.put(0, u32le(2));
    w.put(4, u32le(20));
    expect(m.get(1, 'u32')).toBe(10);
    expect(m.has(2)).toBe(false);
  });

  it('uses the run CPU for per-CPU maps', () => {
    const key = u32le(0);
    const cpu0 = makeWorld({ cpu: 0 });
    const cpu1 = makeWorld({ cpu: 1 });
    for (const w of [cpu0, cpu1]) {
      const m = w.maps.create({ type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(w.call(UPDATE, m.pointer, w.put(0, key), w.put(4, u32le(w === cpu0 ? 10 : 11)), 0)).toBe(0n);
      expect(m.get(0, 'u32')).toEqual(w === cpu0 ? [10, 0] : [0, 11]);
    }
  });

  it('reads no key for maps whose key size is 0 (a NULL key is fine)', () => {
    const w = makeWorld();
    const q = w.maps.create({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 2 });
    expect(w.call(LOOKUP, q.pointer, 0)).toBe(0n);
    expect(w.call(UPDATE, q.pointer, 0, w.put(0, u32le(1)), 0)).toBe(EINVAL);
  });

  it('refuses a pointer that is not a map, naming the helper and the argument', () => {
    const w = makeWorld();
    const err = thrown(() => w.call(LOOKUP, w.at(0), w.at(0)));
    expect(err).toBeInstanceOf(HelperError);
    expect((err as HelperError).pc).toBe(PC);
    expect((err as HelperError).message).toMatch(/map_lookup_elem: argument 1 \(r1 = 0x[0-9a-f]+\) is not a map/);
    expect(() => w.call(DELETE, 0xfe000063n, 0)).toThrow(/map_delete_elem: argument 1/);
  });

  it('faults on a key or value it cannot read', () => {
    const w = makeWorld();
    const m = w.maps.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(thrown(() => w.call(LOOKUP, m.pointer, 0))).toBeInstanceOf(MemoryAccessError);
    expect(() => w.call(UPDATE, m.pointer, w.at(0), w.at(4092), 0)).toThrow(MemoryAccessError);
  });
});

describe('map_push_elem, map_pop_elem, map_peek_elem', () => {
  it('pushes and pops in FIFO order for a queue, LIFO for a stack', () => {
    for (const [type, order] of [['queue', [1, 2, 3]], ['stack', [3, 2, 1]]] as const) {
      const w = makeWorld();
      const q = w.maps.create({ type, keySize: 0, valueSize: 4, maxEntries: 3 });
      for (const v of [1, 2, 3]) expect(w.call(PUSH, q.pointer, w.put(0, u32le(v)), 0)).toBe(0n);
      expect(w.call(PUSH, q.pointer, w.put(0, u32le(4)), 0)).toBe(E2BIG);
      expect(w.call(PEEK, q.pointer, w.at(8))).toBe(0n);
      expect(w.memory.load(w.at(8), 4, 0)).toBe(BigInt(order[0]));
      for (const v of order) {
        expect(w.call(POP, q.pointer, w.at(8))).toBe(0n);
        expect(w.memory.load(w.at(8), 4, 0)).toBe(BigInt(v));
      }
    }
  });

  it('zeroes the destination and returns -ENOENT when empty', () => {
    const w = makeWorld();
    const q = w.maps.create({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 2 });
    for (const id of [POP, PEEK]) {
      w.put(8, u32le(0xdeadbeef));
      expect(w.call(id, q.pointer, w.at(8))).toBe(ENOENT);
      expect(w.memory.load(w.at(8), 4, 0)).toBe(0n);
    }
  });

  it('replaces the oldest with BPF_EXIST when full; other flags are -EINVAL', () => {
    const w = makeWorld();
    const q = w.maps.create({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 2 });
    for (const v of [1, 2, 3]) expect(w.call(PUSH, q.pointer, w.put(0, u32le(v)), BPF_EXIST)).toBe(0n);
    expect([...q.values()].map((b) => b[0])).toEqual([2, 3]);
    expect(w.call(PUSH, q.pointer, w.at(0), BPF_NOEXIST)).toBe(EINVAL);
    expect(w.call(PUSH, q.pointer, w.at(0), 1n << 33n)).toBe(EINVAL);
  });

  it('refuses maps that are not queues or stacks', () => {
    const w = makeWorld();
    const m = w.maps.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(() => w.call(POP, m.pointer, w.at(0))).toThrow(/map_pop_elem: map map1 is a array map, not a queue or stack/);
    expect(() => w.call(PUSH, w.at(0), w.at(0), 0)).toThrow(HelperError);
  });
});

describe('ring buffer helpers', () => {
  it('outputs records, and submits or discards reservations', () => {
    const w = makeWorld();
    const rb = w.maps.create({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 });
    expect(w.call(RB_OUTPUT, rb.pointer, w.put(0, Uint8Array.of(1, 2, 3)), 3, 0)).toBe(0n);
    const rec = w.call(RB_RESERVE, rb.pointer, 4, 0);
    expect(rec).not.toBe(0n);
    w.memory.store(rec, 4, 0x44332211n, 0);
    expect(w.call(RB_SUBMIT, rec, 0)).toBe(0n);
    const dropped = w.call(RB_RESERVE, rb.pointer, 8, 0);
    expect(w.call(RB_DISCARD, dropped, 0)).toBe(0n);
    expect(rb.drain().map((r) => [...r])).toEqual([[1, 2, 3], [0x11, 0x22, 0x33, 0x44]]);
  });

  it('returns NULL from reserve with flags, -EINVAL from output with unknown flags; query reads the ring', () => {
    const w = makeWorld();
    const rb = w.maps.create({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 });
    expect(w.call(RB_RESERVE, rb.pointer, 4, 1)).toBe(0n);
    expect(w.call(RB_RESERVE, rb.pointer, 1n << 40n, 0)).toBe(0n);
    expect(w.call(RB_OUTPUT, rb.pointer, w.at(0), 4, 4)).toBe(EINVAL);
    expect(w.call(RB_OUTPUT, rb.pointer, w.at(0), 4, 1n << 40n)).toBe(EINVAL);
    expect(w.call(RB_QUERY, rb.pointer, BPF_RB_RING_SIZE)).toBe(4096n);
    expect(w.call(RB_OUTPUT, rb.pointer, w.at(0), 4, 0)).toBe(0n);
    expect(w.call(RB_QUERY, rb.pointer, BPF_RB_AVAIL_DATA)).toBe(16n); // 8-byte header + 4, rounded to 8
  });

  it('refuses an address no ring buffer holds, and maps that are not ring buffers', () => {
    const w = makeWorld();
    const a = w.maps.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    w.maps.create({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 });
    expect(() => w.call(RB_SUBMIT, w.at(0), 0)).toThrow(/ringbuf_submit: argument 1 \(r1 = 0x[0-9a-f]+\) is not a ring buffer reservation/);
    expect(() => w.call(RB_DISCARD, 1n << 40n, 0)).toThrow(HelperError);
    expect(() => w.call(RB_RESERVE, a.pointer, 4, 0)).toThrow(/ringbuf_reserve: map map1 is a array map, not a ringbuf/);
  });
});

describe('perf_event_output', () => {
  it('sends a sample to the current CPU slot or a given one', () => {
    const w = makeWorld({ cpu: 1 });
    const m = w.maps.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 2 });
    const data = w.put(0, Uint8Array.of(9, 8, 7));
    expect(w.call(PERF_OUTPUT, 0, m.pointer, BPF_F_CURRENT_CPU, data, 3)).toBe(0n);
    expect(w.call(PERF_OUTPUT, 0, m.pointer, 0, data, 2)).toBe(0n);
    expect(w.call(PERF_OUTPUT, 0, m.pointer, 5, data, 2)).toBe(E2BIG);
    expect(m.drain().map((r) => [r.cpu, r.index, [...r.data]])).toEqual([[1, 1, [9, 8, 7]], [1, 0, [9, 8]]]);
  });

  it('appends BPF_F_CTXLEN_MASK packet bytes; rejects unknown flags', () => {
    const w = makeWorld();
    const m = w.maps.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    w.put(0, Uint8Array.of(1, 2, 3, 4, 5, 6)); // the world's packet is the scratch region
    const meta = w.put(100, Uint8Array.of(0xaa));
    expect(w.call(PERF_OUTPUT, 0, m.pointer, BigInt(BPF_F_CURRENT_CPU) | (4n << 32n), meta, 1)).toBe(0n);
    expect([...m.drain()[0]!.data]).toEqual([0xaa, 1, 2, 3, 4]);
    expect(w.call(PERF_OUTPUT, 0, m.pointer, 5000n << 32n, meta, 1)).toBe(EFAULT);
    expect(w.call(PERF_OUTPUT, 0, m.pointer, 1n << 52n, meta, 1)).toBe(EINVAL);
    expect(() => w.call(PERF_OUTPUT, 0, w.at(0), 0, meta, 1)).toThrow(/perf_event_output: argument 2/);
  });
});
