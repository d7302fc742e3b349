import { describe, expect, it } from 'vitest';
import { MapError, type BpfMap } from '../lib/maps/index.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';
import { load32, program, setup, store32, thrown, u32 } from './maps-helpers.js';

/** Expects `fn` to throw MapError EPERM naming the map and the operation. */
function refused(map: BpfMap, operation: string, fn: () => unknown): void {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(MapError);
  expect((e as MapError).code).toBe('EPERM');
  expect((e as MapError).errno).toBe(1);
  expect((e as MapError).message).toContain(`map ${map.name}: ${operation}`);
  expect((e as MapError).message).toContain('frozen');
}

describe('BpfMap.freeze (BPF_MAP_FREEZE)', () => {
  it('starts unfrozen and stays frozen', () => {
    const { registry } = setup();
    const m = registry.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(m.frozen).toBe(false);
    m.set(0, 5);
    m.freeze();
    m.freeze();
    expect(m.frozen).toBe(true);
    expect(m.get(0, 'u32')).toBe(5);
  });

  it('array: JS writes throw EPERM, program writes through lookup and updateElem still work', () => {
    const { memory, registry } = setup();
    const m = registry.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 2, name: 'cfg' });
    m.set(1, 7);
    m.freeze();
    refused(m, 'set', () => m.set(0, 1));
    refused(m, 'clear', () => m.clear());
    refused(m, 'delete', () => m.delete(0)); // EPERM comes before the array's EINVAL, as in Linux
    refused(m, 'update', () => m.update(u32(0), u32(1), 0, 0));
    expect(m.get(0, 'u32')).toBe(0);
    const address = m.lookup(u32(1), 0);
    expect(load32(memory, address)).toBe(7);
    store32(memory, address, 8);
    expect(m.get(1, 'u32')).toBe(8);
    expect(m.updateElem(u32(0), u32(9), 0, 0)).toBe(0);
    expect(m.get(0, 'u32')).toBe(9);
    expect(m.deleteElem(u32(0))).toBe(-22);
  });

  it('percpu_array: JS set throws, program update sets its CPU copy', () => {
    const { registry } = setup(2);
    const m = registry.create({ type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    m.freeze();
    refused(m, 'set', () => m.set(0, 1));
    expect(m.updateElem(u32(0), u32(3), 0, 1)).toBe(0);
    expect(m.get(0, 'u32')).toEqual([0, 3]);
  });

  for (const type of ['hash', 'lru_hash', 'percpu_hash', 'lru_percpu_hash'] as const) {
    it(`${type}: JS set/delete/clear/update throw, the BPF side is unchanged`, () => {
      const { registry } = setup(2);
      const m = registry.create({ type, keySize: 4, valueSize: 4, maxEntries: 4 });
      m.set(1, 10);
      m.freeze();
      refused(m, 'set', () => m.set(2, 20));
      refused(m, 'delete', () => m.delete(1));
      refused(m, 'delete', () => m.delete(3)); // a missing key is EPERM too: the check comes first
      refused(m, 'clear', () => m.clear());
      refused(m, 'update', () => m.update(u32(2), u32(20), 0, 0));
      expect(m.size).toBe(1);
      expect(m.has(1)).toBe(true);
      expect(m.updateElem(u32(2), u32(20), 0, 0)).toBe(0);
      expect(m.lookup(u32(2), 0)).not.toBe(0);
      expect(m.deleteElem(u32(1))).toBe(0);
      expect(m.deleteElem(u32(1))).toBe(-2);
      expect([...m.keys()].map((k) => k[0])).toEqual([2]);
    });
  }

  it('queue and stack: JS push/pop/clear throw, peek reads, pushElem/popElem work', () => {
    const { registry } = setup();
    for (const type of ['queue', 'stack'] as const) {
      const q = registry.create({ type, keySize: 0, valueSize: 4, maxEntries: 4 });
      q.push(u32(1));
      q.freeze();
      refused(q, 'push', () => q.push(u32(2)));
      refused(q, 'pop', () => q.pop());
      refused(q, 'clear', () => q.clear());
      expect(q.peek('u32')).toBe(1);
      expect(q.pushElem(u32(2))).toBe(0);
      const out = new Uint8Array(4);
      expect(q.popElem(out)).toBe(0);
      expect(out[0]).toBe(type === 'queue' ? 1 : 2);
      expect(q.size).toBe(1);
    }
  });

  it('prog_array, array_of_maps and hash_of_maps: JS set/delete/clear throw', () => {
    const { registry } = setup();
    const prog = registry.create({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2 });
    prog.set(0, program('a'));
    prog.freeze();
    refused(prog, 'set', () => prog.set(1, program('b')));
    refused(prog, 'delete', () => prog.delete(0));
    refused(prog, 'clear', () => prog.clear());
    expect(prog.target(0)).toBeDefined();
    expect(prog.deleteElem(u32(0))).toBe(0);
    const inner = registry.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const innerDef = { type: 'array' as const, keySize: 4, valueSize: 4, maxEntries: 1 };
    const aom = registry.create({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, inner: innerDef });
    const hom = registry.create({ type: 'hash_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, inner: innerDef });
    aom.freeze();
    hom.freeze();
    refused(aom, 'set', () => aom.set(0, inner));
    refused(hom, 'set', () => hom.set(0, inner));
    refused(hom, 'delete', () => hom.delete(0));
    refused(hom, 'clear', () => hom.clear());
    expect(aom.size + hom.size).toBe(0);
  });
});

// Programs go through the helpers, which call the BPF-side entry points
// (updateElem, deleteElem, pushElem, popElem): freezing does not affect them.
describe.each(AVAILABLE_ENGINES)('programs on frozen maps (%s)', (engine) => {
  it('update, delete, push and pop from a program still work', () => {
    const vm = new Vm({ engine });
    const hash = vm.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 });
    const queue = vm.createMap({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 4 });
    hash.set(2, 20);
    queue.push(u32(5));
    hash.freeze();
    queue.freeze();
    // update(key 1 = 7); delete(key 2); pop into r6's slot; push 9; r0 = update result | delete result | pop result | push result.
    const prog = vm.load(`
      mov %r1, 1
      stxw [%r10-4], %r1
      mov %r1, 7
      stxw [%r10-8], %r1
      lddw %r1, map_fd ${hash.fd}
      mov %r2, %r10
      add %r2, -4
      mov %r3, %r10
      add %r3, -8
      mov %r4, 0
      call 2
      mov %r6, %r0
      mov %r1, 2
      stxw [%r10-4], %r1
      lddw %r1, map_fd ${hash.fd}
      mov %r2, %r10
      add %r2, -4
      call 3
      or %r6, %r0
      lddw %r1, map_fd ${queue.fd}
      mov %r2, %r10
      add %r2, -12
      call 88
      or %r6, %r0
      mov %r1, 9
      stxw [%r10-16], %r1
      lddw %r1, map_fd ${queue.fd}
      mov %r2, %r10
      add %r2, -16
      mov %r3, 0
      call 87
      or %r6, %r0
      mov %r0, %r6
      exit`);
    expect(prog.run()).toBe(0n);
    expect(hash.get(1, 'u32')).toBe(7);
    expect(hash.has(2)).toBe(false);
    expect([...queue.values()].map((v) => v[0])).toEqual([9]);
    expect(thrown(() => hash.set(3, 3))).toBeInstanceOf(MapError);
  });
});
