// Classic BPF against tcpdump itself (skipped, with the reason printed, when
// tcpdump is absent): for each expression, tcpdump -ddd compiles it (with
// and without its optimizer), we run the translation over every packet of a
// generated capture on both engines,
// and the packets we accept must be exactly those `tcpdump -r` keeps (it
// writes them with -w; each packet's timestamp is unique, so the written
// timestamps name the packets).
//
// The same through runCapture (spec { kind: 'cbpf' }, frames: 'captured'):
// over a raw-IP (LINKTYPE_RAW) and a Linux cooked v1 capture with
// expressions compiled for the file's link type (`tcpdump -ddd -r FILE`),
// and over captures whose packets a small snaplen cut (len/less/greater
// read the length on the wire, loads stop at the bytes present).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCapture } from '../lib/capture/index.js';
import { cbpfToEbpf, parseCbpf } from '../lib/cbpf/index.js';
import { openCapture, PcapWriter } from '../lib/pcap/index.js';
import { SkbContext } from '../lib/skb.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';

const TCPDUMP = 'tcpdump';
const hasTcpdump = spawnSync(TCPDUMP, ['--version']).status === 0;
if (!hasTcpdump) console.log(`cbpf-tcpdump tests skipped: ${TCPDUMP} not found`);

// ---------------------------------------------------------------------------
// A capture of varied packets, deterministic (seeded xorshift32).

function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  return {
    int: (n: number) => next() % n,
    pick: <T>(xs: readonly T[]): T => xs[next() % xs.length]!,
    chance: (p: number) => next() / 0x100000000 < p,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
}

const MACS = ['00:11:22:33:44:55', '66:77:88:99:aa:bb', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '02:00:00:00:00:09'];
const HOSTS4 = ['10.0.0.1', '10.0.0.2', '10.1.2.3', '192.168.1.10', '192.168.2.20', '172.16.0.5', '8.8.8.8', '224.0.0.1', '255.255.255.255'];
const HOSTS6 = ['2001:db8::1', '2001:db8::2', '2001:db9::1', 'fe80::1', 'ff02::1', '::1'];
const PORTS = [22, 53, 80, 443, 1234, 1500, 2000, 5353, 8080, 65535];
const TCP_FLAGS = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32 };

const mac = (s: string) => s.split(':').map((h) => parseInt(h, 16));
const ip4 = (s: string) => s.split('.').map(Number);
function ip6(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const words = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const h = words(head);
  const t = words(tail);
  const all = [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number) => [...be16(v >>> 16), ...be16(v & 0xffff)];

type R = ReturnType<typeof rng>;

function payload(r: R): number[] {
  const n = r.pick([0, 0, 4, 20, 100, 300, 1200]);
  const body = [...r.bytes(n)];
  if (n >= 4 && r.chance(0.3)) body.splice(0, 4, ...[...(r.chance(0.5) ? 'GET ' : 'HTTP')].map((c) => c.charCodeAt(0)));
  return body;
}

function l4(r: R, proto: number): number[] {
  if (proto === 6) {
    const options = r.chance(0.3) ? [2, 4, 5, 0xb4, 1, 1, 1, 0] : [];
    const flags = Object.values(TCP_FLAGS).filter(() => r.chance(0.35)).reduce((a, b) => a | b, 0);
    return [...be16(r.pick(PORTS)), ...be16(r.pick(PORTS)), ...be32(r.int(0x100000000)), ...be32(r.int(0x100000000)),
      ((5 + options.length / 4) << 4), flags, ...be16(r.int(65536)), 0, 0, 0, 0, ...options, ...payload(r)];
  }
  if (proto === 17) {
    const body = payload(r);
    return [...be16(r.pick(PORTS)), ...be16(r.pick(PORTS)), ...be16(8 + body.length), 0, 0, ...body];
  }
  if (proto === 1 || proto === 58) return [r.pick(proto === 1 ? [0, 3, 8, 11] : [128, 129, 135, 136]), 0, 0, 0, ...r.bytes(4), ...payload(r)];
  return [...r.bytes(r.int(40))]; // GRE (47), OSPF (89): opaque
}

function ipv4(r: R): number[] {
  const proto = r.pick([6, 6, 17, 17, 1, 47, 89]);
  const options = r.chance(0.15) ? [1, 1, 1, 1] : [];
  // Fragments: first (MF), middle/last (offset), or whole.
  const frag = r.pick([0, 0, 0, 0, 0x2000, 0x2000 | 185, 370, 0x4000]);
  const body = (frag & 0x1fff) !== 0 ? [...r.bytes(r.int(60))] : l4(r, proto);
  const total = 20 + options.length + body.length;
  return [0x40 | (5 + options.length / 4), r.int(256), ...be16(total), ...be16(r.int(65536)), ...be16(frag), r.pick([1, 63, 64, 128, 255]),
    proto, 0, 0, ...ip4(r.pick(HOSTS4)), ...ip4(r.pick(HOSTS4)), ...options, ...body];
}

function ipv6(r: R): number[] {
  const proto = r.pick([6, 17, 58, 6]);
  // Sometimes a fragment header (44) before the upper layer.
  const fragmented = r.chance(0.15);
  const body = l4(r, proto);
  const ext = fragmented ? [proto, 0, ...be16(r.pick([0, 1, 8])), ...be32(r.int(0x100000000))] : [];
  return [0x60, 0, 0, 0, ...be16(ext.length + body.length), fragmented ? 44 : proto, r.pick([1, 64, 255]),
    ...ip6(r.pick(HOSTS6)), ...ip6(r.pick(HOSTS6)), ...ext, ...body];
}

function arp(r: R): number[] {
  return [0, 1, 8, 0, 6, 4, 0, r.pick([1, 2]), ...mac(r.pick(MACS)), ...ip4(r.pick(HOSTS4)), ...mac(r.pick(MACS)), ...ip4(r.pick(HOSTS4))];
}

function frame(r: R): Uint8Array {
  const kind = r.pick(['ip', 'ip', 'ip', 'ip6', 'ip6', 'arp', 'lldp', 'runt']);
  const head = [...mac(r.pick(MACS)), ...mac(r.pick(MACS))];
  // VLAN tags: one 802.1Q tag, sometimes two (QinQ, 0x88a8 outer).
  const tags = r.chance(0.2) ? (r.chance(0.3) ? [0x88a8, 0x8100] : [0x8100]) : [];
  for (const tpid of tags) head.push(...be16(tpid), ...be16((r.int(8) << 13) | r.pick([1, 100, 200, 4094])));
  let body: number[];
  if (kind === 'ip') body = [8, 0, ...ipv4(r)];
  else if (kind === 'ip6') body = [0x86, 0xdd, ...ipv6(r)];
  else if (kind === 'arp') body = [8, 6, ...arp(r)];
  else if (kind === 'lldp') body = [0x88, 0xcc, ...r.bytes(30)];
  else return Uint8Array.from([...head, 8, 0, 0x45].slice(0, r.int(18)));
  const packet = [...head, ...body];
  // Some frames are cut short, ending inside a header.
  return Uint8Array.from(r.chance(0.05) ? packet.slice(0, 14 + r.int(40)) : packet);
}

const PACKETS = 400;

function makeCapture(): Uint8Array[] {
  const r = rng(0xcb9f);
  return Array.from({ length: PACKETS }, () => frame(r));
}

// ---------------------------------------------------------------------------

const EXPRESSIONS = [
  'ip', 'ip6', 'arp', 'tcp', 'udp', 'icmp', 'icmp6', 'ip proto 47', 'ether proto 0x88cc',
  'tcp port 80', 'udp port 53', 'port 443', 'src port 1234', 'dst port 22', 'portrange 1000-2000',
  'tcp dst portrange 1-1024 and not port 80', 'ip6 and tcp dst port 80', '(tcp or udp) and (port 80 or port 53)',
  'host 10.0.0.1', 'src host 192.168.1.10', 'dst host 10.0.0.2', 'net 10.0.0.0/8', 'src net 192.168.0.0/16',
  'host 2001:db8::1', 'ip6 net 2001:db8::/32', 'ip host 10.0.0.1 and not port 22', 'arp host 10.1.2.3',
  'ether host 00:11:22:33:44:55', 'ether broadcast', 'ether multicast', 'ether[0] & 1 = 1',
  'vlan', 'vlan 100', 'vlan and tcp port 80', 'vlan 200 and vlan and ip',
  'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn', 'tcp[tcpflags] & tcp-rst != 0', 'tcp[13] = 0x12',
  'greater 200', 'less 100', 'len > 1000', 'len >= 60 and len <= 128',
  'tcp[20:4] = 0x47455420', 'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420', 'udp[8:2] = 0x4854',
  'ip[6:2] & 0x1fff = 0', 'ip[6:2] & 0x1fff != 0', 'ip[0] & 0xf > 5', 'ip[8] < 64', 'icmp[icmptype] = icmp-echo',
  'ip6[6] = 44', 'not tcp and not udp',
  'ip[2:2] / 4 > 100', 'ip[2:2] % 7 = 3', 'tcp[2:2] * 3 > 5000', 'ip[8] ^ 0xff > 200', 'ip[1] << 2 > 100', 'ip[2:2] >> 3 = 5',
  '(ip[2:2] - 20) / ip[8] > 10', 'tcp[2:2] / tcp[13] > 100', 'ip[2:2] % (ip[1] & 3) = 1', 'ip[2:2] - ip[8] > 100', 'ip[9] + ip[8] = 70', 'ip and (ip[12:4] & 0xffffff00) = 0x0a000000',
];

async function readTimestamps(path: string): Promise<number[]> {
  const seconds: number[] = [];
  for await (const p of openCapture(path)) seconds.push(Number(p.timestampNs / 1_000_000_000n));
  return seconds;
}

describe.skipIf(!hasTcpdump)('classic BPF from tcpdump -ddd == tcpdump -r', () => {
  const dir = hasTcpdump ? mkdtempSync(join(tmpdir(), 'ebpf-cbpf-')) : '';
  const cap = join(dir, 'cap.pcap');
  const packets = makeCapture();

  beforeAll(() => {
    const chunks: Uint8Array[] = [];
    const w = new PcapWriter((c) => chunks.push(c));
    // Packet i at second i + 1: tcpdump's output names packets by timestamp.
    packets.forEach((data, i) => w.write({ data, timestampNs: BigInt(i + 1) * 1_000_000_000n }));
    writeFileSync(cap, Buffer.concat(chunks));
  });

  it(`uses ${EXPRESSIONS.length} expressions over ${PACKETS} packets`, () => {
    expect(EXPRESSIONS.length).toBeGreaterThanOrEqual(30);
    expect(new Set(EXPRESSIONS).size).toBe(EXPRESSIONS.length);
  });

  it.each(EXPRESSIONS)('%s', async (expr) => {
    // Optimized, and unoptimized (-O: scratch memory M[] and ld [x + k] everywhere).
    const programs = [[], ['-O']].map((flags) => {
      const compiled = spawnSync(TCPDUMP, [...flags, '-ddd', '-y', 'EN10MB', expr], { encoding: 'utf8' });
      expect(compiled.status, compiled.stderr).toBe(0);
      return { flags, bytes: cbpfToEbpf(parseCbpf(compiled.stdout)) };
    });

    const out = join(dir, 'out.pcap');
    const filtered = spawnSync(TCPDUMP, ['-r', cap, '-w', out, expr], { encoding: 'utf8' });
    expect(filtered.status, filtered.stderr).toBe(0);
    const want = (await readTimestamps(out)).map((s) => s - 1);

    for (const { flags, bytes } of programs) {
      for (const engine of AVAILABLE_ENGINES) {
        const vm = new Vm({ engine });
        const prog = vm.load(bytes);
        const got: number[] = [];
        packets.forEach((data, i) => {
          const skb = new SkbContext(vm.memory, data, { kind: 'socket' });
          try {
            if (prog.run(skb) !== 0n) got.push(i);
          } finally {
            skb.release();
          }
        });
        expect(got, `${engine} ${flags.join(' ')}`).toEqual(want);
      }
    }
    // The capture exercises each expression both ways.
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(PACKETS);
  });
});

// ---------------------------------------------------------------------------
// runCapture with frames: 'captured' over other link types and cut packets.

/** The EtherType of an untagged frame, or undefined (runts, VLAN tags). */
function etherType(f: Uint8Array): number | undefined {
  return f.length >= 14 && f[12] !== 0x81 && f[12] !== 0x88 ? (f[12]! << 8) | f[13]! : f.length >= 14 && f[12] === 0x88 && f[13] === 0xcc ? 0x88cc : undefined;
}

/** Raw IP packets: the IP part of the untagged IPv4/IPv6 frames. */
function rawCapture(frames: readonly Uint8Array[]): Uint8Array[] {
  return frames.filter((f) => etherType(f) === 0x0800 || etherType(f) === 0x86dd).map((f) => f.slice(14));
}

/** Linux cooked v1: pkttype (host / outgoing), ARPHRD_ETHER, the source MAC, the EtherType, the payload. */
function cookedCapture(frames: readonly Uint8Array[]): Uint8Array[] {
  return frames.filter((f) => etherType(f) !== undefined).map((f, i) => {
    const head = [...be16(i % 3 === 0 ? 4 : 0), ...be16(1), ...be16(6), ...f.subarray(6, 12), 0, 0, f[12]!, f[13]!];
    return Uint8Array.from([...head, ...f.subarray(14)]);
  });
}

function writeCapture(path: string, list: readonly Uint8Array[], options: { linkType?: number; snaplen?: number }): void {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c.slice()), options);
  list.forEach((data, i) => w.write({ data, timestampNs: BigInt(i + 1) * 1_000_000_000n }));
  writeFileSync(path, Buffer.concat(chunks));
}

const IP_EXPRESSIONS = [
  'ip', 'ip6', 'tcp', 'udp', 'icmp', 'icmp6', 'ip proto 47', 'tcp port 80', 'udp port 53', 'port 443', 'portrange 1000-2000',
  'host 10.0.0.1', 'src net 192.168.0.0/16', 'host 2001:db8::1', 'ip6 net 2001:db8::/32', 'tcp[tcpflags] & tcp-syn != 0',
  'ip[6:2] & 0x1fff = 0', 'greater 200', 'less 100', 'len > 1000', 'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420',
  'ip6[6] = 44', 'not tcp and not udp', 'ip[2:2] / 4 > 100',
];
const LINK_CAPTURES = [
  { name: 'raw IP (101)', linkType: 101, make: rawCapture, snaplen: undefined, extra: [] as string[] },
  { name: 'Linux cooked v1 (113)', linkType: 113, make: cookedCapture, snaplen: 128, extra: ['arp', 'not ip and not ip6', 'ether proto 0x88cc', 'inbound', 'outbound'] },
];
const CUT_EXPRESSIONS = [
  'greater 200', 'less 100', 'len > 1000', 'len >= 60 and len <= 128', 'len = 64', 'ip and len > 300', 'tcp port 80',
  'tcp[20:4] = 0x47455420', 'udp[8:2] = 0x4854', 'ip[2:2] > 100', 'ip6 and greater 100', 'len - 14 > 200',
];

async function kept(path: string, expr: string): Promise<number[]> {
  const out = `${path}.out.pcap`;
  const filtered = spawnSync(TCPDUMP, ['-r', path, '-w', out, expr], { encoding: 'utf8' });
  expect(filtered.status, filtered.stderr).toBe(0);
  return (await readTimestamps(out)).map((s) => s - 1);
}

/** The packets (by index) runCapture's cbpf run passes, on `engine`. */
async function ours(path: string, text: string, engine: (typeof AVAILABLE_ENGINES)[number], frames: 'captured' | 'ethernet'): Promise<number[]> {
  const got: number[] = [];
  const r = await runCapture({ spec: { kind: 'cbpf', text }, engine, frames, outputs: false }, openCapture(path), (x) => {
    if (x.pass) got.push(x.packet.index);
  });
  expect(r.skipped).toBe(0);
  return got;
}

function compile(path: string, expr: string, flags: readonly string[]): string {
  const compiled = spawnSync(TCPDUMP, [...flags, '-ddd', '-r', path, expr], { encoding: 'utf8' });
  expect(compiled.status, compiled.stderr).toBe(0);
  return compiled.stdout;
}

describe.skipIf(!hasTcpdump)('runCapture (cbpf, frames: captured) == tcpdump -r on other link types', () => {
  const dir = hasTcpdump ? mkdtempSync(join(tmpdir(), 'ebpf-cbpf-link-')) : '';
  const frames = makeCapture();

  describe.each(LINK_CAPTURES)('$name', ({ linkType, make, snaplen, extra }) => {
    const path = join(dir, `link-${linkType}.pcap`);
    const list = make(frames);
    beforeAll(() => writeCapture(path, list, { linkType, snaplen }));

    it.each([...IP_EXPRESSIONS, ...extra])('%s', async (expr) => {
      const want = await kept(path, expr);
      for (const flags of [[], ['-O']]) {
        const text = compile(path, expr, flags);
        for (const engine of AVAILABLE_ENGINES) expect(await ours(path, text, engine, 'captured'), `${engine} ${flags.join(' ')}`).toEqual(want);
      }
      expect(want.length).toBeGreaterThan(0);
      expect(want.length).toBeLessThan(list.length);
    });
  });
});

describe.skipIf(!hasTcpdump)('runCapture (cbpf) == tcpdump -r on packets cut by a snaplen', () => {
  const dir = hasTcpdump ? mkdtempSync(join(tmpdir(), 'ebpf-cbpf-cut-')) : '';
  const path = join(dir, 'cut.pcap');
  const frames = makeCapture();
  beforeAll(() => writeCapture(path, frames, { snaplen: 64 }));

  it('the capture has cut packets', async () => {
    let cut = 0;
    for await (const p of openCapture(path)) if (p.data.length < p.origLen) cut++;
    expect(cut).toBeGreaterThan(PACKETS / 4);
  });

  it.each(CUT_EXPRESSIONS)('%s', async (expr) => {
    const want = await kept(path, expr);
    const text = compile(path, expr, []);
    for (const engine of AVAILABLE_ENGINES) {
      // An Ethernet capture: both frame modes give the program the same bytes and len.
      for (const mode of ['captured', 'ethernet'] as const) expect(await ours(path, text, engine, mode), `${engine} ${mode}`).toEqual(want);
    }
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(PACKETS);
  });
});
