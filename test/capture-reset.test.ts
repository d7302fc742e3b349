// XdpContext.reset and SkbContext.reset (what the capture runner uses from
// packet to packet) against a context constructed fresh for each packet:
// the same programs over packets of growing and shrinking sizes give the
// same r0, the same errors, the same packet and frame bytes, the same struct
// bytes before and after the run, and nothing a program wrote (packet,
// headroom, tailroom, writable fields, adjusted head or tail) shows in the
// next packet.

import { describe, expect, test } from 'vitest';
import { UsageError } from '../lib/errors.js';
import { SkbContext, type SkbOptions } from '../lib/skb.js';
import { AVAILABLE_ENGINES, Vm, type LoadedProgram } from '../lib/vm.js';
import { XdpContext, type XdpOptions } from '../lib/xdp.js';
import { PUSH_HEAD, frame } from './capture-programs.js';

/** What one run shows: its result or error, the packet, and the context's bytes before and after. */
interface Outcome {
  readonly result: { r0: bigint } | { error: string };
  readonly before: string;
  readonly after: string;
  readonly packet: string;
  /** XDP: the whole frame (headroom and tailroom too), whose size bounds adjust_tail. */
  readonly frame?: string;
}

/** Bytes as hex: compared as strings, which is much faster than element by element. */
const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

function runOnce(run: () => bigint): Outcome['result'] {
  try {
    return { r0: run() };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

function xdpOutcome(vm: Vm, prog: LoadedProgram, ctx: XdpContext, engine: 'interp' | 'jit'): Outcome {
  const before = hex(vm.memory.read(ctx.r1, 24, 0));
  const result = runOnce(() => prog.run(ctx, { engine }));
  return {
    result, before, after: hex(vm.memory.read(ctx.r1, 24, 0)), packet: hex(ctx.packetBytes()),
    frame: hex(vm.memory.regionAt(ctx.data)!.bytes),
  };
}

function skbOutcome(prog: LoadedProgram, ctx: SkbContext, engine: 'interp' | 'jit'): Outcome {
  const before = hex(ctx.ctxBytes());
  const result = runOnce(() => prog.run(ctx, { engine }));
  return { result, before, after: hex(ctx.ctxBytes()), packet: hex(ctx.packetBytes()) };
}

/**
 * Reads a headroom byte and a tailroom byte (so leftovers would show),
 * moves the tail by the first byte - 8, then writes 0x5a at data_end - 1
 * and at data - 2 (the headroom), for the next packet to find.
 */
const PROBE_XDP = `
  mov %r6, %r1
  ldxw %r7, [%r6+0]
  ldxw %r8, [%r6+4]
  ldxb %r9, [%r7-1]
  ldxb %r2, [%r8+0]
  add %r9, %r2
  ldxb %r2, [%r7+0]
  sub %r2, 8
  mov %r1, %r6
  call xdp_adjust_tail
  ldxw %r8, [%r6+4]
  mov %r1, 0x5a
  stxb [%r8-1], %r1
  ldxw %r7, [%r6+0]
  stxb [%r7-2], %r1
  mov %r0, %r9
  exit
`;

/** Grows the tail by 3400 bytes (fits only a one-page frame with a short packet) and marks the new end. */
const GROW_TAIL = `
  mov %r6, %r1
  mov %r2, 3400
  call xdp_adjust_tail
  jne %r0, 0, out
  ldxw %r8, [%r6+4]
  mov %r1, 0xee
  stxb [%r8-1], %r1
out:
  exit
`;

/** Loads the byte 3600 bytes past data: past the frame's end (a fault) unless the packet is big. */
const FAR_LOAD = `
  ldxw %r2, [%r1+0]
  ldxb %r0, [%r2+3600]
  exit
`;

/** Moves the head 40 bytes on (shrinking the packet) and writes where the old head was. */
const PULL_HEAD = `
  mov %r6, %r1
  ldxw %r7, [%r6+0]
  mov %r2, 40
  call xdp_adjust_head
  mov %r1, 0x99
  stxb [%r7+0], %r1
  exit
`;

/** Packet lengths up and down: inside one page, past it (frames grow), and back. */
const XDP_PACKETS = [
  frame(9, 60), frame(12, 14), frame(3, 200), frame(1, 3000), frame(5, 3520), frame(7, 3521), frame(10, 20, true),
  frame(0x31, 9000), frame(0x77, 1500), frame(8, 64), frame(0x21, 5000), frame(4, 0), frame(0x41, 4200), frame(2, 100),
];

/**
 * Sums every writable __sk_buff field (and len, protocol, vlan_tci, wire_len,
 * hash) into r0, writes the packet's first byte, then writes every field a
 * tc program may write; cb[0..4] first, so a socket filter (which may write
 * only cb) faults at mark after changing cb.
 */
const WRITE_FIELDS = `
  mov %r6, %r1
  mov %r0, 0
  ldxw %r2, [%r6+8]
  add %r0, %r2
  ldxw %r2, [%r6+12]
  add %r0, %r2
  ldxw %r2, [%r6+32]
  add %r0, %r2
  ldxw %r2, [%r6+44]
  add %r0, %r2
  ldxw %r2, [%r6+48]
  add %r0, %r2
  ldxw %r2, [%r6+52]
  add %r0, %r2
  ldxw %r2, [%r6+56]
  add %r0, %r2
  ldxw %r2, [%r6+60]
  add %r0, %r2
  ldxw %r2, [%r6+64]
  add %r0, %r2
  ldxw %r2, [%r6+72]
  add %r0, %r2
  ldxdw %r2, [%r6+152]
  add %r0, %r2
  ldxw %r2, [%r6+16]
  lsh %r2, 20
  add %r0, %r2
  ldxw %r2, [%r6+0]
  lsh %r2, 40
  add %r0, %r2
  ldxw %r2, [%r6+24]
  add %r0, %r2
  ldxw %r2, [%r6+160]
  add %r0, %r2
  ldxw %r2, [%r6+68]
  add %r0, %r2
  ldxw %r3, [%r6+76]
  ldxw %r4, [%r6+80]
  mov %r5, %r3
  add %r5, 1
  jgt %r5, %r4, fields
  mov %r2, 0x66
  stxb [%r3+0], %r2
fields:
  mov %r2, 0x1234567
  stxw [%r6+48], %r2
  stxw [%r6+52], %r2
  stxw [%r6+56], %r2
  stxw [%r6+60], %r2
  stxw [%r6+64], %r2
  stxw [%r6+8], %r2
  stxw [%r6+12], %r2
  stxw [%r6+32], %r2
  stxw [%r6+44], %r2
  stxw [%r6+72], %r2
  stxdw [%r6+152], %r2
  exit
`;

/** Loads packet byte 100 through data: faults on a packet of 100 bytes or fewer (the region ends with the packet). */
const SKB_FAR = `
  ldxw %r2, [%r1+76]
  ldxb %r0, [%r2+100]
  exit
`;

/** LD_ABS of the EtherType, and a byte read with skb_load_bytes-like LD_IND past small packets. */
const SKB_LDABS = `
  mov %r6, %r1
  ldabsh 12
  mov %r7, %r0
  ldabsb 120
  lsh %r7, 8
  add %r0, %r7
  exit
`;

const SKB_PACKETS = [
  frame(9, 60), frame(12, 14), frame(3, 200), frame(3, 200), frame(1, 3000), frame(10, 20, true), new Uint8Array(0),
  frame(0x77, 1500), frame(8, 3), frame(0x21, 9000), frame(8, 64), frame(8, 101), frame(2, 100),
];

const SKB_OPTIONS: readonly (readonly [string, SkbOptions])[] = [
  ['tc', { kind: 'tc' }],
  ['socket', { kind: 'socket' }],
  ['tc with every option', {
    kind: 'tc', protocol: 0x86dd, vlan: { tci: 100, proto: 0x88a8 }, pktType: 3, mark: 5, queueMapping: 2, priority: 6,
    ingressIfindex: 4, ifindex: 9, tcIndex: 11, cb: [1, 2, 3, 4, 5], hash: 0xabcdef, tcClassid: 0x10001, napiId: 8,
    wireLen: 1000, gsoSegs: 2, gsoSize: 1400, tstamp: 123456789n,
  }],
  ['socket with cb and wire_len', { kind: 'socket', cb: [7, 0, 9], wireLen: 64 }],
];

describe.each(AVAILABLE_ENGINES)('reset contexts equal fresh ones (%s)', (engine) => {
  const xdpPrograms = [['adjust_head', PUSH_HEAD], ['headroom, tailroom, adjust_tail', PROBE_XDP], ['tail grown to the frame', GROW_TAIL],
    ['far load', FAR_LOAD], ['head pulled', PULL_HEAD]] as const;
  const xdpOptions: readonly XdpOptions[] = [{}, { ingressIfindex: 7, rxQueueIndex: 3 }];

  test.each(xdpPrograms)('XdpContext.reset: %s', (_name, code) => {
    for (const options of xdpOptions) {
      for (const order of [XDP_PACKETS, [...XDP_PACKETS].reverse()]) {
        const vmA = new Vm();
        const vmB = new Vm();
        const a = vmA.load(code);
        const b = vmB.load(code);
        let reused: XdpContext | undefined;
        for (const packet of order) {
          const fresh = new XdpContext(vmA.memory, packet, options);
          const want = xdpOutcome(vmA, a, fresh, engine);
          fresh.release();
          if (reused === undefined) reused = new XdpContext(vmB.memory, packet, options);
          else reused.reset(packet);
          expect(xdpOutcome(vmB, b, reused, engine)).toEqual(want);
        }
        expect(vmB.memory.regions().length).toBe(vmA.memory.regions().length + 2); // the frame and xdp_md, nothing more
        reused!.release();
        expect(vmB.memory.regions().map((r) => r.name)).toEqual(vmA.memory.regions().map((r) => r.name));
      }
    }
  });

  test('XdpContext.reset: the outcomes vary, so the comparison means something', () => {
    const vm = new Vm();
    const outcomes = new Map<string, Set<string>>();
    for (const [name, code] of xdpPrograms) {
      const prog = vm.load(code);
      const seen = new Set<string>();
      const ctx = new XdpContext(vm.memory, XDP_PACKETS[0]!);
      for (const packet of XDP_PACKETS) {
        ctx.reset(packet);
        const r = xdpOutcome(vm, prog, ctx, engine).result;
        seen.add('r0' in r ? `r0=${r.r0}` : r.error.split(':')[0]!);
      }
      ctx.release();
      outcomes.set(name, seen);
    }
    const far = [...outcomes.get('far load')!];
    expect(far).toContain('MemoryAccessError');
    expect(far.some((s) => s.startsWith('r0'))).toBe(true);
    expect(outcomes.get('tail grown to the frame')!.size).toBe(2); // 0 and -EINVAL
    expect(outcomes.get('adjust_head')).toEqual(new Set(['r0=3', 'r0=0'])); // XDP_TX, or XDP_ABORTED for the empty packet
  });

  test('XdpContext.reset: a store to xdp_md faults as on a fresh context, and the next packet is clean', () => {
    const code = 'mov %r2, 1\nstxw [%r1+12], %r2\nmov %r0, 2\nexit';
    const vmA = new Vm();
    const vmB = new Vm();
    const reused = new XdpContext(vmB.memory, XDP_PACKETS[0]!);
    for (const packet of XDP_PACKETS.slice(0, 3)) {
      const fresh = new XdpContext(vmA.memory, packet);
      const want = xdpOutcome(vmA, vmA.load(code), fresh, engine);
      fresh.release();
      expect(want.result).toEqual({ error: expect.stringMatching(/MemoryAccessError: .*xdp_md\.ingress_ifindex is read-only/) });
      reused.reset(packet);
      expect(xdpOutcome(vmB, vmB.load(code), reused, engine)).toEqual(want);
    }
  });

  test.each(SKB_OPTIONS)('SkbContext.reset (%s)', (_name, options) => {
    for (const [, code] of [['fields', WRITE_FIELDS], ['far', SKB_FAR], ['ld_abs', SKB_LDABS]] as const) {
      for (const order of [SKB_PACKETS, [...SKB_PACKETS].reverse()]) {
        const vmA = new Vm();
        const vmB = new Vm();
        const a = vmA.load(code);
        const b = vmB.load(code);
        let reused: SkbContext | undefined;
        for (const packet of order) {
          const fresh = new SkbContext(vmA.memory, packet, options);
          const want = skbOutcome(a, fresh, engine);
          const fields = [fresh.mark, fresh.priority, fresh.tcIndex, fresh.tcClassid, fresh.queueMapping, fresh.cb, fresh.tstamp, fresh.packet];
          fresh.release();
          if (reused === undefined) reused = new SkbContext(vmB.memory, packet, options);
          else reused.reset(packet);
          expect(skbOutcome(b, reused, engine)).toEqual(want);
          expect([reused.mark, reused.priority, reused.tcIndex, reused.tcClassid, reused.queueMapping, reused.cb, reused.tstamp, reused.packet])
            .toEqual(fields);
        }
        expect(vmB.memory.regions().length).toBe(vmA.memory.regions().length + 2);
        reused!.release();
        expect(vmB.memory.regions().map((r) => r.name)).toEqual(vmA.memory.regions().map((r) => r.name));
      }
    }
  });

  test('SkbContext.reset: written fields do not leak, and each kind keeps its own writable fields', () => {
    for (const kind of ['tc', 'socket'] as const) {
      const vm = new Vm();
      const prog = vm.load(WRITE_FIELDS);
      const ctx = new SkbContext(vm.memory, SKB_PACKETS[0]!, { kind, mark: 5 });
      const first = skbOutcome(prog, ctx, engine);
      // The program wrote cb (both kinds) and, for tc, every other writable field.
      expect(first.after).not.toEqual(first.before);
      expect(ctx.cb).toEqual(Array(5).fill(0x1234567));
      if (kind === 'tc') expect(first.result).toHaveProperty('r0');
      else expect(first.result).toEqual({ error: expect.stringMatching(/__sk_buff\.mark is read-only/) });
      ctx.reset(SKB_PACKETS[0]!);
      expect([ctx.mark, ctx.cb, ctx.tstamp, ctx.priority]).toEqual([5, [0, 0, 0, 0, 0], 0n, 0]);
      expect(hex(ctx.ctxBytes())).toBe(first.before);
      expect(ctx.packetBytes()).toEqual(SKB_PACKETS[0]); // the program's packet write is gone too
      expect(skbOutcome(prog, ctx, engine)).toEqual(first);
      ctx.release();
    }
  });
});

describe('reset: bad use', () => {
  test('a released context refuses reset; a non-Uint8Array packet is a UsageError', () => {
    const vm = new Vm();
    const xdp = new XdpContext(vm.memory, frame(1, 60));
    const skb = new SkbContext(vm.memory, frame(1, 60));
    expect(() => xdp.reset([1, 2, 3] as unknown as Uint8Array)).toThrow(UsageError);
    expect(() => skb.reset('abc' as unknown as Uint8Array)).toThrow(/must be a Uint8Array/);
    xdp.release();
    skb.release();
    expect(() => xdp.reset(frame(1, 60))).toThrow(/xdp context was released/);
    expect(() => skb.reset(frame(1, 60))).toThrow(/skb context was released/);
    expect(vm.memory.regions().map((r) => r.name)).toEqual(['stack']);
  });
});
