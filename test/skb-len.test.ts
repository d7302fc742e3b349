// SkbContext's `len` option: __sk_buff.len for a packet cut by a capture's
// snaplen is its length on the wire (classic BPF's `ld len` reads it, as
// libpcap's bpf_filter reads wirelen), while LD_ABS/LD_IND, data_end and
// skb_load_bytes stay bounded by the bytes present. Per packet: the
// constructor's and reset()'s.

import { describe, expect, it } from 'vitest';
import { cbpfToEbpf, parseCbpf } from '../lib/cbpf/index.js';
import { UsageError } from '../lib/errors.js';
import { SkbContext } from '../lib/skb.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0xff);
const cbpf = (text: string) => cbpfToEbpf(parseCbpf(text));
/** ld len; ret a. */
const RET_LEN = cbpf('2\n128 0 0 0\n22 0 0 0\n');
/** ldb [k]; ret #1 (0 when [k] is past the packet's bytes). */
const loadAt = (k: number) => cbpf(`2\n48 0 0 ${k}\n6 0 0 1\n`);
/** ldx #k; ldb [x + 0]; ret #1: LD_IND. */
const loadInd = (k: number) => cbpf(`3\n1 0 0 ${k}\n80 0 0 0\n6 0 0 1\n`);

describe.each(AVAILABLE_ENGINES)('SkbContext len (%s)', (engine) => {
  it('len is the option, wire_len follows it, loads stop at the bytes present', () => {
    const vm = new Vm({ engine });
    const skb = new SkbContext(vm.memory, bytes(40), { kind: 'socket', len: 1500 });
    try {
      expect(skb.field('len')).toBe(1500);
      expect(skb.field('wireLen')).toBe(1500);
      expect(skb.packet.length).toBe(40);
      expect(skb.dataEnd - skb.data).toBe(40);
      expect(vm.load(RET_LEN).run(skb)).toBe(1500n);
      expect(vm.load(loadAt(39)).run(skb)).toBe(1n);
      expect(vm.load(loadAt(40)).run(skb)).toBe(0n);
      expect(vm.load(loadAt(1000)).run(skb)).toBe(0n);
      expect(vm.load(loadInd(39)).run(skb)).toBe(1n);
      expect(vm.load(loadInd(40)).run(skb)).toBe(0n);
      // An explicit wireLen option is kept.
      const other = new SkbContext(vm.memory, bytes(40), { len: 100, wireLen: 7 });
      expect([other.field('len'), other.field('wireLen')]).toEqual([100, 7]);
      other.release();
    } finally {
      skb.release();
    }
  });

  it('reset(packet, { len }) sets it per packet; without it len is the packet length', () => {
    const vm = new Vm({ engine });
    const prog = vm.load(RET_LEN);
    const skb = new SkbContext(vm.memory, bytes(40), { kind: 'socket', len: 90 });
    try {
      expect(prog.run(skb)).toBe(90n);
      skb.reset(bytes(64), { len: 300 });
      expect(prog.run(skb)).toBe(300n);
      expect(skb.packet.length).toBe(64);
      skb.reset(bytes(64));
      expect(prog.run(skb)).toBe(64n);
      expect(skb.field('wireLen')).toBe(64);
      skb.reset(bytes(10), { len: 10 });
      expect(prog.run(skb)).toBe(10n);
      expect(vm.load(loadAt(12)).run(skb)).toBe(0n);
      skb.reset(bytes(20), { len: undefined });
      expect(prog.run(skb)).toBe(20n);
    } finally {
      skb.release();
    }
  });

  it('a len below the packet length, not an integer, or above u32 is a UsageError', () => {
    const vm = new Vm({ engine });
    for (const len of [39, -1, 1.5, 2 ** 32, Number.NaN, '100' as never]) {
      expect(() => new SkbContext(vm.memory, bytes(40), { len })).toThrow(UsageError);
    }
    const skb = new SkbContext(vm.memory, bytes(40));
    try {
      expect(() => skb.reset(bytes(50), { len: 49 })).toThrow(/skb option len must be an integer in \[50/);
      expect(() => skb.reset(bytes(50), null as never)).toThrow(UsageError);
      // The context is still usable after a refused reset.
      skb.reset(bytes(50), { len: 2 ** 32 - 1 });
      expect(vm.load(RET_LEN).run(skb)).toBe(0xffffffffn);
    } finally {
      skb.release();
    }
  });
});
