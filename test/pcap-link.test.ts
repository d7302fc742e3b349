// toEthernet: raw IP (101 and its aliases, 228, 229) and Linux cooked v1/v2
// captures become Ethernet frames with a synthesized header; Ethernet stays as
// it is; everything else is a PcapError naming the packet.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PcapError, toEthernet, tryToEthernet, type CapturedPacket } from '../lib/pcap/index.js';
import { concat, pcapBytes, readAll, whole } from './pcap-helpers.js';

const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
if (!hasTcpdump) console.log('pcap-link tcpdump test skipped: tcpdump not found');

function cap(linkType: number, data: Uint8Array, index = 3, offset = 1234): CapturedPacket {
  return { index, offset, linkType, data, timestampNs: 0n, interfaceId: 0, origLen: data.length };
}

/** IPv4 UDP 10.0.0.1:1234 -> 10.0.0.2:53 with a 4-byte payload. */
const IPV4 = Uint8Array.of(
  0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
  0x04, 0xd2, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4,
);
/** IPv6 header only (no next header payload): version nibble 6. */
const IPV6 = concat(Uint8Array.of(0x60, 0, 0, 0, 0, 0, 59, 64), new Uint8Array(32));
const MAC = Uint8Array.of(0x02, 0x11, 0x22, 0x33, 0x44, 0x55);

function sll(protocol: number, halen: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(16);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, 0); // PACKET_HOST
  dv.setUint16(2, 1); // ARPHRD_ETHER
  dv.setUint16(4, halen);
  h.set(MAC.subarray(0, Math.min(halen, 6)), 6);
  dv.setUint16(14, protocol);
  return concat(h, payload);
}

function sll2(protocol: number, halen: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(20);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, protocol);
  dv.setUint32(4, 2); // ifindex
  dv.setUint16(8, 1); // ARPHRD_ETHER
  h[10] = 4; // PACKET_OUTGOING
  h[11] = halen;
  h.set(MAC.subarray(0, Math.min(halen, 6)), 12);
  return concat(h, payload);
}

function eth(src: Uint8Array | undefined, type: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(14);
  if (src) h.set(src, 6);
  h[12] = type >> 8;
  h[13] = type & 0xff;
  return concat(h, payload);
}

function failure(p: CapturedPacket): PcapError {
  try {
    toEthernet(p);
  } catch (e) {
    expect(e).toBeInstanceOf(PcapError);
    return e as PcapError;
  }
  throw new Error('expected a PcapError');
}

describe('toEthernet', () => {
  test('Ethernet is returned unchanged', () => {
    const p = cap(1, eth(MAC, 0x0800, IPV4));
    expect(toEthernet(p)).toBe(p.data);
  });

  test.each([[101], [228]])('raw IPv4 (link type %i)', (lt) => {
    expect(toEthernet(cap(lt, IPV4))).toEqual(eth(undefined, 0x0800, IPV4));
  });

  test.each([[101], [229]])('raw IPv6 (link type %i)', (lt) => {
    expect(toEthernet(cap(lt, IPV6))).toEqual(eth(undefined, 0x86dd, IPV6));
  });

  test('BSD loopback (0, 108): the 4-byte family header goes, the version nibble gives the EtherType', () => {
    expect(toEthernet(cap(0, concat(Uint8Array.of(2, 0, 0, 0), IPV4)))).toEqual(eth(undefined, 0x0800, IPV4));
    expect(toEthernet(cap(0, concat(Uint8Array.of(30, 0, 0, 0), IPV6)))).toEqual(eth(undefined, 0x86dd, IPV6));
    expect(toEthernet(cap(108, concat(Uint8Array.of(0, 0, 0, 2), IPV4)))).toEqual(eth(undefined, 0x0800, IPV4));
    expect(failure(cap(0, Uint8Array.of(2, 0))).message).toMatch(/BSD loopback header needs 4 bytes, the packet has 2/);
    expect(failure(cap(0, Uint8Array.of(2, 0, 0, 0))).message).toMatch(/no IP header/);
  });

  test('raw IP with another version or no bytes', () => {
    const e = failure(cap(101, Uint8Array.of(0x50, 1, 2)));
    expect(e.message).toMatch(/IP version 5 \(expected 4 or 6\) at packet 3, byte offset 1234/);
    expect([e.packetNumber, e.offset]).toEqual([3, 1234]);
    expect(failure(cap(101, new Uint8Array(0))).message).toMatch(/no IP header/);
  });

  test('Linux cooked v1: source MAC when the address is 6 bytes, protocol as EtherType', () => {
    expect(toEthernet(cap(113, sll(0x0800, 6, IPV4)))).toEqual(eth(MAC, 0x0800, IPV4));
    expect(toEthernet(cap(113, sll(0x86dd, 0, IPV6)))).toEqual(eth(undefined, 0x86dd, IPV6));
    // A 4-byte hardware address (e.g. IPoIB would be 20, tunnels 4) is not a MAC.
    expect(toEthernet(cap(113, sll(0x0800, 4, IPV4)))).toEqual(eth(undefined, 0x0800, IPV4));
  });

  test('Linux cooked v2', () => {
    expect(toEthernet(cap(276, sll2(0x0800, 6, IPV4)))).toEqual(eth(MAC, 0x0800, IPV4));
    expect(toEthernet(cap(276, sll2(0x86dd, 0, IPV6)))).toEqual(eth(undefined, 0x86dd, IPV6));
  });

  test('cooked 802.2 / 802.3 payloads become 802.3 frames (length in the type field)', () => {
    const llc = Uint8Array.of(0x42, 0x42, 0x03, 1, 2, 3);
    expect(toEthernet(cap(113, sll(0x0004, 6, llc)))).toEqual(eth(MAC, llc.length, llc));
    expect(toEthernet(cap(276, sll2(0x0001, 6, llc)))).toEqual(eth(MAC, llc.length, llc));
  });

  test('cooked protocols with no Ethernet form, short cooked headers, unknown link types', () => {
    expect(failure(cap(113, sll(0x000c, 6, IPV4))).message).toMatch(/Linux cooked protocol 0x000c has no Ethernet equivalent/);
    expect(failure(cap(113, new Uint8Array(15))).message).toMatch(/Linux cooked \(v1\) header needs 16 bytes, the packet has 15/);
    expect(failure(cap(276, new Uint8Array(19))).message).toMatch(/Linux cooked \(v2\) header needs 20 bytes/);
    expect(failure(cap(105, IPV4)).message).toMatch(/link type 105 cannot be turned into Ethernet/);
  });

  test('tryToEthernet: the frame, or the reason without throwing (the message less its location)', () => {
    const good = cap(101, IPV4);
    expect(tryToEthernet(good)).toEqual({ frame: toEthernet(good) });
    const llcTooLong = sll(0x0004, 6, new Uint8Array(1536));
    const cases: [CapturedPacket, RegExp][] = [
      [cap(113, new Uint8Array(10)), /^Linux cooked \(v1\) header needs 16 bytes, the packet has 10$/],
      [cap(101, new Uint8Array(0)), /^no IP header/],
      [cap(101, Uint8Array.of(0x70, 0)), /^IP version 7 \(expected 4 or 6\)$/],
      [cap(113, llcTooLong), /^Linux cooked protocol 0x0004 has no Ethernet equivalent$/],
      [cap(105, IPV4), /^link type 105 cannot be turned into Ethernet/],
    ];
    for (const [p, reason] of cases) {
      const r = tryToEthernet(p);
      expect(r.frame).toBeUndefined();
      expect(r.reason).toMatch(reason);
      expect(failure(p).reason).toBe(r.reason);
    }
  });

  test('the frame is a new array: changing it leaves the capture alone', () => {
    const p = cap(101, IPV4.slice());
    toEthernet(p)[14] = 0;
    expect(p.data).toEqual(IPV4);
  });

  test.skipIf(!hasTcpdump)('tcpdump decodes the frames as it decodes the original captures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-pcap-link-'));
    const cases: [number, Uint8Array][] = [
      [101, IPV4], [228, IPV4], [113, sll(0x0800, 6, IPV4)], [276, sll2(0x0800, 6, IPV4)], [101, IPV6],
      [0, concat(Uint8Array.of(2, 0, 0, 0), IPV4)], [108, concat(Uint8Array.of(0, 0, 0, 2), IPV4)],
    ];
    for (const [lt, data] of cases) {
      const src = join(dir, `in-${lt}.pcap`);
      writeFileSync(src, pcapBytes([{ data, timestampNs: 5_000_000_000n }], { linkType: lt }));
      const [p] = (await readAll(whole(pcapBytes([{ data, timestampNs: 5_000_000_000n }], { linkType: lt })))).packets;
      const out = join(dir, `eth-${lt}.pcap`);
      writeFileSync(out, pcapBytes([{ data: toEthernet(p!), timestampNs: 5_000_000_000n }]));
      const show = (f: string) => {
        const r = spawnSync('tcpdump', ['-r', f, '-nn', '-tt'], { encoding: 'utf8' });
        expect(r.status).toBe(0);
        // Cooked captures prefix "eth? In"/"Out": compare from the protocol on.
        return r.stdout.trim().replace(/^[\d.]+ (?:\S+ +(?:In|Out|B|M|P) +)?/, '');
      };
      const want = show(src);
      expect(want).toMatch(/^IP6? /);
      expect(show(out)).toBe(want);
    }
  });
});
