import { describe, expect, it } from 'vitest';
import { HelperError } from '../lib/errors.js';
import { Memory } from '../lib/memory.js';
import { ETH_HLEN, XDP_MD, XDP_PACKET_HEADROOM, XdpContext } from '../lib/xdp.js';
import { makeWorld, type World } from './helpers-world.js';

const SKB_LOAD_BYTES = 26;
const CSUM_DIFF = 28;
const XDP_ADJUST_HEAD = 44;
const XDP_ADJUST_TAIL = 65;
const EFAULT = -14n;
const EINVAL = -22n;

/** u64 words as little-endian bytes, cut to `length`. */
function words(values: bigint[], length: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(length, values.length * 8));
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigUint64(i * 8, v, true));
  return bytes.subarray(0, length);
}

// The 512 pseudo-random bytes of Linux's csum_diff selftest (prog_tests/test_csum_diff.c).
const RANDOM = [
  0x327b23c66b8b4567n, 0x66334873643c9869n, 0x19495cff74b0dc51n, 0x625558ec2ae8944an, 0x46e87ccd238e1f29n,
  0x507ed7ab3d1b58ban, 0x41b71efb2eb141f2n, 0x7545e14679e2a9e3n, 0x5bd062c2515f007cn, 0x4db127f812200854n,
  0x1f16e9e80216231bn, 0x66ef438d1190cde7n, 0x3352255a140e0f76n, 0x0ded7263109cf92en, 0x1befd79f7fdcc233n,
  0x6b68079a41a7c4c9n, 0x25e45d324e6afb66n, 0x431bd7b7519b500dn, 0x7c83e4583f2dba31n, 0x62bbd95a257130a3n,
  0x628c895d436c6125n, 0x721da317333ab105n, 0x2d1d5ae92443a858n, 0x75a2a8d46763845en, 0x79838cb208edbdabn,
  0x0b03e0c64353d0cdn, 0x54e49eb4189a769bn, 0x2ca8861171f32454n, 0x02901d820836c40en, 0x081386413a95f874n,
  0x7c3dbd3d1e7ff521n, 0x6ceaf087737b8ddcn, 0x4516dde922221a70n, 0x614fd4a13006c83en, 0x5577f8e1419ac241n,
  0x05072367440badfcn, 0x77465f013804823en, 0x5c482a977724c67en, 0x5e884adc2463b9ean, 0x2d51779651ead36bn,
  0x153ea438580bd78fn, 0x70a64e2a3855585cn, 0x2a487cb06a2342ecn, 0x725a06fb1d4ed43bn, 0x57e4ccaf2cd89a32n,
  0x4b588f547a6d8d3cn, 0x6de91b18542289ecn, 0x7644a45c38437fdbn, 0x684a481a32fff902n, 0x749abb43579478fen,
  0x1ba026fa3dc240fbn, 0x75c6c33a79a1deaan, 0x70c6a52912e685fbn, 0x374a3fe6520eedd1n, 0x23f9c13c4f4ef005n,
  0x275ac794649bb77cn, 0x1cf10fd839386575n, 0x235ba861180115ben, 0x354fe9f947398c89n, 0x741226bb15b5af5cn,
  0x10233c990d34b6a8n, 0x615740953f6ab60fn, 0x77ae35eb7e0c57b1n, 0x310c50b3579be4f1n,
];
const DEAD = [0xdeadbeefdeadbeefn];
const DEAD2 = [0xdeadbeefdeadbeefn, 0xbeefdeadbeefdeadn];
const ABAB = [0xababababababababn];

function csumDiff(w: World, from: Uint8Array, to: Uint8Array, seed: number): bigint {
  const a = w.put(0, from);
  const b = w.put(1024, to);
  return w.call(CSUM_DIFF, from.length ? a : 0, from.length, to.length ? b : 0, to.length, seed);
}

describe('csum_diff', () => {
  // [from, to, seed, result]: the cases of Linux's selftest, little-endian results.
  const cases: [string, Uint8Array, Uint8Array, number, number][] = [
    ['push 8', new Uint8Array(0), words(DEAD, 8), 0, 0x3b3b],
    ['push 16', new Uint8Array(0), words(DEAD2, 16), 0x1234, 0x88aa],
    ['push 15', new Uint8Array(0), words(DEAD2, 15), 0x1234, 0xcaa9],
    ['push 512', new Uint8Array(0), words(RANDOM, 512), 0xffff, 0xca45],
    ['pull 8', words(DEAD, 8), new Uint8Array(0), 0, 0xc4c4],
    ['pull 16', words(DEAD2, 16), new Uint8Array(0), 0x1234, 0x9bbd],
    ['pull 15', words(DEAD2, 15), new Uint8Array(0), 0x1234, 0x59be],
    ['pull 512', words(RANDOM, 512), new Uint8Array(0), 0xffff, 0x35ba],
    ['diff 8', words(DEAD, 8), words(ABAB, 8), 0, 0x7373],
    ['diff 7', words(DEAD, 7), words(ABAB, 7), 0, 0xa673],
    ['diff from zeros', new Uint8Array(8), words(ABAB, 8), 0, 0xaeae],
    ['diff to zeros', words(DEAD, 8), new Uint8Array(8), 0xffff, 0xc4c4],
    ['empty', new Uint8Array(0), new Uint8Array(0), 0, 0],
    ['seed only', new Uint8Array(0), new Uint8Array(0), 0x1234, 0x1234],
    ['pull 512 zeros', new Uint8Array(512), new Uint8Array(0), 0xffff, 0xffff],
  ];
  for (const [name, from, to, seed, result] of cases) {
    it(`matches Linux: ${name}`, () => {
      expect(csumDiff(makeWorld(), from, to, seed)).toBe(BigInt(result));
    });
  }

  it('does not read a pointer whose size is 0, and reads sizes as u32', () => {
    const w = makeWorld();
    expect(w.call(CSUM_DIFF, 8, 0, 16, 1n << 32n, 0x1234)).toBe(0x1234n);
    expect(() => w.call(CSUM_DIFF, 8, 4, 0, 0, 0)).toThrow(/NULL/);
  });
});

describe('skb_load_bytes', () => {
  it('copies packet bytes; a range past the end zeroes the destination and returns -EFAULT', () => {
    const w = makeWorld(); // the packet is the scratch region itself
    w.put(10, Uint8Array.of(1, 2, 3, 4));
    expect(w.call(SKB_LOAD_BYTES, 0, 10, w.at(200), 4)).toBe(0n);
    expect([...w.bytes(200, 4)]).toEqual([1, 2, 3, 4]);
    expect(w.call(SKB_LOAD_BYTES, 0, 4094, w.at(200), 4)).toBe(EFAULT);
    expect([...w.bytes(200, 4)]).toEqual([0, 0, 0, 0]);
    w.put(200, Uint8Array.of(9));
    expect(w.call(SKB_LOAD_BYTES, 0, 0x80000000, w.at(200), 1)).toBe(EFAULT);
    expect(w.bytes(200, 1)[0]).toBe(0);
  });
});

function xdpWorld(packet: Uint8Array): { w: World; xdp: XdpContext } {
  let xdp: XdpContext | undefined;
  const w = makeWorld({ context: (memory) => (xdp = new XdpContext(memory, packet, { ingressIfindex: 3, rxQueueIndex: 2 })) });
  return { w, xdp: xdp! };
}

const md = (w: World, xdp: XdpContext, field: number): number => Number(w.memory.load(xdp.r1 + BigInt(field), 4, 0));

describe('XdpContext', () => {
  const packet = Uint8Array.from({ length: 60 }, (_, i) => i);

  it('maps the packet after 256 bytes of headroom and an xdp_md pointing at it', () => {
    const { w, xdp } = xdpWorld(packet);
    expect(xdp.r2).toBe(0n);
    expect(md(w, xdp, XDP_MD.dataEnd) - md(w, xdp, XDP_MD.data)).toBe(60);
    expect(md(w, xdp, XDP_MD.dataMeta)).toBe(md(w, xdp, XDP_MD.data));
    expect(md(w, xdp, XDP_MD.ingressIfindex)).toBe(3);
    expect(md(w, xdp, XDP_MD.rxQueueIndex)).toBe(2);
    expect(w.memory.load(BigInt(md(w, xdp, XDP_MD.data)) + 5n, 1, 0)).toBe(5n);
    expect(xdp.packet).toEqual({ address: xdp.data, length: 60 });
    // Programs may not write the context; the packet they may.
    expect(() => w.memory.store(xdp.r1, 4, 0n, 0)).toThrow(/read-only/);
    w.memory.store(BigInt(xdp.data), 1, 0xffn, 0);
    expect(xdp.packetBytes()[0]).toBe(0xff);
    expect(packet[0]).toBe(0); // the caller's bytes are copied, not shared
  });

  it('moves the head within Linux limits and updates data', () => {
    const { w, xdp } = xdpWorld(packet);
    const data0 = xdp.data;
    expect(w.call(XDP_ADJUST_HEAD, xdp.r1, -20)).toBe(0n);
    expect(md(w, xdp, XDP_MD.data)).toBe(data0 - 20);
    expect(xdp.packetBytes()).toHaveLength(80);
    expect([...xdp.packetBytes().subarray(20, 23)]).toEqual([0, 1, 2]);
    expect(w.call(XDP_ADJUST_HEAD, xdp.r1, 20 + 60 - ETH_HLEN)).toBe(0n); // leaves exactly ETH_HLEN bytes
    expect(xdp.packet.length).toBe(ETH_HLEN);
    expect(w.call(XDP_ADJUST_HEAD, xdp.r1, 1)).toBe(EINVAL);
    expect(xdp.packet.length).toBe(ETH_HLEN);
  });

  it('lets the head grow down to just past a struct xdp_frame (40 bytes)', () => {
    const { w, xdp } = xdpWorld(packet);
    expect(w.call(XDP_ADJUST_HEAD, xdp.r1, -(XDP_PACKET_HEADROOM - 40) - 1)).toBe(EINVAL);
    expect(w.call(XDP_ADJUST_HEAD, xdp.r1, -(XDP_PACKET_HEADROOM - 40))).toBe(0n);
    expect(xdp.packet.length).toBe(60 + 216);
    expect(w.call(XDP_ADJUST_HEAD, xdp.r1, 0xffffffffn)).toBe(EINVAL); // int -1: one byte too far
  });

  it('shrinks the tail down to ETH_HLEN bytes of packet', () => {
    const { w, xdp } = xdpWorld(packet);
    expect(w.call(XDP_ADJUST_TAIL, xdp.r1, -(60 - ETH_HLEN) - 1)).toBe(EINVAL);
    expect(xdp.packet.length).toBe(60);
    expect(w.call(XDP_ADJUST_TAIL, xdp.r1, -(60 - ETH_HLEN))).toBe(0n);
    expect(md(w, xdp, XDP_MD.dataEnd) - md(w, xdp, XDP_MD.data)).toBe(ETH_HLEN);
    expect(w.call(XDP_ADJUST_TAIL, xdp.r1, -1)).toBe(EINVAL);
    expect([...xdp.packetBytes()]).toEqual([...packet.subarray(0, ETH_HLEN)]);
  });

  it('zeroes grown tail bytes and stops at 4096 - 320 bytes of frame', () => {
    const { w, xdp } = xdpWorld(packet);
    w.memory.store(BigInt(xdp.dataEnd), 8, 0x1122334455667788n, 0); // stale tailroom bytes
    expect(w.call(XDP_ADJUST_TAIL, xdp.r1, 4)).toBe(0n);
    expect([...xdp.packetBytes().subarray(58)]).toEqual([58, 59, 0, 0, 0, 0]);
    const room = 4096 - 320 - XDP_PACKET_HEADROOM - 64;
    expect(w.call(XDP_ADJUST_TAIL, xdp.r1, room + 1)).toBe(EINVAL);
    expect(w.call(XDP_ADJUST_TAIL, xdp.r1, room)).toBe(0n);
    expect(xdp.packet.length).toBe(4096 - 320 - XDP_PACKET_HEADROOM);
  });

  it('unmaps both regions on release', () => {
    const memory = new Memory();
    const xdp = new XdpContext(memory, packet);
    const data = BigInt(xdp.data);
    xdp.release();
    expect(() => memory.load(xdp.r1, 4, 0)).toThrow(/unmapped/);
    expect(() => memory.load(data, 1, 0)).toThrow(/unmapped/);
    expect(memory.regions()).toEqual([]);
    xdp.release(); // twice is harmless
  });

  it('adjust helpers need an XDP context', () => {
    const w = makeWorld();
    expect(() => w.call(XDP_ADJUST_HEAD, 0, 1)).toThrow(HelperError);
    expect(() => w.call(XDP_ADJUST_TAIL, 0, 1)).toThrow(/xdp_adjust_tail: the program does not run on an XDP context/);
  });
});
