// strncmp (182): long bpf_strncmp(const char *s1, u32 s1_sz, const char *s2).
//
// Linux compares like the kernel's strncmp: at most s1_sz bytes, stopping
// after a NUL, and returns -1, 0 or 1 (the sign only, not a difference).
// s1 must be readable for s1_sz bytes; s2 is a NUL-terminated constant
// string, read only as far as the comparison needs.

import type { HelperFn } from '../runtime.js';
import { helper, u32, type StandardHelper } from './common.js';

const strncmp: HelperFn = (s1, s1Size, s2, _4, _5, ctx) => {
  const n = u32(s1Size);
  if (n === 0) return 0;
  const a = ctx.memory.view(s1, n, 'load', ctx.pc);
  // At most n bytes of s2 matter; past its NUL (b.length) it reads as 0.
  const b = ctx.memory.readCString(s2, n, ctx.pc);
  for (let i = 0; i < n; i++) {
    const c1 = a[i]!;
    const c2 = i < b.length ? b[i]! : 0;
    if (c1 !== c2) return c1 < c2 ? -1 : 1;
    if (c1 === 0) break;
  }
  return 0;
};

export const stringHelpers: readonly StandardHelper[] = Object.freeze([helper(182, 'strncmp', strncmp)]);
