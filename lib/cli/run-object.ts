// `ebpf-js run prog.o [--section NAME | --program NAME] [--ctx xdp|skb|raw] [--mem FILE]`:
// loads an ELF object (lib/elf) and runs one of its programs on the packet
// or memory given, in the context its kind expects (xdp_md for xdp, __sk_buff
// for socket / tc / cgroup_skb / sk_skb, the bytes themselves otherwise).

import { contextFor, loadObject, type BpfObject, type ObjectProgram } from '../elf/index.js';
import { EbpfError, UsageError } from '../errors.js';
import { verdictName } from '../retcodes.js';
import { SkbContext } from '../skb.js';
import { TraceWriter } from '../trace/format.js';
import type { RunOptions, Vm } from '../vm.js';
import { XdpContext } from '../xdp.js';
import { hex } from './args.js';
import { sourceLineText } from '../source-line.js';

export type ContextKind = 'xdp' | 'skb' | 'raw';

export interface ObjectRunOptions {
  readonly section?: string;
  readonly program?: string;
  readonly ctx?: string;
  readonly repeat?: number;
  readonly json: boolean;
  /** Print (or, with json, collect) a trace of the run. */
  readonly trace?: boolean;
  /** Told the trace's writer once made (the caller flushes it before what it prints elsewhere). */
  readonly onTraceWriter?: (writer: TraceWriter) => void;
  /** Values of extern __kconfig variables. */
  readonly kconfig?: Readonly<Record<string, string>>;
}

/** Whether `bytes` is an ELF file (the magic), so `run` can tell objects from raw bytecode. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** The program `run` picks: by --program, by --section, or the object's only one. */
export function pickProgram(obj: BpfObject, options: { section?: string; program?: string }): ObjectProgram {
  const all = [...obj.programs.values()];
  const list = () => all.map((p) => `${p.name} (${p.section})`).join(', ') || 'none';
  if (options.section !== undefined && options.program !== undefined) throw new UsageError('give --section or --program, not both');
  if (options.program !== undefined) {
    const p = obj.programs.get(options.program);
    if (p === undefined) throw new UsageError(`no program named ${options.program}; programs: ${list()}`);
    return p;
  }
  if (options.section !== undefined) {
    const inSection = all.filter((p) => p.section === options.section);
    if (inSection.length === 1) return inSection[0]!;
    if (inSection.length === 0) throw new UsageError(`no section named ${options.section}; programs: ${list()}`);
    throw new UsageError(`section ${options.section} holds ${inSection.length} programs (${inSection.map((p) => p.name).join(', ')}): give --program`);
  }
  if (all.length !== 1) throw new UsageError(`the object has ${all.length} programs (${list()}): give --section or --program`);
  return all[0]!;
}

function contextKind(value: string | undefined, prog: ObjectProgram): ContextKind {
  if (value === undefined) return contextFor(prog.kind);
  if (value === 'xdp' || value === 'skb' || value === 'raw') return value;
  throw new UsageError('--ctx must be xdp, skb or raw');
}

/** Runs the program once on a fresh context over `memory`. */
function runOnce(vm: Vm, prog: ObjectProgram, ctx: ContextKind, memory: Uint8Array | undefined, options: RunOptions = {}): bigint {
  if (ctx === 'raw') return prog.prog.run(memory?.slice(), options);
  const packet = memory ?? new Uint8Array(0);
  const context = ctx === 'xdp'
    ? new XdpContext(vm.memory, packet)
    : new SkbContext(vm.memory, packet, { kind: prog.kind === 'tc' ? 'tc' : 'socket' });
  try {
    return prog.prog.run(context, options);
  } finally {
    context.release();
  }
}

/** A run-time error at a pc gets the C line of that pc appended (from .BTF.ext line info). */
function withSourceLine(e: unknown, prog: ObjectProgram): unknown {
  if (!(e instanceof EbpfError) || !('pc' in e) || typeof e.pc !== 'number') return e;
  const line = prog.lineInfo?.[e.pc];
  if (line !== undefined) e.message += ` (${prog.name}, ${sourceLineText(line)})`;
  return e;
}

export function runObject(vm: Vm, bytes: Uint8Array, memory: Uint8Array | undefined, options: ObjectRunOptions,
  out: (s: string) => void, err: (s: string) => void): number {
  const obj = loadObject(vm, bytes, { kconfig: options.kconfig });
  const prog = pickProgram(obj, options);
  const ctx = contextKind(options.ctx, prog);
  // A tail call's target is another program of the object: the trace names it, and shows its code.
  const byName = new Map([...obj.programs.values()].map((p) => [p.prog.name, p.prog.program]));
  const trace = options.trace === true ? new TraceWriter(options.json, (name) => byName.get(name), out) : undefined;
  if (trace !== undefined) options.onTraceWriter?.(trace);
  const once = (): bigint => {
    try {
      return runOnce(vm, prog, ctx, memory, trace === undefined ? {} : { trace: trace.callback });
    } catch (e) {
      throw withSourceLine(e, prog);
    }
  };
  const result = trace === undefined ? once() : trace.run(once);
  const verdict = verdictName(prog.section, result) ?? verdictName(prog.kind, result);
  let nsPerRun: number | null = null;
  if (options.repeat !== undefined) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < options.repeat; i++) runOnce(vm, prog, ctx, memory);
    nsPerRun = Math.round((Number(process.hrtime.bigint() - start) / options.repeat) * 10) / 10;
  }
  if (options.json) {
    const doc = {
      program: prog.name, section: prog.section, result: hex(result), verdict: verdict ?? null, ns_per_run: nsPerRun, runs: 1 + (options.repeat ?? 0),
    };
    if (trace !== undefined) trace.finish(doc);
    else out(JSON.stringify(doc));
  } else {
    out(verdict === undefined ? hex(result) : `${hex(result)} ${verdict}`);
    if (nsPerRun !== null) err(`${options.repeat!} runs, ${nsPerRun.toFixed(1)} ns/run (${prog.name})`);
  }
  return 0;
}
