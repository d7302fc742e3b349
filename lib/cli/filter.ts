// `ebpf-js filter "EXPR" CAPTURE [-w OUT] [--engine interp|jit] [--json]` and
// `ebpf-js filter --cbpf FILE CAPTURE ...`: a tcpdump expression (compiled
// by tcpdump -ddd) or a saved classic program, translated to eBPF
// (lib/cbpf) and run as a socket filter over every packet (lib/capture);
// the packets it accepts (r0 != 0) are printed, one line each, or written
// to a pcap file as captured. A count goes to stderr.
//
// tcpdump only compiles: it gets the expression as one argument (never
// through a shell) and the capture with -r, so the program is compiled for
// the capture's own link type (Ethernet, raw IP, Linux cooked, ...), as
// `tcpdump -r CAPTURE EXPR` would filter it. The packets then reach the
// program as captured (lib/capture's frames: 'captured'), not converted to
// Ethernet, and it accepts exactly what tcpdump would. A --cbpf program runs
// on captured frames too: the user compiled it for their capture's link type.
// Packets of another link type than the first packet's (pcapng can mix
// them) are skipped and counted.

import { execFileSync } from 'node:child_process';
import { CbpfError, cbpfToEbpf, parseCbpf } from '../cbpf/index.js';
import { partialResult, runCapture, type CaptureResult, type PacketResult } from '../capture/index.js';
import { EbpfError, UsageError } from '../errors.js';
import { capturePackets, captureSource } from './capture-input.js';
import { CaptureOutput, checkOutputs, closeOutputs } from './capture-output.js';
import { formatCount, packetCount } from './progress.js';
import { skippedLine } from './report.js';
import { engineOption, parse } from './args.js';
import { readText } from './io.js';

export const FILTER_USAGE = `usage: ebpf-js filter "EXPR" CAPTURE [-w OUT.pcap] [--engine interp|jit] [--json]
       ebpf-js filter --cbpf FILE CAPTURE [-w OUT.pcap] [--engine interp|jit] [--json]
  Runs a classic BPF filter over every packet of CAPTURE (pcap or pcapng) and
  prints the packets it accepts: number (from 0), seconds since the first
  packet, captured length. EXPR is a tcpdump expression ("tcp port 80"),
  compiled by tcpdump -ddd -r CAPTURE for the capture's link type (tcpdump
  must be installed; CAPTURE must then be a file), so it accepts what
  tcpdump -r CAPTURE EXPR prints; --cbpf FILE takes a saved program instead
  (tcpdump -ddd or -dd output, compiled for the capture's link type: e.g.
  tcpdump -ddd -r CAPTURE EXPR; CAPTURE may then be a stream: - or
  /dev/stdin for standard input, a pipe, <(...)).
  The program sees the packets as captured (raw IP and Linux cooked packets
  are not made Ethernet frames); packets of another link type than the first
  packet's are skipped and counted. -w OUT writes the accepted packets, as
  captured, to a pcap file (not the input) instead of printing them.
  --json: one JSON document. The count of accepted packets goes to stderr.`;

const NOT_FOUND = 'tcpdump not found: install tcpdump or pass --cbpf FILE';

/**
 * `tcpdump -ddd -r CAPTURE -- EXPR`: the classic program for the capture's
 * link type, as text (without a capture: `-y EN10MB`, for Ethernet frames).
 * tcpdump only reads the file's header here; reading a file needs no root.
 * UsageError when tcpdump is missing or refuses the expression or the file.
 */
export function compileExpression(expr: string, tcpdump = 'tcpdump', capture?: string): string {
  const input = capture === undefined ? ['-y', 'EN10MB'] : ['-r', capture];
  try {
    return execFileSync(tcpdump, ['-ddd', ...input, '--', expr], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024,
    });
  } catch (e) {
    const error = e as { code?: unknown; stderr?: unknown };
    if (error.code === 'ENOENT') throw new UsageError(NOT_FOUND);
    const stderr = typeof error.stderr === 'string' ? error.stderr.trim().split('\n').filter((l) => !/^(Warning:|reading from file)/.test(l)) : [];
    throw new UsageError(`tcpdump cannot compile "${expr}": ${stderr.join('; ') || (e instanceof Error ? e.message : String(e))}`);
  }
}


interface Match {
  readonly number: number;
  readonly time: number;
  readonly length: number;
}

function formatMatch(m: Match): string {
  return `${String(m.number).padStart(7)}  ${m.time.toFixed(6).padStart(12)}  ${String(m.length).padStart(5)}`;
}

export async function filterCommand(args: string[], out: (s: string) => void, err: (s: string) => void,
  options: { tcpdump?: string } = {}): Promise<number> {
  const { values, positionals } = parse(args, {
    w: { type: 'string', short: 'w' },
    cbpf: { type: 'string' },
    engine: { type: 'string' },
    json: { type: 'boolean' },
  });
  const cbpfFile = typeof values.cbpf === 'string' ? values.cbpf : undefined;
  const wanted = cbpfFile === undefined ? 2 : 1;
  if (positionals.length !== wanted) {
    throw new UsageError(cbpfFile === undefined || positionals.length !== 2 ? FILTER_USAGE : 'give an expression or --cbpf FILE, not both');
  }
  const expr = cbpfFile === undefined ? positionals[0]! : undefined;
  const capture = positionals[wanted - 1]!;
  const engine = engineOption(values.engine);
  const json = values.json === true;
  // Before tcpdump reads it: a missing capture is our usage error, and a stream must not be consumed by tcpdump.
  const source = captureSource(capture);
  if (expr !== undefined && source.size === undefined) {
    throw new UsageError(`${capture} is not a file: an expression is compiled by tcpdump -r CAPTURE, which reads it; save it to a file, or pass --cbpf FILE`);
  }
  const text = expr === undefined ? readText(cbpfFile!) : compileExpression(expr, options.tcpdump, capture);
  // Translated here once before the run, so that a bad program names its source.
  try {
    cbpfToEbpf(parseCbpf(text));
  } catch (e) {
    if (e instanceof CbpfError) e.message = `${expr === undefined ? cbpfFile : 'tcpdump -ddd output'}: ${e.message}`;
    throw e;
  }

  // Checked before the output is created: creating it truncates it, and it must not be the input.
  if (typeof values.w === 'string') checkOutputs(capture, [{ option: '-w', path: values.w }]);
  const writer = typeof values.w === 'string' ? new CaptureOutput(values.w, 'captured') : undefined;
  const matches: Match[] = [];
  let packets = 0;
  let accepted = 0;
  let firstNs: bigint | undefined;
  const onResult = (r: PacketResult): void => {
    packets++;
    firstNs ??= r.packet.timestampNs;
    writer?.saw(r.packet);
    if (!r.pass) return;
    accepted++;
    if (writer !== undefined) {
      writer.write(r.packet);
      return;
    }
    const m = { number: r.packet.index, time: Number(r.packet.timestampNs - firstNs) / 1e9, length: r.packet.data.length };
    if (json) matches.push(m);
    else out(formatMatch(m));
  };

  const started = process.hrtime.bigint();
  let result: CaptureResult | undefined;
  let failure: unknown;
  try {
    // outputs: false: matches are written as captured, not cut to r0 bytes.
    result = await runCapture({ spec: { kind: 'cbpf', text }, engine, outputs: false, frames: 'captured' }, capturePackets(source), onResult);
  } catch (e) {
    failure = e;
    result = partialResult(e);
  } finally {
    failure = await closeOutputs([writer], failure);
  }
  if (failure !== undefined && !(failure instanceof EbpfError)) throw failure;

  const elapsedNs = result?.elapsedNs ?? Number(process.hrtime.bigint() - started);
  const what = expr === undefined ? cbpfFile! : `"${expr}"`;
  const skipped = result?.skipped ?? 0;
  const skippedExamples = result?.skippedExamples ?? [];
  if (json) {
    out(JSON.stringify({
      filter: expr ?? null, cbpf: cbpfFile ?? null, capture, engine, packets, matched: accepted,
      elapsed_ns: elapsedNs, ...(writer === undefined ? { matches } : { written: values.w }),
      skipped, skipped_examples: skippedExamples.map((p) => ({ packet: p.index, offset: p.offset, reason: p.reason })),
      ...(failure instanceof Error ? { error: failure.message } : {}),
    }));
  }
  const pps = elapsedNs > 0 ? Math.round((packets * 1e9) / elapsedNs) : 0;
  err(`${formatCount(accepted)} of ${packetCount(packets)} matched ${what}${failure === undefined ? '' : ' before the error'} (${engine}, ${formatCount(pps)} packets/s)`);
  const skipNote = skippedLine(skipped, skippedExamples[0], "not of the first packet's link type");
  if (skipNote !== undefined) err(skipNote);
  if (failure !== undefined) throw failure;
  return 0;
}
