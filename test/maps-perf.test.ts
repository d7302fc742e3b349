import { describe, expect, it } from 'vitest';
import { E2BIG, ENOSPC } from '../lib/errno.js';
import { UsageError } from '../lib/errors.js';
import { PERF_PENDING_LIMIT } from '../lib/maps/index.js';
import { perfRecordBytes } from '../lib/maps/perf-event-array.js';
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
    const chunk = new Uint8Array(PERF_PENDING_LIMIT / 2 - 16); // + 16 bytes of record header and size
    expect(perfRecordBytes(chunk.byteLength)).toBe(PERF_PENDING_LIMIT / 2);
    expect(map.output(0, 0, chunk)).toBe(0);
    expect(map.output(0, 0, chunk)).toBe(0);
    expect(map.output(0, 0, Uint8Array.of(1))).toBe(-ENOSPC);
    expect(map.lost).toBe(1);
    map.drain();
    expect(map.output(0, 0, Uint8Array.of(1))).toBe(0);
  });

  it('charges each sample its Linux record size: header, raw size, data, padded to 8', () => {
    expect([0, 1, 4, 5, 12, 13].map(perfRecordBytes)).toEqual([16, 16, 16, 24, 24, 32]);
    const { registry } = setup();
    const map = registry.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const sample = new Uint8Array(4096 - 12); // exactly 4096 bytes of record
    const fit = PERF_PENDING_LIMIT / 4096;
    for (let i = 0; i < fit; i++) expect(map.output(0, 0, sample)).toBe(0);
    expect(map.output(0, 0, new Uint8Array(0))).toBe(-ENOSPC);
    expect(map.lost).toBe(1);
    expect(map.size).toBe(fit);
  });

  it('bounds empty samples too: at most PERF_PENDING_LIMIT / 16 wait', () => {
    const { registry } = setup();
    const map = registry.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const empty = new Uint8Array(0);
    const fit = PERF_PENDING_LIMIT / 16;
    let refused = 0;
    for (let i = 0; i < fit + 10; i++) if (map.output(0, 0, empty) === -ENOSPC) refused++;
    expect(refused).toBe(10);
    expect(map.lost).toBe(10);
    expect(map.size).toBe(fit);
    expect(map.drain()).toHaveLength(fit);
    expect(map.output(0, 0, empty)).toBe(0);
  });
});
