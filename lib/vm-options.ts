// The Vm's options and their checks: everything is validated up front, and a
// bad value is a UsageError naming the option.

import { UsageError } from './errors.js';
import type { HelperEnvOptions } from './helpers/index.js';
import type { BpfMap, SharedMapsState } from './maps/index.js';
import type { HelperFn } from './runtime.js';
import type { TraceCallback } from './trace/types.js';

export type EngineName = 'interp' | 'jit';
export const ENGINES: readonly EngineName[] = ['interp', 'jit'];

export interface VmOptions extends HelperEnvOptions {
  /** Engine used by `run` unless a run says otherwise. Default 'jit'; 'interp' is the reference interpreter. */
  engine?: EngineName;
  /** Longest program accepted, in instructions (slots). Default 1,000,000, like Linux. */
  maxInstructions?: number;
  /** Maximum instructions executed per run; exceeding it throws BudgetExceededError. Default: unlimited. */
  budget?: number;
  /** Maximum stack frames (main + nested local calls). Default 8, like Linux. */
  maxCallDepth?: number;
  /**
   * Helpers by id or by standard name ('map_lookup_elem' or
   * 'bpf_map_lookup_elem'); they replace standard helpers of the same id.
   */
  helpers?: Record<number | string, HelperFn> | ReadonlyMap<number | string, HelperFn>;
  /** Helper id whose 0 result ends the program at once with r0 = 0 (uBPF's unwind-on-success). */
  unwindHelper?: number;
  /** Install Linux's standard helpers (lib/helpers/). Default true. */
  standardHelpers?: boolean;
  /** Number of CPUs per-CPU maps hold values for; runs choose theirs with `cpu`. Default 1. */
  cpus?: number;
  /** Tail calls one run may make (Linux's MAX_TAIL_CALL_CNT, 33 by default). */
  maxTailCalls?: number;
  /**
   * Keep every map's storage in SharedArrayBuffers, so `vm.maps.sharedState()`
   * can hand the maps to worker threads (lib/maps). Default false.
   */
  shareMaps?: boolean;
  /**
   * In a worker: maps created by this Vm attach, in creation order, to the
   * maps `vm.maps.sharedState()` described in another thread (lib/maps).
   */
  sharedMaps?: SharedMapsState;
  /**
   * Compiled code ends with `//# sourceURL=ebpf-js/NAME.js` and an inline
   * source map to BPF (and C) lines, for debuggers and profilers. Default
   * false: nothing is tracked or added.
   */
  sourceMaps?: boolean;
}


/** The C source line of an instruction (lib/elf's SourceLine, from .BTF.ext line info). */
export interface SourceLine {
  readonly file: string;
  /** The line's text. */
  readonly line: string;
  readonly lineNum: number;
  readonly col: number;
}

export type { SharedMapsState };

export interface LoadOptions {
  /** The maps `lddw rX, map_idx N` (and map_idx_value) name, by index. */
  maps?: readonly BpfMap[];
  /**
   * For each pc (slot), the C line it was compiled from: `jitSource()` then
   * shows `file:line: text` before the code of each new line.
   */
  sourceLines?: readonly (SourceLine | undefined)[];
  /** Names the program's generated code in source maps (`ebpf-js/NAME.js`, `NAME.bpf`). Default 'prog'. */
  name?: string;
}

export interface RunOptions {
  engine?: EngineName;
  /** Overrides the Vm's budget for this run. */
  budget?: number;
  /** The CPU this run executes on, 0 to cpus - 1 (per-CPU maps, get_smp_processor_id). Default 0. */
  cpu?: number;
  /**
   * Called with each executed instruction once it completes: its pc, frame,
   * the registers it wrote and the memory it touched (lib/trace/types.ts).
   * Works on both engines; the JIT compiles traced code for such runs only.
   */
  trace?: TraceCallback;
}

export function checkInt(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`option ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}

export function checkEngine(engine: unknown): EngineName {
  if (engine === 'interp' || engine === 'jit') return engine;
  throw new UsageError(`unknown engine ${String(engine)}; expected one of ${ENGINES.join(', ')}`);
}

export function checkHelperId(id: number): void {
  checkInt('helper id', id, 0, 0x7fffffff);
}

export function checkBoolean(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') throw new UsageError(`option ${name} must be a boolean`);
}

/** The helpers option as [id or name, fn] pairs: object keys that are digits are ids. */
export function helperEntries(helpers: VmOptions['helpers']): Array<[number | string, HelperFn]> {
  if (helpers === undefined) return [];
  if (helpers instanceof Map) return [...(helpers as ReadonlyMap<number | string, HelperFn>)];
  if (typeof helpers !== 'object' || helpers === null) throw new UsageError('option helpers must be an object or a Map');
  return Object.entries(helpers).map(([key, fn]) => [/^\d+$/.test(key) ? Number(key) : key, fn]);
}

/** LoadOptions.sourceLines, checked (entries are shown in generated code, so their shape matters). */
export function checkSourceLines(lines: unknown): readonly (SourceLine | undefined)[] | undefined {
  if (lines === undefined) return undefined;
  const ok = Array.isArray(lines) && lines.every((l: unknown) => l === undefined || (typeof l === 'object' && l !== null
    && typeof (l as SourceLine).file === 'string' && typeof (l as SourceLine).line === 'string'
    && Number.isInteger((l as SourceLine).lineNum) && Number.isInteger((l as SourceLine).col)));
  if (!ok) throw new UsageError('load() option sourceLines must be an array of { file, line, lineNum, col } or undefined entries');
  return lines as readonly (SourceLine | undefined)[];
}

/** The host options the helpers' environment takes (HelperEnv checks pid and tgid itself). */
export function checkEnvOptions(options: VmOptions): void {
  for (const name of ['clock', 'bootClock', 'printk'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new UsageError(`option ${name} must be a function`);
  }
  if (options.seed !== undefined && (typeof options.seed !== 'number' || !Number.isFinite(options.seed))) {
    throw new UsageError(`option seed must be a finite number, got ${String(options.seed)}`);
  }
  if (options.comm !== undefined && typeof options.comm !== 'string') throw new UsageError('option comm must be a string');
}
