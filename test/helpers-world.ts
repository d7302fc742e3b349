// Test support for the standard helpers: a small world (memory, a scratch
// region, a HelperEnv, RunServices) in which a helper function is called
// directly with a HelperContext, without an engine. Engine-level tests (BPF
// programs calling helpers) live with the Vm's tests.

import { HelperEnv, type HelperEnvOptions } from '../lib/helpers/env.js';
import { standardHelpers } from '../lib/helpers/index.js';
import { MapRegistry } from '../lib/maps/index.js';
import { Memory, type Region } from '../lib/memory.js';
import type { HelperContext, ProgramContext, RunServices } from '../lib/runtime.js';

export const PC = 7;

export interface WorldOptions {
  readonly env?: HelperEnvOptions;
  /** The run's CPU (default 0) of `cpus` (default 2). */
  readonly cpu?: number;
  readonly cpus?: number;
  /** The run's context; default: the scratch region as plain input memory. */
  readonly context?: (memory: Memory) => ProgramContext;
  readonly callFunction?: (address: bigint, args: readonly bigint[]) => bigint;
}

export interface World {
  readonly memory: Memory;
  /** 4 KiB of zeroed, writable scratch memory. */
  readonly scratch: Region;
  readonly env: HelperEnv;
  readonly maps: MapRegistry;
  readonly run: RunServices;
  /** Address of byte `offset` of the scratch region. */
  at(offset: number): bigint;
  /** Copies `bytes` (or a string's UTF-8 and a NUL) to scratch offset `offset`; returns its address. */
  put(offset: number, bytes: Uint8Array | string): bigint;
  /** `length` scratch bytes from `offset`. */
  bytes(offset: number, length: number): Uint8Array;
  /** Calls standard helper `id` with r1..r5 (missing ones 0) and returns r0 as a signed 64-bit value. */
  call(id: number, ...args: (bigint | number)[]): bigint;
}

export function makeWorld(options: WorldOptions = {}): World {
  const memory = new Memory();
  const scratch = memory.map(new Uint8Array(4096), { name: 'scratch' });
  const env = new HelperEnv({ seed: 1, pid: 100, tgid: 200, comm: 'test', ...options.env });
  const maps = new MapRegistry(memory, { cpus: options.cpus ?? 2, isProgram: () => false });
  const context = options.context?.(memory) ?? {
    r1: BigInt(scratch.base), r2: BigInt(scratch.size),
    packet: { address: scratch.base, length: scratch.size },
  };
  const run: RunServices = {
    maps, cpu: options.cpu ?? 0, env, context,
    callFunction: options.callFunction ?? (() => { throw new Error('no callFunction in this world'); }),
  };
  const fns = new Map(standardHelpers().map((h) => [h.id, h.fn]));
  const at = (offset: number): bigint => BigInt(scratch.base + offset);
  return {
    memory, scratch, env, maps, run, at,
    put(offset, bytes) {
      const b = typeof bytes === 'string' ? new TextEncoder().encode(`${bytes}\0`) : bytes;
      scratch.bytes.set(b, offset);
      return at(offset);
    },
    bytes: (offset, length) => scratch.bytes.slice(offset, offset + length),
    call(id, ...args) {
      const fn = fns.get(id);
      if (fn === undefined) throw new Error(`no standard helper ${id}`);
      const r = args.map((a) => BigInt.asUintN(64, BigInt(a)));
      while (r.length < 5) r.push(0n);
      const ctx: HelperContext = { memory, pc: PC, id, run };
      const result = fn(r[0]!, r[1]!, r[2]!, r[3]!, r[4]!, ctx);
      return BigInt.asIntN(64, BigInt(result ?? 0));
    },
  };
}
