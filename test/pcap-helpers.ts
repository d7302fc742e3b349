// Builders for capture bytes in tests: pcap through PcapWriter, pcapng block
// by block (the library writes no pcapng), chunkings of a byte array, and
// collecting a reader's packets or its error.

import { PcapWriter, readCapture, type CapturedPacket, type PcapWriterOptions } from '../lib/pcap/index.js';

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface TestPacket {
  data: Uint8Array;
  timestampNs?: bigint;
  origLen?: number;
}

export function pcapBytes(packets: readonly TestPacket[], options: PcapWriterOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const w = new PcapWriter((c) => parts.push(c), options);
  for (const p of packets) w.write(p);
  return concat(...parts);
}

/** A deterministic packet: `len` bytes derived from `seed`. */
export function packet(len: number, seed: number): Uint8Array {
  const d = new Uint8Array(len);
  for (let i = 0; i < len; i++) d[i] = (seed * 31 + i * 7) & 0xff;
  return d;
}

/** A block: type, total length, body padded to 4, total length again. */
export function block(type: number, body: Uint8Array, le = true): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, total, le);
  out.set(body, 8);
  dv.setUint32(total - 4, total, le);
  return out;
}

function fields(size: number, fill: (dv: DataView) => void): Uint8Array {
  const b = new Uint8Array(size);
  fill(new DataView(b.buffer));
  return b;
}

/** Options (code, value) ended by opt_endofopt. */
export function options(opts: readonly [number, Uint8Array][], le = true): Uint8Array {
  const parts = opts.map(([code, value]) => {
    const o = new Uint8Array(4 + ((value.length + 3) & ~3));
    const dv = new DataView(o.buffer);
    dv.setUint16(0, code, le);
    dv.setUint16(2, value.length, le);
    o.set(value, 4);
    return o;
  });
  return opts.length === 0 ? new Uint8Array(0) : concat(...parts, new Uint8Array(4));
}

export function shb(le = true, opts: Uint8Array = new Uint8Array(0), major = 1, minor = 0): Uint8Array {
  const body = fields(16, (dv) => {
    dv.setUint32(0, 0x1a2b3c4d, le);
    dv.setUint16(4, major, le);
    dv.setUint16(6, minor, le);
    dv.setBigInt64(8, -1n, le);
  });
  return block(0x0a0d0d0a, concat(body, opts), le);
}

export function idb(linkType: number, snaplen: number, o: { tsresol?: number; tsoffset?: bigint } = {}, le = true): Uint8Array {
  const body = fields(8, (dv) => {
    dv.setUint16(0, linkType, le);
    dv.setUint32(4, snaplen, le);
  });
  const opts: [number, Uint8Array][] = [];
  if (o.tsresol !== undefined) opts.push([9, Uint8Array.of(o.tsresol)]);
  if (o.tsoffset !== undefined) opts.push([14, fields(8, (dv) => dv.setBigInt64(0, o.tsoffset!, le))]);
  return block(1, concat(body, options(opts, le)), le);
}

export function epb(ifId: number, ts: bigint, data: Uint8Array, origLen = data.length, le = true, type = 6): Uint8Array {
  const body = fields(20, (dv) => {
    if (type === 6) dv.setUint32(0, ifId, le);
    else dv.setUint16(0, ifId, le); // OPB: interface u16, drops u16
    dv.setUint32(4, Number(ts >> 32n), le);
    dv.setUint32(8, Number(ts & 0xffff_ffffn), le);
    dv.setUint32(12, data.length, le);
    dv.setUint32(16, origLen, le);
  });
  return block(type, concat(body, data), le);
}

export function spb(origLen: number, data: Uint8Array, le = true): Uint8Array {
  return block(3, concat(fields(4, (dv) => dv.setUint32(0, origLen, le)), data), le);
}

export async function* chunked(bytes: Uint8Array, sizes: (i: number) => number): AsyncGenerator<Uint8Array> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes(i));
    yield bytes.slice(at, at + n);
    at += n;
  }
}

export async function* whole(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Every packet `packets` yields, and the error that ended it (undefined when none). */
export async function collect(packets: AsyncIterable<CapturedPacket>): Promise<{ packets: CapturedPacket[]; error: unknown }> {
  const got: CapturedPacket[] = [];
  try {
    for await (const p of packets) got.push(p);
  } catch (e) {
    return { packets: got, error: e };
  }
  return { packets: got, error: undefined };
}

/** What readCapture makes of `chunks` (see collect). */
export function readAll(chunks: AsyncIterable<Uint8Array>): Promise<{ packets: CapturedPacket[]; error: unknown }> {
  return collect(readCapture(chunks));
}

/** Packets as plain comparable values (data as hex: deep equality on long arrays is slow). */
export function summary(packets: readonly CapturedPacket[]): unknown[] {
  return packets.map((p) => ({ ...p, data: Buffer.from(p.data.buffer, p.data.byteOffset, p.data.length).toString('hex') }));
}

/** A small PRNG so random tests are reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}
