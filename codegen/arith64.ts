// The slow paths of 64-bit division and modulo for generated code, which
// calls them (through the runtime bindings RT.div64/mod64/sdiv64/smod64) only
// when an operand does not fit 32 bits. Operands arrive as int32 halves
// (lo, hi); the result's low half is returned and its high half written to
// ret[1] (the module's RET scratch), so no call allocates an object.
//
// Semantics are lib/ops.ts's (ALU.div/mod/sdiv/smod eval64): by zero, div
// gives 0 and mod leaves the dividend; INT64_MIN / -1 = INT64_MIN and
// INT64_MIN % -1 = 0; signed forms truncate, smod takes the dividend's sign.
// A 64-bit dividend over a divisor below 2^32 (the common slow case: a hash
// or a counter modulo a table size) is divided in doubles, 16 bits at a time;
// a divisor of 2^32 and more leaves a quotient below 2^32, estimated in
// doubles and corrected exactly on 32-bit halves. No BigInt anywhere.

/** Unsigned 64-bit a / b: low half returned, high half in ret[1]. */
export function div64(alo: number, ahi: number, blo: number, bhi: number, ret: Int32Array): number {
  return udivmod(alo, ahi, blo, bhi, ret, false);
}

/** Unsigned 64-bit a % b: low half returned, high half in ret[1]. */
export function mod64(alo: number, ahi: number, blo: number, bhi: number, ret: Int32Array): number {
  return udivmod(alo, ahi, blo, bhi, ret, true);
}

/** Signed (truncating) 64-bit a / b: low half returned, high half in ret[1]. */
export function sdiv64(alo: number, ahi: number, blo: number, bhi: number, ret: Int32Array): number {
  return sdivmod(alo, ahi, blo, bhi, ret, false);
}

/** Signed 64-bit a % b (sign of the dividend): low half returned, high half in ret[1]. */
export function smod64(alo: number, ahi: number, blo: number, bhi: number, ret: Int32Array): number {
  return sdivmod(alo, ahi, blo, bhi, ret, true);
}

function udivmod(alo: number, ahi: number, blo: number, bhi: number, ret: Int32Array, mod: boolean): number {
  if (bhi === 0) {
    const b = blo >>> 0;
    if (b === 0) {
      // Division by zero gives 0; modulo by zero leaves the dividend.
      ret[1] = mod ? ahi : 0;
      return mod ? alo | 0 : 0;
    }
    // Long division by 32, 16 and 16 bits: every partial dividend stays below
    // 2^48, where a double quotient floors exactly.
    const ah = ahi >>> 0;
    const al = alo >>> 0;
    const qh = Math.floor(ah / b);
    let r = ah - qh * b;
    let x = r * 65536 + (al >>> 16);
    const q1 = Math.floor(x / b);
    r = x - q1 * b;
    x = r * 65536 + (al & 0xffff);
    const q0 = Math.floor(x / b);
    r = x - q0 * b;
    if (mod) {
      ret[1] = 0;
      return r | 0;
    }
    ret[1] = qh | 0;
    return (q1 * 65536 + q0) | 0;
  }
  return wideDivisor(alo, ahi, blo, bhi, ret, mod);
}

const TWO32 = 4294967296;

/**
 * a / b or a % b (unsigned) for b >= 2^32, without BigInt: the quotient q is
 * below 2^32. In doubles a / b comes out within 2^-19 of the true ratio (a
 * and b each round by at most 2^-53 relative, the ratio is below 2^32), so
 * its floor is q - 1, q or q + 1; one less than that, e, is at most q and at
 * least q - 2. Then a - e * b is in [0, a] (no overflow: e * b <= a) and
 * below 3b: computed exactly on 32-bit halves, at most two subtractions of
 * b give the remainder (and q).
 */
function wideDivisor(alo: number, ahi: number, blo: number, bhi: number, ret: Int32Array, mod: boolean): number {
  const ratio = ((ahi >>> 0) * TWO32 + (alo >>> 0)) / ((bhi >>> 0) * TWO32 + (blo >>> 0));
  let e = Math.max(Math.floor(ratio) - 1, 0);
  // e * b mod 2^64 (e < 2^32): the low product, its high 32 bits (see
  // lower-alu's mulhiU32 for why the rounding is exact) and e * bhi.
  const pl = Math.imul(e, blo);
  const ph = ((((e * (blo >>> 0) - (pl >>> 0)) / TWO32 + 0.5) | 0) + Math.imul(e, bhi)) | 0;
  // r = a - e * b.
  let rl = (alo - pl) | 0;
  let rh = (ahi - ph - ((alo >>> 0) < (pl >>> 0) ? 1 : 0)) | 0;
  // While r >= b: r -= b, e += 1 (at most twice).
  while ((rh >>> 0) > (bhi >>> 0) || (rh === bhi && (rl >>> 0) >= (blo >>> 0))) {
    rh = (rh - bhi - ((rl >>> 0) < (blo >>> 0) ? 1 : 0)) | 0;
    rl = (rl - blo) | 0;
    e++;
  }
  if (mod) {
    ret[1] = rh;
    return rl;
  }
  ret[1] = 0;
  return e | 0;
}

function sdivmod(alo: number, ahi: number, blo: number, bhi: number, ret: Int32Array, mod: boolean): number {
  if ((blo | bhi) === 0) {
    ret[1] = mod ? ahi : 0;
    return mod ? alo | 0 : 0;
  }
  const aNeg = ahi < 0;
  const bNeg = bhi < 0;
  // |INT64_MIN| is 2^63, still right as an unsigned operand, so INT64_MIN / -1
  // comes out as 2^63 = INT64_MIN and INT64_MIN % -1 as 0, as required.
  let lo = udivmod(aNeg ? negLo(alo) : alo, aNeg ? negHi(alo, ahi) : ahi, bNeg ? negLo(blo) : blo, bNeg ? negHi(blo, bhi) : bhi, ret, mod);
  // Truncating division: the quotient is negative when the signs differ, the remainder takes the dividend's sign.
  if (mod ? aNeg : aNeg !== bNeg) {
    const h = ret[1]!;
    ret[1] = negHi(lo, h);
    lo = negLo(lo);
  }
  return lo;
}

/** Low half of the two's complement negation of (lo, hi). */
function negLo(lo: number): number {
  return -lo | 0;
}

/** High half of the two's complement negation of (lo, hi): the +1 carries into it only when lo is 0. */
function negHi(lo: number, hi: number): number {
  return (lo | 0) === 0 ? -hi | 0 : ~hi;
}
