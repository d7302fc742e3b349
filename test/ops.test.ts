import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lookupSpec, type AluOp, type JmpCond } from '../lib/isa.js';
import {
  ALU, BYTE_ORDER, JMP, atomicOp, be, bswap, byteOrderOf, cmpxchgMatches, evalAlu, immOperand, le, movsx, neg,
  s32, s64, signExtend, testJmp, u32, u64,
} from '../lib/ops.js';
import { CODE_ADDRESS_BASE, codeAddress, codeTarget } from '../lib/code-address.js';

const M64 = (1n << 64n) - 1n;
const INT64_MIN = 1n << 63n; // as u64
const INT64_MAX = (1n << 63n) - 1n;
const INT32_MIN = 0x8000_0000n;
const INT32_MAX = 0x7fff_ffffn;
const NEG1 = M64;
/** A signed value as its canonical u64. */
const v = (x: bigint): bigint => BigInt.asUintN(64, x);

const arbU64 = fc.bigInt({ min: 0n, max: M64 });
/** u64 values biased toward the edges (0, ±1, INT_MIN/MAX of both widths, 2^32). */
const edgy = fc.oneof(
  arbU64,
  fc.constantFrom(0n, 1n, NEG1, INT64_MIN, INT64_MAX, INT32_MIN, INT32_MAX, 0xffff_ffffn, 1n << 32n, v(-2n), 2n),
);

describe('conversions', () => {
  it('u64/u32/s64/s32', () => {
    expect(u64(-1n)).toBe(M64);
    expect(u64(1n << 64n)).toBe(0n);
    expect(u32(0x1_2345_6789n)).toBe(0x2345_6789n);
    expect(s64(M64)).toBe(-1n);
    expect(s64(INT64_MIN)).toBe(-(1n << 63n));
    expect(s32(0xffff_ffffn)).toBe(-1n);
    expect(s32(0x1_7fff_ffffn)).toBe(0x7fff_ffffn);
  });
  it('signExtend', () => {
    expect(signExtend(0x80n, 8)).toBe(v(-128n));
    expect(signExtend(0x7fn, 8)).toBe(0x7fn);
    expect(signExtend(0x1ff80n, 8)).toBe(v(-128n));
    expect(signExtend(0x8000n, 16)).toBe(0xffff_ffff_ffff_8000n);
    expect(signExtend(0x8000_0000n, 32)).toBe(0xffff_ffff_8000_0000n);
    expect(signExtend(0x1_7fff_ffffn, 32)).toBe(0x7fff_ffffn);
    expect(signExtend(M64, 64)).toBe(M64);
  });
  it('immOperand sign-extends to 64 bits', () => {
    expect(immOperand(-1)).toBe(M64);
    expect(immOperand(-2147483648)).toBe(0xffff_ffff_8000_0000n);
    expect(immOperand(2147483647)).toBe(INT32_MAX);
    expect(immOperand(0)).toBe(0n);
  });
});

/** Explicit expectations: [a, b, 64-bit result, 32-bit result]. */
const ALU_CASES: Record<AluOp, ReadonlyArray<readonly [bigint, bigint, bigint, bigint]>> = {
  add: [
    [1n, 2n, 3n, 3n],
    [NEG1, 1n, 0n, 0n],
    [INT64_MAX, 1n, INT64_MIN, 0n],
    [0xffff_ffffn, 1n, 1n << 32n, 0n],
    [INT32_MAX, 1n, INT32_MIN, INT32_MIN],
  ],
  sub: [
    [3n, 2n, 1n, 1n],
    [0n, 1n, NEG1, 0xffff_ffffn],
    [INT64_MIN, 1n, INT64_MAX, 0xffff_ffffn],
    [1n << 32n, 1n, 0xffff_ffffn, 0xffff_ffffn],
  ],
  mul: [
    [3n, 4n, 12n, 12n],
    [NEG1, NEG1, 1n, 1n],
    [1n << 32n, 1n << 32n, 0n, 0n],
    [0xffff_ffffn, 2n, 0x1_ffff_fffen, 0xffff_fffen],
    [INT64_MIN, 2n, 0n, 0n],
  ],
  div: [
    [10n, 3n, 3n, 3n],
    [10n, 0n, 0n, 0n],
    // 32-bit: the divisor's low 32 bits are 0, so the result is 0.
    [10n, 1n << 32n, 0n, 0n],
    [NEG1, 2n, INT64_MAX, 0x7fff_ffffn],
    [NEG1, NEG1, 1n, 1n],
    [0n, 5n, 0n, 0n],
    // 32-bit: only low 32 bits of both operands.
    [0x1_0000_0010n, 0x1_0000_0002n, 1n, 8n],
  ],
  sdiv: [
    [10n, 3n, 3n, 3n],
    [v(-10n), 3n, v(-3n), 0xffff_fffdn],
    [10n, v(-3n), v(-3n), 0xffff_fffdn],
    [v(-10n), v(-3n), 3n, 3n],
    [INT64_MIN, NEG1, INT64_MIN, 0n],
    // 64-bit: 0x80000000 is positive, so the quotient is -2^31; 32-bit: INT_MIN / -1 = INT_MIN.
    [INT32_MIN, NEG1, 0xffff_ffff_8000_0000n, INT32_MIN],
    [7n, 0n, 0n, 0n],
    [7n, 1n << 32n, 0n, 0n],
  ],
  or: [
    [0xf0n, 0x0fn, 0xffn, 0xffn],
    [INT64_MIN, 1n, INT64_MIN | 1n, 1n],
    [0n, NEG1, NEG1, 0xffff_ffffn],
  ],
  and: [
    [0xf0n, 0x3cn, 0x30n, 0x30n],
    [NEG1, INT64_MIN, INT64_MIN, 0n],
    [NEG1, NEG1, NEG1, 0xffff_ffffn],
  ],
  xor: [
    [0xffn, 0x0fn, 0xf0n, 0xf0n],
    [NEG1, 1n, v(-2n), 0xffff_fffen],
  ],
  lsh: [
    [1n, 1n, 2n, 2n],
    [1n, 31n, 1n << 31n, INT32_MIN],
    [1n, 32n, 1n << 32n, 1n],
    [1n, 63n, INT64_MIN, INT32_MIN],
    [1n, 64n, 1n, 1n],
    // Amount -1: masked to 63 (64-bit) / 31 (32-bit).
    [1n, NEG1, INT64_MIN, INT32_MIN],
    [NEG1, 4n, v(-16n), 0xffff_fff0n],
    // The suite's imm 60 on a 32-bit shift: masked to 28.
    [1n, 60n, 1n << 60n, 1n << 28n],
  ],
  rsh: [
    [8n, 1n, 4n, 4n],
    [NEG1, 63n, 1n, 1n],
    [NEG1, 64n, NEG1, 0xffff_ffffn],
    [NEG1, 32n, 0xffff_ffffn, 0xffff_ffffn],
    [NEG1, 31n, 0x1_ffff_ffffn, 1n],
    [INT64_MIN, NEG1, 1n, 0n],
    // imm -4 on a 32-bit shift: masked to 28.
    [0xf000_0000n, immOperand(-4), 0n, 0xfn],
  ],
  arsh: [
    [v(-16n), 2n, v(-4n), 0xffff_fffcn],
    [INT64_MIN, 63n, NEG1, 0n],
    [INT64_MIN, 64n, INT64_MIN, 0n],
    [INT32_MIN, 31n, 1n, 0xffff_ffffn],
    [INT32_MIN, 32n, 0n, INT32_MIN],
    [0x7fff_ffff_ffff_ffffn, 62n, 1n, 0xffff_ffffn],
    // arsh32 uses the low 32 bits as s32 even if the upper half is set.
    [0xffff_ffff_0000_0010n, 4n, 0xffff_ffff_f000_0001n, 1n],
  ],
  mod: [
    [10n, 3n, 1n, 1n],
    // Modulo by zero: dst unchanged, 32-bit zero-extends it.
    [0x1_0000_0007n, 0n, 0x1_0000_0007n, 7n],
    [0x1_0000_0007n, 1n << 32n, 7n, 7n],
    [NEG1, 10n, 5n, 5n],
    [5n, NEG1, 5n, 5n],
  ],
  smod: [
    [13n, 3n, 1n, 1n],
    // The sign follows the dividend.
    [v(-13n), 3n, v(-1n), 0xffff_ffffn],
    [13n, v(-3n), 1n, 1n],
    [v(-13n), v(-3n), v(-1n), 0xffff_ffffn],
    [INT64_MIN, NEG1, 0n, 0n],
    [INT32_MIN, NEG1, 0n, 0n],
    [0x1_8000_0000n, 0n, 0x1_8000_0000n, INT32_MIN],
  ],
  mov: [
    [5n, 7n, 7n, 7n],
    [0n, NEG1, NEG1, 0xffff_ffffn],
    // mov32 wX, wX still clears the upper half.
    [0x1_0000_0001n, 0x1_0000_0001n, 0x1_0000_0001n, 1n],
  ],
};

describe('ALU table', () => {
  for (const [op, cases] of Object.entries(ALU_CASES) as [AluOp, (typeof ALU_CASES)[AluOp]][]) {
    it(`${op}: edge constants`, () => {
      for (const [a, b, r64, r32] of cases) {
        expect(ALU[op].eval64(a, b), `${op}64(0x${a.toString(16)}, 0x${b.toString(16)})`).toBe(r64);
        expect(ALU[op].eval32(a, b), `${op}32(0x${a.toString(16)}, 0x${b.toString(16)})`).toBe(r32);
        expect(evalAlu(op, 64, a, b)).toBe(r64);
        expect(evalAlu(op, 32, a, b)).toBe(r32);
      }
    });
  }

  it('every result is canonical (64-bit in range, 32-bit zero-extended)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(ALU) as AluOp[])), edgy, edgy, (op, a, b) => {
        const r64 = ALU[op].eval64(a, b);
        const r32 = ALU[op].eval32(a, b);
        return r64 >= 0n && r64 <= M64 && r32 >= 0n && r32 <= 0xffff_ffffn;
      }),
    );
  });

  it('32-bit ops agree with JS int32 arithmetic', () => {
    // JS's own 32-bit operators are an independent model: shifts mask by 31,
    // Math.imul wraps, |0 and >>>0 reinterpret.
    const ref: Record<AluOp, (x: number, y: number) => number> = {
      add: (x, y) => (x + y) >>> 0,
      sub: (x, y) => (x - y) >>> 0,
      mul: (x, y) => Math.imul(x, y) >>> 0,
      div: (x, y) => (y === 0 ? 0 : Math.floor(x / y)),
      sdiv: (x, y) => (y === 0 ? 0 : Math.trunc((x | 0) / (y | 0)) >>> 0),
      or: (x, y) => (x | y) >>> 0,
      and: (x, y) => (x & y) >>> 0,
      xor: (x, y) => (x ^ y) >>> 0,
      lsh: (x, y) => (x << y) >>> 0,
      rsh: (x, y) => x >>> y,
      arsh: (x, y) => (x >> y) >>> 0,
      mod: (x, y) => (y === 0 ? x : x % y),
      smod: (x, y) => (y === 0 ? x : ((x | 0) % (y | 0)) >>> 0),
      mov: (_x, y) => y,
    };
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(ref) as AluOp[])), edgy, edgy, (op, a, b) => {
        const expected = ref[op](Number(u32(a)), Number(u32(b)));
        return ALU[op].eval32(a, b) === BigInt(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it('64-bit ops agree with independent formulas', () => {
    const TWO64 = 1n << 64n;
    const mod = (x: bigint): bigint => ((x % TWO64) + TWO64) % TWO64;
    const sign = (x: bigint): bigint => (x < 0n ? -1n : 1n);
    const abs = (x: bigint): bigint => (x < 0n ? -x : x);
    /** floor(x / 2^n) for signed x, written without >>. */
    const floorDiv = (x: bigint, d: bigint): bigint => (x >= 0n ? x / d : -((-x + d - 1n) / d));
    const ref: Record<AluOp, (a: bigint, b: bigint) => bigint> = {
      add: (a, b) => mod(a + b),
      sub: (a, b) => mod(a - b),
      mul: (a, b) => mod(a * b),
      div: (a, b) => (b === 0n ? 0n : (a - (a % b)) / b),
      sdiv: (a, b) => {
        const x = s64(a);
        const y = s64(b);
        return y === 0n ? 0n : mod(sign(x) * sign(y) * (abs(x) / abs(y)));
      },
      or: (a, b) => a | b,
      and: (a, b) => a & b,
      xor: (a, b) => a ^ b,
      lsh: (a, b) => mod(a * 2n ** (b % 64n)),
      rsh: (a, b) => a / 2n ** (b % 64n),
      arsh: (a, b) => mod(floorDiv(s64(a), 2n ** (b % 64n))),
      mod: (a, b) => (b === 0n ? a : a - b * (a / b)),
      smod: (a, b) => {
        const x = s64(a);
        const y = s64(b);
        return y === 0n ? a : mod(sign(x) * (abs(x) % abs(y)));
      },
      mov: (_a, b) => b,
    };
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(ref) as AluOp[])), edgy, edgy, (op, a, b) => {
        return ALU[op].eval64(a, b) === ref[op](a, b);
      }),
      { numRuns: 5000 },
    );
  });

  it('32-bit ops ignore the upper halves of both operands', () => {
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(ALU) as AluOp[])), edgy, edgy, arbU64, arbU64, (op, a, b, ha, hb) => {
        const a2 = u64((ha << 32n) | u32(a));
        const b2 = u64((hb << 32n) | u32(b));
        return ALU[op].eval32(a, b) === ALU[op].eval32(a2, b2);
      }),
    );
  });
});

describe('movsx and neg', () => {
  it('movsx 64-bit class extends 8/16/32 bits to 64', () => {
    expect(movsx(0x80n, 8, 64)).toBe(0xffff_ffff_ffff_ff80n);
    expect(movsx(0x17fn, 8, 64)).toBe(0x7fn);
    expect(movsx(0x8000n, 16, 64)).toBe(0xffff_ffff_ffff_8000n);
    expect(movsx(0xffff_ffff_8000_0000n, 32, 64)).toBe(0xffff_ffff_8000_0000n);
    expect(movsx(0x1_7fff_ffffn, 32, 64)).toBe(0x7fff_ffffn);
  });
  it('movsx 32-bit class extends into 32 bits, then zero-extends', () => {
    expect(movsx(0x80n, 8, 32)).toBe(0xffff_ff80n);
    expect(movsx(0x8000n, 16, 32)).toBe(0xffff_8000n);
    expect(movsx(0xffff_ffff_ffff_007fn, 8, 32)).toBe(0x7fn);
  });
  it('neg', () => {
    expect(neg(0n, 64)).toBe(0n);
    expect(neg(1n, 64)).toBe(NEG1);
    expect(neg(INT64_MIN, 64)).toBe(INT64_MIN);
    expect(neg(1n, 32)).toBe(0xffff_ffffn);
    expect(neg(INT32_MIN, 32)).toBe(INT32_MIN);
    expect(neg(1n << 32n, 32)).toBe(0n);
    expect(neg(0x1_0000_0005n, 32)).toBe(0xffff_fffbn);
  });
  it('neg agrees with 0 - x', () => {
    fc.assert(fc.property(edgy, (a) => neg(a, 64) === ALU.sub.eval64(0n, a) && neg(a, 32) === ALU.sub.eval32(0n, a)));
  });
});

/** [a, b, expected for test64, expected for test32]. */
const JMP_CASES: Record<JmpCond, ReadonlyArray<readonly [bigint, bigint, boolean, boolean]>> = {
  jeq: [[1n, 1n, true, true], [1n, 2n, false, false], [0x1_0000_0001n, 1n, false, true]],
  jne: [[1n, 1n, false, false], [1n, 2n, true, true], [0x1_0000_0001n, 1n, true, false]],
  jgt: [[2n, 1n, true, true], [NEG1, 0n, true, true], [1n << 32n, 1n, true, false], [1n, 1n, false, false]],
  jge: [[1n, 1n, true, true], [0n, 1n, false, false], [1n << 32n, 1n, true, false]],
  jlt: [[0n, 1n, true, true], [1n, NEG1, true, true], [1n, 1n << 32n, true, false]],
  jle: [[1n, 1n, true, true], [2n, 1n, false, false], [1n, 0x1_0000_0000n, true, false]],
  jset: [[0b1010n, 0b0010n, true, true], [0b1010n, 0b0101n, false, false], [1n << 32n, 1n << 32n, true, false]],
  jsgt: [[1n, NEG1, true, true], [NEG1, 1n, false, false], [INT64_MAX, INT64_MIN, true, false], [INT32_MAX, INT32_MIN, false, true], [0x8000_0000n, 0n, true, false]],
  jsge: [[NEG1, NEG1, true, true], [INT64_MIN, 0n, false, true], [INT32_MIN, 0n, true, false]],
  jslt: [[NEG1, 0n, true, true], [0n, NEG1, false, false], [INT32_MIN, 0n, false, true]],
  jsle: [[NEG1, NEG1, true, true], [0n, NEG1, false, false], [INT32_MIN, 1n, false, true]],
};

describe('JMP table', () => {
  for (const [cond, cases] of Object.entries(JMP_CASES) as [JmpCond, (typeof JMP_CASES)[JmpCond]][]) {
    it(`${cond}: edge constants`, () => {
      for (const [a, b, t64, t32] of cases) {
        expect(JMP[cond].test64(a, b), `${cond}(0x${a.toString(16)}, 0x${b.toString(16)})`).toBe(t64);
        expect(JMP[cond].test32(a, b), `${cond}32(0x${a.toString(16)}, 0x${b.toString(16)})`).toBe(t32);
        expect(testJmp(cond, 64, a, b)).toBe(t64);
        expect(testJmp(cond, 32, a, b)).toBe(t32);
      }
    });
  }

  it('32-bit conditions agree with JS number comparisons', () => {
    const ref: Record<JmpCond, (x: number, y: number) => boolean> = {
      jeq: (x, y) => x === y,
      jne: (x, y) => x !== y,
      jgt: (x, y) => x > y,
      jge: (x, y) => x >= y,
      jlt: (x, y) => x < y,
      jle: (x, y) => x <= y,
      jset: (x, y) => (x & y) !== 0,
      jsgt: (x, y) => (x | 0) > (y | 0),
      jsge: (x, y) => (x | 0) >= (y | 0),
      jslt: (x, y) => (x | 0) < (y | 0),
      jsle: (x, y) => (x | 0) <= (y | 0),
    };
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(ref) as JmpCond[])), edgy, edgy, (cond, a, b) =>
        JMP[cond].test32(a, b) === ref[cond](Number(u32(a)), Number(u32(b))),
      ),
      { numRuns: 3000 },
    );
  });

  it('64-bit signed conditions agree with comparing offset values', () => {
    // Adding 2^63 maps signed order onto unsigned order.
    const flip = (x: bigint): bigint => (x + INT64_MIN) % (1n << 64n);
    fc.assert(
      fc.property(edgy, edgy, (a, b) =>
        JMP.jsgt.test64(a, b) === flip(a) > flip(b) &&
        JMP.jsge.test64(a, b) === flip(a) >= flip(b) &&
        JMP.jslt.test64(a, b) === flip(a) < flip(b) &&
        JMP.jsle.test64(a, b) === flip(a) <= flip(b),
      ),
    );
  });

  it('negations pair up', () => {
    fc.assert(
      fc.property(edgy, edgy, fc.constantFrom(32, 64) as fc.Arbitrary<32 | 64>, (a, b, w) =>
        testJmp('jeq', w, a, b) !== testJmp('jne', w, a, b) &&
        testJmp('jgt', w, a, b) !== testJmp('jle', w, a, b) &&
        testJmp('jge', w, a, b) !== testJmp('jlt', w, a, b) &&
        testJmp('jsgt', w, a, b) !== testJmp('jsle', w, a, b) &&
        testJmp('jsge', w, a, b) !== testJmp('jslt', w, a, b),
      ),
    );
  });
});

describe('byte order', () => {
  it('bswap/be swap then truncate', () => {
    expect(bswap(0x1122n, 16)).toBe(0x2211n);
    expect(bswap(0xaabb_1122n, 16)).toBe(0x2211n);
    expect(bswap(0x1122_3344n, 32)).toBe(0x4433_2211n);
    expect(bswap(0xffff_ffff_1122_3344n, 32)).toBe(0x4433_2211n);
    expect(bswap(0x1122_3344_5566_7788n, 64)).toBe(0x8877_6655_4433_2211n);
    expect(be(0x1122_3344_5566_7788n, 16)).toBe(0x8877n);
    expect(be(0x1122_3344_5566_7788n, 32)).toBe(0x8877_6655n);
    expect(be(0x1122_3344_5566_7788n, 64)).toBe(0x8877_6655_4433_2211n);
  });
  it('le truncates (zero-extends)', () => {
    expect(le(0x1122_3344_5566_7788n, 16)).toBe(0x7788n);
    expect(le(0x1122_3344_5566_7788n, 32)).toBe(0x5566_7788n);
    expect(le(0x1122_3344_5566_7788n, 64)).toBe(0x1122_3344_5566_7788n);
  });
  it('bswap agrees with DataView in both byte orders', () => {
    const dv = new DataView(new ArrayBuffer(8));
    fc.assert(
      fc.property(arbU64, (x) => {
        dv.setBigUint64(0, x, true);
        const r64 = dv.getBigUint64(0, false);
        dv.setUint32(0, Number(u32(x)), true);
        const r32 = BigInt(dv.getUint32(0, false));
        dv.setUint16(0, Number(x & 0xffffn), true);
        const r16 = BigInt(dv.getUint16(0, false));
        return bswap(x, 64) === r64 && bswap(x, 32) === r32 && bswap(x, 16) === r16;
      }),
    );
  });
  it('bswap is an involution on the truncated value', () => {
    fc.assert(
      fc.property(arbU64, fc.constantFrom(16, 32, 64) as fc.Arbitrary<16 | 32 | 64>, (x, w) =>
        bswap(bswap(x, w), w) === BigInt.asUintN(w, x),
      ),
    );
  });
  it('byteOrderOf reads the spec', () => {
    const at = (opcode: number, imm: number) => lookupSpec({ opcode, dst: 0, src: 0, off: 0, imm })!;
    expect(byteOrderOf(at(0xd4, 16))).toBe('le');
    expect(byteOrderOf(at(0xdc, 32))).toBe('be');
    expect(byteOrderOf(at(0xd7, 64))).toBe('bswap');
    expect(byteOrderOf(at(0x07, 0))).toBeUndefined();
    expect(BYTE_ORDER.be).toBe(be);
  });
});

describe('atomics', () => {
  it('read-modify-write ops truncate to the width', () => {
    expect(atomicOp('add', 1n, 2n, 64)).toBe(3n);
    expect(atomicOp('add', NEG1, 1n, 64)).toBe(0n);
    expect(atomicOp('add', 0xffff_ffffn, 1n, 32)).toBe(0n);
    expect(atomicOp('add', 5n, NEG1, 32)).toBe(4n);
    expect(atomicOp('or', 0xf0n, 0x0fn, 64)).toBe(0xffn);
    expect(atomicOp('or', 0n, NEG1, 32)).toBe(0xffff_ffffn);
    expect(atomicOp('and', 0xf0n, 0x3cn, 64)).toBe(0x30n);
    expect(atomicOp('and', 0xffff_ffffn, NEG1, 32)).toBe(0xffff_ffffn);
    expect(atomicOp('xor', 0xffn, 0x0fn, 64)).toBe(0xf0n);
    expect(atomicOp('xor', 0n, 0x1_0000_0001n, 32)).toBe(1n);
    expect(atomicOp('xchg', 7n, 9n, 64)).toBe(9n);
    expect(atomicOp('xchg', 7n, 0x1_0000_0009n, 32)).toBe(9n);
  });
  it('cmpxchg compares the low 32 bits of r0 for W', () => {
    expect(cmpxchgMatches(5n, 5n, 64)).toBe(true);
    expect(cmpxchgMatches(5n, 0x1_0000_0005n, 64)).toBe(false);
    expect(cmpxchgMatches(5n, 0x1_0000_0005n, 32)).toBe(true);
    expect(cmpxchgMatches(5n, 6n, 32)).toBe(false);
  });
});

describe('code addresses', () => {
  it('round-trip and reject everything else', () => {
    expect(codeAddress(0)).toBe(CODE_ADDRESS_BASE);
    expect(codeTarget(codeAddress(17))).toBe(17);
    expect(codeTarget(BigInt(codeAddress(17)))).toBe(17);
    expect(codeTarget(0n)).toBeUndefined();
    expect(codeTarget(BigInt(CODE_ADDRESS_BASE) - 1n)).toBeUndefined();
    expect(codeTarget(0x1_0000_0000n)).toBeUndefined();
    expect(codeTarget(BigInt(CODE_ADDRESS_BASE) + (1n << 32n))).toBeUndefined();
    expect(codeTarget(NEG1)).toBeUndefined();
    expect(codeTarget(CODE_ADDRESS_BASE + 0.5)).toBeUndefined();
  });
});
