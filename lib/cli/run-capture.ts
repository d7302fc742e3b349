// `ebpf-js run prog.o --pcap in.pcap [--write-pass F] [--write-drop F] [--json]
// [--verbose] [--dump-maps] [--workers N] [--engine E]`: every packet of a
// capture through one program of an ELF object (lib/capture's runCapture
// does the running, on this thread or on workers), then a report
// (report.ts): verdict counts, throughput, maps, trace_printk.
//
// Written packets are the frames the program saw (capture-output.ts: as
// captured for Ethernet captures), with their timestamps and wire lengths,
// not as the program left them: the pass file plus the drop file is the
// input, split (less the packets skipped as not convertible to Ethernet).

import * as os from 'node:os';
import {
  MAX_WORKERS, PacketError, partialResult, runCapture, type CaptureRecord, type CaptureResult, type PacketResult,
} from '../capture/index.js';
import { loadObject, type ObjectProgram } from '../elf/index.js';
import { EbpfError, UsageError } from '../errors.js';
import { capturePackets, captureSource } from './capture-input.js';
import { CaptureOutput, checkOutputs, closeOutputs, type OutputPath } from './capture-output.js';
import { Vm, type EngineName } from '../vm.js';
import { isElf, pickProgram } from './run-object.js';
import { ProgressBar, type Terminal } from './progress.js';
import { formatPacketLine, formatReport, reportJson, type CaptureReport, type PacketLine } from './report.js';
import { mapsReport } from './report-maps.js';
import { sourceLineText } from '../source-line.js';
import type { CapturedPacket } from '../pcap/types.js';
import { TraceWriter } from '../trace/format.js';
import type { TraceCallback } from '../trace/types.js';

/**
 * Below this capture size the default is one worker. This thread reads and
 * parses the capture and hands packets out, and for a small filter that is
 * the bottleneck: measured on 2 cores with xdp_stats.o (JIT), 2 workers ran
 * 35 MB at 126-161k packets/s against 176-205k for one thread, and 144 MB
 * at 267k against 241k; starting them costs ~0.2 s. So about 64 MiB is
 * where more threads start to pay (sooner for costlier programs: --workers).
 */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;

export interface CaptureRunOptions {
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly pcap: string;
  readonly section?: string;
  readonly program?: string;
  readonly ctx?: string;
  readonly engine: EngineName;
  readonly budget?: number;
  /** Undefined: defaultWorkers. */
  readonly workers?: number;
  readonly writePass?: string;
  readonly writeDrop?: string;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly dumpMaps: boolean;
  /** Values of extern __kconfig variables. */
  readonly kconfig?: Readonly<Record<string, string>>;
  /** Print the trace of each packet (one thread, text). */
  readonly trace?: boolean;
  /** With trace: the packets to trace, numbered from 0 as --verbose shows them; undefined: every packet. */
  readonly tracePackets?: ReadonlySet<number>;
  /** Milliseconds before the progress bar first draws (default 500; tests set 0). */
  readonly progressDelayMs?: number;
}

/** Characters of --verbose lines written at once. */
const VERBOSE_BATCH_CHARS = 64 * 1024;

/** The host's CPUs: os.availableParallelism, or os.cpus().length where it is missing; 1 when neither answers. */
export function hostCpus(): number {
  return knownCpus() ?? 1;
}

/** The host's CPUs, or undefined when the runtime will not say (Deno without --allow-sys). */
function knownCpus(): number | undefined {
  try {
    return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  } catch {
    return undefined;
  }
}

/**
 * --workers' default: every CPU for a capture big enough to gain from it,
 * else 1 (also for a stream, whose size is unknown). `cpus` is asked only for
 * big captures (Deno asks the user for permission to read the CPU count).
 */
export function defaultWorkers(captureBytes: number | undefined, cpus: () => number): number {
  return captureBytes !== undefined && captureBytes >= PARALLEL_MIN_BYTES ? Math.max(1, Math.min(cpus(), MAX_WORKERS)) : 1;
}


/** What the run delivered so far, packet by packet (all a run that fails part way can report). */
class Tally {
  packets = 0;
  passed = 0;
  readonly counts = new Map<string, number>();
  readonly lines: PacketLine[] = [];
  /** Records read, by map; and, for --verbose, those of the packet being delivered. */
  readonly records = new Map<string, number>();
  private pending: CaptureRecord[] = [];
  position = 0;
  private firstNs: bigint | undefined;

  /** A record arrives before its packet's result. */
  addRecord(r: CaptureRecord, keep: boolean): void {
    this.records.set(r.map, (this.records.get(r.map) ?? 0) + 1);
    if (keep) this.pending.push(r);
  }

  add(r: PacketResult, keepLine: boolean): PacketLine | undefined {
    this.packets++;
    if (r.pass) this.passed++;
    const name = r.verdictName ?? `0x${r.verdict.toString(16)}`;
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    this.position = r.packet.offset;
    if (!keepLine) return undefined;
    const first = (this.firstNs ??= r.packet.timestampNs);
    const records = this.pending.filter((x) => x.packetIndex === r.packet.index).map((x) => ({ map: x.map, data: x.data }));
    this.pending = this.pending.filter((x) => x.packetIndex > r.packet.index);
    return {
      records,
      number: r.packet.index,
      time: Number(r.packet.timestampNs - first) / 1e9,
      length: r.packet.data.length,
      verdict: name,
      r0: r.verdict,
      pass: r.pass,
    };
  }
}

export async function runCaptureCommand(o: CaptureRunOptions, out: (s: string) => void, term: Terminal,
  err: (s: string) => void = () => {}): Promise<number> {
  if (!isElf(o.bytes)) throw new UsageError(`--pcap runs an ELF object (clang -target bpf -c); ${o.file} is not one`);
  const source = captureSource(o.pcap);
  const size = source.size;
  // Pick the program here: the same choice and errors as `run` without --pcap, before any thread starts.
  const object = loadObject(new Vm(), o.bytes, { kconfig: o.kconfig });
  const picked = pickProgram(object, o);
  const ctx = contextOption(o.ctx);
  // A trace is printed as the program runs, in packet order: one thread.
  const workers = o.trace === true ? 1 : o.workers ?? defaultWorkers(size, hostCpus);
  if (workers > MAX_WORKERS) throw new UsageError(`--workers must be at most ${MAX_WORKERS}`);
  const outputs: OutputPath[] = [];
  if (o.writePass !== undefined) outputs.push({ option: '--write-pass', path: o.writePass });
  if (o.writeDrop !== undefined) outputs.push({ option: '--write-drop', path: o.writeDrop });
  checkOutputs(o.pcap, outputs);
  // More threads than CPUs still run (and give the same result), only slower. No warning when the count is unknown.
  const cpus = o.workers !== undefined && o.workers > 1 ? knownCpus() : undefined;
  if (cpus !== undefined && o.workers! > cpus) {
    err(`ebpf-js: warning: --workers ${o.workers} is more than the ${cpus} CPU${cpus === 1 ? '' : 's'} available: expect it to be slower, not faster`);
  }
  const pass = o.writePass === undefined ? undefined : new CaptureOutput(o.writePass, 'ethernet');
  const drop = o.writeDrop === undefined ? undefined : new CaptureOutput(o.writeDrop, 'ethernet');
  const tally = new Tally();
  const keepLines = o.verbose;
  // The trace (this object's programs, by name: tail calls switch) and, in its lines, the --verbose ones.
  const byName = new Map([...object.programs.values()].map((p) => [p.prog.name, p.prog.program]));
  const trace = o.trace === true ? new TraceWriter(false, (name) => byName.get(name), out) : undefined;
  let traced: number | undefined;
  const tracedPackets = new Set<number>();
  const tracePacket = (p: CapturedPacket): TraceCallback | undefined => {
    if (trace === undefined || (o.tracePackets !== undefined && !o.tracePackets.has(p.index))) return undefined;
    trace.line(`== packet ${p.index} (${p.data.length} bytes)`, true);
    traced = p.index;
    tracedPackets.add(p.index);
    return trace.callback;
  };
  // No progress bar between trace lines.
  const progress = new ProgressBar(trace === undefined ? term : { isTTY: false, write: () => true },
    { totalBytes: size, ...(o.progressDelayMs === undefined ? {} : { delayMs: o.progressDelayMs }) });
  let done = 0;
  // --verbose lines go out in batches: one write per packet would be one system call per packet.
  let batch: string[] = [];
  let batchChars = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    progress.finish(); // Off the terminal line the lines may share with it; it redraws at the next update.
    out(batch.join('\n'));
    batch = [];
    batchChars = 0;
  };
  const onResult = (r: PacketResult): void => {
    const line = tally.add(r, keepLines);
    if (traced === r.packet.index) trace!.line(`== verdict: ${r.verdictName === undefined ? '' : `${r.verdictName} `}(0x${r.verdict.toString(16)})`);
    if (line !== undefined) {
      if (trace !== undefined) {
        trace.line(formatPacketLine(line));
      } else if (o.json) {
        tally.lines.push(line);
      } else {
        const text = formatPacketLine(line);
        batch.push(text);
        batchChars += text.length;
        if (batchChars >= VERBOSE_BATCH_CHARS) flush();
      }
    }
    (r.pass ? pass : drop)?.write(r.packet);
    progress.update(Math.max(done, tally.packets), tally.position);
  };
  const onProgress = (n: number): void => {
    done = n;
    progress.update(Math.max(done, tally.packets), tally.position);
  };

  const started = process.hrtime.bigint();
  let result: CaptureResult | undefined;
  let failure: unknown;
  try {
    result = await runCapture({
      spec: { kind: 'elf', bytes: o.bytes, program: picked.name, load: { kconfig: o.kconfig } },
      ...(ctx === undefined ? {} : { ctx }),
      engine: o.engine,
      workers,
      outputs: false,
      // A consumer reads ring buffers and perf events as the run goes, as a user-space loader would.
      onRecord: (r) => tally.addRecord(r, keepLines),
      ...(trace === undefined ? {} : { trace: tracePacket }),
      ...(o.budget === undefined ? {} : { vm: { budget: o.budget } }),
    }, capturePackets(source), onResult, onProgress);
  } catch (e) {
    failure = e;
    // The maps, globals, printk lines and per-worker numbers of the packets delivered before the error.
    result = partialResult(e);
  } finally {
    progress.finish();
    trace?.flush();
    flush();
    failure = await closeOutputs([pass, drop], failure);
  }
  if (failure !== undefined && !(failure instanceof EbpfError)) throw failure;
  if (failure instanceof PacketError) withSourceLine(failure, picked);
  // Asked for and not traced: a number past the end, or a packet skipped as not convertible.
  const untraced = [...(o.tracePackets ?? [])].filter((n) => !tracedPackets.has(n)).sort((a, b) => a - b);
  if (untraced.length > 0 && failure === undefined) {
    err(`ebpf-js: warning: --packet ${untraced.join(',')}: not traced (the capture's packets are 0 to ${(result?.packets ?? 0) + (result?.skipped ?? 0) - 1}; skipped packets are not run)`);
  }

  const report = buildReport(o, picked, workers, tally, result, Number(process.hrtime.bigint() - started), failure);
  if (o.json) out(reportJson(report, keepLines ? tally.lines : undefined));
  else formatReport(report, out);
  if (failure !== undefined) throw failure;
  return 0;
}

function buildReport(o: CaptureRunOptions, picked: { name: string; section: string; kind: string }, workers: number, tally: Tally,
  result: CaptureResult | undefined, ownNs: number, failure: unknown): CaptureReport {
  const counts = result?.counts ?? tally.counts;
  const packets = result?.packets ?? tally.packets;
  const passed = result?.passed ?? tally.passed;
  const obj = result?.object;
  return {
    program: picked.name,
    section: picked.section,
    capture: o.pcap,
    engine: o.engine,
    workers,
    packets,
    verdicts: [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    passed,
    dropped: packets - passed,
    elapsedNs: result?.elapsedNs ?? ownNs,
    perWorker: result?.perWorker ?? [],
    maps: result === undefined ? undefined : mapsReport(obj, obj?.maps.values() ?? [], o.dumpMaps),
    printk: result?.printk ?? [],
    printkDropped: result?.printkDropped ?? 0,
    records: [...tally.records],
    skipped: result?.skipped ?? 0,
    skippedExamples: result?.skippedExamples ?? [],
    socketFilter: picked.kind === 'socket',
    ...(failure instanceof Error ? { error: failure.message } : {}),
  };
}

/**
 * A fault on a packet gets the C line of its pc appended (.BTF.ext line
 * info), as `run` does for one run: the program this thread loaded to pick
 * it was linked as the one that ran.
 */
function withSourceLine(e: PacketError, prog: ObjectProgram): void {
  const pc = (e.cause as { pc?: unknown }).pc;
  const line = typeof pc === 'number' ? prog.lineInfo?.[pc] : undefined;
  if (line !== undefined) e.message += ` (${prog.name}, ${sourceLineText(line)})`;
}

function contextOption(value: string | undefined): 'xdp' | 'skb' | 'raw' | undefined {
  if (value === undefined || value === 'xdp' || value === 'skb' || value === 'raw') return value;
  throw new UsageError('--ctx must be xdp, skb or raw');
}
