// runCapture over worker threads. Workers run the compiled worker script
// (dist/lib/capture/worker.js, next to the module that starts them), so
// this file runs the built library: `npm test` builds first; after changing
// lib/, run `npm run build` before running this file alone.
//
// One thread and 2 or 4 workers must agree: verdicts in packet order,
// counts, map contents (atomic adds on shared ARRAY and HASH maps; a
// PERCPU_ARRAY summed over CPUs), outputs; a fault names its packet after
// every earlier one was delivered, and leaves no thread behind.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import type * as CaptureApi from '../lib/capture/index.js';
import type * as MapsApi from '../lib/maps/index.js';
import type * as PcapApi from '../lib/pcap/index.js';
import type { CapturedPacket } from '../lib/pcap/types.js';
import { AVAILABLE_ENGINES } from '../lib/vm.js';
import { CBPF_IP, COUNTER, COUNTER_MAPS, EVENTS, EVENTS_MAPS, PUSH_HEAD, expectedCounter, frame, packets } from './capture-programs.js';

const DIST = new URL('../dist/lib/', import.meta.url);
const WORKER = fileURLToPath(new URL('capture/worker.js', DIST));
if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run npm run build before this test file`);
const { runCapture, PacketError } = (await import(new URL('capture/index.js', DIST).href)) as typeof CaptureApi;
const { PcapWriter, openCapture, PcapError } = (await import(new URL('pcap/index.js', DIST).href)) as typeof PcapApi;
const { BATCH_PACKETS } = (await import(new URL('capture/threads.js', DIST).href)) as typeof import('../lib/capture/threads.js');
const { BATCHES_PER_WORKER, WorkerPool } = (await import(new URL('capture/pool.js', DIST).href)) as typeof import('../lib/capture/pool.js');

const dir = mkdtempSync(join(tmpdir(), 'ebpf-capture-workers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Result = CaptureApi.PacketResult;

async function* stream(list: readonly CapturedPacket[]): AsyncGenerator<CapturedPacket> {
  for (const p of list) yield p;
}

async function run(job: CaptureApi.CaptureJob, list: CaptureApi.CaptureInput) {
  const results: Result[] = [];
  const result = await runCapture(job, list, (r) => results.push(r));
  return { result, results };
}

const u64 = (bytes: Uint8Array, at = 0) => new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(at, true);

function pcapFile(name: string, list: readonly Uint8Array[], cut = 0): string {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c.slice()));
  for (const data of list) w.write({ data });
  const all = Buffer.concat(chunks);
  const path = join(dir, name);
  writeFileSync(path, all.subarray(0, all.length - cut));
  return path;
}

describe.each(AVAILABLE_ENGINES)('runCapture with workers (%s)', (engine) => {
  const counter = { kind: 'bpf', code: COUNTER, maps: COUNTER_MAPS, type: 'xdp' } as const;

  test('1, 2 and 4 workers agree: verdict order, counts, shared and per-CPU maps', async () => {
    const list = packets(3000);
    const want = expectedCounter(list);
    for (const workers of [1, 2, 4]) {
      const { result, results } = await run({ spec: counter, engine, workers }, stream(list));
      expect(results.map((r) => r.packet.index)).toEqual(list.map((p) => p.index));
      expect(results.map((r) => r.verdict)).toEqual(want.verdicts);
      const passes = want.verdicts.filter((v) => v === 2n).length;
      expect(result.counts).toEqual(new Map([['XDP_DROP', 3000 - passes], ['XDP_PASS', passes]]));
      expect(result.packets).toBe(3000);
      const totals = (result.vm.maps.byName('totals') as MapsApi.ArrayMap).get(0)!;
      expect([u64(totals, 0), u64(totals, 8)]).toEqual([want.packets, want.bytes]);
      const hash = result.vm.maps.byName('by_low_bits') as MapsApi.HashMap;
      expect(new Map([...hash.keys()].map((k) => [new DataView(k.buffer, k.byteOffset).getUint32(0, true), hash.get(k, 'u64')])))
        .toEqual(want.byLowBits);
      const perCpu = (result.vm.maps.byName('per_cpu') as MapsApi.PerCpuArrayMap).get(0, 'u64') as bigint[];
      expect(perCpu.length).toBe(workers);
      expect(perCpu.reduce((a, b) => a + b, 0n)).toBe(3000n);
      expect(result.perWorker.map((w) => w.worker)).toEqual([...Array(workers).keys()]);
      expect(result.perWorker.reduce((a, w) => a + w.packets, 0)).toBe(3000);
      // Each worker's packets are the ones it ran: its per-CPU slot says the same.
      expect(result.perWorker.map((w) => BigInt(w.packets))).toEqual(perCpu);
      if (workers > 1) expect(new Set(results.map((r) => r.worker)).size).toBe(workers);
    }
  });

  test('packets given as arrays (bigger than a batch) keep their order', async () => {
    const list = packets(2500);
    const { result, results } = await run({ spec: counter, engine, workers: 2 }, [list.slice(0, 1000), list[1000]!, list.slice(1001)]);
    expect(result.packets).toBe(2500);
    expect(results.map((r) => r.verdict)).toEqual(expectedCounter(list).verdicts);
  });

  test('outputs after bpf_xdp_adjust_head come back from the workers', async () => {
    const list = packets(700);
    const { results } = await run({ spec: { kind: 'bpf', code: PUSH_HEAD, type: 'xdp' }, engine, workers: 2 }, list);
    expect(results.length).toBe(700);
    results.forEach((r, i) => expect(r.output).toEqual(new Uint8Array([0xab, 0xcd, ...list[i]!.data])));
    const quiet = await run({ spec: { kind: 'bpf', code: PUSH_HEAD, type: 'xdp' }, engine, workers: 2, outputs: false }, list);
    expect(quiet.results.every((r) => r.output.length === 0 && r.verdictName === 'XDP_TX')).toBe(true);
  });

  test('a fault names the packet, after every earlier packet was delivered in order', async () => {
    const list = packets(2000);
    const bad = 1333;
    list[bad] = { ...list[bad]!, data: frame(0x77, 80) };
    const results: Result[] = [];
    const e = await runCapture({ spec: counter, engine, workers: 2 }, stream(list), (r) => results.push(r)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PacketError);
    const err = e as CaptureApi.PacketError;
    expect(err.packetNumber).toBe(bad);
    expect(err.offset).toBe(list[bad]!.offset);
    expect(err.cause.name).toBe('MemoryAccessError');
    expect([err.pc, err.worker < 2]).toEqual([9, true]);
    expect(err.code).toBe('MEMORY_ACCESS');
    expect(err.message).toMatch(new RegExp(`at pc 9 at packet ${bad}, byte offset ${list[bad]!.offset}$`));
    expect(results.map((r) => r.packet.index)).toEqual([...Array(bad).keys()]);
  });

  test('trace_printk lines and ring-buffer records come back in packet order', async () => {
    const list = packets(900);
    const records: CaptureApi.CaptureRecord[] = [];
    const sunk: string[] = [];
    const { result } = await run({
      spec: { kind: 'bpf', code: EVENTS, maps: EVENTS_MAPS, type: 'xdp' }, engine, workers: 2,
      vm: { printk: (l) => sunk.push(l) }, onRecord: (r) => records.push(r),
    }, list);
    expect(result.printk).toEqual(list.map((p) => `n=${p.data[0]}`));
    expect(sunk).toEqual(result.printk);
    const odd = list.filter((p) => (p.data[0]! & 1) === 1);
    expect(records.map((r) => r.packetIndex)).toEqual(odd.map((p) => p.index));
    expect(records.map((r) => u64(r.data))).toEqual(odd.map((p) => BigInt(p.data[0]!)));
    expect(new Set(records.map((r) => r.worker))).toEqual(new Set([0, 1]));
  });

  test('classic BPF over workers counts as on one thread', async () => {
    const list = packets(1000);
    const one = await run({ spec: { kind: 'cbpf', text: CBPF_IP }, engine }, list);
    const two = await run({ spec: { kind: 'cbpf', text: CBPF_IP }, engine, workers: 2 }, list);
    expect(two.result.counts).toEqual(one.result.counts);
    expect(two.results.map((r) => [r.verdict, r.pass, r.output])).toEqual(one.results.map((r) => [r.verdict, r.pass, r.output]));
  });

  test('the vm budget reaches the workers: a runaway loop is a PacketError with BUDGET_EXCEEDED', async () => {
    // Loops r0 = first byte times: packet 5 (first byte 200) runs past the budget.
    const code = 'ldxb %r2, [%r1+0]\nmov %r0, 0\nloop:\njge %r0, %r2, out\nadd %r0, 1\nja loop\nout:\nexit';
    const list = packets(300).map((p, i) => ({ ...p, data: frame(i === 5 ? 200 : 3, 20) }));
    const e = await runCapture({ spec: { kind: 'bpf', code }, ctx: 'raw', engine, workers: 2, vm: { budget: 300 } }, list).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PacketError);
    expect([(e as CaptureApi.PacketError).code, (e as CaptureApi.PacketError).packetNumber]).toEqual(['BUDGET_EXCEEDED', 5]);
  });

  test('raw context over workers: r2 is the length, writes land in the output', async () => {
    const list = packets(600);
    const code = 'mov %r3, 0xee\nstxb [%r1+0], %r3\nmov %r0, %r2\nexit';
    const { results } = await run({ spec: { kind: 'bpf', code }, ctx: 'raw', engine, workers: 2 }, list);
    expect(results.map((r) => r.verdict)).toEqual(list.map((p) => BigInt(p.data.length)));
    results.forEach((r, i) => expect(r.output).toEqual(new Uint8Array([0xee, ...list[i]!.data.subarray(1)])));
  });

  test('xdp_firewall.o from a pcap file: setup seeds the shared map, per-CPU stats add up', async () => {
    const ip = (src: number, len: number) => {
      const f = frame(0x02, len);
      f.set([0x45, 0, 0, len - 14, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, src, 10, 0, 0, 9], 14);
      return f;
    };
    const sent = Array.from({ length: 1200 }, (_, i) => (i % 7 === 0 ? frame(0x02, 42, true) : ip(i % 3, 60 + (i % 40))));
    const path = pcapFile(`firewall-${engine}.pcap`, sent);
    const { result, results } = await run({
      spec: { kind: 'elf', bytes: new Uint8Array(readFileSync('fixtures/elf/xdp_firewall.o')), program: 'xdp_firewall' }, engine, workers: 2,
      setup: (_vm, obj) => void (obj!.map('blocked') as MapsApi.HashMap).set(new Uint8Array([10, 0, 0, 1]), new Uint8Array([1])),
    }, openCapture(path));
    const dropped = sent.filter((f, i) => i % 7 !== 0 && f[29] === 1);
    expect(results.filter((r) => r.verdictName === 'XDP_DROP').map((r) => r.packet.index))
      .toEqual(sent.flatMap((f, i) => (i % 7 !== 0 && f[29] === 1 ? [i] : [])));
    const stats = result.object!.map('stats') as MapsApi.PerCpuArrayMap;
    const sum = (key: number) => stats.get(key)!.reduce((a, v) => a + u64(v), 0n);
    expect(sum(1)).toBe(BigInt(dropped.length));
    expect(sum(2)).toBe(BigInt(sent.filter((_, i) => i % 7 === 0).length));
    expect(sum(0) + sum(1) + sum(2)).toBe(1200n);
  });

  test('setup sets .rodata before the first packet, and every worker sees it (config_counters.o)', async () => {
    const bytes = new Uint8Array(readFileSync('fixtures/elf/config_counters.o'));
    const list = packets(800);
    const setup = (_vm: unknown, obj: { map(name: string): MapsApi.BpfMap } | undefined) => {
      const rodata = obj!.map('.rodata') as MapsApi.ArrayMap;
      const value = rodata.get(0)!;
      new DataView(value.buffer, value.byteOffset).setUint32(0, 60, true); // max_len = 60
      value[4] = 0; // verbose = 0: no trace_printk
      rodata.set(0, value);
    };
    const { result, results } = await run({ spec: { kind: 'elf', bytes }, engine, workers: 2, setup }, list);
    expect(results.map((r) => r.verdictName)).toEqual(list.map((p) => (p.data.length > 60 ? 'XDP_DROP' : 'XDP_PASS')));
    expect(result.printk).toEqual([]);
    // (.bss counters are not compared: the program updates them with plain += , which may lose increments across threads.)
    expect(result.object!.globals('.rodata')).toMatchObject({ max_len: 60, verbose: 0 });
  });

  test('loadObject options reach every thread (kconfig.o with kconfig values)', async () => {
    const bytes = new Uint8Array(readFileSync('fixtures/elf/kconfig.o'));
    const load = { kconfig: { CONFIG_BPF_JIT: 'm', CONFIG_BPF_SYSCALL: true, CONFIG_HZ: 250, CONFIG_DEFAULT_HOSTNAME: 'capture' } };
    const { result } = await run({ spec: { kind: 'elf', bytes, load }, engine, workers: 2 }, packets(600));
    expect(result.counts).toEqual(new Map([['XDP_TX', 600]]));
    const report = result.object!.globals('.bss').report as Record<string, unknown>;
    expect([report.hz, report.jit]).toEqual([250, 2]);
  });

  test('a truncated capture: every good packet, then the PcapError', async () => {
    const list = packets(600);
    const path = pcapFile(`truncated-${engine}.pcap`, list.map((p) => p.data), 5);
    const results: Result[] = [];
    const e = await runCapture({ spec: counter, engine, workers: 2 }, openCapture(path), (r) => results.push(r)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PcapError);
    expect((e as PcapApi.PcapError).packetNumber).toBe(599);
    expect(results.map((r) => r.verdict)).toEqual(expectedCounter(list.slice(0, 599)).verdicts);
  });
});

describe('worker threads: memory and failures', () => {
  const counter = { kind: 'bpf', code: COUNTER, maps: COUNTER_MAPS, type: 'xdp' } as const;

  test('the input is read at most a bounded window ahead of delivery (backpressure)', async () => {
    const list = packets(30_000);
    let pulled = 0;
    let delivered = 0;
    let ahead = 0;
    async function* counted() {
      for (const p of list) {
        pulled++;
        ahead = Math.max(ahead, pulled - delivered);
        yield p;
      }
    }
    const r = await runCapture({ spec: counter, workers: 2, outputs: false }, counted(), () => delivered++);
    expect(r.packets).toBe(30_000);
    expect(ahead).toBeGreaterThan(BATCH_PACKETS);
    expect(ahead).toBeLessThanOrEqual((BATCHES_PER_WORKER * 2 + 1) * BATCH_PACKETS);
  });

  test('onResult throwing ends the run with its error; nothing is delivered after it', async () => {
    const oops = new Error('stop here');
    const seen: number[] = [];
    const e = await runCapture({ spec: counter, workers: 2 }, packets(3000), (r) => {
      seen.push(r.packet.index);
      if (r.packet.index === 700) throw oops;
    }).catch((x: unknown) => x);
    expect(e).toBe(oops);
    expect(seen).toEqual([...Array(701).keys()]);
  });

  test('a worker script that cannot start is a WorkerError, not a hang', async () => {
    const init: import('../lib/capture/protocol.js').WorkerInit = {
      spec: counter, ctx: undefined, cpu: 0, cpus: 1, shared: undefined as never /* never read: the script does not exist */, vm: {}, engine: 'jit', outputs: false, records: false,
    };
    const pool = new WorkerPool(new URL('file:///nonexistent/ebpf-js-worker.js'), [init], () => {});
    const e = await pool.started().catch((x: unknown) => x);
    await pool.terminate();
    expect((e as Error).name).toBe('WorkerError');
    expect((e as Error).message).toMatch(/^worker 0: /);
  });

  test('a spec that does not load is its loader error, before any thread starts', async () => {
    const e = await runCapture({ spec: { kind: 'bpf', code: 'mov %r0, 1' }, workers: 2 }, []).catch((x: unknown) => x);
    expect((e as Error).name).toBe('ValidationError');
  });


  test('after a fault, the process exits on its own (no thread left running)', () => {
    const script = join(dir, 'orphans.mjs');
    writeFileSync(script, `
      import { runCapture } from ${JSON.stringify(new URL('capture/index.js', DIST).href)};
      const list = Array.from({ length: 3000 }, (_, i) => {
        const data = new Uint8Array(64); data[0] = i === 2500 ? 0x77 : 1; data[12] = 8;
        return { index: i, offset: i, timestampNs: 0n, linkType: 1, interfaceId: 0, data, origLen: 64 };
      });
      const code = ${JSON.stringify(COUNTER)};
      try {
        await runCapture({ spec: { kind: 'bpf', code, maps: ${JSON.stringify(COUNTER_MAPS)}, type: 'xdp' }, workers: 2 }, list);
      } catch (e) { console.log(e.name, e.packetNumber); }
    `);
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('PacketError 2500\n');
    expect(r.status).toBe(0);
  });
});
