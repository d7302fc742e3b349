// The Internet checksum arithmetic bpf_csum_diff needs: 32-bit
// ones'-complement sums as Linux's generic lib/checksum.c computes them.
// 16-bit words are read in memory (little-endian) order, as the kernel
// does on a little-endian machine; a final odd byte is the low byte of a
// word whose high byte is 0.

/** a + b in 32-bit ones'-complement arithmetic (csum_add: the carry wraps around). */
export function csumAdd(a: number, b: number): number {
  const s = (a >>> 0) + (b >>> 0);
  return s > 0xffffffff ? s - 0xffffffff : s;
}

/** csum_sub: a - b, that is a + ~b. */
export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** from32to16: folds a 32-bit sum into 16 bits, keeping the carries. */
export function fold16(x: number): number {
  let v = (x & 0xffff) + (x >>> 16);
  v = (v & 0xffff) + (v >>> 16);
  return v;
}

/**
 * csum_partial(buf, seed): the 16-bit-word sum of `bytes` folded to 16 bits
 * (0 only when every word is 0), added to the 32-bit `seed`.
 */
export function csumPartial(bytes: Uint8Array, seed: number): number {
  let sum = 0;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) {
    sum += bytes[i]! | (bytes[i + 1]! << 8);
    // Fold now and then so the sum stays an exact integer whatever the length.
    if (sum > 0x3fffffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  if (even < bytes.length) sum += bytes[even]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return csumAdd(sum, seed);
}

/**
 * bpf_csum_diff's value (Linux 6.13 and later, the same on every
 * architecture): csum(to) - csum(from) on top of `seed`, folded to 16 bits.
 * Either buffer may be empty.
 */
export function csumDiff(from: Uint8Array, to: Uint8Array, seed: number): number {
  let ret = seed >>> 0;
  if (from.length > 0 && to.length > 0) ret = csumSub(csumPartial(to, ret), csumPartial(from, 0));
  else if (to.length > 0) ret = csumPartial(to, ret);
  else if (from.length > 0) ret = ~csumPartial(from, ~ret >>> 0) >>> 0;
  return fold16(ret);
}
