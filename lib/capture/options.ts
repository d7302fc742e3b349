// A CaptureJob's options, checked up front (a bad one is a UsageError naming
// it), and the part of the Vm options that can travel to worker threads.

import { UsageError } from '../errors.js';
import { MAX_CPUS } from '../maps/index.js';
import type { EngineName, VmOptions } from '../vm.js';
import { checkEngine } from '../vm-options.js';
import { checkSpec } from './spec.js';
import type { CaptureJob } from './types.js';

/** Most worker threads a run may start (each holds a Vm and a compiled program). */
export const MAX_WORKERS = Math.min(256, MAX_CPUS);

/** Vm options that are plain data: what a worker's Vm gets. Functions cannot be cloned to another thread. */
const DATA_OPTIONS = [
  'engine', 'maxInstructions', 'budget', 'maxCallDepth', 'unwindHelper', 'standardHelpers', 'maxTailCalls',
  'seed', 'pid', 'tgid', 'comm',
] as const;
const FUNCTION_OPTIONS = ['helpers', 'clock', 'bootClock'] as const;

export type DataVmOptions = Pick<VmOptions, (typeof DATA_OPTIONS)[number]>;

export interface CheckedJob {
  readonly workers: number;
  readonly engine: EngineName;
  readonly outputs: boolean;
  readonly frames: 'ethernet' | 'captured';
  readonly vm: VmOptions;
}

export function checkJob(job: CaptureJob): CheckedJob {
  if (typeof job !== 'object' || job === null) throw new UsageError('runCapture job must be an object');
  checkSpec(job.spec);
  const workers = job.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new UsageError(`capture option workers must be an integer in [1, ${MAX_WORKERS}], got ${String(workers)}`);
  }
  const vm = job.vm ?? {};
  if (typeof vm !== 'object' || vm === null) throw new UsageError('capture option vm must be an object');
  const engine = checkEngine(job.engine ?? vm.engine ?? 'jit');
  if (job.outputs !== undefined && typeof job.outputs !== 'boolean') throw new UsageError('capture option outputs must be a boolean');
  const frames = job.frames ?? 'ethernet';
  if (frames !== 'ethernet' && frames !== 'captured') {
    throw new UsageError(`capture option frames must be 'ethernet' or 'captured', got ${String(frames)}`);
  }
  for (const name of ['setup', 'onRecord', 'trace'] as const) {
    if (job[name] !== undefined && typeof job[name] !== 'function') throw new UsageError(`capture option ${name} must be a function`);
  }
  if (workers > 1) {
    // Events are delivered as the program runs: a worker's cannot reach this thread's callback in time.
    if (job.trace !== undefined) throw new UsageError('capture option trace needs workers: 1');
    for (const name of FUNCTION_OPTIONS) {
      if (vm[name] !== undefined) {
        throw new UsageError(`capture vm option ${name} holds functions, which cannot reach worker threads: run with workers: 1`);
      }
    }
  }
  return { workers, engine, outputs: job.outputs ?? true, frames, vm };
}

/** The options a worker's Vm is made with (plus sharedMaps and cpus, which the worker adds). */
export function dataOptions(vm: VmOptions): DataVmOptions {
  const out: Record<string, unknown> = {};
  for (const name of DATA_OPTIONS) if (vm[name] !== undefined) out[name] = vm[name];
  return out as DataVmOptions;
}
