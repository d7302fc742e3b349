// runCapture on the calling thread (workers: 1): contexts by kind, verdicts
// and counts, outputs, faults naming the packet, classic BPF, raw contexts,
// printk lines and ring-buffer records, setup, and an object from
// fixtures/elf over a pcap file.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { PacketError, runCapture, type PacketResult } from '../lib/capture/index.js';
import { LineLog } from '../lib/capture/lines.js';
import { PRINTK_KEEP } from '../lib/helpers/index.js';
import { MemoryAccessError, UsageError } from '../lib/errors.js';
import { ArrayMap, HashMap, PerCpuArrayMap } from '../lib/maps/index.js';
import { openCapture, PcapError, PcapWriter } from '../lib/pcap/index.js';
import type { CapturedPacket } from '../lib/pcap/types.js';
import { AVAILABLE_ENGINES } from '../lib/vm.js';
import {
  CBPF_IP, COUNTER, COUNTER_MAPS, EVENTS, EVENTS_MAPS, PUSH_HEAD, expectedCounter, frame, packets,
} from './capture-programs.js';

const dir = mkdtempSync(join(tmpdir(), 'ebpf-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function collect(): { results: PacketResult[]; onResult: (r: PacketResult) => void } {
  const results: PacketResult[] = [];
  return { results, onResult: (r) => results.push(r) };
}

async function* slowly(list: readonly CapturedPacket[]): AsyncGenerator<CapturedPacket> {
  for (const p of list) yield p;
}

describe.each(AVAILABLE_ENGINES)('runCapture on one thread (%s)', (engine) => {
  test('XDP counters: verdicts in order, counts by name, maps at the end', async () => {
    const list = packets(300);
    const want = expectedCounter(list);
    const { results, onResult } = collect();
    const progress: number[] = [];
    const r = await runCapture({ spec: { kind: 'bpf', code: COUNTER, maps: COUNTER_MAPS, type: 'xdp' }, engine }, slowly(list), onResult, (n) => progress.push(n));
    expect(r.packets).toBe(300);
    expect(results.map((x) => x.verdict)).toEqual(want.verdicts);
    expect(results.map((x) => x.packet)).toEqual(list);
    expect(results.every((x) => x.worker === 0)).toBe(true);
    expect(results.map((x) => x.verdictName)).toEqual(want.verdicts.map((v) => (v === 2n ? 'XDP_PASS' : 'XDP_DROP')));
    expect(results.map((x) => x.pass)).toEqual(want.verdicts.map((v) => v === 2n));
    const passes = want.verdicts.filter((v) => v === 2n).length;
    expect(r.counts).toEqual(new Map([['XDP_DROP', 300 - passes], ['XDP_PASS', passes]]));
    expect(r.passed).toBe(passes);
    const totals = r.vm.maps.byName('totals') as ArrayMap;
    const t = totals.get(0)!;
    const view = new DataView(t.buffer, t.byteOffset);
    expect(view.getBigUint64(0, true)).toBe(want.packets);
    expect(view.getBigUint64(8, true)).toBe(want.bytes);
    const hash = r.vm.maps.byName('by_low_bits') as HashMap;
    for (const [k, n] of want.byLowBits) expect(hash.get(k, 'u64')).toBe(n);
    expect((r.vm.maps.byName('per_cpu') as PerCpuArrayMap).get(0, 'u64')).toEqual([300n]);
    expect(progress.at(-1)).toBe(300);
    expect(r.perWorker).toEqual([{ worker: 0, packets: 300, busyNs: expect.any(Number) }]);
    expect(r.object).toBeUndefined();
  });

  test('outputs are the packets as the program left them (xdp_adjust_head)', async () => {
    const list = packets(20);
    const { results, onResult } = collect();
    const r = await runCapture({ spec: { kind: 'bpf', code: PUSH_HEAD, type: 'xdp' }, engine }, list, onResult);
    expect(r.counts).toEqual(new Map([['XDP_TX', 20]]));
    results.forEach((x, i) => {
      expect(x.output).toEqual(new Uint8Array([0xab, 0xcd, ...list[i]!.data]));
      expect(x.packet.data).toEqual(list[i]!.data);
    });
    // outputs: false skips the copy.
    const quiet = collect();
    await runCapture({ spec: { kind: 'bpf', code: PUSH_HEAD, type: 'xdp' }, engine, outputs: false }, list, quiet.onResult);
    expect(quiet.results.every((x) => x.output.length === 0)).toBe(true);
  });

  test('a fault names the packet, after every earlier packet was delivered', async () => {
    const list = packets(50);
    const bad = 37;
    list[bad] = { ...list[bad]!, data: frame(0x77, 60) };
    const { results, onResult } = collect();
    const run = runCapture({ spec: { kind: 'bpf', code: COUNTER, maps: COUNTER_MAPS, type: 'xdp' }, engine }, slowly(list), onResult);
    const e = await run.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PacketError);
    expect((e as PacketError).packetNumber).toBe(bad);
    expect((e as PacketError).offset).toBe(list[bad]!.offset);
    expect((e as PacketError).cause).toBeInstanceOf(MemoryAccessError);
    expect((e as PacketError).pc).toBe(9);
    expect((e as PacketError).message).toMatch(new RegExp(`at pc 9 at packet ${bad}, byte offset ${list[bad]!.offset}$`));
    expect(results.map((x) => x.packet.index)).toEqual([...Array(bad).keys()]);
  });

  test('classic BPF spec: a socket filter, output truncated to r0', async () => {
    const list = packets(40);
    const { results, onResult } = collect();
    const r = await runCapture({ spec: { kind: 'cbpf', text: CBPF_IP }, engine }, list, onResult);
    const ipv4 = list.filter((p) => p.data[13] === 0x00).length;
    expect(r.counts).toEqual(new Map([['0x0', 40 - ipv4], ['0x40000', ipv4]]));
    results.forEach((x, i) => {
      const isIp = list[i]!.data[13] === 0x00;
      expect(x.pass).toBe(isIp);
      expect(x.verdictName).toBeUndefined();
      expect(x.output).toEqual(isIp ? list[i]!.data : new Uint8Array(0));
    });
  });

  test('raw context: r1/r2 are the bytes; writes reach the output, not the packet', async () => {
    const list = packets(10);
    const code = 'mov %r3, 0xee\nstxb [%r1+0], %r3\nmov %r0, %r2\nexit';
    const { results, onResult } = collect();
    const r = await runCapture({ spec: { kind: 'bpf', code }, engine, ctx: 'raw' }, list, onResult);
    results.forEach((x, i) => {
      expect(x.verdict).toBe(BigInt(list[i]!.data.length));
      expect(x.output[0]).toBe(0xee);
      expect(x.output.subarray(1)).toEqual(list[i]!.data.subarray(1));
      expect(x.packet.data[0]).not.toBe(0xee);
    });
    expect([...r.counts.keys()].every((k) => /^0x[0-9a-f]+$/.test(k))).toBe(true);
  });

  test('trace_printk lines and ring-buffer records, in packet order', async () => {
    const list = packets(30);
    const records: { data: Uint8Array; packetIndex: number }[] = [];
    const sunk: string[] = [];
    const r = await runCapture({
      spec: { kind: 'bpf', code: EVENTS, maps: EVENTS_MAPS, type: 'xdp' }, engine, vm: { printk: (l) => sunk.push(l) },
      onRecord: (x) => records.push(x),
    }, list);
    expect(r.printk).toEqual(list.map((p) => `n=${p.data[0]}`));
    expect(sunk).toEqual(r.printk);
    const odd = list.filter((p) => (p.data[0]! & 1) === 1);
    expect(records.map((x) => x.packetIndex)).toEqual(odd.map((p) => p.index));
    expect(records.map((x) => new DataView(x.data.buffer, x.data.byteOffset).getBigUint64(0, true))).toEqual(odd.map((p) => BigInt(p.data[0]!)));
  });

  test('xdp_firewall.o over a pcap file, with `blocked` set up before the first packet', async () => {
    const path = join(dir, `firewall-${engine}.pcap`);
    const chunks: Uint8Array[] = [];
    const w = new PcapWriter((c) => chunks.push(c.slice()));
    const ip = (src: number) => {
      const f = frame(0x02, 60);
      f.set([0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, src, 10, 0, 0, 9], 14);
      return f;
    };
    const sent = [ip(1), ip(2), frame(0x02, 42, true), ip(1), ip(3)];
    for (const data of sent) w.write({ data });
    writeFileSync(path, Buffer.concat(chunks));
    const { results, onResult } = collect();
    const r = await runCapture({
      spec: { kind: 'elf', bytes: new Uint8Array(readFileSync('fixtures/elf/xdp_firewall.o')) }, engine,
      setup: (_vm, obj) => void (obj!.map('blocked') as HashMap).set(new Uint8Array([10, 0, 0, 1]), new Uint8Array([1])),
    }, openCapture(path), onResult);
    expect(results.map((x) => x.verdictName)).toEqual(['XDP_DROP', 'XDP_PASS', 'XDP_PASS', 'XDP_DROP', 'XDP_PASS']);
    expect(r.counts).toEqual(new Map([['XDP_DROP', 2], ['XDP_PASS', 3]]));
    expect(r.object?.programs.has('xdp_firewall')).toBe(true);
    const stats = r.object!.map('stats') as PerCpuArrayMap;
    expect(stats.get(1)!.map((v) => new DataView(v.buffer, v.byteOffset).getBigUint64(0, true))).toEqual([2n]);
    expect(r.object!.decode('stats', 'value', stats.get(0)![0]!)).toEqual({ packets: 2n, bytes: 120n });
  });

  test('a truncated capture: every good packet first, then the PcapError', async () => {
    const chunks: Uint8Array[] = [];
    const w = new PcapWriter((c) => chunks.push(c.slice()));
    for (const p of packets(5)) w.write({ data: p.data });
    const all = Buffer.concat(chunks);
    const path = join(dir, `truncated-${engine}.pcap`);
    writeFileSync(path, all.subarray(0, all.length - 3));
    const { results, onResult } = collect();
    const e = await runCapture({ spec: { kind: 'bpf', code: COUNTER, maps: COUNTER_MAPS, type: 'xdp' }, engine }, openCapture(path), onResult)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PcapError);
    expect((e as PcapError).packetNumber).toBe(4);
    expect(results.length).toBe(4);
  });
});

describe.each(AVAILABLE_ENGINES)('verdicts by program kind (%s)', (engine) => {
  // r0 = the packet's first byte - 1 (as a u64: 0 gives 2^64 - 1), so each packet picks its verdict.
  const code = 'ldxb %r0, [%r1+0]\nsub %r0, 1\nexit';
  const list = Array.from({ length: 11 }, (_, i) => {
    const data = frame(i, 20);
    return { index: i, offset: i, timestampNs: 0n, linkType: 1, interfaceId: 0, data, origLen: 20 };
  });

  test('tc: names from TC_ACT_UNSPEC (-1) up, SHOT/STOLEN/QUEUED/TRAP drop', async () => {
    const { results, onResult } = collect();
    const r = await runCapture({ spec: { kind: 'bpf', code, type: 'classifier' }, ctx: 'raw', engine }, list, onResult);
    expect(results.map((x) => x.verdictName)).toEqual([
      'TC_ACT_UNSPEC', 'TC_ACT_OK', 'TC_ACT_RECLASSIFY', 'TC_ACT_SHOT', 'TC_ACT_PIPE', 'TC_ACT_STOLEN', 'TC_ACT_QUEUED',
      'TC_ACT_REPEAT', 'TC_ACT_REDIRECT', 'TC_ACT_TRAP', undefined,
    ]);
    expect(results.map((x) => x.pass)).toEqual([true, true, true, false, true, false, false, true, true, false, true]);
    expect(r.counts.get('TC_ACT_UNSPEC')).toBe(1);
    expect(r.counts.get('0x9')).toBe(1);
    expect(r.passed).toBe(7);
  });

  test('xdp reads the low 32 bits; unnamed codes count by r0 in hex', async () => {
    const { results, onResult } = collect();
    const r = await runCapture({ spec: { kind: 'bpf', code, type: 'xdp' }, ctx: 'raw', engine }, list, onResult);
    expect(results.map((x) => x.verdictName)).toEqual([undefined, 'XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT', ...Array(5).fill(undefined)]);
    expect(results.map((x) => x.pass)).toEqual([false, false, false, true, true, true, false, false, false, false, false]);
    expect(r.counts.get('0xffffffffffffffff')).toBe(1);
    expect(r.counts.get('0x5')).toBe(1);
  });
});

describe('runCapture options', () => {
  test('bad options are UsageErrors naming the option', async () => {
    const spec = { kind: 'bpf', code: 'mov %r0, 0\nexit' } as const;
    await expect(runCapture({ spec, workers: 0 }, [])).rejects.toThrow(/workers must be an integer/);
    await expect(runCapture({ spec, workers: 2, vm: { helpers: { 0x10000: () => 0 } } }, [])).rejects.toThrow(/helpers holds functions/);
    await expect(runCapture({ spec, ctx: 'eth' as never }, [])).rejects.toThrow(UsageError);
    await expect(runCapture({ spec: { kind: 'nope' } as never }, [])).rejects.toThrow(/spec kind/);
    await expect(runCapture({ spec, outputs: 1 as never }, [])).rejects.toThrow(/outputs must be a boolean/);
    await expect(runCapture({ spec }, [{ data: 'abc' }] as never)).rejects.toThrow(/must be captured packets/);
    await expect(runCapture({ spec }, 42 as never)).rejects.toThrow(UsageError);
  });

  test('printk keeps the newest PRINTK_KEEP lines in order and counts the rest', () => {
    const sunk: string[] = [];
    const log = new LineLog((l) => sunk.push(l));
    for (let i = 0; i < PRINTK_KEEP + 5; i++) log.add(`line ${i}`);
    const kept = log.list();
    expect(kept.length).toBe(PRINTK_KEEP);
    expect([kept[0], kept.at(-1), log.dropped]).toEqual(['line 5', `line ${PRINTK_KEEP + 4}`, 5]);
    expect(sunk.length).toBe(PRINTK_KEEP + 5);
  });

  test('packets may come in arrays (a reader handing out a chunk at a time)', async () => {
    const list = packets(10);
    const { results, onResult } = collect();
    const r = await runCapture({ spec: { kind: 'bpf', code: COUNTER, maps: COUNTER_MAPS, type: 'xdp' } }, [list.slice(0, 4), list.slice(4)], onResult);
    expect(r.packets).toBe(10);
    expect(results.map((x) => x.verdict)).toEqual(expectedCounter(list).verdicts);
  });
});
