// PcapWriter: classic pcap (version 2.4) to a sink, one chunk per call: the
// file header at construction, then one chunk per packet (record header and
// data together). Little-endian unless asked otherwise, as libpcap writes on
// x86 and ARM. Packets longer than the snaplen are cut to it, keeping their
// original length, as a capture with that snaplen would have stored them.

import { UsageError } from '../errors.js';
import { PCAP_HEADER_SIZE, PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO, PCAP_RECORD_HEADER_SIZE } from './pcap-read.js';
import { LINKTYPE_ETHERNET, MAX_CAPTURED_LENGTH } from './types.js';

export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet (default 1, Ethernet). */
  readonly linkType?: number;
  /** Nanosecond timestamps (magic 0xa1b23c4d); default microseconds. */
  readonly nanos?: boolean;
  /** 1..262144, default 262144. */
  readonly snaplen?: number;
  /** Write big-endian fields (default little-endian). */
  readonly bigEndian?: boolean;
}

export interface PacketToWrite {
  readonly data: Uint8Array;
  /** Since the epoch; default 0. Microsecond files drop the sub-microsecond part. */
  readonly timestampNs?: bigint;
  /** Length on the wire; default data.length. */
  readonly origLen?: number;
}

const MAX_U32 = 0xffff_ffff;

export class PcapWriter {
  readonly linkType: number;
  readonly nanos: boolean;
  readonly snaplen: number;
  readonly littleEndian: boolean;
  private readonly sink: (chunk: Uint8Array) => void;
  private count = 0;

  constructor(sink: (chunk: Uint8Array) => void, options: PcapWriterOptions = {}) {
    this.linkType = intOption('linkType', options.linkType ?? LINKTYPE_ETHERNET, 0, 0xffff);
    this.snaplen = intOption('snaplen', options.snaplen ?? MAX_CAPTURED_LENGTH, 1, MAX_CAPTURED_LENGTH);
    this.nanos = options.nanos === true;
    this.littleEndian = options.bigEndian !== true;
    this.sink = sink;
    const header = new Uint8Array(PCAP_HEADER_SIZE);
    const dv = new DataView(header.buffer);
    const le = this.littleEndian;
    dv.setUint32(0, this.nanos ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, le);
    dv.setUint16(4, 2, le);
    dv.setUint16(6, 4, le);
    // thiszone and sigfigs: 0, as every modern writer.
    dv.setUint32(16, this.snaplen, le);
    dv.setUint32(20, this.linkType, le);
    sink(header);
  }

  /** Packets written so far. */
  get packets(): number {
    return this.count;
  }

  write(p: PacketToWrite): void {
    if (!(p?.data instanceof Uint8Array)) throw new UsageError('PcapWriter.write: data must be a Uint8Array');
    const ts = p.timestampNs ?? 0n;
    if (typeof ts !== 'bigint' || ts < 0n || ts / 1_000_000_000n > BigInt(MAX_U32)) {
      throw new UsageError(`PcapWriter.write: timestampNs ${String(ts)} is outside 0..2^32 seconds`);
    }
    const origLen = p.origLen ?? p.data.length;
    if (!Number.isSafeInteger(origLen) || origLen < p.data.length || origLen > MAX_U32) {
      throw new UsageError(`PcapWriter.write: origLen ${origLen} must be an integer from data.length (${p.data.length}) to 2^32-1`);
    }
    const caplen = Math.min(p.data.length, this.snaplen);
    const rec = new Uint8Array(PCAP_RECORD_HEADER_SIZE + caplen);
    const dv = new DataView(rec.buffer);
    const le = this.littleEndian;
    const ns = Number(ts % 1_000_000_000n);
    dv.setUint32(0, Number(ts / 1_000_000_000n), le);
    dv.setUint32(4, this.nanos ? ns : Math.floor(ns / 1000), le);
    dv.setUint32(8, caplen, le);
    dv.setUint32(12, origLen, le);
    rec.set(p.data.subarray(0, caplen), PCAP_RECORD_HEADER_SIZE);
    this.sink(rec);
    this.count++;
  }
}

function intOption(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`PcapWriter: ${name} must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}
