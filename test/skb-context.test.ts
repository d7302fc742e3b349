import { describe, expect, it } from 'vitest';
import { MemoryAccessError, UsageError } from '../lib/errors.js';
import { Memory } from '../lib/memory.js';
import { SK_BUFF_SIZE, SKB, SkbContext, type SkbField } from '../lib/skb.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';
import { frame } from './skb-packets.js';

/** Runs `asm` on a fresh SkbContext over `packet`, returns r0 and the context (released). */
function run(engine: (typeof AVAILABLE_ENGINES)[number], asm: string, packet: Uint8Array, options = {}) {
  const vm = new Vm({ engine });
  const skb = new SkbContext(vm.memory, packet, options);
  try {
    return { r0: vm.load(asm).run(skb), skb };
  } finally {
    skb.release();
  }
}

describe('SkbContext layout', () => {
  it('has Linux uapi offsets and size', () => {
    expect(SK_BUFF_SIZE).toBe(192);
    expect([SKB.len, SKB.protocol, SKB.cb, SKB.tcClassid, SKB.data, SKB.dataEnd, SKB.dataMeta]).toEqual([0, 16, 48, 72, 76, 80, 140]);
    expect([SKB.tstamp, SKB.wireLen, SKB.sk, SKB.hwtstamp]).toEqual([152, 160, 168, 184]);
  });

  it('fills fields from the packet and the options', () => {
    const memory = new Memory();
    const packet = frame();
    const skb = new SkbContext(memory, packet, {
      mark: 7, priority: 3, cb: [1, 2, 3], hash: 0xdeadbeef, ingressIfindex: 4, ifindex: 5, tcIndex: 9,
      vlan: { tci: 0x123 }, tstamp: 1n << 40n,
    });
    try {
      const v = new DataView(skb.ctxBytes().buffer);
      const u32 = (f: SkbField, i = 0) => v.getUint32(SKB[f] + 4 * i, true);
      expect(u32('len')).toBe(packet.length);
      expect(u32('wireLen')).toBe(packet.length);
      expect(u32('protocol')).toBe(0x0008); // htons(ETH_P_IP) read as a little-endian u32
      expect([u32('mark'), u32('priority'), u32('hash'), u32('ingressIfindex'), u32('ifindex'), u32('tcIndex')])
        .toEqual([7, 3, 0xdeadbeef, 4, 5, 9]);
      expect(skb.cb).toEqual([1, 2, 3, 0, 0]);
      expect([u32('vlanPresent'), u32('vlanTci'), u32('vlanProto')]).toEqual([1, 0x123, 0x0081]);
      expect(v.getBigUint64(SKB.tstamp, true)).toBe(1n << 40n);
      expect(u32('data')).toBe(skb.data);
      expect(u32('dataMeta')).toBe(skb.data);
      expect(u32('dataEnd') - u32('data')).toBe(packet.length);
      expect(skb.packet).toEqual({ address: skb.data, length: packet.length });
    } finally {
      skb.release();
    }
    expect(memory.regions()).toEqual([]);
  });

  it('copies the packet, takes protocol from the options or 0 for a runt frame', () => {
    const memory = new Memory();
    const packet = frame({ ethertype: 0x86dd });
    const a = new SkbContext(memory, packet, { protocol: 0x0806 });
    const b = new SkbContext(memory, packet);
    const c = new SkbContext(memory, new Uint8Array(10));
    const d = new SkbContext(memory, new Uint8Array(0));
    expect(a.field('protocol')).toBe(0x0608);
    expect(b.field('protocol')).toBe(0xdd86);
    expect(c.field('protocol')).toBe(0);
    expect(d.field('len')).toBe(0);
    expect(d.dataEnd).toBe(d.data);
    expect(a.packetBytes()).toEqual(packet);
    expect(a.data).not.toBe(b.data);
    for (const x of [a, b, c, d]) x.release();
    a.release(); // twice is harmless
    expect(memory.regions()).toEqual([]);
  });

  it('rejects bad options with UsageError before mapping anything', () => {
    const memory = new Memory();
    const bad: unknown[] = [
      { mark: -1 }, { mark: 2 ** 32 }, { priority: 1.5 }, { cb: [1, 2, 3, 4, 5, 6] }, { cb: ['x'] },
      { protocol: 0x10000 }, { vlan: { tci: 0x10000 } }, { vlan: null }, { kind: 'xdp' }, { tstamp: 1 },
      { tstamp: -1n }, null,
    ];
    for (const options of bad) {
      expect(() => new SkbContext(memory, frame(), options as never)).toThrow(UsageError);
    }
    expect(() => new SkbContext(memory, [1, 2] as never)).toThrow(UsageError);
    expect(memory.regions()).toEqual([]);
  });
});

describe.each(AVAILABLE_ENGINES)('SkbContext on %s', (engine) => {
  it('programs read every u32 field at its offset', () => {
    const options = {
      pktType: 1, mark: 2, queueMapping: 3, priority: 4, ingressIfindex: 5, ifindex: 6, tcIndex: 7,
      cb: [8, 9, 10, 11, 12], hash: 13, tcClassid: 14, napiId: 15, wireLen: 16, gsoSegs: 17, gsoSize: 18,
    };
    const packet = frame();
    const expected: [number, number][] = [
      [SKB.len, packet.length], [SKB.pktType, 1], [SKB.mark, 2], [SKB.queueMapping, 3], [SKB.protocol, 0x0008],
      [SKB.priority, 4], [SKB.ingressIfindex, 5], [SKB.ifindex, 6], [SKB.tcIndex, 7], [SKB.cb, 8], [SKB.cb + 16, 12],
      [SKB.hash, 13], [SKB.tcClassid, 14], [SKB.napiId, 15], [SKB.wireLen, 16], [SKB.gsoSegs, 17], [SKB.gsoSize, 18],
      [SKB.family, 0], [SKB.sk, 0],
    ];
    for (const [offset, value] of expected) {
      expect(run(engine, `ldxw %r0, [%r1+${offset}]\nexit`, packet, options).r0).toBe(BigInt(value));
    }
  });

  it('data/data_end bound the packet: direct reads inside, a fault past data_end', () => {
    const packet = frame();
    // data_end - data, then the byte at data + 23 (the IP protocol).
    const r = run(engine, `
      ldxw %r2, [%r1+${SKB.data}]
      ldxw %r3, [%r1+${SKB.dataEnd}]
      mov %r0, %r3
      sub %r0, %r2
      lsh %r0, 8
      ldxb %r4, [%r2+23]
      or %r0, %r4
      exit`, packet);
    expect(r.r0).toBe(BigInt((packet.length << 8) | 6));
    expect(() => run(engine, `ldxw %r3, [%r1+${SKB.dataEnd}]\nldxb %r0, [%r3+0]\nexit`, packet))
      .toThrow(MemoryAccessError);
  });

  it('LD_ABS/LD_IND and skb_load_bytes read the packet from the MAC header', () => {
    const packet = frame({ dport: 8080 });
    expect(run(engine, 'mov %r6, %r1\nldabsh 12\nexit', packet).r0).toBe(0x0800n);
    expect(run(engine, 'mov %r6, %r1\nmov %r7, 34\nldindh %r7, 2\nexit', packet).r0).toBe(8080n);
    // skb_load_bytes(ctx, 36, fp - 8, 2) then the two bytes as loaded (big-endian port read as little-endian).
    const load = `
      mov %r2, 36
      mov %r3, %r10
      add %r3, -8
      mov %r4, 2
      call 26
      jne %r0, 0, +1
      ldxh %r0, [%r10-8]
      exit`;
    expect(run(engine, load, packet).r0).toBe(0x901fn);
    expect(run(engine, load, new Uint8Array(37)).r0).toBe(BigInt.asUintN(64, -14n)); // -EFAULT: past the end
  });

  it('programs write the fields Linux lets them; a store to another field faults naming it', () => {
    const { r0, skb } = run(engine, `
      stw [%r1+${SKB.mark}], 0x50
      stw [%r1+${SKB.priority}], 6
      stw [%r1+${SKB.tcClassid}], 0x10001
      stw [%r1+${SKB.cb + 8}], 42
      stw [%r1+${SKB.queueMapping}], 2
      mov %r0, 0
      exit`, frame());
    expect(r0).toBe(0n);
    expect([skb.mark, skb.priority, skb.tcClassid, skb.queueMapping]).toEqual([0x50, 6, 0x10001, 2]);
    expect(skb.cb).toEqual([0, 0, 42, 0, 0]);

    expect(() => run(engine, `stw [%r1+${SKB.mark}], 1\nexit`, frame(), { kind: 'socket' }))
      .toThrow(/__sk_buff\.mark is read-only/);
    expect(() => run(engine, `stb [%r1+${SKB.len + 1}], 1\nexit`, frame())).toThrow(MemoryAccessError);
    const socket = run(engine, `stw [%r1+${SKB.cb}], 3\nmov %r0, 0\nexit`, frame(), { kind: 'socket' }).skb;
    expect(socket.cb[0]).toBe(3);
  });

  it('tc programs write the packet through data; the caller\'s bytes stay as they were', () => {
    const packet = frame();
    const { skb } = run(engine, `ldxw %r2, [%r1+${SKB.data}]\nstb [%r2+22], 1\nmov %r0, 0\nexit`, packet);
    expect(skb.packetBytes()[22]).toBe(1);
    expect(packet[22]).toBe(64);
  });
});
