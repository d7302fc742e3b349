// Memory stays flat whatever the capture's length: 200 MB of pcap and of
// pcapng (with a 64 MB block nobody reads) streamed from a generator (no
// file), with the heap measured after forced collections along the way. The
// reader keeps one record plus one chunk, so growth stays under a MB; a
// reader that buffered the stream would grow by hundreds.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { readCapture } from '../lib/pcap/index.js';
import { concat, epb, idb, packet, pcapBytes, rng, shb } from './pcap-helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const TARGET = 200 * MB;

/**
 * Live JS heap plus ArrayBuffer memory after full collections. Two, a task
 * apart: V8 frees dead ArrayBuffers' memory on a background sweeper, and the
 * second collection finishes what the first one found.
 */
async function heap(): Promise<number> {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * `header` then `body` repeated until `total` bytes, as views of the same
 * arrays (the generator allocates nothing), in chunk sizes from 1 byte to 256 KiB.
 */
async function* stream(header: Uint8Array, body: Uint8Array, total: number, extra?: (round: number) => Uint8Array | undefined): AsyncGenerator<Uint8Array> {
  const r = rng(5);
  yield header;
  let sent = header.length;
  for (let round = 0; sent < total; round++) {
    const x = extra?.(round);
    if (x !== undefined) {
      for (let at = 0; at < x.length; at += 256 * 1024) yield x.subarray(at, at + 256 * 1024);
      sent += x.length;
    }
    for (let at = 0; at < body.length;) {
      const n = r() < 0.1 ? 1 + Math.floor(r() * 64) : 1 + Math.floor(r() * 256 * 1024);
      yield body.subarray(at, at + n);
      at += n;
    }
    sent += body.length;
  }
}

/** Packets of 0..1600 bytes and a few of 64 KiB+ (records spanning chunks). */
function sizes(): number[] {
  const r = rng(9);
  return Array.from({ length: 600 }, (_, i) => (i % 97 === 0 ? 65_536 + i : Math.floor(r() * 1600)));
}

async function measure(chunks: AsyncIterable<Uint8Array>): Promise<{ packets: number; bytes: number; growth: number }> {
  const base = await heap();
  let growth = 0;
  let packets = 0;
  let bytes = 0;
  for await (const p of readCapture(chunks)) {
    packets++;
    bytes += p.data.length;
    if (packets % 20_000 === 0) growth = Math.max(growth, (await heap()) - base);
  }
  growth = Math.max(growth, (await heap()) - base);
  return { packets, bytes, growth };
}

describe('streaming memory', () => {
  test('200 MB of pcap: heap growth stays under 4 MB', async () => {
    const full = pcapBytes(sizes().map((n, i) => ({ data: packet(n, i) })));
    const header = full.subarray(0, 24);
    const body = full.subarray(24);
    const { packets, bytes, growth } = await measure(stream(header, body, TARGET));
    expect(bytes).toBeGreaterThan(TARGET * 0.9);
    expect(packets).toBeGreaterThan(100_000);
    expect(growth).toBeLessThan(4 * MB);
  });

  test('a 256 KiB record arriving a byte at a time costs its bytes, not a quarter million chunk objects', async () => {
    const bytes = pcapBytes([{ data: packet(262_144, 1) }, { data: packet(10, 2) }]);
    let base = 0;
    let growth = 0;
    async function* bytewise(): AsyncGenerator<Uint8Array> {
      base = await heap();
      for (let i = 0; i < bytes.length; i++) {
        // Sampled while the big record is being queued (the reader holds it all until its last byte).
        if (i % 32_768 === 0) growth = Math.max(growth, (await heap()) - base);
        yield bytes.subarray(i, i + 1);
      }
    }
    let n = 0;
    for await (const p of readCapture(bytewise())) {
      expect(p.data).toEqual(packet(p.index === 0 ? 262_144 : 10, p.index + 1));
      n++;
    }
    expect(n).toBe(2);
    expect(growth).toBeGreaterThan(0);
    expect(growth).toBeLessThan(2 * MB);
  });

  test('200 MB of pcapng with a 64 MB unknown block: heap growth stays under 4 MB', async () => {
    const header = concat(shb(), idb(1, 0));
    const body = concat(...sizes().map((n, i) => epb(0, BigInt(i), packet(n, i))));
    // A custom block of 64 MB in the middle: skipped by length, never buffered.
    const big = new Uint8Array(64 * MB);
    const dv = new DataView(big.buffer);
    dv.setUint32(0, 0x40000bad, true);
    dv.setUint32(4, big.length, true);
    dv.setUint32(big.length - 4, big.length, true);
    const { packets, bytes, growth } = await measure(stream(header, body, TARGET, (round) => (round === 10 ? big : undefined)));
    expect(bytes).toBeGreaterThan((TARGET - 64 * MB) * 0.9);
    expect(packets).toBeGreaterThan(60_000);
    expect(growth).toBeLessThan(4 * MB);
  });
});
