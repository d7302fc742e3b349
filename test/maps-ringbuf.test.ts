import { describe, expect, it } from 'vitest';
import { EAGAIN, EINVAL } from '../lib/errno.js';
import {
  BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_NO_WAKEUP, BPF_RB_PROD_POS, BPF_RB_RING_SIZE, MapError,
} from '../lib/maps/index.js';
import { setup, thrown } from './maps-helpers.js';

function ring(size = 4096) {
  const { memory, registry } = setup();
  return { memory, rb: registry.create({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: size }) };
}

describe('RINGBUF', () => {
  it('reserve gives writable memory of the map; submit makes it a record', () => {
    const { memory, rb } = ring();
    const address = rb.reserve(5, 0);
    expect(address).not.toBe(0);
    memory.write(BigInt(address), Uint8Array.of(1, 2, 3, 4, 5), 0);
    expect(rb.drain()).toEqual([]); // not submitted yet
    rb.submit(address, 0);
    expect(rb.size).toBe(1);
    expect(rb.drain()).toEqual([Uint8Array.of(1, 2, 3, 4, 5)]);
    expect(rb.size).toBe(0);
  });

  it('accounts an 8-byte header and 8-byte alignment; consuming frees the space', () => {
    const { rb } = ring();
    expect(rb.query(BPF_RB_RING_SIZE)).toBe(4096n);
    rb.submit(rb.reserve(10, 0), 0);
    expect(rb.query(BPF_RB_PROD_POS)).toBe(24n); // 8 + 10 rounded up to 8
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(24n);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(0n);
    rb.drain();
    expect(rb.query(BPF_RB_CONS_POS)).toBe(24n);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0n);
    expect(rb.query(99)).toBe(0n);
  });

  it('never lets the producer get a whole ring ahead of the consumer', () => {
    const { rb } = ring();
    expect(rb.reserve(4096 - 8, 0)).toBe(0); // header + data = the whole ring
    const big = rb.reserve(4096 - 16, 0);
    expect(big).not.toBe(0);
    expect(rb.reserve(0, 0)).toBe(0);
    rb.submit(big, 0);
    expect(rb.reserve(0, 0)).toBe(0); // submitted but not consumed: still no room
    expect(rb.output(new Uint8Array(1), 0)).toBe(-EAGAIN);
    rb.drain();
    expect(rb.reserve(0, 0)).not.toBe(0);
  });

  it('refuses reservations with flags, negative or huge sizes', () => {
    const { rb } = ring();
    expect(rb.reserve(8, 1)).toBe(0);
    expect(rb.reserve(-1, 0)).toBe(0);
    expect(rb.reserve(2 ** 40, 0)).toBe(0);
    expect(rb.query(BPF_RB_PROD_POS)).toBe(0n);
  });

  it('a reservation not yet submitted holds back the records after it', () => {
    const { memory, rb } = ring();
    const a = rb.reserve(1, 0);
    const b = rb.reserve(1, 0);
    memory.store(BigInt(a), 1, 0xaan, 0);
    memory.store(BigInt(b), 1, 0xbbn, 0);
    rb.submit(b, 0);
    expect(rb.drain()).toEqual([]);
    rb.submit(a, 0);
    expect(rb.drain()).toEqual([Uint8Array.of(0xaa), Uint8Array.of(0xbb)]);
  });

  it('discarded records are skipped, and their space comes back when the consumer passes them', () => {
    const { rb } = ring();
    const a = rb.reserve(100, 0);
    rb.output(Uint8Array.of(7), 0);
    rb.discard(a, 0);
    expect(rb.size).toBe(1);
    expect(rb.drain()).toEqual([Uint8Array.of(7)]);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0n);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(rb.query(BPF_RB_PROD_POS));
  });

  it('submit/discard of an address that is not a pending reservation is MapError EINVAL', () => {
    const { rb } = ring();
    const a = rb.reserve(4, 0);
    for (const bad of [a + 1, 0, 12345]) {
      const err = thrown(() => rb.submit(bad, 0)) as MapError;
      expect(err).toBeInstanceOf(MapError);
      expect(err.code).toBe('EINVAL');
    }
    rb.submit(a, 0);
    expect((thrown(() => rb.discard(a, 0)) as MapError).code).toBe('EINVAL');
  });

  it('a record that wraps past the end of the ring is contiguous and arrives intact', () => {
    const { memory, rb } = ring();
    rb.submit(rb.reserve(3000, 0), 0);
    rb.drain();
    const data = Uint8Array.from({ length: 2000 }, (_, i) => i & 0xff);
    const address = rb.reserve(data.length, 0);
    memory.write(BigInt(address), data, 0); // crosses offset 4096 of the region
    rb.submit(address, 0);
    expect(rb.drain()).toEqual([data]);
    const next = rb.reserve(8, 0);
    expect(next).not.toBe(0);
  });

  it('output copies the data; bad flags are -EINVAL; wakeup flags are accepted', () => {
    const { rb } = ring();
    const data = Uint8Array.of(1, 2, 3);
    expect(rb.output(data, BPF_RB_NO_WAKEUP)).toBe(0);
    data[0] = 9;
    expect(rb.output(data, 4)).toBe(-EINVAL);
    expect(rb.drain()).toEqual([Uint8Array.of(1, 2, 3)]);
  });

  it('onRecord callbacks get each record at submit, consuming it; unsubscribing stops them', () => {
    const { rb } = ring();
    const got: number[][] = [];
    const stop = rb.onRecord((r) => got.push([...r]));
    rb.output(Uint8Array.of(1), 0);
    expect(got).toEqual([[1]]);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0n);
    stop();
    rb.output(Uint8Array.of(2), 0);
    expect(got).toEqual([[1]]);
    expect(rb.drain()).toEqual([Uint8Array.of(2)]);
  });

  it('records() yields waiting records, then new ones as they are submitted', async () => {
    const { rb } = ring();
    rb.output(Uint8Array.of(1), 0);
    const iterator = rb.records();
    expect((await iterator.next()).value).toEqual(Uint8Array.of(1));
    const pending = iterator.next();
    rb.output(Uint8Array.of(2), 0);
    expect((await pending).value).toEqual(Uint8Array.of(2));
    await iterator.return();
    rb.output(Uint8Array.of(3), 0);
    const seen: number[] = [];
    for await (const r of rb.records()) {
      seen.push(r[0]!);
      break;
    }
    expect(seen).toEqual([3]);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0n);
  });

  it('has no lookup/update/delete', () => {
    const { rb } = ring();
    expect(rb.lookup(new Uint8Array(0), 0)).toBe(0);
    expect(rb.update(new Uint8Array(0), new Uint8Array(0), 0, 0)).toBeLessThan(0);
    expect(rb.delete(new Uint8Array(0))).toBeLessThan(0);
  });

  describe('reservations left at the end of a run (registry.endRun)', () => {
    function registryRing(size = 4096) {
      const { memory, registry } = setup();
      return { memory, registry, rb: registry.create({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: size }) };
    }

    it('discards them, so later records reach callbacks and drain', () => {
      const { registry, rb } = registryRing();
      const got: number[] = [];
      rb.reserve(8, 0); // never submitted: the run faulted, say
      rb.onRecord((r) => got.push(r[0]!));
      expect(rb.output(Uint8Array.of(1), 0)).toBe(0);
      expect(got).toEqual([]); // held back by the reservation
      registry.endRun();
      expect(got).toEqual([1]);
      expect(rb.output(Uint8Array.of(2), 0)).toBe(0);
      expect(got).toEqual([1, 2]);
      expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0n);
    });

    it('keeps output from ending in -EAGAIN forever', () => {
      const { registry, rb } = registryRing();
      rb.reserve(8, 0);
      let sent = 0;
      while (rb.output(new Uint8Array(100), 0) === 0) {
        sent++;
        expect(rb.drain()).toEqual([]); // held back by the reservation
      }
      expect(rb.output(new Uint8Array(100), 0)).toBe(-EAGAIN);
      registry.endRun();
      expect(rb.drain()).toHaveLength(sent);
      expect(rb.output(Uint8Array.of(7), 0)).toBe(0);
      expect(rb.drain()).toEqual([Uint8Array.of(7)]);
    });

    it('wakes a records() iterator; an address discarded this way can no longer be submitted', async () => {
      const { registry, rb } = registryRing();
      const address = rb.reserve(4, 0);
      rb.output(Uint8Array.of(3), 0);
      const next = rb.records().next();
      registry.endRun();
      expect((await next).value).toEqual(Uint8Array.of(3));
      expect((thrown(() => rb.submit(address, 0)) as MapError).code).toBe('EINVAL');
    });

    it('releases every ring even when a callback throws, then rethrows the first error', () => {
      const { registry } = setup();
      const rings = [0, 1].map(() => registry.create({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 }));
      for (const rb of rings) {
        rb.reserve(8, 0);
        rb.output(Uint8Array.of(1), 0);
      }
      const boom = new Error('boom');
      rings[0]!.onRecord(() => {
        throw boom;
      });
      expect(thrown(() => registry.endRun())).toBe(boom);
      expect(rings[1]!.drain()).toEqual([Uint8Array.of(1)]);
      expect(() => registry.endRun()).not.toThrow(); // nothing pending any more
    });

    it('leaves a destroyed ring alone', () => {
      const { registry, rb } = registryRing();
      rb.reserve(8, 0);
      registry.destroy(rb);
      expect(() => registry.endRun()).not.toThrow();
    });
  });
});
