// Shared set-up for the map tests: a memory, a registry, and byte helpers.

import { Memory } from '../lib/memory.js';
import { MapRegistry } from '../lib/maps/index.js';

export const PROGRAM = Symbol('program');

export function setup(cpus = 1) {
  const memory = new Memory();
  const isProgram = (v: unknown): boolean => typeof v === 'object' && v !== null && PROGRAM in v;
  const registry = new MapRegistry(memory, { cpus, isProgram });
  return { memory, registry };
}

/** A fake loaded program the registry's isProgram accepts. */
export function program(name: string): { [PROGRAM]: true; name: string } {
  return { [PROGRAM]: true, name };
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export function u64(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}

/** Reads a u32 at `address` the way a program's load would. */
export function load32(memory: Memory, address: number): number {
  return Number(memory.load(BigInt(address), 4, 0));
}

export function store32(memory: Memory, address: number, value: number): void {
  memory.store(BigInt(address), 4, BigInt(value), 0);
}

/** The thrown value of `fn` (fails the test when nothing is thrown). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}
