// `ebpf-js run FILE [--mem FILE | --mem-hex "aa bb"] [--engine E] [--helpers linux|conformance]
//                   [--repeat N] [--budget N] [--json] [--section S | --program P] [--ctx xdp|skb|raw]`

import { conformanceVm } from '../conformance.js';
import { parseHexBytes } from '../datafile.js';
import { UsageError } from '../errors.js';
import { Vm, type EngineName } from '../vm.js';
import { engineOption, hex, intOption, parse } from './args.js';
import { isAssemblyPath, readInput, readText } from './io.js';
import { isElf, runObject } from './run-object.js';

export const RUN_USAGE = `usage: ebpf-js run FILE [--mem FILE | --mem-hex "aa bb ..."] [--engine interp|jit]
                   [--helpers linux|conformance] [--repeat N] [--budget N] [--json]
                   [--section NAME | --program NAME] [--ctx xdp|skb|raw]
  FILE is assembly (.asm, .s), raw bytecode, or an ELF object (clang -target bpf -c):
  for an object, --section or --program picks the program (needed when it has
  several), and the memory is the packet of an xdp_md (xdp programs) or
  __sk_buff (socket, tc, ...) context, or the raw context (--ctx overrides);
  the result is followed by its name (XDP_PASS, TC_ACT_OK) when it has one.
  r1 = address of a copy of the memory (0 when none), r2 = its length.
  --helpers linux (the default): Linux's standard helpers by id, e.g.
  map_lookup_elem (1), trace_printk (6, lines go to stderr), tail_call (12).
  --helpers conformance: the conformance suite's helpers 0-5 instead (5
  unwinds on 0).
  Prints r0 in hex. --repeat N runs N more times after one warm-up run.
  --budget N stops a run after N instructions (default 100,000,000), so a
  runaway loop ends with an error instead of hanging.`;

/** Default instruction budget of `run`: a few seconds of interpretation. */
export const DEFAULT_RUN_BUDGET = 100_000_000;

export function runCommand(args: string[], out: (s: string) => void, err: (s: string) => void): number {
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
  });
  if (positionals.length !== 1) throw new UsageError(RUN_USAGE);
  const file = positionals[0]!;
  if (values.mem !== undefined && values['mem-hex'] !== undefined) throw new UsageError('give --mem or --mem-hex, not both');
  const engine = engineOption(values.engine);
  const repeat = intOption('repeat', values.repeat, 1);
  const budget = intOption('budget', values.budget, 1) ?? DEFAULT_RUN_BUDGET;
  const memory =
    typeof values.mem === 'string' ? readInput(values.mem)
    : typeof values['mem-hex'] === 'string' ? parseHexBytes(values['mem-hex'])
    : undefined;

  const vm = runVm(values.helpers, engine, budget, err);
  const source = isAssemblyPath(file) ? readText(file) : readInput(file);
  const objectOptions = { section: values.section, program: values.program, ctx: values.ctx };
  if (typeof source !== 'string' && isElf(source)) {
    return runObject(vm, source, memory, { ...stringsOf(objectOptions), repeat, json: values.json === true }, out, err);
  }
  if (Object.values(objectOptions).some((v) => v !== undefined)) throw new UsageError('--section, --program and --ctx are for ELF objects (.o)');
  const prog = vm.load(source);
  // Each run gets its own copy of the memory: a program that writes to it
  // must see the same input every time.
  const scratch = memory?.slice();
  const once = (): bigint => {
    if (scratch !== undefined) scratch.set(memory!);
    return prog.run(scratch);
  };
  const result = once();
  if (repeat === undefined) {
    out(values.json === true ? JSON.stringify({ result: hex(result), ns_per_run: null, runs: 1 }) : hex(result));
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
