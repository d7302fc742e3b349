// 64-bit arithmetic on the interpreter's int32 register halves. A register
// is two adjacent int32s of an Int32Array: its low 32 bits at index d, its
// high 32 bits at d + 1, each held as a signed int32 (only the bits matter;
// `>>> 0` reads a half as unsigned). Results are lib/ops.ts's, which the
// interpreter tests check op by op.
//
// Each function that writes rD reads its old value and the operand (bl, bh)
// before writing anything, so an operand that is rD itself is fine.
//
// What it does not do: 64-bit division, which codegen/arith64.ts provides
// for both engines.

/** rD += b: the low sum carries into the high half when it wraps (ends below an operand, as uint32). */
export function add64(reg: Int32Array, d: number, bl: number, bh: number): void {
  const sum = (reg[d]! + bl) | 0;
  reg[d + 1] = (reg[d + 1]! + bh + ((sum >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
  reg[d] = sum;
}

/** rD -= b: the high half borrows when the low halves compare a < b as uint32. */
export function sub64(reg: Int32Array, d: number, bl: number, bh: number): void {
  const al = reg[d]!;
  reg[d + 1] = (reg[d + 1]! - bh - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
  reg[d] = (al - bl) | 0;
}

/** rD *= b mod 2^64: high half = high32(al * bl) + al * bh + ah * bl (mod 2^32). */
export function mul64(reg: Int32Array, d: number, bl: number, bh: number): void {
  const al = reg[d]!;
  reg[d + 1] = (mulHigh32(al, bl) + Math.imul(al, bh) + Math.imul(reg[d + 1]!, bl)) | 0;
  reg[d] = Math.imul(al, bl);
}

/**
 * The high 32 bits of the 64-bit product of two uint32s, as an int32. y is
 * split in 16-bit halves so every partial product stays below 2^48, exact in
 * a double.
 */
export function mulHigh32(x: number, y: number): number {
  const a = x >>> 0;
  const low = ((a * (y & 0xffff)) / 65536) >>> 0;
  return ((a * (y >>> 16) + low) / 65536) | 0;
}

// Shifts by n in 0..63 (the caller masks the amount to 6 bits). JS masks its
// own shift counts to 5 bits, so n >= 32 and n = 0 are cases of their own.

/** rD <<= n. */
export function lsh64(reg: Int32Array, d: number, n: number): void {
  if (n >= 32) {
    reg[d + 1] = reg[d]! << (n - 32);
    reg[d] = 0;
  } else if (n > 0) {
    reg[d + 1] = (reg[d + 1]! << n) | (reg[d]! >>> (32 - n));
    reg[d] = reg[d]! << n;
  }
}

/** rD >>= n, filling with zeros. */
export function rsh64(reg: Int32Array, d: number, n: number): void {
  if (n >= 32) {
    reg[d] = reg[d + 1]! >>> (n - 32);
    reg[d + 1] = 0;
  } else if (n > 0) {
    reg[d] = (reg[d]! >>> n) | (reg[d + 1]! << (32 - n));
    reg[d + 1] = reg[d + 1]! >>> n;
  }
}

/** rD >>= n, filling with the sign bit. */
export function arsh64(reg: Int32Array, d: number, n: number): void {
  if (n >= 32) {
    reg[d] = reg[d + 1]! >> (n - 32);
    reg[d + 1] = reg[d + 1]! >> 31;
  } else if (n > 0) {
    reg[d] = (reg[d]! >>> n) | (reg[d + 1]! << (32 - n));
    reg[d + 1] = reg[d + 1]! >> n;
  }
}

/** rD = -rD: ~x + 1, where the + 1 carries into the high half only when the low half is 0. */
export function neg64(reg: Int32Array, d: number): void {
  reg[d + 1] = reg[d] === 0 ? -reg[d + 1]! | 0 : ~reg[d + 1]!;
  reg[d] = -reg[d]! | 0;
}

/** Unsigned 64-bit comparison: -1, 0 or 1 as a <, = or > b. The high halves decide unless equal. */
export function cmpU64(al: number, ah: number, bl: number, bh: number): number {
  if (ah !== bh) return (ah >>> 0) < (bh >>> 0) ? -1 : 1;
  if (al !== bl) return (al >>> 0) < (bl >>> 0) ? -1 : 1;
  return 0;
}

/** Signed 64-bit comparison: as cmpU64, but the high halves compare as int32 (they hold the sign). */
export function cmpS64(al: number, ah: number, bl: number, bh: number): number {
  if (ah !== bh) return ah < bh ? -1 : 1;
  if (al !== bl) return (al >>> 0) < (bl >>> 0) ? -1 : 1;
  return 0;
}

// 32-bit division on int32 halves: by zero, div gives 0 and mod leaves the
// dividend; the signed forms truncate like `(a / b) | 0` and `a % b`, which
// also give INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 (`| 0` turns -0 to 0).

export function div32(a: number, b: number): number {
  return b === 0 ? 0 : ((a >>> 0) / (b >>> 0)) | 0;
}

export function sdiv32(a: number, b: number): number {
  return b === 0 ? 0 : (a / b) | 0;
}

export function mod32(a: number, b: number): number {
  return b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0;
}

export function smod32(a: number, b: number): number {
  return b === 0 ? a : (a % b) | 0;
}

/** Reverses the 4 bytes of an int32. */
export function bswap32(x: number): number {
  return (x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/** A register pair as a u64 BigInt. */
export function toU64(low: number, high: number): bigint {
  return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
}

/** The low and high int32 halves of a u64 BigInt. */
export function halves(v: bigint): [low: number, high: number] {
  return [Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n))];
}
