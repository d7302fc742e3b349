// What fixtures/elf/xdp_stats.o should do to each packet of a capture,
// worked out here in plain JS from the C source's rules (not by running
// anything of ebpf-js), and a minimal pcap reader, so the CLI's counts are
// checked against an independent account of the same packets.

import { readFileSync, writeFileSync } from 'node:fs';

export const XDP_STATS = 'fixtures/elf/xdp_stats.o';
export const TRAFFIC = 'fixtures/pcap/traffic.pcap';

export interface RawPacket {
  readonly index: number;
  readonly data: Uint8Array;
  readonly origLen: number;
  readonly tsNs: bigint;
}

/** Classic pcap (either byte order, µs or ns) — just enough for the files the tests make and read back. */
export function readPcap(path: string): { linkType: number; packets: RawPacket[] } {
  const b = readFileSync(path);
  const magicLe = b.readUInt32LE(0);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  const magic = le ? magicLe : b.readUInt32BE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${path}: not a pcap file`);
  const nanos = magic === 0xa1b23c4d;
  const u32 = (at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const packets: RawPacket[] = [];
  let at = 24;
  while (at + 16 <= b.length) {
    const caplen = u32(at + 8);
    if (at + 16 + caplen > b.length) throw new Error(`${path}: truncated record at ${at}`);
    const tsNs = BigInt(u32(at)) * 1_000_000_000n + BigInt(u32(at + 4)) * (nanos ? 1n : 1000n);
    packets.push({ index: packets.length, data: new Uint8Array(b.subarray(at + 16, at + 16 + caplen)), origLen: u32(at + 12), tsNs });
    at += 16 + caplen;
  }
  if (at !== b.length) throw new Error(`${path}: ${b.length - at} stray bytes at the end`);
  return { linkType: u32(20), packets };
}

export type Proto = 'tcp' | 'udp' | 'icmp' | 'arp' | 'other';
export const PROTO_INDEX: Readonly<Record<Proto, number>> = { tcp: 0, udp: 1, icmp: 2, arp: 3, other: 4 };

export interface Verdict {
  readonly verdict: 'XDP_PASS' | 'XDP_DROP' | 'XDP_ABORTED';
  readonly proto?: Proto;
  readonly telnet?: boolean;
  readonly blocked?: boolean;
  readonly ipv6?: boolean;
  /** The bpf_printk line the packet causes, if any. */
  readonly printk?: string;
}

/**
 * xdp_stats.c with its default configuration: blocked_port 23,
 * blocked_net 203.0.113.0/24.
 */
export function xdpStats(f: Uint8Array): Verdict {
  if (f.length < 14) return { verdict: 'XDP_ABORTED' };
  const type = (f[12]! << 8) | f[13]!;
  if (type === 0x0806) return { verdict: 'XDP_PASS', proto: 'arp' };
  let l4proto: number;
  let l4: number;
  let v4 = false;
  if (type === 0x0800) {
    const ihl = f[14]! & 15;
    if (f.length < 34 || ihl < 5) return { verdict: 'XDP_ABORTED' };
    l4proto = f[23]!;
    l4 = 14 + ihl * 4;
    v4 = true;
  } else if (type === 0x86dd) {
    if (f.length < 54) return { verdict: 'XDP_ABORTED' };
    l4proto = f[20]!;
    l4 = 54;
  } else {
    return { verdict: 'XDP_PASS', proto: 'other' };
  }
  const proto: Proto = l4proto === 6 ? 'tcp' : l4proto === 17 ? 'udp' : l4proto === 1 || l4proto === 58 ? 'icmp' : 'other';
  const ipv6 = !v4;
  if (v4 && f[26] === 203 && f[27] === 0 && f[28] === 113) return { verdict: 'XDP_DROP', proto, blocked: true, ipv6 };
  if (l4proto !== 6 || l4 + 20 > f.length || ((f[l4 + 2]! << 8) | f[l4 + 3]!) !== 23) return { verdict: 'XDP_PASS', proto, ipv6 };
  const flags = f[l4 + 13]!;
  const sport = (f[l4]! << 8) | f[l4 + 1]!;
  const syn = (flags & 0x02) !== 0 && (flags & 0x10) === 0;
  const printk = !syn ? undefined : v4 ? `telnet SYN from ${f.subarray(26, 30).join('.')} port ${sport}` : `telnet SYN over IPv6 port ${sport}`;
  return { verdict: 'XDP_DROP', proto, telnet: true, ipv6, ...(printk === undefined ? {} : { printk }) };
}

export interface Expected {
  readonly packets: number;
  readonly verdicts: Record<string, number>;
  readonly passed: number;
  readonly perProto: Record<Proto, { packets: number; bytes: number }>;
  readonly telnetDropped: number;
  readonly blockedDropped: number;
  readonly ipv6Packets: number;
  readonly printk: string[];
  /** Verdict of each packet, by index. */
  readonly each: Verdict[];
}

export function expectedFor(packets: readonly RawPacket[]): Expected {
  const verdicts: Record<string, number> = {};
  const perProto = Object.fromEntries(Object.keys(PROTO_INDEX).map((p) => [p, { packets: 0, bytes: 0 }])) as Expected['perProto'];
  let telnetDropped = 0, blockedDropped = 0, ipv6Packets = 0, passed = 0;
  const printk: string[] = [];
  const each = packets.map((p) => {
    const v = xdpStats(p.data);
    verdicts[v.verdict] = (verdicts[v.verdict] ?? 0) + 1;
    if (v.verdict === 'XDP_PASS') passed++;
    if (v.proto !== undefined) {
      perProto[v.proto].packets++;
      perProto[v.proto].bytes += p.data.length;
    }
    if (v.telnet) telnetDropped++;
    if (v.blocked) blockedDropped++;
    if (v.ipv6) ipv6Packets++;
    if (v.printk !== undefined) printk.push(v.printk);
    return v;
  });
  return { packets: packets.length, verdicts, passed, perProto, telnetDropped, blockedDropped, ipv6Packets, printk, each };
}

/** A little-endian microsecond pcap of Ethernet frames (timestamps 1 ms apart). */
export function writePcap(path: string, frames: readonly Uint8Array[]): void {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  parts.push(header);
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000, 0);
    rec.writeUInt32LE(i * 1000, 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, Buffer.from(f));
  });
  writeFileSync(path, Buffer.concat(parts));
}
