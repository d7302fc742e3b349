// probe_read and its user/kernel and _str forms (helpers 4, 112-115):
// copy from an address the program does not vouch for into memory it owns.
//
// Linux: on a fault the destination is zeroed and the result is -EFAULT, so
// a careless program never copies stale bytes on. A size of 0 copies nothing
// and returns 0 (the destination may then be NULL). The _str forms return the
// copied length including the NUL. The destination is the verifier's
// business in Linux; here it is checked and a bad one ends the run with a
// MemoryAccessError at the call's pc.

import { EFAULT } from '../errno.js';
import type { Memory } from '../memory.js';
import type { HelperFn } from '../runtime.js';
import { helper, u32, type StandardHelper } from './common.js';
import { probeBytes, probeString } from './probe.js';

/**
 * long bpf_probe_read*(void *dst, u32 size, const void *unsafe_ptr), both
 * forms: `copy` fills dst and returns the result, or undefined on a fault.
 */
function probeHelper(copy: (out: Uint8Array, src: bigint, memory: Memory) => number | undefined): HelperFn {
  return (dst, size, src, _r4, _r5, ctx) => {
    const n = u32(size);
    if (n === 0) return 0;
    const out = ctx.memory.view(dst, n, 'store', ctx.pc);
    const result = copy(out, src, ctx.memory);
    if (result !== undefined) return result;
    out.fill(0);
    return -EFAULT;
  };
}

const probeRead = probeHelper((out, src, memory) => {
  const from = probeBytes(memory, src, out.length);
  if (from === undefined) return undefined;
  out.set(from); // set() copies correctly even when the two ranges overlap
  return 0;
});

const probeReadStr = probeHelper((out, src, memory) => {
  const s = probeString(memory, src, out.length);
  if (s === undefined) return undefined;
  // Only the string and its NUL are written: the rest of dst keeps its bytes, as in Linux.
  out.set(s.bytes);
  out[s.bytes.length] = 0;
  return s.result;
});

export const memoryHelpers: readonly StandardHelper[] = Object.freeze([
  helper(4, 'probe_read', probeRead),
  helper(112, 'probe_read_user', probeRead),
  helper(113, 'probe_read_kernel', probeRead),
  helper(114, 'probe_read_user_str', probeReadStr),
  helper(115, 'probe_read_kernel_str', probeReadStr),
]);
