// Stores into a context (lib/memory.ts's writable ranges, lib/skb.ts's
// fields): each engine performs a store inside one writable field and faults,
// naming the field, on anything else — every offset and width of struct
// __sk_buff for both skb kinds, st and stx, plus atomics and xdp_md.
import { describe, expect, it } from 'vitest';
import { MemoryAccessError, UsageError } from '../lib/errors.js';
import { Memory } from '../lib/memory.js';
import { SK_BUFF_SIZE, SKB, SKB_WRITABLE, SkbContext, skbFieldAt, type SkbKind } from '../lib/skb.js';
import { AVAILABLE_ENGINES, Vm, type LoadedProgram } from '../lib/vm.js';
import { XDP_MD_SIZE, XdpContext } from '../lib/xdp.js';
import { frame } from './skb-packets.js';

const WIDTHS = [1, 2, 4, 8] as const;
const SUFFIX = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' } as const;
const VALUE = 0x1122334455667788n;

/** The bytes a store of `width` writes: stx stores VALUE's low bytes, st its imm -1 sign-extended. */
function written(width: number, stx: boolean): number[] {
  return Array.from({ length: width }, (_, k) => (stx ? Number((VALUE >> BigInt(8 * k)) & 0xffn) : 0xff));
}

function insideOne(kind: SkbKind, offset: number, width: number): boolean {
  return SKB_WRITABLE[kind].some(([s, e]) => offset >= s && offset + width <= e);
}

/**
 * A program storing `width` bytes at ctx + hash (the offset travels in
 * __sk_buff.hash, so one program covers every offset and the address is
 * unknown at compile time, as through any pointer).
 */
function storeProgram(vm: Vm, width: number, stx: boolean): LoadedProgram {
  const store = stx ? `stx${SUFFIX[width as 1]} [%r2+0], %r3` : `st${SUFFIX[width as 1]} [%r2+0], -1`;
  return vm.load(`
    ldxw %r2, [%r1+${SKB.hash}]
    add %r2, %r1
    lddw %r3, 0x${VALUE.toString(16)}
    ${store}
    mov %r0, 0
    exit`);
}

describe.each(AVAILABLE_ENGINES)('context stores on %s', (engine) => {
  for (const kind of ['tc', 'socket'] as const) {
    it.each(WIDTHS.flatMap((w) => [[w, false], [w, true]] as const))(`${kind}: every aligned store of width %i (stx: %s)`, (width, stx) => {
      const vm = new Vm({ engine });
      const prog = storeProgram(vm, width, stx);
      let allowed = 0;
      for (let offset = 0; offset + width <= SK_BUFF_SIZE; offset += width) {
        const skb = new SkbContext(vm.memory, frame(), { kind, hash: offset });
        try {
          const before = skb.ctxBytes();
          if (insideOne(kind, offset, width)) {
            expect(prog.run(skb)).toBe(0n);
            const after = skb.ctxBytes();
            expect([...after.subarray(offset, offset + width)], `offset ${offset}`).toEqual(written(width, stx));
            // Nothing else changed.
            after.set(before.subarray(offset, offset + width), offset);
            expect(after).toEqual(before);
            allowed++;
          } else {
            let err: unknown;
            try {
              prog.run(skb);
            } catch (e) {
              err = e;
            }
            expect(err, `offset ${offset}`).toBeInstanceOf(MemoryAccessError);
            const e = err as MemoryAccessError;
            expect(e.kind).toBe('store');
            expect(e.size).toBe(width);
            expect(e.pc).toBe(4);
            expect(e.message).toMatch(/\((__sk_buff\.[a-z0-9_]+(\[\d\])? is read-only|store across __sk_buff\.\S+ and __sk_buff\.\S+)\)/);
            expect(skb.ctxBytes(), `offset ${offset}: a faulting store writes nothing`).toEqual(before);
          }
        } finally {
          skb.release();
        }
      }
      expect(allowed).toBeGreaterThan(0);
    });
  }

  it('tc writes each of its fields, socket filters cb only; others fault naming the field', () => {
    const vm = new Vm({ engine });
    const fields = ['mark', 'queueMapping', 'priority', 'tcIndex', 'tcClassid'] as const;
    const asm = fields.map((f, i) => `stw [%r1+${SKB[f]}], ${i + 10}`).join('\n')
      + `\n${[0, 1, 2, 3, 4].map((i) => `stw [%r1+${SKB.cb + 4 * i}], ${i + 20}`).join('\n')}`
      + `\nlddw %r2, 0x123456789\nstxdw [%r1+${SKB.tstamp}], %r2\nmov %r0, 0\nexit`;
    const tc = new SkbContext(vm.memory, frame(), { kind: 'tc' });
    expect(vm.load(asm).run(tc)).toBe(0n);
    expect([tc.mark, tc.queueMapping, tc.priority, tc.tcIndex, tc.tcClassid]).toEqual([10, 11, 12, 13, 14]);
    expect(tc.cb).toEqual([20, 21, 22, 23, 24]);
    expect(tc.tstamp).toBe(0x123456789n);
    tc.release();
    const socket = new SkbContext(vm.memory, frame(), { kind: 'socket' });
    expect(() => vm.load(asm).run(socket)).toThrow(/__sk_buff\.mark is read-only/);
    expect(vm.load(`stw [%r1+${SKB.cb + 16}], 7\nmov %r0, 0\nexit`).run(socket)).toBe(0n);
    expect(socket.cb[4]).toBe(7);
    for (const [field, name] of [['len', 'len'], ['pktType', 'pkt_type'], ['protocol', 'protocol'], ['data', 'data'],
      ['dataEnd', 'data_end'], ['tcClassid', 'tc_classid'], ['tstamp', 'tstamp'], ['wireLen', 'wire_len']] as const) {
      expect(() => vm.load(`stw [%r1+${SKB[field]}], 0\nexit`).run(socket)).toThrow(`(__sk_buff.${name} is read-only)`);
    }
    socket.release();
  });

  it('partial overlaps with a writable field fault', () => {
    const vm = new Vm({ engine });
    const skb = new SkbContext(vm.memory, frame(), { kind: 'tc' });
    const cases: [string, RegExp][] = [
      [`stdw [%r1+${SKB.priority}], 1`, /__sk_buff\.ingress_ifindex is read-only/], // priority + ingress_ifindex
      [`stdw [%r1+${SKB.tcIndex}], 1`, /store across __sk_buff\.tc_index and __sk_buff\.cb\[0\]/],
      [`stdw [%r1+${SKB.pktType}], 1`, /__sk_buff\.pkt_type is read-only/], // pkt_type + mark
      [`stdw [%r1+${SKB.mark}], 1`, /store across __sk_buff\.mark and __sk_buff\.queue_mapping/],
      [`stdw [%r1+${SKB.cb + 16}], 1`, /__sk_buff\.hash is read-only/], // cb[4] + hash
      [`sth [%r1+${SKB.tcClassid + 3}], 1`, /__sk_buff\.data is read-only/],
      [`stw [%r1+${SKB.tstamp + 6}], 1`, /__sk_buff\.wire_len is read-only/],
    ];
    for (const [store, message] of cases) {
      const before = skb.ctxBytes();
      expect(() => vm.load(`${store}\nexit`).run(skb), store).toThrow(message);
      expect(skb.ctxBytes()).toEqual(before);
    }
    skb.release();
  });

  it('atomics on the context fault, writable fields included', () => {
    const vm = new Vm({ engine });
    const skb = new SkbContext(vm.memory, frame(), { kind: 'tc', mark: 5 });
    for (const insn of [`lock add32 [%r1+${SKB.mark}], %r2`, `lock fetch add [%r1+${SKB.cb}], %r2`, `lock xchg32 [%r1+${SKB.cb + 4}], %r2`,
      `lock cmpxchg [%r1+${SKB.tstamp}], %r2`]) {
      expect(() => vm.load(`mov %r2, 1\n${insn}\nmov %r0, 0\nexit`).run(skb), insn).toThrow(/atomic access to __sk_buff\.\w+(\[\d\])? is not allowed/);
    }
    expect(() => vm.load(`mov %r2, 1\nlock add32 [%r1+${SKB.len}], %r2\nexit`).run(skb)).toThrow(/atomic access to __sk_buff\.len/);
    expect(skb.mark).toBe(5);
    skb.release();
  });

  it('xdp_md is read-only: every field store faults naming the field', () => {
    const vm = new Vm({ engine });
    const names = ['data', 'data_end', 'data_meta', 'ingress_ifindex', 'rx_queue_index', 'egress_ifindex'];
    const xdp = new XdpContext(vm.memory, frame());
    for (let off = 0; off < XDP_MD_SIZE; off += 4) {
      for (const store of [`stw [%r1+${off}], 0`, `stxb [%r1+${off + 1}], %r1`]) {
        expect(() => vm.load(`${store}\nmov %r0, 2\nexit`).run(xdp)).toThrow(`(xdp_md.${names[off / 4]} is read-only)`);
      }
    }
    expect(() => vm.load(`mov %r2, 1\nlock add32 [%r1+0], %r2\nexit`).run(xdp)).toThrow(/xdp_md\.data is read-only/);
    xdp.release();
  });
});

describe('writable ranges of a region', () => {
  it('Memory.store/write/view honour them; resolve refuses atomics there', () => {
    const mem = new Memory();
    const r = mem.map(new Uint8Array(16), { name: 'ctx', readonly: true, writable: [[4, 8], [8, 12]] });
    const base = BigInt(r.base);
    expect(r.readonly).toBe(true);
    mem.store(base + 4n, 4, 0xaabbccddn, 0);
    mem.write(base + 8n, Uint8Array.of(1, 2), 0);
    expect([...r.bytes]).toEqual([0, 0, 0, 0, 0xdd, 0xcc, 0xbb, 0xaa, 1, 2, 0, 0, 0, 0, 0, 0]);
    expect(() => mem.store(base + 4n, 8, 0n, 3)).toThrow('store across ctx and ctx');
    expect(() => mem.store(base + 2n, 4, 0n, 3)).toThrow('(ctx is read-only)');
    expect(() => mem.resolve(base + 4n, 4, 'store', 3, true)).toThrow('atomic access to ctx is not allowed');
    expect(mem.resolve(base + 4n, 4, 'store', 3)).toBe(r);
    // The engines' quick test of the same rule, on numbers.
    expect([mem.mayStoreAt(r.base + 4, 4), mem.mayStoreAt(r.base + 8, 4), mem.mayStoreAt(r.base + 6, 4)]).toEqual([true, true, false]);
    expect([mem.mayStoreAt(r.base + 2, 1), mem.mayStoreAt(-1, 1), mem.mayStoreAt(2 ** 32 + r.base + 4, 4), mem.mayStoreAt(0, 1)])
      .toEqual([false, false, false, false]);
    // The slot tables keep treating it as read-only (the engines' fast path).
    expect(mem.tables.writeLimits[r.base >>> 24]).toBe(0);
  });

  it('bad ranges are UsageErrors', () => {
    const mem = new Memory();
    const bad: unknown[] = [[[0, 17]], [[4, 4]], [[-1, 2]], [[1.5, 2]], [[1]], 'x', [[2, 1]]];
    for (const writable of bad) {
      expect(() => mem.map(new Uint8Array(16), { name: 'x', writable: writable as never }), JSON.stringify(writable)).toThrow(UsageError);
    }
    expect(() => mem.map(new Uint8Array(16), { name: 'x', readonly: false, writable: [[0, 4]] })).toThrow(UsageError);
    // writable alone implies read-only elsewhere.
    expect(mem.map(new Uint8Array(16), { name: 'y', writable: [[0, 4]] }).readonly).toBe(true);
    expect(mem.regions().length).toBe(1);
  });

  it('skbFieldAt names fields, array elements and padding', () => {
    expect(skbFieldAt(0)).toBe('__sk_buff.len');
    expect(skbFieldAt(SKB.cb + 9)).toBe('__sk_buff.cb[2]');
    expect(skbFieldAt(SKB.remoteIp6 + 12)).toBe('__sk_buff.remote_ip6[3]');
    expect(skbFieldAt(SKB.tstampType + 2)).toBe('__sk_buff.tstamp_type');
    expect(skbFieldAt(191)).toBe('__sk_buff.hwtstamp');
  });
});
