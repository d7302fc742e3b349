import { describe, expect, it } from 'vitest';
import { E2BIG, EINVAL, ENOENT } from '../lib/errno.js';
import { UsageError } from '../lib/errors.js';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST } from '../lib/maps/index.js';
import { setup, thrown, u32 } from './maps-helpers.js';

describe('QUEUE and STACK', () => {
  it('a queue pops oldest first, a stack newest first', () => {
    const { registry } = setup();
    const queue = registry.create({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 4 });
    const stack = registry.create({ type: 'stack', keySize: 0, valueSize: 4, maxEntries: 4 });
    for (const v of [1, 2, 3]) {
      expect(queue.push(u32(v), BPF_ANY)).toBe(0);
      expect(stack.push(v)).toBe(0);
    }
    expect([...queue]).toEqual([u32(1), u32(2), u32(3)]);
    expect([...stack.values()]).toEqual([u32(3), u32(2), u32(1)]);
    const out = new Uint8Array(4);
    expect(queue.pop(out)).toBe(0);
    expect(out).toEqual(u32(1));
    expect(stack.pop(out)).toBe(0);
    expect(out).toEqual(u32(3));
    expect(queue.pop('u32')).toBe(2);
    expect(stack.pop('u32')).toBe(2);
    expect(queue.size).toBe(1);
  });

  it('peek copies without removing; pop and peek on empty are -ENOENT', () => {
    const { registry } = setup();
    const queue = registry.create({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 2 });
    const out = new Uint8Array(4).fill(0xaa);
    expect(queue.peek(out)).toBe(-ENOENT);
    expect(queue.pop(out)).toBe(-ENOENT);
    expect(out).toEqual(new Uint8Array(4).fill(0xaa));
    expect(queue.pop()).toBeUndefined();
    queue.push(9);
    expect(queue.peek(out)).toBe(0);
    expect(out).toEqual(u32(9));
    expect(queue.peek()).toEqual(u32(9));
    expect(queue.size).toBe(1);
  });

  it('full: -E2BIG, unless BPF_EXIST, which drops the oldest (for a stack too)', () => {
    const { registry } = setup();
    for (const type of ['queue', 'stack'] as const) {
      const map = registry.create({ type, keySize: 0, valueSize: 4, maxEntries: 3 });
      for (const v of [1, 2, 3]) map.push(v);
      expect(map.push(4)).toBe(-E2BIG);
      expect(map.push(4, BPF_EXIST)).toBe(0);
      expect(map.size).toBe(3);
      const order = [...map.values()].map((v) => v[0]);
      expect(order).toEqual(type === 'queue' ? [2, 3, 4] : [4, 3, 2]);
    }
  });

  it('wraps around its ring many times without losing order', () => {
    const { registry } = setup();
    const queue = registry.create({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 3 });
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      queue.push(i);
      if (i % 2 === 1) seen.push(queue.pop('u32')!, queue.pop('u32')!);
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('push flags other than BPF_ANY/BPF_EXIST are -EINVAL; lookup/update/delete are Linux’s answers', () => {
    const { registry } = setup();
    const queue = registry.create({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 2 });
    expect(queue.push(1, BPF_NOEXIST)).toBe(-EINVAL);
    expect(queue.push(1, 3)).toBe(-EINVAL);
    expect(queue.size).toBe(0);
    expect(queue.lookup(new Uint8Array(0), 0)).toBe(0);
    expect(queue.update(new Uint8Array(0), u32(1), BPF_ANY, 0)).toBe(-EINVAL);
    expect(queue.delete(new Uint8Array(0))).toBe(-EINVAL);
  });

  it('a pop buffer smaller than the value is a UsageError; clear empties', () => {
    const { registry } = setup();
    const stack = registry.create({ type: 'stack', keySize: 0, valueSize: 8, maxEntries: 2 });
    stack.push(1n);
    expect(thrown(() => stack.pop(new Uint8Array(4)))).toBeInstanceOf(UsageError);
    expect(stack.size).toBe(1);
    stack.clear();
    expect(stack.pop('u64')).toBeUndefined();
  });
});
