// Fuzzing the readers: random mutations and truncations of valid pcap and
// pcapng files, read in random chunkings. Each run ends (every record or block
// consumes at least 12 bytes), throws nothing but PcapError, gives the same
// outcome read whole or in random chunks, and yields no
// more packet bytes than the input holds; toEthernet on what it yields returns
// a frame or throws PcapError.

import { describe, expect, test } from 'vitest';
import { PcapError, toEthernet } from '../lib/pcap/index.js';
import { block, chunked, concat, epb, idb, packet, pcapBytes, readAll, rng, shb, spb, summary, whole } from './pcap-helpers.js';

const SEEDS: [string, Uint8Array][] = [
  ['pcap', pcapBytes([{ data: packet(60, 1) }, { data: packet(0, 2) }, { data: packet(300, 3), origLen: 400 }, { data: packet(20, 4) }], { snaplen: 1000 })],
  ['pcap nano big-endian raw', pcapBytes([{ data: Uint8Array.of(0x45, ...packet(40, 1)) }, { data: Uint8Array.of(0x60, ...packet(50, 2)) }], { nanos: true, bigEndian: true, linkType: 101 })],
  ['pcapng', concat(
    shb(), idb(1, 0, { tsresol: 9, tsoffset: 3n }), idb(113, 200, { tsresol: 0x80 | 20 }), block(4, packet(16, 9)),
    epb(0, 5n, packet(60, 1)), epb(1, 7n, packet(40, 2)), spb(60, packet(60, 3)), epb(0, 9n, packet(10, 4), 10, true, 2),
    shb(false), idb(276, 0, {}, false), epb(0, 1n, packet(30, 5), 30, false), block(5, packet(20, 6), false),
  )],
];

const INTERESTING = [0, 1, 3, 4, 11, 12, 13, 16, 28, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x0a0d0d0a, 0x1a2b3c4d, 262_144, 262_145, 1 << 20];

function mutate(seed: Uint8Array, r: () => number): Uint8Array {
  let b: Uint8Array = seed.slice();
  const pos = () => Math.floor(r() * b.length);
  const edits = 1 + Math.floor(r() * 4);
  for (let k = 0; k < edits; k++) {
    switch (Math.floor(r() * 6)) {
      case 0: b[pos()] = Math.floor(r() * 256); break;
      case 1: b[pos()] ^= 1 << Math.floor(r() * 8); break;
      case 2: { // an interesting u32 at an aligned offset, in either byte order
        const at = pos() & ~3;
        if (at + 4 <= b.length) new DataView(b.buffer).setUint32(at, INTERESTING[Math.floor(r() * INTERESTING.length)]!, r() < 0.5);
        break;
      }
      case 3: b = b.subarray(0, pos()).slice(); break;
      case 4: { const at = pos(); b = concat(b.subarray(0, at), packet(Math.floor(r() * 12), at), b.subarray(at)); break; }
      default: { const a = pos(); const c = pos(); b = concat(b.subarray(0, Math.min(a, c)), b.subarray(Math.max(a, c))); }
    }
  }
  return b;
}

describe('fuzz', () => {
  test.each(SEEDS)('%s: mutations give packets or PcapError, bounded by the input', async (_name, seed) => {
    const r = rng(seed.length);
    let errors = 0;
    let clean = 0;
    for (let i = 0; i < 1500; i++) {
      const bytes = mutate(seed, r);
      const { packets, error } = await readAll(whole(bytes));
      // Read again in random chunks (tiny ones go through the coalescing buffer): the same outcome.
      const again = await readAll(chunked(bytes, () => 1 + Math.floor(r() * (i % 2 === 0 ? 8 : 700))));
      expect(summary(again.packets)).toEqual(summary(packets));
      expect(String(again.error)).toBe(String(error));
      if (error !== undefined) {
        if (!(error instanceof PcapError)) throw new Error(`iteration ${i}: ${String(error)}`);
        expect(error.packetNumber).toBe(packets.length);
        expect(error.offset).toBeGreaterThanOrEqual(0);
        expect(error.offset).toBeLessThanOrEqual(bytes.length);
        errors++;
      } else {
        clean++;
      }
      expect(packets.reduce((n, p) => n + p.data.length, 0)).toBeLessThanOrEqual(bytes.length);
      packets.forEach((p, k) => {
        expect(p.index).toBe(k);
        expect(p.offset).toBeLessThan(bytes.length);
        try {
          toEthernet(p);
        } catch (e) {
          if (!(e instanceof PcapError)) throw e;
        }
      });
    }
    // Both outcomes occur: the mutations are neither all fatal nor all harmless.
    expect(errors).toBeGreaterThan(100);
    expect(clean).toBeGreaterThan(10);
  });

  test('declared lengths far beyond the input fail at the end of the input, without waiting on or allocating them', async () => {
    const hugeSkip = concat(shb(), new Uint8Array(16));
    new DataView(hugeSkip.buffer).setUint32(28, 0x40000bad, true);
    new DataView(hugeSkip.buffer).setUint32(32, 0xffff_fff0, true);
    const e = (await readAll(whole(hugeSkip))).error as PcapError;
    expect(e.message).toMatch(/truncated block of 4294967280 bytes/);
    expect(e.offset).toBe(28);
    const hugeRecord = pcapBytes([{ data: packet(10, 1) }]);
    new DataView(hugeRecord.buffer).setUint32(32, 262_144, true);
    expect(((await readAll(whole(hugeRecord))).error as PcapError).message).toMatch(/truncated record: 10 of 262144/);
  });
});
