// The Vm's options and their checks: everything is validated up front, and a
// bad value is a UsageError naming the option.

import { UsageError } from './errors.js';
import type { HelperEnvOptions } from './helpers/index.js';
import type { BpfMap } from './maps/index.js';
import type { HelperFn } from './runtime.js';

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
}

export interface LoadOptions {
  /** The maps `lddw rX, map_idx N` (and map_idx_value) name, by index. */
  maps?: readonly BpfMap[];
}

export interface RunOptions {
  engine?: EngineName;
  /** Overrides the Vm's budget for this run. */
  budget?: number;
  /** The CPU this run executes on, 0 to cpus - 1 (per-CPU maps, get_smp_processor_id). Default 0. */
  cpu?: number;
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
