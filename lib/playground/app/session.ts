// What the playground does, without the page: load assembly (with maps
// from JSON) or an ELF object into a fresh Vm, run one of its programs on
// input memory or a packet context on either engine, and describe the
// outcome (r0, the error, memory after the run, maps). The page (main.ts)
// only renders what this module returns, so tests can drive it in Node.
//
// One Vm per load: maps keep their contents from run to run until the next
// load, as a long-lived program's maps would.
//
// Every run has an instruction budget (DEFAULT_BUDGET unless the page says
// otherwise): the page runs programs on its own thread, so a program that
// loops forever must end, with a BudgetExceededError, not freeze the tab.

import { formatInstruction } from '../../disasm.js';
import { buildCfgGraph, renderSvg } from '../../cfg-render/index.js';
import { formatValue, mapsReport, type MapsReport } from '../../cli/report-maps.js';
import { contextFor, loadObject, type BpfObject } from '../../elf/index.js';
import { EbpfError, UsageError } from '../../errors.js';
import type { MapDefinition } from '../../maps/index.js';
import { verdictName } from '../../retcodes.js';
import type { ProgramContext } from '../../runtime.js';
import { SkbContext } from '../../skb.js';
import { Vm, type EngineName, type LoadedProgram } from '../../vm.js';
import { XdpContext } from '../../xdp.js';
import { sourceLineText } from '../../source-line.js';

export { formatValue };

/** How the input bytes reach the program: as plain memory (r1, r2), or as the packet of an XDP or socket/tc context. */
export type ContextKind = 'memory' | 'xdp' | 'skb';
export const CONTEXT_KINDS: readonly ContextKind[] = ['memory', 'xdp', 'skb'];

export interface ProgramEntry {
  readonly name: string;
  /** The ELF section (objects only). */
  readonly section?: string;
  /** The program kind ('xdp', 'socket', ...; 'asm' for assembly), which names its return codes. */
  readonly kind: string;
  readonly prog: LoadedProgram;
  /** The context the kind expects. */
  readonly context: ContextKind;
}

/** An error as the page shows it: the typed error's class, code and message, and its pc when it has one. */
export interface ErrorView {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly pc?: number;
  /** Not an EbpfError: a bug in ebpf-js (or in the page), shown with its stack. */
  readonly internal: boolean;
}

export function errorView(e: unknown): ErrorView {
  if (e instanceof EbpfError) {
    const pc = (e as { pc?: unknown }).pc;
    return { name: e.name, code: e.code, message: e.message, internal: false, ...(typeof pc === 'number' ? { pc } : {}) };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, code: 'INTERNAL', message: err.stack ?? err.message, internal: true };
}

export interface RunOutcome {
  readonly engine: EngineName;
  readonly r0?: bigint;
  /** r0's name for XDP and tc programs (XDP_PASS ...). */
  readonly verdict?: string;
  readonly error?: ErrorView;
  /** The input bytes (memory or packet) before and after the run. */
  readonly before: Uint8Array;
  readonly after: Uint8Array;
  /** The bpf_printk / trace_printk lines the run wrote. */
  readonly printk: readonly string[];
}

/** Instructions a run of the page may execute, by default: a second or so of the interpreter in a browser. */
export const DEFAULT_BUDGET = 10_000_000;

/** The budget field's text: a whole number of instructions, at least 1 (empty: the default). */
export function parseBudget(text: string): number {
  const t = text.trim().replace(/[_,\s]/g, '');
  if (t === '') return DEFAULT_BUDGET;
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`budget: give a whole number of instructions (at least 1), not ${JSON.stringify(text)}`);
  return n;
}

/** A run's input, mapped for one run: the value `run` takes, the bytes as they are now, and the cleanup. */
export interface PreparedInput {
  readonly input: Uint8Array | ProgramContext;
  /** A copy of the bytes as they are now. */
  readonly bytes: () => Uint8Array;
  /**
   * The live bytes (not a copy: read them at once, do not keep them) and, for a packet, their address in the
   * Vm's memory now (XDP adjustments move it). Memory input has no address
   * until the run maps it: the run's r1.
   */
  readonly live: () => { readonly bytes: Uint8Array; readonly address?: number };
  readonly release: () => void;
}

export class Session {
  private constructor(
    readonly vm: Vm,
    readonly programs: readonly ProgramEntry[],
    readonly object: BpfObject | undefined,
    /** What was loaded: 'assembly' or the object file's name. */
    readonly origin: string,
  ) {}

  /** Assembly text, after creating the maps `mapsJson` defines (a JSON array of MapDefinitions; fds count from 1). */
  static fromAssembly(text: string, mapsJson = ''): Session {
    const vm = new Vm();
    const maps = parseMaps(mapsJson).map((def) => vm.createMap(def));
    const prog = vm.load(text, { maps, name: 'prog' });
    return new Session(vm, [{ name: 'prog', kind: 'asm', prog, context: 'memory' }], undefined, 'assembly');
  }

  /** An ELF object (clang -target bpf -c), every program loaded as libbpf would. */
  static fromObject(bytes: Uint8Array, fileName = 'object.o'): Session {
    const vm = new Vm();
    const obj = loadObject(vm, bytes);
    const programs = [...obj.programs.values()].map((p): ProgramEntry => ({
      name: p.name, section: p.section, kind: p.kind, prog: p.prog, context: CONTEXT_NAMES[contextFor(p.kind)],
    }));
    if (programs.length === 0) throw new UsageError(`${fileName} holds no programs`);
    return new Session(vm, programs, obj, fileName);
  }

  program(name: string): ProgramEntry {
    const p = this.programs.find((x) => x.name === name);
    if (p === undefined) throw new UsageError(`no program named ${name}`);
    return p;
  }

  /** The program of a name as the debugger reports it (a tail call switches programs), if it is one of ours. */
  findProgram(name: string): ProgramEntry | undefined {
    return this.programs.find((x) => x.name === name);
  }

  /** Maps `bytes` (a copy) for one run of `entry` in context `kind`. */
  prepare(entry: ProgramEntry, kind: ContextKind, bytes: Uint8Array): PreparedInput {
    if (kind === 'memory') {
      const memory = bytes.slice();
      return { input: memory, bytes: () => memory.slice(), live: () => ({ bytes: memory }), release: () => {} };
    }
    const ctx = kind === 'xdp'
      ? new XdpContext(this.vm.memory, bytes)
      : new SkbContext(this.vm.memory, bytes, { kind: entry.kind === 'tc' ? 'tc' : 'socket' });
    const memory = this.vm.memory;
    const live = () => {
      const { address, length } = ctx.packet;
      return { address, bytes: length === 0 ? new Uint8Array(0) : memory.view(BigInt(address), length, 'load', 0) };
    };
    return { input: ctx, bytes: () => ctx.packetBytes(), live, release: () => ctx.release() };
  }

  /** Runs `name` once on `engine`, executing at most `budget` instructions; errors become part of the outcome. */
  run(name: string, engine: EngineName, kind: ContextKind, bytes: Uint8Array, budget = DEFAULT_BUDGET): RunOutcome {
    const entry = this.program(name);
    const prepared = this.prepare(entry, kind, bytes);
    this.takePrintk();
    try {
      const r0 = entry.prog.run(prepared.input, { engine, budget });
      return { engine, ...this.verdictOf(entry, r0), before: bytes, after: prepared.bytes(), printk: this.takePrintk() };
    } catch (e) {
      return { engine, error: errorView(e), before: bytes, after: prepared.bytes(), printk: this.takePrintk() };
    } finally {
      prepared.release();
    }
  }

  /** The printk lines written since the last call (the Vm keeps them in env.printkLines). */
  takePrintk(): string[] {
    this.vm.env.printkDropped = 0;
    return this.vm.env.printkLines.splice(0);
  }

  verdictOf(entry: ProgramEntry, r0: bigint): { r0: bigint; verdict?: string } {
    const verdict = verdictName(entry.kind, r0);
    return verdict === undefined ? { r0 } : { r0, verdict };
  }

  /** The maps and global variables now (array slots that are all zero are counted, not listed). */
  maps(): MapsReport {
    return mapsReport(this.object, this.vm.maps.list(), false);
  }

  /** The JavaScript the JIT generates for a program, as the page's runs use it: with the budget's counting. */
  jitSource(name: string): string {
    return this.program(name).prog.jitSource({ budget: true });
  }

  /** The program's control-flow graph as SVG text (lib/cfg-render). */
  cfgSvg(name: string): string {
    const { prog } = this.program(name);
    return renderSvg(buildCfgGraph(prog.program, prog.name, prog.sourceLines));
  }

  /** The program's instructions, one per pc that starts one, with the C line where it begins (BTF line info). */
  listing(name: string): ListingLine[] {
    return listingOf(this.program(name).prog);
  }
}

export interface ListingLine {
  readonly pc: number;
  readonly text: string;
  /** `file:line: text` of the C line this instruction starts, when it differs from the previous instruction's. */
  readonly source?: string;
}

export function listingOf(prog: LoadedProgram): ListingLine[] {
  let last = '';
  return prog.program.insns.map((insn) => {
    const text = formatInstruction(insn, insn.pc, insn.spec.kind === 'lddw' ? insn.imm2 : undefined);
    const line = prog.sourceLines?.[insn.pc];
    const where = line === undefined ? '' : sourceLineText(line);
    const fresh = where !== '' && where !== last;
    if (where !== '') last = where;
    return fresh ? { pc: insn.pc, text, source: where } : { pc: insn.pc, text };
  });
}

const CONTEXT_NAMES: Readonly<Record<'xdp' | 'skb' | 'raw', ContextKind>> = { xdp: 'xdp', skb: 'skb', raw: 'memory' };

/** The map definitions of the Maps box: empty text is no maps; anything else must be a JSON array of objects. */
export function parseMaps(text: string): MapDefinition[] {
  if (text.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`maps: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!Array.isArray(value) || value.some((d) => typeof d !== 'object' || d === null || Array.isArray(d))) {
    throw new UsageError('maps: give a JSON array of map definitions, e.g. [{ "type": "array", "keySize": 4, "valueSize": 8, "maxEntries": 4 }]');
  }
  return value as MapDefinition[];
}
