// runCapture's fix-round contract, on one thread and on worker threads:
// (a) an error that ends a run carries the result so far (partialResult);
// (b) a packet toEthernet refuses is skipped and counted, not fatal;
// (c) frames: 'captured', and a cbpf spec's __sk_buff.len = the wire length.
//
// Workers run the compiled worker script: run `npm run build` before this
// file alone (as for capture-workers.test.ts).

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as Lib from '../lib/capture/index.js';
import type { ArrayMap } from '../lib/maps/index.js';
import type { CapturedPacket } from '../lib/pcap/types.js';
import { AVAILABLE_ENGINES } from '../lib/vm.js';
import { CBPF_IP, COUNTER, COUNTER_MAPS, expectedCounter, frame, packets } from './capture-programs.js';

const DIST = new URL('../dist/lib/', import.meta.url);
const WORKER = fileURLToPath(new URL('capture/worker.js', DIST));
if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run npm run build before this test file`);
const Dist = (await import(new URL('capture/index.js', DIST).href)) as typeof Lib;

type Api = typeof Lib;
// One thread runs the sources; workers need the built script.
const SETUPS: readonly [string, Api, number][] = [['one thread', Lib, 1], ['2 workers', Dist, 2]];

const counter = { kind: 'bpf', code: COUNTER, maps: COUNTER_MAPS, type: 'xdp' } as const;
/** cBPF `ld len; ret a`: r0 is __sk_buff.len. */
const RET_LEN = '2\n128 0 0 0\n22 0 0 0\n';

function at(list: readonly CapturedPacket[], i: number, p: Partial<CapturedPacket>): CapturedPacket[] {
  const out = list.slice();
  out[i] = { ...list[i]!, ...p };
  return out;
}

/** Packets toEthernet refuses, one of each kind. */
function refused(index: number): CapturedPacket[] {
  const base = { offset: 1000 + index, timestampNs: 0n, interfaceId: 0 };
  const cooked802 = new Uint8Array(16 + 1600);
  cooked802[15] = 0x04; // ETH_P_802_2 with a payload of 1600 bytes: no 802.3 length field holds it
  const v5 = new Uint8Array(20);
  v5[0] = 0x55;
  return [
    { ...base, index, linkType: 113, data: new Uint8Array(10), origLen: 10 },
    { ...base, index: index + 1, linkType: 101, data: new Uint8Array(0), origLen: 0 },
    { ...base, index: index + 2, linkType: 101, data: v5, origLen: 20 },
    { ...base, index: index + 3, linkType: 113, data: cooked802, origLen: cooked802.length },
  ];
}

function totals(vm: Lib.CaptureResult['vm']): bigint {
  const t = (vm.maps.byName('totals') as ArrayMap).get(0)!;
  return new DataView(t.buffer, t.byteOffset).getBigUint64(0, true);
}

describe.each(AVAILABLE_ENGINES)('capture results on errors, skips and frames (%s)', (engine) => {
  describe.each(SETUPS)('%s', (_, api, workers) => {
    test('(a) a fault carries the result so far: packets, counts, maps, perWorker', async () => {
      const list = packets(2000);
      const bad = 1500;
      const faulty = at(list, bad, { data: Uint8Array.from([0x77, ...list[bad]!.data.subarray(1)]) });
      let seen = 0;
      const e = await api.runCapture({ spec: counter, engine, workers }, faulty, () => seen++).catch((x: unknown) => x);
      expect((e as Error).name).toBe('PacketError');
      const partial = api.partialResult(e)!;
      expect(partial).toBeDefined();
      expect(partial.packets).toBe(bad);
      expect(seen).toBe(bad);
      const want = expectedCounter(list.slice(0, bad));
      const passes = want.verdicts.filter((v) => v === 2n).length;
      expect(partial.counts).toEqual(new Map([['XDP_DROP', bad - passes], ['XDP_PASS', passes]]));
      expect(partial.passed).toBe(passes);
      expect(partial.perWorker.length).toBe(workers);
      expect(partial.skipped).toBe(0);
      // The maps as they are: at least the delivered packets counted (workers may have run later ones).
      const n = totals(partial.vm);
      if (workers === 1) expect(n).toBe(BigInt(bad));
      else expect(n).toBeGreaterThanOrEqual(BigInt(bad));
      // Not enumerable: printing the error does not print a Vm.
      expect(Object.keys(e as object)).not.toContain('partial');
      expect(api.partialResult(new Error('x'))).toBeUndefined();
      expect(api.partialResult(undefined)).toBeUndefined();
    });

    test('(a) onResult throwing carries the result so far', async () => {
      const oops = new Error('stop');
      const e = await api.runCapture({ spec: counter, engine, workers }, packets(1000), (r) => {
        if (r.packet.index === 600) throw oops;
      }).catch((x: unknown) => x);
      expect(e).toBe(oops);
      const partial = api.partialResult(e)!;
      // Packet 600 was counted (its onResult ran) before its onResult threw.
      expect(partial.packets).toBe(601);
      expect([...partial.counts.values()].reduce((a, b) => a + b, 0)).toBe(601);
    });

    test('(a) a truncated input: its error carries every packet before it', async () => {
      const list = packets(700);
      async function* cut(): AsyncGenerator<CapturedPacket> {
        yield* list;
        throw new Error('truncated here');
      }
      const e = await api.runCapture({ spec: counter, engine, workers }, cut()).catch((x: unknown) => x);
      expect((e as Error).message).toBe('truncated here');
      const partial = api.partialResult(e)!;
      expect(partial.packets).toBe(700);
      expect(totals(partial.vm)).toBe(700n);
    });

    test('(b) packets toEthernet refuses are skipped and counted; the others run', async () => {
      const good = packets(600);
      const bad = refused(10_000);
      // Refused packets among the good ones (their indexes are their own).
      const list = [...good.slice(0, 100), ...bad.slice(0, 2), ...good.slice(100, 400), ...bad.slice(2), ...good.slice(400)];
      const results: Lib.PacketResult[] = [];
      const r = await api.runCapture({ spec: { kind: 'cbpf', text: CBPF_IP }, engine, workers }, list, (x) => results.push(x));
      expect(r.packets).toBe(600);
      expect(results.map((x) => x.packet)).toEqual(good);
      expect(r.skipped).toBe(4);
      expect(r.skippedExamples.map((s) => [s.index, s.offset])).toEqual(bad.map((p) => [p.index, p.offset]));
      const reasons = r.skippedExamples.map((s) => s.reason);
      expect(reasons[0]).toMatch(/Linux cooked \(v1\) header needs 16 bytes, the packet has 10/);
      expect(reasons[1]).toMatch(/no IP header/);
      expect(reasons[2]).toMatch(/IP version 5/);
      expect(reasons[3]).toMatch(/protocol 0x0004 has no Ethernet equivalent/);
      expect(reasons.every((s) => !/at packet/.test(s))).toBe(true);
    });

    test('(b) only the first 10 skipped packets are listed; all are counted', async () => {
      // More than a worker batch of them in a row: batches with no packet to run are delivered in order too.
      const list = Array.from({ length: 80 }, (_, i) => refused(4 * i)).flat();
      const r = await api.runCapture({ spec: counter, engine, workers }, [...list, ...packets(5)]);
      expect(r.skipped).toBe(320);
      expect(r.skippedExamples.length).toBe(Lib.SKIPPED_EXAMPLES);
      expect(r.skippedExamples.map((s) => s.index)).toEqual([...Array(10).keys()]);
      expect(r.packets).toBe(5);
    });

    test('(a)+(b) a fault after skips: the partial result counts the skips before it only', async () => {
      const list = packets(1200);
      const bad = 900;
      const faulty = at(list, bad, { data: Uint8Array.from([0x77, ...list[bad]!.data.subarray(1)]) });
      const input = [...faulty.slice(0, 300), ...refused(5000).slice(0, 3), ...faulty.slice(300, 1000), ...refused(6000), ...faulty.slice(1000)];
      const e = await api.runCapture({ spec: counter, engine, workers }, input).catch((x: unknown) => x);
      const partial = api.partialResult(e)!;
      expect(partial.packets).toBe(bad);
      expect(partial.skipped).toBe(3);
    });

    test("(c) frames: 'captured' gives the bytes as captured; other link types are skipped", async () => {
      const raw = (index: number, len: number, version = 4): CapturedPacket => {
        const data = new Uint8Array(len);
        data[0] = (version << 4) | 5;
        return { index, offset: index, timestampNs: 0n, linkType: 101, interfaceId: 0, data, origLen: len + 40 };
      };
      // ret len on raw IP: the wire length, no Ethernet header added; a version 7 packet is fine as captured.
      const list = [raw(0, 20), raw(1, 60, 7), { ...packets(1)[0]!, index: 2 }, raw(3, 0)];
      const results: Lib.PacketResult[] = [];
      const r = await api.runCapture({ spec: { kind: 'cbpf', text: RET_LEN }, engine, workers, frames: 'captured' }, list, (x) => results.push(x));
      expect(results.map((x) => [x.packet.index, x.verdict])).toEqual([[0, 60n], [1, 100n], [3, 40n]]);
      // The output is what was captured (a socket filter keeps min(r0, captured) bytes).
      expect(results.map((x) => x.output.length)).toEqual([20, 60, 0]);
      expect(r.skipped).toBe(1);
      expect(r.skippedExamples[0]!.reason).toMatch(/link type 1 differs from the first packet's 101/);
      // 'ethernet': the frame toEthernet made, len = wire length + the 14 bytes it added.
      const eth = await api.runCapture({ spec: { kind: 'cbpf', text: RET_LEN }, engine, workers }, [raw(0, 20), raw(1, 30, 6)], (x) => results.push(x));
      expect(results.slice(3).map((x) => x.verdict)).toEqual([74n, 84n]);
      expect(eth.skipped).toBe(0);
    });

    test('(c) a cbpf len is the wire length, loads stay bounded by the captured bytes', async () => {
      // ld len; jgt #100 -> ldb [50] (past 40 captured bytes: the filter returns 0); else ret #1.
      const text = '5\n128 0 0 0\n37 0 2 100\n48 0 0 50\n22 0 0 0\n6 0 0 1\n';
      const list = packets(3).map((p, i) => ({ ...p, data: frame(i + 1, 40), origLen: [40, 150, 100][i]! }));
      const results: Lib.PacketResult[] = [];
      await api.runCapture({ spec: { kind: 'cbpf', text }, engine, workers, frames: 'captured' }, list, (x) => results.push(x));
      expect(results.map((x) => x.verdict)).toEqual([1n, 0n, 1n]);
      // eBPF programs still see len = the bytes they are given.
      const own = await api.runCapture({ spec: { kind: 'bpf', code: 'ldxw %r0, [%r1+0]\nexit', type: 'socket' }, engine, workers }, list.slice(1, 2), (x) => results.push(x));
      expect(results.at(-1)!.verdict).toBe(40n);
      expect(own.packets).toBe(1);
      // A packet claiming less on the wire than it holds, or no origLen at all: len is what it holds.
      const odd = [{ ...list[0]!, origLen: 10 }, { ...list[0]!, origLen: undefined as never }];
      await api.runCapture({ spec: { kind: 'cbpf', text: RET_LEN }, engine, workers, frames: 'captured' }, odd, (x) => results.push(x));
      expect(results.slice(-2).map((x) => x.verdict)).toEqual([40n, 40n]);
    });

    test('(c) a bad frames option is a UsageError', async () => {
      const e = await api.runCapture({ spec: counter, engine, workers, frames: 'ip' as never }, []).catch((x: unknown) => x);
      expect((e as Error).name).toBe('UsageError');
      expect((e as Error).message).toMatch(/frames must be 'ethernet' or 'captured'/);
    });
  });
});
