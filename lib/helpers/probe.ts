// Reads that may fail without failing the run: the kernel's
// copy_from_kernel_nofault / strncpy_from_kernel_nofault, which probe_read*
// and the printf helpers use on pointers the program merely claims are
// valid. A bad address here is an answer (-EFAULT, an empty string), not an
// error; a bad *destination* is the program's bug and is checked by the
// caller with an ordinary (throwing) Memory access.
//
// There is one address space, so the user and kernel forms read the same
// memory.

import { MemoryAccessError } from '../errors.js';
import type { Memory } from '../memory.js';

/** A view of `size` bytes at `address`, or undefined when any of them is unmapped. */
export function probeBytes(memory: Memory, address: bigint, size: number): Uint8Array | undefined {
  try {
    return memory.view(address, size, 'load', 0);
  } catch (e) {
    if (e instanceof MemoryAccessError) return undefined;
    throw e;
  }
}

export interface ProbedString {
  /** What lands in the destination before its final NUL. */
  readonly bytes: Uint8Array;
  /** strncpy_from_kernel_nofault's result: the length including the NUL, or `count` when truncated. */
  readonly result: number;
}

/**
 * strncpy_from_kernel_nofault(dst, address, count): copies up to the NUL,
 * reading at most `count` bytes; a string that does not fit is cut to
 * count - 1 bytes plus a NUL and the result is `count`. Undefined when a byte
 * it had to read is unmapped (the kernel's -EFAULT).
 */
export function probeString(memory: Memory, address: bigint, count: number): ProbedString | undefined {
  if (count <= 0) return { bytes: new Uint8Array(0), result: 0 };
  let s: Uint8Array;
  try {
    // Reads at most `count` bytes; throws only if the region ends before both a NUL and `count`.
    s = memory.readCString(address, count, 0);
  } catch (e) {
    if (e instanceof MemoryAccessError) return undefined;
    throw e;
  }
  if (s.length < count) return { bytes: s, result: s.length + 1 };
  return { bytes: s.subarray(0, count - 1), result: count };
}
