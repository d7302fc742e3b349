// What every standard helper module shares: the helper entry type, argument
// conversions, and the one way a helper reports a bad argument.
//
// Helper arguments arrive as u64 BigInts (r1..r5). Linux declares most of
// them as u32 or int, so the C call truncates: u32()/s32() do the same here.

import { HelperError } from '../errors.js';
import type { BpfMap } from '../maps/index.js';
import type { HelperContext, HelperFn } from '../runtime.js';

/** A standard helper: Linux's id, its name without the `bpf_` prefix, the function. */
export interface StandardHelper {
  readonly id: number;
  readonly name: string;
  readonly fn: HelperFn;
}

/** Zero bytes: what a 0-sized key, value or buffer reads as (its pointer is never dereferenced). */
export const EMPTY: Uint8Array = new Uint8Array(0);

/** A frozen entry, so the modules' helper tables are constants nobody can change. */
export function helper(id: number, name: string, fn: HelperFn): StandardHelper {
  return Object.freeze({ id, name, fn });
}

/** The low 32 bits, unsigned (a `u32` parameter). */
export function u32(value: bigint): number {
  return Number(value & 0xffffffffn);
}

/** The low 32 bits, signed (an `int` parameter). */
export function s32(value: bigint): number {
  return Number(BigInt.asIntN(32, value));
}

export function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}

/** Throws the HelperError for a call that cannot go on; `name` is the helper's. */
export function fail(ctx: HelperContext, name: string, message: string): never {
  throw new HelperError(`${name}: ${message}`, ctx.pc, ctx.id);
}

/**
 * The map a map-pointer argument names. Anything else (a stack address, a
 * number) is a HelperError naming the helper and the argument: the
 * kernel's verifier would have refused such a program.
 */
export function mapArg(ctx: HelperContext, value: bigint, name: string, arg: number): BpfMap {
  const map = ctx.run.maps.byPointer(value);
  if (map === undefined) fail(ctx, name, `argument ${arg} (r${arg} = ${hex(value)}) is not a map`);
  return map;
}

/** Bytes read from program memory for a map key or value, or none when the map's size is 0. */
export function mapBytes(ctx: HelperContext, address: bigint, size: number): Uint8Array {
  return size === 0 ? EMPTY : ctx.memory.view(address, size, 'load', ctx.pc);
}
