// The pieces of `run --pcap`'s report, in-process: the progress bar (on a
// fake terminal and clock), map contents through BTF (per-CPU sums, zero
// slots, --dump-maps), value formatting, and the default worker count.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProgressBar, formatCount } from '../lib/cli/progress.js';
import { mapsReport, sumValues, formatValue, jsonValue, SUMMARY_ENTRIES } from '../lib/cli/report-maps.js';
import { defaultWorkers, PARALLEL_MIN_BYTES, runCaptureCommand } from '../lib/cli/run-capture.js';
import { MAX_WORKERS } from '../lib/capture/index.js';
import { loadObject } from '../lib/elf/index.js';
import type { PerCpuArrayMap, HashMap } from '../lib/maps/index.js';
import { Vm } from '../lib/vm.js';
import { ROOT } from './cli-helpers.js';
import { TRAFFIC, XDP_STATS } from './cli-traffic.js';

function fakeTerminal(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return { writes, term: { isTTY, ...(columns === undefined ? {} : { columns }), write: (s: string) => writes.push(s) } };
}

describe('ProgressBar', () => {
  it('never draws when the stream is not a terminal', () => {
    let t = 0;
    const { writes, term } = fakeTerminal(false);
    const bar = new ProgressBar(term, { totalBytes: 1000, delayMs: 0, now: () => t });
    for (t = 0; t < 5000; t += 50) bar.update(t, t / 10);
    bar.finish();
    expect(writes).toEqual([]);
  });

  it('draws after the delay, at most once per interval, and erases itself', () => {
    let t = 0;
    const { writes, term } = fakeTerminal(true);
    const bar = new ProgressBar(term, { totalBytes: 1000, delayMs: 500, intervalMs: 100, now: () => t });
    t = 499;
    bar.update(10, 100);
    expect(writes).toEqual([]);
    t = 500;
    bar.update(1000, 250);
    expect(writes).toEqual([`\r[${'#'.repeat(6)}${'.'.repeat(18)}]  25%  1,000 packets  2,000 packets/s\x1b[K`]);
    t = 550;
    bar.update(1100, 300); // within the interval: no redraw
    expect(writes).toHaveLength(1);
    t = 600;
    bar.update(1200, 1000);
    expect(writes[1]).toMatch(/^\r\[#{24}\] 100% {2}1,200 packets {2}2,000 packets\/s\x1b\[K$/);
    bar.finish();
    expect(writes.at(-1)).toBe('\r\x1b[K');
    bar.finish();
    expect(writes).toHaveLength(3);
  });

  it('fits the terminal and does without a size', () => {
    let t = 1000;
    const { writes, term } = fakeTerminal(true, 20);
    const bar = new ProgressBar(term, { delayMs: 0, now: () => t });
    t = 2000;
    bar.update(5000);
    expect(writes[0]).toBe('\r5,000 packets  5,00\x1b[K'); // 19 columns: one left free
    expect(formatCount(1234567.4)).toBe('1,234,567');
    expect(bar.line(1, undefined, 2000)).toBe('1 packet  1 packets/s');
  });

  it('run --pcap draws it on a terminal and erases it before the summary', async () => {
    const { writes, term } = fakeTerminal(true, 200);
    const out: string[] = [];
    const status = await runCaptureCommand({
      file: XDP_STATS, bytes: readFileSync(join(ROOT, XDP_STATS)), pcap: join(ROOT, TRAFFIC), engine: 'jit',
      json: false, verbose: false, dumpMaps: false, progressDelayMs: 0,
    }, (s) => out.push(s), term);
    expect(status).toBe(0);
    expect(writes.length).toBeGreaterThan(0);
    expect(writes[0]).toMatch(/^\r\[[#.]{24}\] +\d+% {2}[\d,]+ packets? {2}[\d,]+ packets\/s\x1b\[K$/);
    expect(writes.at(-1)).toBe('\r\x1b[K');
    expect(out[0]).toMatch(/^xdp_stats \(section xdp\) over .*traffic\.pcap: jit, 1 worker$/);
  });
});

describe('map contents', () => {
  const firewall = readFileSync(join(ROOT, 'fixtures/elf/xdp_firewall.o'));

  it('sums per-CPU values, lists them per CPU, hides zero slots unless all', () => {
    const vm = new Vm({ cpus: 2 });
    const obj = loadObject(vm, firewall);
    const stats = obj.map('stats') as PerCpuArrayMap;
    const counters = (packets: number, bytes: number) => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setBigUint64(0, BigInt(packets), true);
      new DataView(b.buffer).setBigUint64(8, BigInt(bytes), true);
      return b;
    };
    stats.set(1, [counters(2, 120), counters(3, 200)]);
    const blocked = obj.map('blocked') as HashMap;
    blocked.set(Uint8Array.of(10, 0, 0, 1), Uint8Array.of(1));
    const summary = mapsReport(obj, obj.maps.values(), false);
    const s = summary.maps.find((m) => m.name === 'stats')!;
    expect(s).toMatchObject({ type: 'percpu_array', zeroSlots: 2, more: 0 });
    expect(s.entries).toEqual([{ key: 1, value: { packets: 5n, bytes: 320n }, perCpu: [{ packets: 2n, bytes: 120n }, { packets: 3n, bytes: 200n }] }]);
    // The hash key is a __u32 in network order: decoded as the number those bytes are.
    expect(summary.maps.find((m) => m.name === 'blocked')!.entries).toEqual([{ key: 0x0100000a, value: 1 }]);
    const all = mapsReport(obj, obj.maps.values(), true).maps.find((m) => m.name === 'stats')!;
    expect(all.entries.map((e) => e.key)).toEqual([0, 1, 2]);
    expect(all.zeroSlots).toBe(0);
  });

  it('caps long maps in the summary', () => {
    const vm = new Vm();
    const map = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 100, name: 'big' });
    for (let k = 0; k < 30; k++) map.set(k, BigInt(k));
    const view = mapsReport(undefined, [map], false).maps[0]!;
    expect(view.entries).toHaveLength(SUMMARY_ENTRIES);
    expect(view.more).toBe(30 - SUMMARY_ENTRIES);
    // No BTF: keys and values as bytes.
    expect(formatValue(view.entries[0]!.key)).toMatch(/^[0-9a-f]{2}( [0-9a-f]{2}){3}$/);
    expect(mapsReport(undefined, [map], true).maps[0]!.entries).toHaveLength(30);
  });

  it('sums, formats and converts decoded values', () => {
    expect(sumValues([1n, 2n, 3n])).toBe(6n);
    expect(sumValues([{ a: 1, b: [1n, 2n] }, { a: 2, b: [3n, 4n] }])).toEqual({ a: 3, b: [4n, 6n] });
    expect(sumValues(['x', 'y'])).toBeUndefined();
    expect(sumValues([{ a: 'x' }, { a: 'y' }])).toBeUndefined();
    expect(formatValue({ name: 'eth0', n: 3n, list: [1, 2], raw: Uint8Array.of(0xab, 1) })).toBe('{ name: "eth0", n: 3, list: [1, 2], raw: ab 01 }');
    expect(jsonValue({ small: 5n, big: 1n << 60n, raw: Uint8Array.of(1) })).toEqual({ small: 5, big: '1152921504606846976', raw: '01' });
  });
});

describe('--workers default', () => {
  it('is every CPU for big captures, 1 for small ones or one CPU', () => {
    expect(defaultWorkers(PARALLEL_MIN_BYTES, () => 8)).toBe(8);
    expect(defaultWorkers(PARALLEL_MIN_BYTES - 1, () => { throw new Error('the CPU count is not needed'); })).toBe(1);
    expect(defaultWorkers(1 << 30, () => 1)).toBe(1);
    // A stream (--pcap /dev/stdin): no size, one worker.
    expect(defaultWorkers(undefined, () => { throw new Error('the CPU count is not needed'); })).toBe(1);
    expect(defaultWorkers(1 << 30, () => 100_000)).toBe(MAX_WORKERS);
  });
});
