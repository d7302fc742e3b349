// The report of `ebpf-js run --pcap`: verdict counts, throughput (per worker
// too), map contents and trace_printk lines, as text for people or as one
// JSON document. Built from what the run delivered, so a run that ends in an
// error (a truncated capture, a fault on some packet) still reports the
// packets before it.

import { formatValue, jsonValue, type MapsReport } from './report-maps.js';
import { formatCount, packetCount } from './progress.js';

/** trace_printk lines the text summary shows (the JSON has every line the run kept). */
export const SUMMARY_PRINTK_LINES = 50;

export interface WorkerStats {
  readonly worker: number;
  readonly packets: number;
  readonly busyNs: number;
}

export interface CaptureReport {
  readonly program: string;
  readonly section: string;
  readonly capture: string;
  readonly engine: string;
  readonly workers: number;
  readonly packets: number;
  /** Verdict name (or r0 in hex) -> packets, most frequent first. */
  readonly verdicts: readonly (readonly [string, number])[];
  readonly passed: number;
  readonly dropped: number;
  readonly elapsedNs: number;
  readonly perWorker: readonly WorkerStats[];
  readonly maps: MapsReport | undefined;
  readonly printk: readonly string[];
  /** Older trace_printk lines the run did not keep. */
  readonly printkDropped: number;
  /** Ring-buffer and perf-event records read, by map name. */
  readonly records: readonly (readonly [string, number])[];
  /** Packets not given to the program (not convertible to Ethernet). */
  readonly skipped: number;
  /** The first few of them. */
  readonly skippedExamples: readonly SkippedPacket[];
  /** A socket filter (r0 = bytes to keep): its r0 values are grouped as kept / dropped in the text. */
  readonly socketFilter: boolean;
  /** The error that ended the run early, when one did. */
  readonly error?: string;
}

export interface SkippedPacket {
  readonly index: number;
  readonly offset: number;
  readonly reason: string;
}

/** The summary's line about skipped packets (undefined when none were). */
export function skippedLine(skipped: number, first: SkippedPacket | undefined, what: string): string | undefined {
  if (skipped === 0) return undefined;
  const example = first === undefined ? '' : ` (first: packet ${first.index}: ${first.reason})`;
  return `skipped ${packetCount(skipped)} ${skipped === 1 ? 'that is' : 'that are'} ${what}${example}`;
}

/** One packet's line of --verbose (and entry of --json --verbose's `results`). */
export interface PacketLine {
  /** 1-based, as tcpdump -# and Wireshark number packets. */
  readonly number: number;
  /** Seconds since the first packet of the capture. */
  readonly time: number;
  readonly length: number;
  readonly verdict: string;
  readonly r0: bigint;
  readonly pass: boolean;
  /** Ring-buffer and perf-event records the packet's run produced. */
  readonly records: readonly { readonly map: string; readonly data: Uint8Array }[];
}

/** Record bytes --verbose shows; the JSON has them all. */
export const VERBOSE_RECORD_BYTES = 64;

export function packetsPerSecond(packets: number, ns: number): number {
  return ns > 0 ? Math.round((packets * 1e9) / ns) : 0;
}

/** A packet's --verbose line, then a line per record it produced. */
export function formatPacketLine(p: PacketLine): string {
  const line = `${String(p.number).padStart(7)}  ${p.time.toFixed(6).padStart(12)}  ${String(p.length).padStart(5)}  ${p.verdict}`;
  const records = p.records.map((r) => {
    const more = r.data.length > VERBOSE_RECORD_BYTES ? ' ...' : '';
    return `\n           record ${r.map} (${r.data.length} bytes): ${hexBytes(r.data.subarray(0, VERBOSE_RECORD_BYTES))}${more}`;
  });
  return line + records.join('');
}

function hexBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** The text summary, line by line. */
export function formatReport(r: CaptureReport, out: (s: string) => void): void {
  const workers = `${r.workers} worker${r.workers === 1 ? '' : 's'}`;
  out(`${r.program} (section ${r.section}) over ${r.capture}: ${r.engine}, ${workers}`);
  const seconds = (r.elapsedNs / 1e9).toFixed(3);
  out(`${packetCount(r.packets)}${r.error === undefined ? '' : ' before the error'} in ${seconds} s, ` +
    `${formatCount(packetsPerSecond(r.packets, r.elapsedNs))} packets/s`);
  const skipped = skippedLine(r.skipped, r.skippedExamples[0], 'not convertible to Ethernet');
  if (skipped !== undefined) out(skipped);
  const verdicts = shownVerdicts(r);
  if (verdicts.length > 0) {
    out(verdicts === r.verdicts ? 'verdicts:' : 'verdicts (r0 = bytes to keep; --json counts each r0 value):');
    const width = Math.max(...verdicts.map(([name]) => name.length));
    const countWidth = Math.max(...verdicts.map(([, n]) => formatCount(n).length));
    for (const [name, n] of verdicts) {
      const share = r.packets === 0 ? 0 : (100 * n) / r.packets;
      out(`  ${name.padEnd(width)}  ${formatCount(n).padStart(countWidth)}  ${share.toFixed(1).padStart(5)}%`);
    }
    out(`passed ${formatCount(r.passed)}, dropped ${formatCount(r.dropped)}`);
  }
  if (r.perWorker.length > 1) {
    out('workers:');
    for (const w of r.perWorker) {
      out(`  worker ${w.worker}: ${packetCount(w.packets)}, busy ${(w.busyNs / 1e9).toFixed(3)} s, ` +
        `${formatCount(packetsPerSecond(w.packets, w.busyNs))} packets/s`);
    }
  }
  if (r.maps !== undefined) formatMaps(r.maps, out);
  if (r.records.length > 0) {
    out('records read:');
    for (const [map, n] of r.records) out(`  ${map}: ${formatCount(n)}`);
  }
  if (r.printk.length > 0) {
    const dropped = r.printkDropped > 0 ? `, the newest of ${formatCount(r.printk.length + r.printkDropped)}` : '';
    out(`trace_printk (${formatCount(r.printk.length)} line${r.printk.length === 1 ? '' : 's'}${dropped}):`);
    for (const line of r.printk.slice(0, SUMMARY_PRINTK_LINES)) out(`  ${line}`);
    if (r.printk.length > SUMMARY_PRINTK_LINES) out(`  ... ${formatCount(r.printk.length - SUMMARY_PRINTK_LINES)} more (--json lists them all)`);
  }
}

/**
 * The verdict rows of the text summary. A socket filter's r0 is the number of
 * bytes to keep, one value per packet length: its rows are "kept (r0 > 0)"
 * and "dropped (r0 = 0)" (the JSON keeps every r0 value).
 */
function shownVerdicts(r: CaptureReport): readonly (readonly [string, number])[] {
  if (!r.socketFilter || r.verdicts.length === 0 || !r.verdicts.every(([name]) => name.startsWith('0x'))) return r.verdicts;
  const rows: [string, number][] = [];
  if (r.passed > 0) rows.push(['kept (r0 > 0)', r.passed]);
  if (r.dropped > 0) rows.push(['dropped (r0 = 0)', r.dropped]);
  return rows.sort((a, b) => b[1] - a[1]);
}

function formatMaps(m: MapsReport, out: (s: string) => void): void {
  if (m.maps.length > 0) out('maps:');
  for (const map of m.maps) {
    out(`  ${map.name} (${map.type})${map.note === undefined ? ':' : `: ${map.note}`}`);
    for (const e of map.entries) {
      // One CPU (one worker): its value is the total already.
      const perCpu = e.perCpu === undefined || e.perCpu.length < 2 ? '' : `  per cpu: ${e.perCpu.map(formatValue).join(', ')}`;
      out(`    ${formatValue(e.key)}: ${e.ref === true ? String(e.value) : formatValue(e.value)}${perCpu}`);
    }
    const hidden: string[] = [];
    if (map.zeroSlots > 0) hidden.push(`${map.zeroSlots} zero slot${map.zeroSlots === 1 ? '' : 's'}`);
    if (map.more > 0) hidden.push(`${map.more} more entr${map.more === 1 ? 'y' : 'ies'}`);
    if (hidden.length > 0) out(`    (${hidden.join(', ')} not shown; --dump-maps shows all)`);
    if (map.note === undefined && map.entries.length === 0 && hidden.length === 0) out('    (empty)');
  }
  if (m.globals.length > 0) out('global variables:');
  for (const g of m.globals) {
    out(`  ${g.name}:`);
    for (const [name, value] of Object.entries(g.variables)) out(`    ${name} = ${formatValue(value)}`);
  }
}

/** The report as one JSON document (results: the per-packet lines of --verbose). */
export function reportJson(r: CaptureReport, results: readonly PacketLine[] | undefined): string {
  const doc: Record<string, unknown> = {
    program: r.program,
    section: r.section,
    capture: r.capture,
    engine: r.engine,
    workers: r.workers,
    packets: r.packets,
    elapsed_ns: Math.round(r.elapsedNs),
    packets_per_second: packetsPerSecond(r.packets, r.elapsedNs),
    verdicts: Object.fromEntries(r.verdicts),
    passed: r.passed,
    dropped: r.dropped,
    per_worker: r.perWorker.map((w) => ({
      worker: w.worker, packets: w.packets, busy_ns: Math.round(w.busyNs), packets_per_second: packetsPerSecond(w.packets, w.busyNs),
    })),
    maps: r.maps?.maps.map((m) => ({
      name: m.name,
      type: m.type,
      entries: m.entries.map((e) => ({ key: jsonValue(e.key), value: jsonValue(e.value), ...(e.perCpu === undefined ? {} : { per_cpu: jsonValue(e.perCpu) }) })),
      zero_slots: m.zeroSlots,
      more: m.more,
      ...(m.note === undefined ? {} : { note: m.note }),
    })) ?? null,
    globals: r.maps === undefined ? null : Object.fromEntries(r.maps.globals.map((g) => [g.name, jsonValue(g.variables)])),
    printk: r.printk,
    printk_dropped: r.printkDropped,
    records: Object.fromEntries(r.records),
    skipped: r.skipped,
    skipped_examples: r.skippedExamples.map((p) => ({ packet: p.index, offset: p.offset, reason: p.reason })),
  };
  if (results !== undefined) {
    doc.results = results.map((p) => ({
      packet: p.number, time: p.time, length: p.length, verdict: p.verdict, r0: `0x${p.r0.toString(16)}`, pass: p.pass,
      ...(p.records.length === 0 ? {} : { records: p.records.map((r) => ({ map: r.map, data: hexBytes(r.data) })) }),
    }));
  }
  if (r.error !== undefined) doc.error = r.error;
  return JSON.stringify(doc, null, 2);
}
