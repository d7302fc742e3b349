// pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html):
// a sequence of sections, each a Section Header Block (SHB: byte order,
// version) followed by Interface Description Blocks (IDB: link type, snaplen,
// timestamp unit and offset) and packet blocks: Enhanced (EPB), Simple (SPB:
// interface 0, no timestamp, length from the snaplen) and the obsolete Packet
// Block (OPB). Every other block (name resolution, statistics, decryption
// secrets, custom) is skipped by its length without being buffered.
//
// Every block: type u32, total length u32, body, total length again; the total
// is >= 12, a multiple of 4, and both copies agree. Blocks that are parsed are
// at most MAX_BLOCK bytes (a packet record plus generous options).

import { type ChunkReader, copyBytes, u16, u32, viewOf } from './chunks.js';
import { PcapError } from './error.js';
import { IF_TSOFFSET, IF_TSRESOL, MICROSECONDS, parseOptions, timeUnit, type TimeUnit } from './pcapng-options.js';
import { MAX_CAPTURED_LENGTH, normalizeLinkType, type CapturedPacket } from './types.js';

export const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_OPB = 2;
const BT_SPB = 3;
const BT_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const MAX_BLOCK = 1 << 20;

interface Interface {
  readonly linkType: number;
  /** 0: no limit. */
  readonly snaplen: number;
  readonly unit: TimeUnit;
  /** if_tsoffset in nanoseconds. */
  readonly offsetNs: bigint;
}

/** Reads a pcapng stream whose first bytes are an SHB block type (the caller checked). */
export async function* readPcapng(r: ChunkReader): AsyncGenerator<CapturedPacket> {
  let le = true;
  let interfaces: Interface[] = [];
  let index = 0;
  for (;;) {
    const offset = r.position;
    if (r.available < 12 && !(await r.fill(12))) {
      if (r.available === 0) return;
      fail(`truncated block header: ${r.available} of 12 bytes`, index, offset);
    }
    const head = r.take(8);
    if (u32(head, 0, le) === BT_SHB) {
      // The byte-order magic decides how this block's (and section's) fields read.
      const bom = u32(r.take(4), 0, true);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else fail(`bad pcapng byte-order magic 0x${bom.toString(16).padStart(8, '0')}`, index, offset + 8);
    }
    const type = u32(head, 0, le);
    const total = u32(head, 4, le);
    if (total < 12 || total % 4 !== 0) fail(`bad block length ${total} (block type 0x${type.toString(16)})`, index, offset + 4);
    const min = minLength(type);
    if (min === 0) {
      await skipBlock(r, type, total, le, index, offset);
      continue;
    }
    if (total < min) fail(`${blockName(type)} of ${total} bytes is shorter than ${min}`, index, offset + 4);
    if (total > MAX_BLOCK) fail(`block of ${total} bytes exceeds the limit of ${MAX_BLOCK} (block type 0x${type.toString(16)})`, index, offset + 4);
    // base: the bytes of the block already taken (type, length, and for an SHB its byte-order magic).
    const base = type === BT_SHB ? 12 : 8;
    const rest = total - base;
    if (r.available < rest && !(await r.fill(rest))) {
      fail(`truncated block: ${r.available + base} of ${total} bytes (block type 0x${type.toString(16)})`, index, offset);
    }
    // body[i] is the block's byte base + i: offsets below are the specification's minus base.
    const body = r.take(rest);
    const trailer = u32(body, rest - 4, le);
    if (trailer !== total) fail(`block trailing length ${trailer} differs from its leading length ${total}`, index, offset + total - 4);
    switch (type) {
      case BT_SHB: {
        const major = u16(body, 0, le);
        const minor = u16(body, 2, le);
        // libpcap's rule: 1.0, and 1.2 written by some old tools.
        if (major !== 1 || (minor !== 0 && minor !== 2)) fail(`unsupported pcapng version ${major}.${minor} (expected 1.0)`, index, offset + 12);
        interfaces = [];
        break;
      }
      case BT_IDB:
        interfaces.push(readInterface(body, base, le, index, offset));
        break;
      case BT_EPB:
      case BT_OPB: {
        // Interface id (EPB u32; OPB u16 + drops u16), timestamp high/low, caplen, origlen, data.
        const ifId = type === BT_EPB ? u32(body, 0, le) : u16(body, 0, le);
        const intf = interfaces[ifId]
          ?? fail(`interface id ${ifId} out of range (${interfaces.length} interfaces in this section)`, index, offset + 8);
        const caplen = u32(body, 12, le);
        const origLen = u32(body, 16, le);
        checkCaplen(caplen, intf, index, offset);
        if (28 + caplen > total - 4) fail(`captured length ${caplen} overruns its block of ${total} bytes`, index, offset + 20);
        yield {
          index, offset, interfaceId: ifId, linkType: intf.linkType, origLen,
          timestampNs: toNs(u32(body, 4, le), u32(body, 8, le), intf),
          data: copyBytes(body.subarray(20, 20 + caplen)),
        };
        index++;
        break;
      }
      case BT_SPB: {
        const intf = interfaces[0] ?? fail('simple packet block before any interface description block', index, offset);
        const origLen = u32(body, 0, le);
        const room = total - 16;
        // The captured length is implied: the original length cut to interface 0's snaplen.
        // No timestamp: time 0 of interface 0, i.e. its if_tsoffset (as libpcap reports it).
        const caplen = intf.snaplen === 0 ? Math.min(origLen, room) : Math.min(origLen, intf.snaplen);
        checkCaplen(caplen, intf, index, offset);
        if (caplen > room) fail(`simple packet block of ${total} bytes is too short for ${caplen} captured bytes`, index, offset + 4);
        yield {
          index, offset, interfaceId: 0, linkType: intf.linkType, origLen, timestampNs: intf.offsetNs,
          data: copyBytes(body.subarray(4, 4 + caplen)),
        };
        index++;
        break;
      }
    }
  }
}

function fail(message: string, packet: number, at: number): never {
  throw new PcapError(message, packet, at);
}

/** The fixed size (header and trailer included) of each block read here; 0 for blocks skipped. */
function minLength(type: number): number {
  switch (type) {
    case BT_SHB: return 28;
    case BT_IDB: return 20;
    case BT_EPB: case BT_OPB: return 32;
    case BT_SPB: return 16;
    default: return 0;
  }
}

function blockName(type: number): string {
  switch (type) {
    case BT_SHB: return 'section header block';
    case BT_IDB: return 'interface description block';
    case BT_EPB: return 'enhanced packet block';
    case BT_OPB: return 'packet block';
    default: return 'simple packet block';
  }
}

/** An IDB: link type u16, reserved u16, snaplen u32, options (if_tsresol, if_tsoffset). */
function readInterface(body: Uint8Array, base: number, le: boolean, index: number, offset: number): Interface {
  const dv = viewOf(body);
  let unit = MICROSECONDS;
  let offsetNs = 0n;
  for (const o of parseOptions(dv, 16 - base, body.length - 4, le, { packet: index, offset: offset + base })) {
    if (o.code === IF_TSRESOL) {
      if (o.length !== 1) fail(`if_tsresol option of ${o.length} bytes (expected 1)`, index, offset + base + o.start - 4);
      unit = timeUnit(body[o.start]!);
    } else if (o.code === IF_TSOFFSET) {
      if (o.length !== 8) fail(`if_tsoffset option of ${o.length} bytes (expected 8)`, index, offset + base + o.start - 4);
      offsetNs = dv.getBigInt64(o.start, le) * 1_000_000_000n;
    }
  }
  return { linkType: normalizeLinkType(u16(body, 0, le)), snaplen: u32(body, 4, le), unit, offsetNs };
}

/** A 64-bit timestamp in interface units as nanoseconds since the epoch. */
function toNs(hi: number, lo: number, intf: Interface): bigint {
  // One BigInt conversion when the units fit 53 bits (every realistic capture).
  const units = hi < 0x20_0000 ? BigInt(hi * 0x1_0000_0000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  const { mul, div } = intf.unit;
  return (div === 1n ? units * mul : (units * mul) / div) + intf.offsetNs;
}

/** Skips a block nobody reads (NRB, ISB, DSB, custom...) without buffering its body. */
async function skipBlock(r: ChunkReader, type: number, total: number, le: boolean, index: number, offset: number): Promise<void> {
  const truncated = `truncated block of ${total} bytes (block type 0x${type.toString(16)})`;
  if ((await r.skip(total - 12)) < total - 12) fail(truncated, index, offset);
  if (r.available < 4 && !(await r.fill(4))) fail(truncated, index, offset);
  const trailer = u32(r.take(4), 0, le);
  if (trailer !== total) fail(`block trailing length ${trailer} differs from its leading length ${total}`, index, r.position - 4);
}

/**
 * An EPB/OPB longer than its interface's snaplen is refused, not cut:
 * libpcap 1.10 does the same ("invalid packet capture length N, bigger than
 * snaplen of S"), unlike its pcap reader (pcap-read.ts), which cuts.
 */
function checkCaplen(caplen: number, intf: Interface, index: number, offset: number): void {
  if (caplen > MAX_CAPTURED_LENGTH) fail(`captured length ${caplen} exceeds the limit of ${MAX_CAPTURED_LENGTH}`, index, offset);
  if (intf.snaplen !== 0 && caplen > intf.snaplen) fail(`captured length ${caplen} exceeds the interface's snaplen ${intf.snaplen}`, index, offset);
}
