import { describe, expect, it } from 'vitest';
import { E2BIG, ENOSPC } from '../lib/errno.js';
import { UsageError } from '../lib/errors.js';
import { PERF_PENDING_LIMIT } from '../lib/maps/index.js';
import { setup, thrown } from './maps-helpers.js';

describe('PERF_EVENT_ARRAY', () => {
  it('output delivers {cpu, index, data} records; index "current" is the CPU', () => {
    const { registry } = setup(4);
    const map = registry.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 4 });
    const data = Uint8Array.of(1, 2);
    expect(map.output(2, 'current', data)).toBe(0);
    data[0] = 9; // the record is a copy
    expect(map.output(1, 3, Uint8Array.of(3))).toBe(0);
    expect(map.size).toBe(2);
    expect(map.drain()).toEqual([
      { cpu: 2, index: 2, data: Uint8Array.of(1, 2) },
      { cpu: 1, index: 3, data: Uint8Array.of(3) },
    ]);
    expect(map.size).toBe(0);
  });

  it('an index past max_entries is -E2BIG', () => {
    const { registry } = setup(4);
    const map = registry.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(map.output(0, 2, Uint8Array.of(1))).toBe(-E2BIG);
    expect(map.output(3, 'current', Uint8Array.of(1))).toBe(-E2BIG);
    expect(map.size).toBe(0);
    expect(thrown(() => map.output(4, 0, Uint8Array.of(1)))).toBeInstanceOf(UsageError);
  });

  it('callbacks receive records as they are output; records() waits for them', async () => {
    const { registry } = setup();
    const map = registry.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const iterator = map.records();
    const first = iterator.next();
    map.output(0, 0, Uint8Array.of(5));
    expect((await first).value).toEqual({ cpu: 0, index: 0, data: Uint8Array.of(5) });
    await iterator.return();
    const got: number[] = [];
    const stop = map.onRecord((r) => got.push(r.data[0]!));
    map.output(0, 0, Uint8Array.of(6));
    stop();
    expect(got).toEqual([6]);
    expect(map.size).toBe(0);
  });

  it('refuses samples beyond the pending limit and counts them as lost', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const chunk = new Uint8Array(PERF_PENDING_LIMIT / 2);
    expect(map.output(0, 0, chunk)).toBe(0);
    expect(map.output(0, 0, chunk)).toBe(0);
    expect(map.output(0, 0, Uint8Array.of(1))).toBe(-ENOSPC);
    expect(map.lost).toBe(1);
    map.drain();
    expect(map.output(0, 0, Uint8Array.of(1))).toBe(0);
  });
});
