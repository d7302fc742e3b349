// `ebpf-js run FILE [--mem FILE | --mem-hex "aa bb"] [--engine E] [--helpers linux|conformance]
//                   [--repeat N] [--budget N] [--json] [--section S | --program P] [--ctx xdp|skb|raw]`
// and `ebpf-js run FILE.o --pcap CAPTURE ...` (run-capture.ts): every packet of a capture.

import { conformanceVm } from '../conformance.js';
import { parseHexBytes } from '../datafile.js';
import { UsageError } from '../errors.js';
import { TraceWriter } from '../trace/format.js';
import { Vm, type EngineName, type RunOptions } from '../vm.js';
import { engineOption, hex, intOption, parse } from './args.js';
import { isAssemblyPath, readInput, readText } from './io.js';
import { isElf, runObject } from './run-object.js';
import { runCaptureCommand } from './run-capture.js';
import type { Terminal } from './progress.js';
import { KCONFIG_ARGS, kconfigOptions } from './kconfig-options.js';

export const RUN_USAGE = `usage: ebpf-js run FILE [--mem FILE | --mem-hex "aa bb ..."] [--engine interp|jit]
                   [--helpers linux|conformance] [--repeat N] [--budget N] [--json] [--trace]
                   [--section NAME | --program NAME] [--ctx xdp|skb|raw]
                   [--kconfig NAME=VALUE]... [--kconfig-file FILE]
  FILE is assembly (.asm, .s), raw bytecode, or an ELF object (clang -target bpf -c):
  for an object, --section or --program picks the program (needed when it has
  several), and the memory is the packet of an xdp_md (xdp programs) or
  __sk_buff (socket, tc, ...) context, or the raw context (--ctx overrides);
  the result is followed by its name (XDP_PASS, TC_ACT_OK) when it has one.
  --kconfig / --kconfig-file give values to the object's extern __kconfig
  variables, as for ebpf-js inspect.
  r1 = address of a copy of the memory (0 when none), r2 = its length.
  --helpers linux (the default): Linux's standard helpers by id, e.g.
  map_lookup_elem (1), trace_printk (6, lines go to stderr), tail_call (12).
  --helpers conformance: the conformance suite's helpers 0-5 instead (5
  unwinds on 0).
  Prints r0 in hex. --repeat N runs N more times after one warm-up run.
  --budget N stops a run after N instructions (default 100,000,000), so a
  runaway loop ends with an error instead of hanging.
  --trace prints each instruction as it executes, before the result: its pc
  (indented one step per call frame), its disassembly, the registers it
  wrote (r2 = 0x2a) and the memory it touched (load u32 [0x1000004] = 0x2a),
  and the C line beside it when that changes (objects with BTF line info);
  the same on either engine. After a fault the trace shows the instructions
  up to the faulting one. With --json the events are a "trace" array (values
  as hex strings). Not with --repeat. With --pcap, see below.

usage: ebpf-js run FILE.o --pcap CAPTURE [--section NAME | --program NAME] [--ctx xdp|skb|raw]
                   [--engine interp|jit] [--workers N] [--write-pass OUT] [--write-drop OUT]
                   [--verbose] [--json] [--dump-maps] [--budget N] [--kconfig NAME=VALUE]...
                   [--trace [--packet N[,M...]]]
  Runs the program on every packet of CAPTURE (pcap or pcapng; Ethernet, raw
  IP, Linux cooked, all given to the program as Ethernet frames; a file, or
  a stream: - or /dev/stdin for standard input, a pipe, <(...)), each in the
  context of its kind, and prints the packets per verdict (XDP_PASS,
  TC_ACT_SHOT, ...; r0 in hex when unnamed; socket filters: kept (r0 > 0)
  and dropped (r0 = 0), --json's "verdicts" counting each r0), how many
  passed, packets/s, the maps and global variables at the end (through BTF
  where the object has it), the trace_printk lines and the ring-buffer and
  perf-event records read (consumed as the run goes; --verbose prints them).
  Packet numbers count from 0, as in error messages. Packets that cannot be
  made Ethernet frames (a short cooked header, an empty raw IP packet) are
  skipped and counted. After an error (a truncated capture, a fault in the
  program) the report covers the packets before it, then the error; exit 1.
  --workers N: N threads over shared maps (default: one per CPU for captures
  of 64 MiB or more, else 1; more than the CPUs is allowed, with a warning);
  the summary then shows each worker's packets/s.
  --write-pass / --write-drop OUT: the packets that passed / did not, as the
  Ethernet frames the program saw (as captured for an Ethernet capture), to
  a pcap file; neither may be the input capture. --verbose: one line per
  packet (number, seconds since the first packet, length, verdict). --json:
  one JSON document (with --verbose, its "results" list the packets).
  --dump-maps: every entry of every map, zero slots and .rodata included. A
  progress bar shows on stderr when it is a terminal and the run lasts more
  than half a second. --trace: the trace of every packet (--packet N: of
  packets N, M, ... only), each after a line "== packet N (L bytes)" and
  followed by its verdict, then the report; one thread, text only.`;

/** Default instruction budget of `run`: a few seconds of interpretation. */
export const DEFAULT_RUN_BUDGET = 100_000_000;

export function runCommand(args: string[], out: (s: string) => void, err: (s: string) => void,
  term: Terminal = { isTTY: false, write: () => true }): number | Promise<number> {
  const { values, positionals } = parse(args, {
    mem: { type: 'string' },
    'mem-hex': { type: 'string' },
    engine: { type: 'string' },
    repeat: { type: 'string' },
    budget: { type: 'string' },
    helpers: { type: 'string' },
    json: { type: 'boolean' },
    section: { type: 'string' },
    program: { type: 'string' },
    ctx: { type: 'string' },
    pcap: { type: 'string' },
    'write-pass': { type: 'string' },
    'write-drop': { type: 'string' },
    verbose: { type: 'boolean' },
    'dump-maps': { type: 'boolean' },
    workers: { type: 'string' },
    trace: { type: 'boolean' },
    packet: { type: 'string', multiple: true },
    ...KCONFIG_ARGS,
  });
  if (positionals.length !== 1) throw new UsageError(RUN_USAGE);
  const file = positionals[0]!;
  if (values.mem !== undefined && values['mem-hex'] !== undefined) throw new UsageError('give --mem or --mem-hex, not both');
  const engine = engineOption(values.engine);
  const repeat = intOption('repeat', values.repeat, 1);
  const budget = intOption('budget', values.budget, 1) ?? DEFAULT_RUN_BUDGET;
  const traced = values.trace === true;
  if (traced && values.repeat !== undefined) throw new UsageError('--trace does not go with --repeat (a traced run is not timed)');
  if (values.packet !== undefined && (!traced || values.pcap === undefined)) throw new UsageError('--packet picks the packets --trace traces with --pcap');
  if (typeof values.pcap === 'string') return runPcap(file, values, engine, budget, out, err, term);
  const onlyPcap = ['write-pass', 'write-drop', 'verbose', 'dump-maps', 'workers'].filter((k) => values[k] !== undefined);
  if (onlyPcap.length > 0) throw new UsageError(`--${onlyPcap[0]!} needs --pcap`);
  const memory =
    typeof values.mem === 'string' ? readInput(values.mem)
    : typeof values['mem-hex'] === 'string' ? parseHexBytes(values['mem-hex'])
    : undefined;

  // While tracing, a trace_printk line (stderr, at once) waits for the trace lines before it, batched on stdout.
  const traceOut: { writer?: TraceWriter } = {};
  const printk = traced ? (s: string): void => { traceOut.writer?.flush(); err(s); } : err;
  const vm = runVm(values.helpers, engine, budget, printk);
  const source = isAssemblyPath(file) ? readText(file) : readInput(file);
  const objectOptions = { section: values.section, program: values.program, ctx: values.ctx };
  if (typeof source !== 'string' && isElf(source)) {
    return runObject(vm, source, memory, {
      ...stringsOf(objectOptions), repeat, json: values.json === true, trace: traced, kconfig: kconfigOptions(values),
      onTraceWriter: (w) => { traceOut.writer = w; },
    }, out, err);
  }
  if ([...Object.values(objectOptions), values.kconfig, values['kconfig-file']].some((v) => v !== undefined)) {
    throw new UsageError('--section, --program, --ctx and --kconfig are for ELF objects (.o)');
  }
  const prog = vm.load(source);
  // Each run gets its own copy of the memory: a program that writes to it
  // must see the same input every time.
  const scratch = memory?.slice();
  const once = (options?: RunOptions): bigint => {
    if (scratch !== undefined) scratch.set(memory!);
    return prog.run(scratch, options);
  };
  const json = values.json === true;
  const trace = traced ? new TraceWriter(json, (name) => (name === prog.name ? prog.program : undefined), out) : undefined;
  traceOut.writer = trace;
  const result = trace === undefined ? once() : trace.run(() => once({ trace: trace.callback }));
  if (repeat === undefined) {
    const doc = { result: hex(result), ns_per_run: null, runs: 1 };
    if (json && trace !== undefined) trace.finish(doc);
    else out(json ? JSON.stringify(doc) : hex(result));
    return 0;
  }
  const start = process.hrtime.bigint();
  for (let i = 0; i < repeat; i++) once();
  const nsPerRun = Number(process.hrtime.bigint() - start) / repeat;
  if (values.json === true) {
    out(JSON.stringify({ result: hex(result), ns_per_run: Math.round(nsPerRun * 10) / 10, runs: repeat }));
  } else {
    out(hex(result));
    err(`${repeat} runs, ${nsPerRun.toFixed(1)} ns/run (${engine})`);
  }
  return 0;
}

function runPcap(file: string, values: Record<string, string | boolean | string[] | undefined>, engine: EngineName, budget: number,
  out: (s: string) => void, err: (s: string) => void, term: Terminal): Promise<number> {
  const traced = values.trace === true;
  if (traced && values.json === true) throw new UsageError('--trace with --pcap prints text: leave out --json');
  // Events arrive as the program runs: a worker's could not be printed in order.
  if (traced && values.workers !== undefined && values.workers !== '1') throw new UsageError('--trace with --pcap runs on one thread: leave out --workers');
  const clash = ['mem', 'mem-hex', 'repeat', 'helpers'].filter((k) => values[k] !== undefined);
  if (clash.length > 0) throw new UsageError(`--${clash[0]!} does not go with --pcap`);
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  return runCaptureCommand({
    file,
    bytes: readInput(file),
    pcap: values.pcap as string,
    section: str('section'),
    program: str('program'),
    ctx: str('ctx'),
    engine,
    budget,
    workers: intOption('workers', values.workers as string | undefined, 1),
    writePass: str('write-pass'),
    writeDrop: str('write-drop'),
    json: values.json === true,
    verbose: values.verbose === true,
    dumpMaps: values['dump-maps'] === true,
    kconfig: kconfigOptions(values),
    trace: traced,
    tracePackets: packetNumbers(values.packet as string[] | undefined),
  }, out, term, err);
}

/** --packet N[,M...] (repeatable): packet numbers as --verbose prints them, from 0. */
function packetNumbers(values: readonly string[] | undefined): ReadonlySet<number> | undefined {
  if (values === undefined) return undefined;
  const numbers = values.flatMap((v) => v.split(','));
  for (const n of numbers) {
    if (!/^[0-9]{1,15}$/.test(n.trim())) throw new UsageError(`--packet takes packet numbers (from 0, as --verbose shows them), got '${n}'`);
  }
  return new Set(numbers.map((n) => Number(n.trim())));
}

/** The string-valued options only (parseArgs types every value as string | boolean). */
function stringsOf(o: Record<string, string | boolean | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** The Vm of `run` and `jit`: Linux's helpers (trace_printk lines to `err`) or the conformance suite's. */
export function runVm(helpers: string | boolean | undefined, engine: EngineName, budget: number | undefined, err: (s: string) => void): Vm {
  if (helpers === undefined || helpers === 'linux') return new Vm({ engine, printk: err, ...(budget === undefined ? {} : { budget }) });
  if (helpers === 'conformance') return conformanceVm(engine, budget);
  throw new UsageError('--helpers must be linux or conformance');
}
