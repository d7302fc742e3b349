// Atomic instructions (lock add/or/and/xor, their fetch forms, xchg,
// cmpxchg; 32 and 64 bits) as both engines perform them once the address is
// checked. On a region over a SharedArrayBuffer (Region.shared), another
// thread may touch the same bytes, so an aligned access uses JS Atomics on an
// Int32Array / BigInt64Array over that buffer: the read-modify-write is then
// indivisible, as the instruction promises. Everywhere else (plain memory,
// or an unaligned address, which Atomics cannot do) it is a load then a
// store: nothing else runs in between in this thread.
//
// Byte order: Atomics use the host's, the memory model is little-endian
// (DataView with littleEndian = true). Node and Deno run on little-endian
// hosts only (x64, arm64), where the two agree.
//
// What it does not do: check the address (the callers do: Memory.resolve,
// or the JIT's inline check), or decide what goes to which register.

import type { AtomicOp } from './isa.js';
import type { Memory, Region } from './memory.js';
import { atomicOp, cmpxchgMatches } from './ops.js';

/**
 * The 32-bit op at `offset` of a shared region, with Atomics; the old value
 * as an int32, or undefined when the address is not 4-byte aligned in the
 * buffer (the caller then takes the plain path). `src`, `r0`: low halves.
 */
export function sharedAtomic32(region: Region, offset: number, op: AtomicOp, src: number, r0: number): number | undefined {
  const at = region.bytes.byteOffset + offset;
  if ((at & 3) !== 0) return undefined;
  const words = region.int32s();
  const i = at >> 2;
  switch (op) {
    case 'add': return Atomics.add(words, i, src);
    case 'or': return Atomics.or(words, i, src);
    case 'and': return Atomics.and(words, i, src);
    case 'xor': return Atomics.xor(words, i, src);
    case 'xchg': return Atomics.exchange(words, i, src);
    // Stores src only when memory equals r0's low 32 bits.
    case 'cmpxchg': return Atomics.compareExchange(words, i, r0, src);
  }
}

/** The 64-bit op likewise: the old value as a signed BigInt, or undefined when not 8-byte aligned. */
export function sharedAtomic64(region: Region, offset: number, op: AtomicOp, src: bigint, r0: bigint): bigint | undefined {
  const at = region.bytes.byteOffset + offset;
  if ((at & 7) !== 0) return undefined;
  const dwords = region.int64s();
  const i = at >> 3;
  const v = BigInt.asIntN(64, src);
  switch (op) {
    case 'add': return Atomics.add(dwords, i, v);
    case 'or': return Atomics.or(dwords, i, v);
    case 'and': return Atomics.and(dwords, i, v);
    case 'xor': return Atomics.xor(dwords, i, v);
    case 'xchg': return Atomics.exchange(dwords, i, v);
    case 'cmpxchg': return Atomics.compareExchange(dwords, i, BigInt.asIntN(64, r0), v);
  }
}

/**
 * Performs atomic `op` of `width` bits at `address` (checked: inside
 * `region`, which is writable there) with operand `src` (and `r0` for
 * cmpxchg), both u64. Returns the old memory value, zero-extended for W.
 */
export function atomicUpdate(
  memory: Memory, region: Region, address: bigint, width: 32 | 64, op: AtomicOp, src: bigint, r0: bigint, pc: number,
): bigint {
  if (region.shared) {
    const offset = Number(address) - region.base;
    if (width === 32) {
      const old = sharedAtomic32(region, offset, op, Number(BigInt.asIntN(32, src)), Number(BigInt.asIntN(32, r0)));
      if (old !== undefined) return BigInt(old >>> 0);
    } else {
      const old = sharedAtomic64(region, offset, op, src, r0);
      if (old !== undefined) return BigInt.asUintN(64, old);
    }
  }
  const size = width === 32 ? 4 : 8;
  const old = memory.load(address, size, pc);
  if (op === 'cmpxchg') {
    if (cmpxchgMatches(old, r0, width)) memory.store(address, size, src, pc);
  } else {
    memory.store(address, size, atomicOp(op, old, src, width), pc);
  }
  return old;
}
