// readCapture on pcap (both byte orders, micro/nano, version, snaplen, link
// types) and pcapng (sections, interfaces, timestamp units, EPB/SPB/OPB,
// skipped blocks), whole and in chunks of any size, and the PcapError each
// kind of damage gives: its packet number and byte offset.

import { describe, expect, test } from 'vitest';
import { PcapError, readCapture } from '../lib/pcap/index.js';
import {
  block, chunked, concat, epb, idb, options, packet, pcapBytes, readAll, rng, shb, spb, summary, whole,
} from './pcap-helpers.js';

const T0 = 1_700_000_000_000_000_000n;
const PACKETS = [
  { data: packet(60, 1), timestampNs: T0 + 1_000n },
  { data: packet(1514, 2), timestampNs: T0 + 2_500_000_000n },
  { data: packet(0, 3), timestampNs: T0 + 3_000_007_000n, origLen: 40 },
  { data: packet(99, 4), timestampNs: 0n, origLen: 1500 },
];

async function pcapError(bytes: Uint8Array, good: number): Promise<PcapError> {
  const { packets, error } = await readAll(whole(bytes));
  expect(packets.length).toBe(good);
  expect(error).toBeInstanceOf(PcapError);
  return error as PcapError;
}

function setU32(bytes: Uint8Array, at: number, v: number, le = true): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(at, v, le);
  return out;
}

describe('pcap', () => {
  test.each([
    ['little-endian micro', { nanos: false, bigEndian: false }],
    ['big-endian micro', { nanos: false, bigEndian: true }],
    ['little-endian nano', { nanos: true, bigEndian: false }],
    ['big-endian nano', { nanos: true, bigEndian: true }],
  ])('%s: packets, offsets, timestamps', async (_name, opts) => {
    const bytes = pcapBytes(PACKETS, opts);
    const magic = new DataView(bytes.buffer).getUint32(0, false);
    expect(magic).toBe(({ 'false,false': 0xd4c3b2a1, 'false,true': 0xa1b2c3d4, 'true,false': 0x4d3cb2a1, 'true,true': 0xa1b23c4d } as Record<string, number>)[`${opts.nanos},${opts.bigEndian}`]);
    const { packets, error } = await readAll(whole(bytes));
    expect(error).toBeUndefined();
    expect(packets.map((p) => p.index)).toEqual([0, 1, 2, 3]);
    expect(packets.map((p) => p.offset)).toEqual([24, 24 + 16 + 60, 24 + 32 + 60 + 1514, 24 + 48 + 60 + 1514]);
    // Microsecond files drop the sub-microsecond part (the 7 ns).
    expect(packets.map((p) => p.timestampNs)).toEqual([T0 + 1_000n, T0 + 2_500_000_000n, T0 + 3_000_007_000n - (opts.nanos ? 0n : 0n), 0n]);
    expect(packets.map((p) => p.origLen)).toEqual([60, 1514, 40, 1500]);
    expect(packets.map((p) => p.linkType)).toEqual([1, 1, 1, 1]);
    expect(packets.map((p) => p.interfaceId)).toEqual([0, 0, 0, 0]);
    packets.forEach((p, i) => expect(p.data).toEqual(PACKETS[i]!.data));
  });

  test('a micro file truncates nanoseconds; a nano file keeps them', async () => {
    const p = [{ data: packet(20, 9), timestampNs: T0 + 123_456_789n }];
    expect((await readAll(whole(pcapBytes(p)))).packets[0]!.timestampNs).toBe(T0 + 123_456_000n);
    expect((await readAll(whole(pcapBytes(p, { nanos: true })))).packets[0]!.timestampNs).toBe(T0 + 123_456_789n);
  });

  test('the data is an own copy: the source chunk can change afterwards', async () => {
    const bytes = pcapBytes([{ data: packet(30, 1) }]);
    const { packets } = await readAll(whole(bytes));
    bytes.fill(0);
    expect(packets[0]!.data).toEqual(packet(30, 1));
    expect(packets[0]!.data.buffer.byteLength).toBe(30);
  });

  test.each([
    [1, 1], [101, 101], [12, 101], [14, 101], [113, 113], [276, 276], [228, 228], [229, 229], [147, 147],
  ])('link type %i in the header reads as %i', async (file, read) => {
    const { packets } = await readAll(whole(pcapBytes([{ data: packet(20, 1) }], { linkType: file })));
    expect(packets[0]!.linkType).toBe(read);
  });

  test('FCS bits above the link type are ignored', async () => {
    const bytes = setU32(pcapBytes([{ data: packet(20, 1) }]), 20, 0x1000_0000 | (4 << 29) | 1);
    expect((await readAll(whole(bytes))).packets[0]!.linkType).toBe(1);
  });

  test('version other than 2.x (x <= 4) is refused at the version field', async () => {
    const b = pcapBytes([]);
    const v3 = b.slice();
    v3[4] = 3;
    let e = await pcapError(v3, 0);
    expect(e.message).toMatch(/unsupported pcap version 3\.4/);
    expect([e.packetNumber, e.offset]).toEqual([0, 4]);
    const v25 = b.slice();
    v25[6] = 5;
    e = await pcapError(v25, 0);
    expect(e.message).toMatch(/version 2\.5/);
  });

  test('a record longer than the snaplen is cut to it, as libpcap reads it (the rest skipped)', async () => {
    const list = [{ data: packet(60, 1) }, { data: packet(200, 2), origLen: 250 }, { data: packet(101, 3) }, { data: packet(100, 4) }];
    const bytes = setU32(pcapBytes(list, { snaplen: 1000 }), 16, 100);
    for (const input of [whole(bytes), chunked(bytes, () => 7)]) {
      const { packets, error } = await readAll(input);
      expect(error).toBeUndefined();
      expect(packets.map((p) => p.data)).toEqual([list[0]!.data, list[1]!.data.subarray(0, 100), list[2]!.data.subarray(0, 100), list[3]!.data]);
      expect(packets.map((p) => p.origLen)).toEqual([60, 250, 101, 100]);
      // Offsets still name each record where it is in the file.
      expect(packets.map((p) => p.offset)).toEqual([24, 24 + 76, 24 + 76 + 216, 24 + 76 + 216 + 117]);
    }
    // The bytes dropped must still be there: a file cut inside them is truncated.
    const e = await pcapError(bytes.subarray(0, 24 + 76 + 16 + 150), 1);
    expect(e.message).toMatch(/truncated record: 150 of 200 captured bytes at packet 1, byte offset 100/);
  });

  test('snaplen 0 or huge: records up to 256 KiB, no more', async () => {
    const big = pcapBytes([{ data: packet(262_144, 1) }]);
    for (const snap of [0, 0xffff_ffff]) {
      const { packets, error } = await readAll(whole(setU32(big, 16, snap)));
      expect(error).toBeUndefined();
      expect(packets[0]!.data.length).toBe(262_144);
    }
    // An absurd incl_len fails before anything of that size is waited for or allocated.
    const absurd = setU32(setU32(pcapBytes([{ data: packet(10, 1) }]), 16, 0), 24 + 8, 0x7fff_0000);
    const e = await pcapError(absurd, 0);
    expect([e.packetNumber, e.offset]).toEqual([0, 24]);
    expect(e.message).toMatch(/captured length 2147418112 exceeds the limit of 262144/);
  });

  test('truncations: file header, record header, record data', async () => {
    const bytes = pcapBytes(PACKETS.slice(0, 2));
    const cases: [number, number, number, number, RegExp][] = [
      // cut at, good packets, packetNumber, offset, message
      [0, 0, 0, 0, /empty capture file/],
      [3, 0, 0, 0, /truncated capture file: 3 bytes/],
      [10, 0, 0, 0, /truncated pcap file header: 10 of 24 bytes/],
      [24 + 16 + 60 + 7, 1, 1, 100, /truncated record header: 7 of 16 bytes/],
      [24 + 16 + 60 + 16 + 1000, 1, 1, 100, /truncated record: 1000 of 1514 captured bytes/],
      [24 + 5, 0, 0, 24, /truncated record header: 5 of 16/],
    ];
    for (const [cut, good, n, offset, message] of cases) {
      const e = await pcapError(bytes.subarray(0, cut), good);
      expect([e.packetNumber, e.offset]).toEqual([n, offset]);
      expect(e.message).toMatch(message);
    }
    // Cut exactly at a record boundary: a clean end.
    expect((await readAll(whole(bytes.subarray(0, 24 + 16 + 60)))).error).toBeUndefined();
  });

  test('bad magic and gzip are named', async () => {
    expect((await pcapError(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 0)).message).toMatch(/unknown magic 0x01020304 at packet 0, byte offset 0/);
    expect((await pcapError(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0), 0)).message).toMatch(/gzip/);
  });

  test.each([[true], [false]])('modified (Kuznetzov) pcap, little-endian %s: 24-byte record headers', async (le) => {
    const plain = pcapBytes(PACKETS.slice(0, 2), { bigEndian: !le });
    // Rebuild with the modified magic and 8 extra bytes (ifindex, protocol, pkt_type, pad) per record.
    const header = plain.slice(0, 24);
    new DataView(header.buffer).setUint32(0, 0xa1b2cd34, le);
    const r1 = plain.subarray(24, 24 + 16 + 60);
    const r2 = plain.subarray(24 + 16 + 60);
    const extra = Uint8Array.of(0, 0, 0, 2, 8, 0, 0, 0);
    const bytes = concat(header, r1.subarray(0, 16), extra, r1.subarray(16), r2.subarray(0, 16), extra, r2.subarray(16));
    const { packets, error } = await readAll(whole(bytes));
    expect(error).toBeUndefined();
    expect(packets.map((p) => [p.offset, p.timestampNs, p.origLen])).toEqual([[24, T0 + 1_000n, 60], [24 + 24 + 60, T0 + 2_500_000_000n, 1514]]);
    expect(packets[1]!.data).toEqual(PACKETS[1]!.data);
    const e = await pcapError(bytes.subarray(0, 24 + 24 + 60 + 20), 1);
    expect(e.message).toMatch(/truncated record header: 20 of 24 bytes/);
  });
});

const NG_DATA = [packet(60, 1), packet(73, 2), packet(1, 3), packet(500, 4)];

/** Two sections (little then big endian), three interfaces, every packet block kind, skipped blocks. */
function richPcapng(): Uint8Array {
  return concat(
    shb(true, options([[1, new TextEncoder().encode('a comment')]])),
    idb(1, 0),
    idb(101, 128, { tsresol: 9, tsoffset: 10n }),
    block(4, new Uint8Array(12)), // name resolution block
    epb(0, 1_700_000_000_123_456n, NG_DATA[0]!),
    epb(1, 5_000_000_001n, NG_DATA[1]!, 1000),
    block(5, new Uint8Array(20)), // interface statistics
    block(0x0a, new Uint8Array(7)), // decryption secrets
    block(0x40000bad, new Uint8Array(8)), // custom
    spb(60, NG_DATA[0]!),
    epb(0, 1n, NG_DATA[2]!, 1, true, 2), // obsolete packet block
    shb(false),
    idb(276, 0, { tsresol: 0x80 | 10 }, false),
    epb(0, 1024n * 3n + 512n, NG_DATA[3]!, 500, false),
  );
}

describe('pcapng', () => {
  test('sections, interfaces, timestamp units, EPB/SPB/OPB, skipped blocks', async () => {
    const bytes = richPcapng();
    const { packets, error } = await readAll(whole(bytes));
    expect(error).toBeUndefined();
    expect(packets.map((p) => [p.index, p.interfaceId, p.linkType, p.origLen, p.data.length])).toEqual([
      [0, 0, 1, 60, 60],
      [1, 1, 101, 1000, 73],
      [2, 0, 1, 60, 60],
      [3, 0, 1, 1, 1],
      [4, 0, 276, 500, 500],
    ]);
    expect(packets.map((p) => p.timestampNs)).toEqual([
      1_700_000_000_123_456_000n, // default microseconds
      5_000_000_001n + 10_000_000_000n, // nanoseconds + if_tsoffset 10 s
      0n, // SPB: no timestamp
      1_000n,
      3_500_000_000n, // 2^-10 s units: 3.5 s
    ]);
    expect(packets[0]!.data).toEqual(NG_DATA[0]);
    expect(packets[1]!.data).toEqual(NG_DATA[1]);
    expect(packets[4]!.data).toEqual(NG_DATA[3]);
    // Offsets are each packet block's, absolute in the file.
    for (const p of packets) {
      const type = new DataView(bytes.buffer, p.offset).getUint32(0, p.index < 4);
      expect([2, 3, 6]).toContain(type);
    }
  });

  test.each([
    [0, 123_456_789_000_000_000_000n], [3, 123_456_789_000_000_000n], [6, 123_456_789_000_000n], [9, 123_456_789_000n],
    [12, 123_456_789n], [0x80 | 0, 123_456_789_000_000_000_000n], [0x80 | 1, 61_728_394_500_000_000_000n],
  ])('if_tsresol %i: 123456789000 units are %i ns', async (res, ns) => {
    const { packets } = await readAll(whole(concat(shb(), idb(1, 0, { tsresol: res }), epb(0, 123_456_789_000n, packet(10, 1)))));
    expect(packets[0]!.timestampNs).toBe(ns);
  });

  test('power-of-2 resolution rounds down to the nanosecond; negative if_tsoffset', async () => {
    const { packets } = await readAll(whole(concat(shb(), idb(1, 0, { tsresol: 0x80 | 30, tsoffset: -1n }), epb(0, 3n << 30n | 1n, packet(4, 1)))));
    expect(packets[0]!.timestampNs).toBe(3_000_000_000n + 0n - 1_000_000_000n);
  });

  test('SPB captured length: cut to interface 0 snaplen, or to the block when snaplen is 0', async () => {
    const { packets, error } = await readAll(whole(concat(shb(), idb(1, 64), spb(100, packet(64, 1)), spb(30, packet(30, 2)))));
    expect(error).toBeUndefined();
    expect(packets.map((p) => [p.origLen, p.data.length])).toEqual([[100, 64], [30, 30]]);
    // snaplen 0: 3 bytes of data padded to 4 with origLen 3 -> 3 bytes.
    const r = await readAll(whole(concat(shb(), idb(1, 0), spb(3, packet(3, 1)))));
    expect(r.packets[0]!.data).toEqual(packet(3, 1));
    // snaplen 64 but a block too short for min(origLen, 64) bytes.
    const e = await pcapError(concat(shb(), idb(1, 64), spb(100, packet(20, 1))), 0);
    expect(e.message).toMatch(/too short for 64 captured bytes/);
  });

  test('packet block options, other IDB options and a section length other than -1 are accepted', async () => {
    const withOpts = (b: Uint8Array, opts: Uint8Array) => block(new DataView(b.buffer).getUint32(0, true), concat(b.subarray(8, b.length - 4), opts));
    const flags = options([[2, Uint8Array.of(1, 0, 0, 0)], [1, new TextEncoder().encode('hi')]]); // epb_flags, comment
    const header = shb();
    new DataView(header.buffer).setBigInt64(16, 1234n, true);
    const intf = withOpts(idb(1, 0).subarray(0, 20), options([[2, new TextEncoder().encode('eth0')], [9, Uint8Array.of(3)]]));
    const { packets, error } = await readAll(whole(concat(header, intf, withOpts(epb(0, 7n, packet(13, 1)), flags))));
    expect(error).toBeUndefined();
    expect(packets.map((p) => [p.timestampNs, p.data.length])).toEqual([[7_000_000n, 13]]);
    expect(packets[0]!.data).toEqual(packet(13, 1));
  });

  test('a section resets interfaces; packet numbers continue', async () => {
    const bytes = concat(shb(), idb(1, 0), idb(1, 0), epb(1, 0n, packet(8, 1)), shb(false), idb(1, 0, {}, false), epb(1, 0n, packet(8, 2), 8, false));
    const e = await pcapError(bytes, 1);
    const at = bytes.length - 40;
    expect([e.packetNumber, e.offset]).toEqual([1, at + 8]);
    expect(e.message).toMatch(/interface id 1 out of range \(1 interfaces in this section\)/);
  });

  test('packets before any IDB', async () => {
    expect((await pcapError(concat(shb(), epb(0, 0n, packet(8, 1))), 0)).message).toMatch(/interface id 0 out of range \(0 interfaces/);
    expect((await pcapError(concat(shb(), spb(8, packet(8, 1))), 0)).message).toMatch(/simple packet block before any interface/);
  });

  test('captured length above the interface snaplen or 256 KiB, or past its block', async () => {
    let e = await pcapError(concat(shb(), idb(1, 100), epb(0, 0n, packet(50, 1)), epb(0, 0n, packet(101, 1))), 1);
    expect(e.message).toMatch(/captured length 101 exceeds the interface's snaplen 100/);
    e = await pcapError(concat(shb(), idb(1, 0), epb(0, 0n, packet(262_145, 1))), 0);
    expect(e.message).toMatch(/captured length 262145 exceeds the limit of 262144/);
    const lying = epb(0, 0n, packet(16, 1));
    new DataView(lying.buffer).setUint32(20, 17, true);
    e = await pcapError(concat(shb(), idb(1, 0), lying), 0);
    expect(e.message).toMatch(/captured length 17 overruns its block of 48 bytes/);
  });

  test('block lengths: < 12, not a multiple of 4, trailer differs, over 1 MiB; truncations', async () => {
    const head = concat(shb(), idb(1, 0), epb(0, 0n, packet(8, 1)));
    const next = head.length;
    const good = epb(0, 0n, packet(8, 2));
    const mk = (patch: (b: Uint8Array) => void, b = good): Uint8Array => {
      const c = b.slice();
      patch(c);
      return concat(head, c);
    };
    const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset);
    const cases: [Uint8Array, number, RegExp][] = [
      [mk((b) => dv(b).setUint32(4, 8, true)), next + 4, /bad block length 8 \(block type 0x6\)/],
      [mk((b) => dv(b).setUint32(4, 42, true)), next + 4, /bad block length 42/],
      [mk((b) => dv(b).setUint32(b.length - 4, 44, true)), next + good.length - 4, /trailing length 44 differs from its leading length 40/],
      [mk((b) => dv(b).setUint32(b.length - 4, 44, true), block(5, new Uint8Array(8))), next + 16, /trailing length 44 differs from its leading length 20/],
      [mk((b) => dv(b).setUint32(4, (1 << 20) + 4, true)), next + 4, /block of 1048580 bytes exceeds the limit of 1048576/],
      [concat(head, good.subarray(0, 30)), next, /truncated block: 30 of 40 bytes/],
      [concat(head, good.subarray(0, 5)), next, /truncated block header: 5 of 12 bytes/],
      [concat(head, block(4, new Uint8Array(100)).subarray(0, 50)), next, /truncated block of 112 bytes \(block type 0x4\)/],
      [concat(head, block(4, new Uint8Array(100)).subarray(0, 110)), next, /truncated block of 112 bytes/],
    ];
    for (const [bytes, offset, message] of cases) {
      const e = await pcapError(bytes, 1);
      expect(e.message).toMatch(message);
      expect([e.packetNumber, e.offset]).toEqual([1, offset]);
    }
  });

  test('SHB: bad byte-order magic, unsupported version, too short', async () => {
    const bad = shb();
    new DataView(bad.buffer).setUint32(8, 0x12345678, true);
    let e = await pcapError(bad, 0);
    expect(e.message).toMatch(/bad pcapng byte-order magic 0x12345678/);
    expect(e.offset).toBe(8);
    e = await pcapError(shb(true, new Uint8Array(0), 2, 0), 0);
    expect(e.message).toMatch(/unsupported pcapng version 2\.0/);
    expect((await readAll(whole(shb(true, new Uint8Array(0), 1, 2)))).error).toBeUndefined();
    e = await pcapError(block(0x0a0d0d0a, Uint8Array.of(0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0)), 0);
    expect(e.message).toMatch(/section header block of 20 bytes is shorter than 28/);
  });

  test('IDB options: overrun and wrong lengths', async () => {
    const body = new Uint8Array(8 + 8);
    const dv = new DataView(body.buffer);
    dv.setUint16(0, 1, true);
    dv.setUint16(8, 2, true); // if_name, 200 bytes: past the block
    dv.setUint16(10, 200, true);
    let e = await pcapError(concat(shb(), block(1, body)), 0);
    expect(e.message).toMatch(/option 2 of 200 bytes overruns its block at packet 0, byte offset 44/);
    e = await pcapError(concat(shb(), block(1, concat(new Uint8Array(8), options([[9, Uint8Array.of(6, 6)]])))), 0);
    expect(e.message).toMatch(/if_tsresol option of 2 bytes/);
    e = await pcapError(concat(shb(), block(1, concat(new Uint8Array(8), options([[14, new Uint8Array(4)]])))), 0);
    expect(e.message).toMatch(/if_tsoffset option of 4 bytes/);
  });
});

describe('chunking', () => {
  const inputs: [string, Uint8Array][] = [
    ['pcap', pcapBytes([...PACKETS, { data: packet(70_000, 5) }], { nanos: true })],
    ['pcap big-endian', pcapBytes(PACKETS, { bigEndian: true })],
    ['pcapng', richPcapng()],
  ];

  test.each(inputs)('%s: 1-byte chunks and random chunkings give the same packets', async (_name, bytes) => {
    const expected = await readAll(whole(bytes));
    expect(expected.error).toBeUndefined();
    expect(expected.packets.length).toBeGreaterThan(3);
    const want = summary(expected.packets);
    expect(summary((await readAll(chunked(bytes, () => 1))).packets)).toEqual(want);
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed);
      const max = [3, 17, 100, 5000, 100_000][seed % 5]!;
      const got = await readAll(chunked(bytes, () => Math.floor(r() * max) + 1));
      expect(got.error).toBeUndefined();
      expect(summary(got.packets)).toEqual(want);
    }
  });

  test.each(inputs)('%s truncated: the same error whatever the chunking', async (_name, full) => {
    const r = rng(99);
    for (let k = 0; k < 10; k++) {
      const cut = 1 + Math.floor(r() * (full.length - 2));
      const bytes = full.subarray(0, cut);
      const ref = await readAll(whole(bytes));
      for (const sizes of [() => 1, () => Math.floor(r() * 50) + 1]) {
        const got = await readAll(chunked(bytes, sizes));
        expect(summary(got.packets)).toEqual(summary(ref.packets));
        expect(String(got.error)).toBe(String(ref.error));
      }
    }
  });

  test('empty chunks are ignored; non-Uint8Array chunks are a UsageError', async () => {
    const bytes = pcapBytes(PACKETS);
    async function* withEmpty() {
      yield new Uint8Array(0);
      yield bytes.subarray(0, 30);
      yield new Uint8Array(0);
      yield bytes.subarray(30);
    }
    expect((await readAll(withEmpty())).packets.length).toBe(4);
    async function* strings() {
      yield 'abc' as unknown as Uint8Array;
    }
    const { error } = await readAll(strings());
    expect((error as Error).name).toBe('UsageError');
  });

  test('one Uint8Array or a sync iterable of chunks works too; anything else is a UsageError', async () => {
    const bytes = pcapBytes(PACKETS);
    const want = summary((await readAll(whole(bytes))).packets);
    const all = async (input: Parameters<typeof readCapture>[0]) => {
      const out = [];
      for await (const p of readCapture(input)) out.push(p);
      return summary(out);
    };
    expect(await all(bytes)).toEqual(want);
    expect(await all([bytes.subarray(0, 50), bytes.subarray(50)])).toEqual(want);
    await expect(all(42 as unknown as Uint8Array)).rejects.toThrow(/readCapture needs a Uint8Array or an \(async\) iterable/);
  });

  test('stopping early returns the source iterator', async () => {
    let closed = false;
    const bytes = pcapBytes(PACKETS);
    async function* src() {
      try {
        for (let i = 0; i < bytes.length; i += 10) yield bytes.subarray(i, i + 10);
      } finally {
        closed = true;
      }
    }
    for await (const p of readCapture(src())) {
      expect(p.index).toBe(0);
      break;
    }
    expect(closed).toBe(true);
  });
});
