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
// only divisors of 2^32 and more go through BigInt.

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
  const a = (BigInt(ahi >>> 0) << 32n) | BigInt(alo >>> 0);
  const b = (BigInt(bhi >>> 0) << 32n) | BigInt(blo >>> 0);
  const q = mod ? a % b : a / b;
  ret[1] = Number(q >> 32n) | 0;
  return Number(q & 0xffffffffn) | 0;
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
