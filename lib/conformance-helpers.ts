// The helpers the bpf_conformance suite calls, with the suite's numbering
// (that of its reference uBPF plugin). Helper 5 is the unwind-on-success
// helper: a program calling it with 0 ends at once with r0 = 0.

import type { HelperFn } from './runtime.js';

/** Largest n with n * n <= a, exact for every u64 (Math.sqrt is not, above 2^53). */
function isqrt(a: bigint): bigint {
  if (a < 2n) return a;
  let x = BigInt(Math.floor(Math.sqrt(Number(a))));
  while (x * x > a) x--;
  while ((x + 1n) * (x + 1n) <= a) x++;
  return x;
}

/** Longest string the strcmp helper reads, so a missing NUL cannot scan far. */
const STRCMP_MAX = 1 << 16;

export const CONFORMANCE_UNWIND_HELPER = 5;

export function conformanceHelpers(): Map<number, HelperFn> {
  const helpers = new Map<number, HelperFn>();
  // gather_bytes: packs the low byte of each argument, r1 highest.
  helpers.set(0, (a, b, c, d, e) =>
    ((a & 0xffn) << 32n) | ((b & 0xffn) << 24n) | ((c & 0xffn) << 16n) | ((d & 0xffn) << 8n) | (e & 0xffn));
  // memfrob: xor each byte with 42, in place.
  helpers.set(1, (ptr, len, _c, _d, _e, ctx) => {
    const bytes = ctx.memory.view(ptr, Number(BigInt.asUintN(32, len)), 'store', ctx.pc);
    for (let i = 0; i < bytes.length; i++) bytes[i]! ^= 42;
    return 0;
  });
  helpers.set(2, () => 0);
  helpers.set(3, (a) => isqrt(a));
  // strcmp_ext: C strcmp over two NUL-terminated strings in program memory.
  helpers.set(4, (p1, p2, _c, _d, _e, ctx) => {
    const s1 = ctx.memory.readCString(p1, STRCMP_MAX, ctx.pc);
    const s2 = ctx.memory.readCString(p2, STRCMP_MAX, ctx.pc);
    const n = Math.min(s1.length, s2.length);
    for (let i = 0; i < n; i++) {
      if (s1[i] !== s2[i]) return s1[i]! - s2[i]!;
    }
    return s1.length - s2.length === 0 ? 0 : s1.length < s2.length ? -s2[n]! : s1[n]!;
  });
  helpers.set(CONFORMANCE_UNWIND_HELPER, (a) => a);
  return helpers;
}
