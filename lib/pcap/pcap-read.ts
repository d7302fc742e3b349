// Classic pcap (libpcap's savefile format): a 24-byte file header, then
// records of a 16-byte header and the captured bytes. The magic gives the byte
// order (either) and the timestamp unit (0xa1b2c3d4 microseconds, 0xa1b23c4d
// nanoseconds). Also read: Alexey Kuznetzov's "modified pcap" (0xa1b2cd34,
// microseconds), whose records carry 8 more header bytes (ifindex, protocol,
// packet type), skipped here as libpcap skips them.
//
// A record longer than the file's snaplen is cut to it (its other bytes
// read and dropped), as libpcap does since such files exist (Solaris 2.3's
// BUFMOD bug, writers that never set the snaplen); only a record above the
// absolute limit (libpcap's MAXIMUM_SNAPLEN) is refused.

import { type ChunkReader, copyBytes, u32, viewOf } from './chunks.js';
import { PcapError } from './error.js';
import { MAX_CAPTURED_LENGTH, normalizeLinkType, type CapturedPacket } from './types.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
export const PCAP_HEADER_SIZE = 24;
export const PCAP_RECORD_HEADER_SIZE = 16;

interface PcapHeader {
  readonly littleEndian: boolean;
  readonly nanos: boolean;
  /** 16, or 24 in modified pcap. */
  readonly recordHeaderSize: number;
  /** The file's snaplen (MAX_CAPTURED_LENGTH when 0 or above it): longer records are cut to it. */
  readonly snaplen: number;
  readonly linkType: number;
}

/** The file's first four bytes as written (big-endian read): a pcap magic in either order, or undefined. */
export function pcapMagic(first4: number): { littleEndian: boolean; nanos: boolean; modified: boolean } | undefined {
  switch (first4) {
    case PCAP_MAGIC_MICRO: return { littleEndian: false, nanos: false, modified: false };
    case PCAP_MAGIC_NANO: return { littleEndian: false, nanos: true, modified: false };
    case PCAP_MAGIC_MODIFIED: return { littleEndian: false, nanos: false, modified: true };
    case 0xd4c3b2a1: return { littleEndian: true, nanos: false, modified: false };
    case 0x4d3cb2a1: return { littleEndian: true, nanos: true, modified: false };
    case 0x34cdb2a1: return { littleEndian: true, nanos: false, modified: true };
    default: return undefined;
  }
}

function readHeader(bytes: Uint8Array): PcapHeader {
  const dv = viewOf(bytes);
  const magic = pcapMagic(dv.getUint32(0, false));
  if (magic === undefined) throw new PcapError('not a pcap file: bad magic', 0, 0);
  const le = magic.littleEndian;
  const major = dv.getUint16(4, le);
  const minor = dv.getUint16(6, le);
  // libpcap writes 2.4 and reads 2.x up to it; anything else is another format.
  if (major !== 2 || minor > 4) throw new PcapError(`unsupported pcap version ${major}.${minor} (expected 2.4)`, 0, 4);
  const snaplen = dv.getUint32(16, le);
  // Snaplen 0 (some writers) or a huge one both mean "no smaller limit".
  const snap = snaplen === 0 ? MAX_CAPTURED_LENGTH : Math.min(snaplen, MAX_CAPTURED_LENGTH);
  // The upper bits of the field carry FCS information, not the link type.
  const linkType = normalizeLinkType(dv.getUint32(20, le) & 0xffff);
  const recordHeaderSize = magic.modified ? PCAP_RECORD_HEADER_SIZE + 8 : PCAP_RECORD_HEADER_SIZE;
  return { littleEndian: le, nanos: magic.nanos, recordHeaderSize, snaplen: snap, linkType };
}

/** Reads a pcap stream whose first bytes are a pcap magic (the caller checked). */
export async function* readPcap(r: ChunkReader): AsyncGenerator<CapturedPacket> {
  if (r.available < PCAP_HEADER_SIZE && !(await r.fill(PCAP_HEADER_SIZE))) {
    throw new PcapError(`truncated pcap file header: ${r.available} of ${PCAP_HEADER_SIZE} bytes`, 0, 0);
  }
  const h = readHeader(r.take(PCAP_HEADER_SIZE));
  const le = h.littleEndian;
  const fracToNs = h.nanos ? 1 : 1000;
  const rhSize = h.recordHeaderSize;
  for (let index = 0; ; index++) {
    const offset = r.position;
    if (r.available < rhSize && !(await r.fill(rhSize))) {
      if (r.available === 0) return;
      throw new PcapError(`truncated record header: ${r.available} of ${rhSize} bytes`, index, offset);
    }
    const rh = r.take(rhSize);
    const sec = u32(rh, 0, le);
    const frac = u32(rh, 4, le);
    const caplen = u32(rh, 8, le);
    const origLen = u32(rh, 12, le);
    if (caplen > MAX_CAPTURED_LENGTH) {
      throw new PcapError(`record captured length ${caplen} exceeds the limit of ${MAX_CAPTURED_LENGTH} (the largest snaplen)`, index, offset);
    }
    const keep = Math.min(caplen, h.snaplen);
    if (r.available < keep && !(await r.fill(keep))) {
      throw new PcapError(`truncated record: ${r.available} of ${caplen} captured bytes`, index, offset);
    }
    const data = copyBytes(r.take(keep));
    if (keep < caplen) {
      const skipped = await r.skip(caplen - keep);
      if (skipped < caplen - keep) throw new PcapError(`truncated record: ${keep + skipped} of ${caplen} captured bytes`, index, offset);
    }
    yield {
      index,
      offset,
      timestampNs: BigInt(sec) * 1_000_000_000n + BigInt(frac * fracToNs),
      linkType: h.linkType,
      interfaceId: 0,
      data,
      origLen,
    };
  }
}
