// PcapWriter and the file functions: round trips (write -> read -> the same
// packets) for every option, validation of options and packets, and
// compatibility with tcpdump both ways (skipped, with the reason printed,
// when tcpdump is absent).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { UsageError } from '../lib/errors.js';
import {
  openCapture, PcapError, PcapWriter, writeCaptureFile, type CapturedPacket, type PcapWriterOptions,
} from '../lib/pcap/index.js';
import { concat, epb, idb, packet, pcapBytes, readAll, rng, shb, spb, summary, whole } from './pcap-helpers.js';

const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
if (!hasTcpdump) console.log('pcap-write tcpdump tests skipped: tcpdump not found');
const dir = mkdtempSync(join(tmpdir(), 'ebpf-pcap-write-'));

function randomPackets(seed: number, n: number, nanos: boolean) {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = Math.floor(r() * 1600);
    const ns = BigInt(Math.floor(r() * 4e9)) * 1_000_000_000n + BigInt(Math.floor(r() * 1e9));
    return { data: packet(len, seed + i), timestampNs: nanos ? ns : ns - (ns % 1000n), origLen: len + Math.floor(r() * 3) * 100 };
  });
}

/** Comparable form (hex data: deep equality on big typed arrays is slow). */
function plain(ps: readonly { data: Uint8Array; timestampNs?: bigint; origLen?: number }[]) {
  return ps.map((p) => ({ data: Buffer.from(p.data.buffer, p.data.byteOffset, p.data.length).toString('hex'), timestampNs: p.timestampNs, origLen: p.origLen }));
}

async function collect(it: AsyncIterable<CapturedPacket>): Promise<CapturedPacket[]> {
  const out: CapturedPacket[] = [];
  for await (const p of it) out.push(p);
  return out;
}

function tcpdump(args: string[]): string {
  const r = spawnSync('tcpdump', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tcpdump ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

describe('PcapWriter', () => {
  test.each<[PcapWriterOptions]>([
    [{}], [{ nanos: true }], [{ bigEndian: true }], [{ nanos: true, bigEndian: true, linkType: 101 }], [{ linkType: 276, snaplen: 65535 }],
  ])('round trip %o', async (opts) => {
    const want = randomPackets(7, 200, opts.nanos === true);
    const bytes = pcapBytes(want, opts);
    const { packets, error } = await readAll(whole(bytes));
    expect(error).toBeUndefined();
    expect(plain(packets)).toEqual(plain(want));
    expect(new Set(packets.map((p) => p.linkType))).toEqual(new Set([opts.linkType ?? 1]));
  });

  test('header fields and one sink call per packet', () => {
    const chunks: Uint8Array[] = [];
    const w = new PcapWriter((c) => chunks.push(c), { linkType: 113, snaplen: 1000, nanos: true });
    expect(chunks.length).toBe(1);
    const dv = new DataView(chunks[0]!.buffer);
    expect([dv.getUint32(0, true), dv.getUint16(4, true), dv.getUint16(6, true), dv.getUint32(16, true), dv.getUint32(20, true)])
      .toEqual([0xa1b23c4d, 2, 4, 1000, 113]);
    w.write({ data: packet(10, 1), timestampNs: 3_000_000_005n });
    expect(chunks.length).toBe(2);
    expect(Array.from(new Uint32Array(chunks[1]!.buffer.slice(0, 16)))).toEqual([3, 5, 10, 10]);
    expect(w.packets).toBe(1);
  });

  test('packets longer than the snaplen are cut to it, keeping their length on the wire', async () => {
    const bytes = pcapBytes([{ data: packet(300, 1) }, { data: packet(50, 2), origLen: 60 }], { snaplen: 100 });
    const { packets } = await readAll(whole(bytes));
    expect(packets.map((p) => [p.data.length, p.origLen])).toEqual([[100, 300], [50, 60]]);
    expect(packets[0]!.data).toEqual(packet(300, 1).subarray(0, 100));
  });

  test('bad options and packets are UsageErrors', () => {
    const sink = () => {};
    for (const o of [{ linkType: -1 }, { linkType: 70000 }, { linkType: 1.5 }, { snaplen: 0 }, { snaplen: 262_145 }]) {
      expect(() => new PcapWriter(sink, o)).toThrow(UsageError);
    }
    const w = new PcapWriter(sink);
    expect(() => w.write({ data: packet(10, 1), timestampNs: -1n })).toThrow(/timestampNs -1 is outside/);
    expect(() => w.write({ data: packet(10, 1), timestampNs: 1n << 63n })).toThrow(UsageError);
    expect(() => w.write({ data: packet(10, 1), origLen: 9 })).toThrow(/origLen 9 must be an integer from data.length \(10\)/);
    expect(() => w.write({ data: [1, 2] as unknown as Uint8Array })).toThrow(/data must be a Uint8Array/);
    expect(w.packets).toBe(0);
    w.write({ data: packet(10, 1), timestampNs: 0xffff_ffffn * 1_000_000_000n + 999_999_999n });
    expect(w.packets).toBe(1);
  });
});

describe('files', () => {
  test('writeCaptureFile then openCapture: the same packets (several 64 KiB reads)', async () => {
    const path = join(dir, 'rt.pcap');
    const want = randomPackets(3, 500, true);
    const w = writeCaptureFile(path, { nanos: true });
    for (const p of want) w.write(p);
    expect(w.packets).toBe(500);
    await w.close();
    await w.close();
    expect(() => w.write(want[0]!)).toThrow(/after close/);
    expect(readFileSync(path).length).toBeGreaterThan(3 * 65536);
    const got = await collect(openCapture(path));
    expect(plain(got)).toEqual(plain(want));
  });

  test.skipIf(!existsSync('/proc/self/fd'))('stopping early closes the file', async () => {
    const path = join(dir, 'early.pcap');
    writeFileSync(path, pcapBytes(randomPackets(4, 300, false)));
    const openFds = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
    for await (const p of openCapture(path)) {
      expect(openFds().length).toBe(1);
      if (p.index === 2) break;
    }
    expect(openFds()).toEqual([]);
  });

  test.skipIf(!existsSync('/dev/full'))('a failing disk is a UsageError naming the file (/dev/full)', async () => {
    const w = writeCaptureFile('/dev/full');
    w.write({ data: packet(100, 1) });
    await expect(w.close()).rejects.toThrow(/cannot write \/dev\/full: .*ENOSPC/);
    await w.close();
  });

  test('an empty capture file has its header only and reads as no packets', async () => {
    const path = join(dir, 'empty.pcap');
    await writeCaptureFile(path, { linkType: 101 }).close();
    expect(readFileSync(path).length).toBe(24);
    expect(await collect(openCapture(path))).toEqual([]);
  });

  test('missing files and bad paths are UsageErrors; a corrupt file a PcapError after its good packets', async () => {
    await expect(collect(openCapture(join(dir, 'nope.pcap')))).rejects.toThrow(/cannot read .*nope\.pcap/);
    await expect(collect(openCapture(dir))).rejects.toThrow(UsageError);
    expect(() => writeCaptureFile(join(dir, 'no', 'such', 'dir.pcap'))).toThrow(UsageError);
    const path = join(dir, 'cut.pcap');
    writeFileSync(path, pcapBytes([{ data: packet(100, 1) }, { data: packet(100, 2) }]).subarray(0, 24 + 116 + 50));
    const seen: number[] = [];
    const e = await (async () => {
      try {
        for await (const p of openCapture(path)) seen.push(p.index);
      } catch (err) {
        return err as PcapError;
      }
      return undefined;
    })();
    expect(seen).toEqual([0]);
    expect(e).toBeInstanceOf(PcapError);
    expect([e!.packetNumber, e!.offset]).toEqual([1, 140]);
  });
});

describe.skipIf(!hasTcpdump)('tcpdump compatibility', () => {
  test('tcpdump reads what we write (micro and nano, both byte orders)', () => {
    // Ethernet-sized packets, times before 2038 (tcpdump's time formatting wants 31 bits).
    const want = Array.from({ length: 20 }, (_, i) => ({
      data: packet(60 + i * 50, i), origLen: 60 + i * 70, timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1_234_567_891n,
    }));
    for (const opts of [{}, { nanos: true }, { bigEndian: true }, { bigEndian: true, nanos: true }]) {
      const path = join(dir, `ours-${opts.nanos === true}-${opts.bigEndian === true}.pcap`);
      writeFileSync(path, pcapBytes(want, opts));
      // Lines that start with a timestamp: one per packet (hex dumps of unknown EtherTypes follow some).
      const out = tcpdump(['-r', path, '-nn', '-c', '5', '-tt', '--time-stamp-precision=nano']).split('\n').filter((l) => /^\d+\.\d{9} /.test(l));
      expect(out.length).toBe(5);
      out.forEach((line, i) => {
        const ts = want[i]!.timestampNs;
        const shown = opts.nanos === true ? ts : ts - (ts % 1000n);
        expect(line.startsWith(`${shown / 1_000_000_000n}.${String(shown % 1_000_000_000n).padStart(9, '0')} `)).toBe(true);
        expect(line).toMatch(new RegExp(`length ${want[i]!.origLen}`));
      });
    }
  });

  test('we read what tcpdump -w writes: byte order and nanosecond conversion', async () => {
    const want = randomPackets(12, 50, true);
    const big = join(dir, 'big-nano.pcap');
    writeFileSync(big, pcapBytes(want, { bigEndian: true, nanos: true }));
    const ours = summary(await collect(openCapture(big))) as CapturedPacket[];
    for (const [name, args, nanos] of [['micro', [], false], ['nano', ['--time-stamp-precision=nano'], true]] as const) {
      const out = join(dir, `tcpdump-${name}.pcap`);
      tcpdump(['-r', big, ...args, '-w', out]);
      const bytes = readFileSync(out);
      // tcpdump writes in host byte order (little-endian here) with the magic of its precision.
      expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)).toBe(nanos ? 0xa1b23c4d : 0xa1b2c3d4);
      const theirs = summary(await collect(openCapture(out)));
      expect(theirs).toEqual(ours.map((p) => ({ ...p, timestampNs: nanos ? p.timestampNs : p.timestampNs - (p.timestampNs % 1000n) })));
    }
  });

  test('our modified-pcap reading matches libpcap', async () => {
    const header = pcapBytes([]);
    new DataView(header.buffer).setUint32(0, 0xa1b2cd34, true);
    const records = randomPackets(13, 10, false).map((p) => {
      const rec = pcapBytes([p]).subarray(24);
      return concat(rec.subarray(0, 16), Uint8Array.of(2, 0, 0, 0, 8, 0, 0, 0), rec.subarray(16));
    });
    const path = join(dir, 'modified.pcap');
    writeFileSync(path, concat(header, ...records));
    const out = join(dir, 'modified-converted.pcap');
    tcpdump(['-r', path, '-w', out]);
    const ours = summary(await collect(openCapture(path))).map((p) => ({ ...(p as object), offset: 0, index: 0 }));
    const theirs = summary(await collect(openCapture(out))).map((p) => ({ ...(p as object), offset: 0, index: 0 }));
    expect(ours.length).toBe(10);
    expect(ours).toEqual(theirs);
  });

  test('our pcapng reading matches libpcap: tcpdump converts the same pcapng to pcap', async () => {
    const d = (n: number) => packet(40 + n * 13, n);
    const bytes = concat(
      shb(),
      idb(1, 0, { tsresol: 0x80 | 30, tsoffset: 100n }),
      idb(1, 0, { tsresol: 12 }),
      idb(1, 0),
      epb(0, (7n << 30n) | 12345n, d(1)),
      epb(1, 123_456_789_123_456_789n, d(2), 1000),
      epb(2, 1_700_000_000_654_321n, d(3)),
      spb(d(4).length, d(4)),
      epb(0, 1n, d(5), 900, true, 2),
      // libpcap reads later sections in the first one's byte order: a big-endian
      // second section is tested against our own expectations only (pcap-read).
      shb(),
      // libpcap also wants every interface to have the first one's snaplen.
      idb(1, 0, { tsresol: 3 }),
      epb(0, 1_700_000_000_123n, d(6)),
      spb(d(7).length, d(7)),
    );
    const path = join(dir, 'mixed.pcapng');
    writeFileSync(path, bytes);
    const out = join(dir, 'mixed-converted.pcap');
    tcpdump(['-r', path, '--time-stamp-precision=nano', '-w', out]);
    const ours = (await collect(openCapture(path))).map((p) => ({ t: p.timestampNs, d: Array.from(p.data), l: p.origLen }));
    const theirs = (await collect(openCapture(out))).map((p) => ({ t: p.timestampNs, d: Array.from(p.data), l: p.origLen }));
    expect(ours.length).toBe(7);
    expect(ours).toEqual(theirs);
  });
});
