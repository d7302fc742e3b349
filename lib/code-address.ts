// Code addresses: the values lddw src=4 (BPF_PSEUDO_FUNC) puts in a register
// and callx consumes. Shared by the interpreter and the JIT so both engines
// give a function pointer the same numeric value.
//
// A code address is CODE_ADDRESS_BASE + the function's entry pc. The base is
// the start of memory slot 0xff, which Memory never maps (see lib/memory.ts),
// so a code address never names loadable bytes: dereferencing one faults.

import { SLOT_BYTES } from './memory.js';

export const CODE_ADDRESS_BASE = 0xff000000;

/** The code address of the instruction at `pc`. */
export function codeAddress(pc: number): number {
  return CODE_ADDRESS_BASE + pc;
}

/**
 * The pc a register value names if it lies in the code-address slot, else
 * undefined. Whether that pc is a function entry is the caller's check.
 */
export function codeTarget(value: bigint | number): number | undefined {
  if (typeof value === 'bigint') {
    if (value < BigInt(CODE_ADDRESS_BASE) || value >= BigInt(CODE_ADDRESS_BASE + SLOT_BYTES)) return undefined;
    return Number(value) - CODE_ADDRESS_BASE;
  }
  if (!Number.isInteger(value) || value < CODE_ADDRESS_BASE || value >= CODE_ADDRESS_BASE + SLOT_BYTES) return undefined;
  return value - CODE_ADDRESS_BASE;
}
