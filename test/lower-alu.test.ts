// Runs the lowered code of every ALU-class instruction (every op, width and
// source; movsx, neg, end/bswap, lddw) on edge values and random u64 pairs,
// and compares with lib/ops.ts. Also checks that every register local stays
// an int32 (never a double, never -0) and that no other register changes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OPCODES, type Instruction, type OpSpec } from '../lib/isa.js';
import { BYTE_ORDER, byteOrderOf, evalAlu, immOperand, movsx, neg } from '../lib/ops.js';
import { codeAddress } from '../lib/code-address.js';
import { lowerAlu } from '../codegen/lower-alu.js';
import { div64, mod64, sdiv64, smod64 } from '../codegen/arith64.js';
import type { LowerContext } from '../codegen/context.js';
import { generate } from 'astring';
import { join, runSnippet, split, type Regs } from './jit-harness.js';

const M64 = (1n << 64n) - 1n;
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

const RET = new Int32Array(2);
const RT = {
  RET,
  DIV64: (a: number, b: number, c: number, d: number) => div64(a, b, c, d, RET),
  MOD64: (a: number, b: number, c: number, d: number) => mod64(a, b, c, d, RET),
  SDIV64: (a: number, b: number, c: number, d: number) => sdiv64(a, b, c, d, RET),
  SMOD64: (a: number, b: number, c: number, d: number) => smod64(a, b, c, d, RET),
};

const ctx: LowerContext = {
  program: { insns: [], byPc: [], slotCount: 0, functions: [0], helpersUsed: new Set() },
  options: { budget: false, unwindHelper: undefined, helperIds: new Set() },
};

/** u64 edge values: 0, ±1, INT32/INT64 MIN/MAX, 2^32 neighbours, shift amounts 31..64. */
const EDGE: readonly bigint[] = [
  0n, 1n, 2n, 3n, 7n, 31n, 32n, 33n, 63n, 64n, M64, u64(-2n), u64(-7n),
  0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 1n << 32n, (1n << 32n) + 1n, (1n << 32n) + 7n,
  1n << 63n, (1n << 63n) - 1n, u64(-0x8000_0000n), 0x1234_5678_9abc_def0n, 0xffff_0000_0000_0001n,
];

/** imm edge values (s32): shift amounts in and out of range, powers of two, INT32 MIN/MAX. */
const IMM_EDGE: readonly number[] = [
  0, 1, -1, 2, -2, 3, 7, -7, 8, -8, 10, 31, 32, 33, 60, 63, 64, -4, 0xffff, 0x10000, 1 << 21, (1 << 21) + 1,
  1 << 30, 100000007, 0x7fff_ffff, -0x8000_0000,
];

/** u64 values of every shape the code paths care about (not only uniform 64-bit noise). */
const arbU64 = fc.oneof(
  fc.bigInt({ min: 0n, max: M64 }),
  fc.bigInt({ min: 0n, max: 0xffff_ffffn }),
  fc.bigInt({ min: 0n, max: 100n }),
  fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }).map((x) => u64(BigInt(x))),
  fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
  fc.constantFrom(...EDGE),
);
const arbImm = fc.oneof(fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }), fc.integer({ min: -70, max: 70 }), fc.constantFrom(...IMM_EDGE));
const RUNS = { seed: 0x5eed, numRuns: 200 };

/** An r10 above 2^31, so the frame pointer's local is not an int32. */
const R10 = 0x8000_1200;

function insnOf(spec: OpSpec, f: Partial<Pick<Instruction, 'dst' | 'src' | 'imm' | 'imm2' | 'pc'>> = {}): Instruction {
  const fixed = (rule: OpSpec['fields']['off']): number => (typeof rule === 'number' ? rule : 0);
  return {
    opcode: spec.opcode,
    dst: f.dst ?? 1,
    src: f.src ?? (spec.source === 'reg' ? 2 : fixed(spec.fields.src)),
    off: fixed(spec.fields.off),
    imm: f.imm ?? fixed(spec.fields.imm),
    imm2: f.imm2 ?? 0,
    pc: f.pc ?? 0,
    spec,
  };
}

/** Background values of all registers, so a stray write shows. */
function background(): Map<number, bigint> {
  const m = new Map<number, bigint>();
  for (let r = 0; r < 10; r++) m.set(r, 0x0101_0101_0101_0101n * BigInt(r + 1) ^ 0x8000_0000_8000_0000n);
  return m;
}

/** Runs the lowered instruction with the given register values; checks int32-ness and that only dst changed. */
function exec(insn: Instruction, values: ReadonlyMap<number, bigint>): bigint {
  const regs = background();
  for (const [r, v] of values) regs.set(r, v);
  const init: Regs = { r10: R10 };
  for (const [r, v] of regs) Object.assign(init, split(r, v));
  const out = runSnippet(lowerAlu(ctx, insn), init, RT);
  for (let r = 0; r < 10; r++) {
    for (const name of [`r${r}`, `r${r}h`]) {
      const x = out[name];
      // Non-int32 values (doubles, -0) in register locals deoptimize V8.
      if (!Object.is(x, (x ?? NaN) | 0)) throw new Error(`${insn.spec.mnemonic}: ${name} = ${x} is not an int32`);
    }
    if (r !== insn.dst) expect(join(out, r), `r${r} changed`).toBe(regs.get(r));
  }
  expect(out.r10).toBe(R10);
  return join(out, insn.dst);
}

const ALU_SPECS = OPCODES.filter((s) => s.kind === 'alu');
const width = (s: OpSpec): 32 | 64 => (s.width === 32 ? 32 : 64);
const label = (s: OpSpec): string => `${s.mnemonic} ${s.source}`;
const hex = (v: bigint): string => `0x${v.toString(16)}`;

describe('alu, register source', () => {
  for (const spec of ALU_SPECS.filter((s) => s.source === 'reg')) {
    const op = spec.alu!;
    const check = (insn: Instruction, a: bigint, b: bigint): void => {
      const got = exec(insn, new Map([[insn.dst, a], [insn.src, b]]));
      const want = evalAlu(op, width(spec), a, b);
      if (got !== want) expect.fail(`${label(spec)} ${hex(a)}, ${hex(b)}: got ${hex(got)}, want ${hex(want)}`);
    };
    it(`${label(spec)}: edge values`, () => {
      const insn = insnOf(spec);
      for (const a of EDGE) for (const b of EDGE) check(insn, a, b);
    });
    it(`${label(spec)}: random u64 pairs`, () => {
      const insn = insnOf(spec);
      fc.assert(fc.property(arbU64, arbU64, (a, b) => check(insn, a, b)), RUNS);
    });
    it(`${label(spec)}: src is dst`, () => {
      const insn = insnOf(spec, { dst: 3, src: 3 });
      for (const a of EDGE) {
        const got = exec(insn, new Map([[3, a]]));
        expect(got, hex(a)).toBe(evalAlu(op, width(spec), a, a));
      }
    });
    it(`${label(spec)}: r10 as source`, () => {
      const insn = insnOf(spec, { src: 10 });
      for (const a of EDGE) {
        const got = exec(insn, new Map([[1, a]]));
        expect(got, hex(a)).toBe(evalAlu(op, width(spec), a, BigInt(R10)));
      }
    });
  }
});

describe('alu, immediate source', () => {
  for (const spec of ALU_SPECS.filter((s) => s.source === 'imm')) {
    const op = spec.alu!;
    const check = (imm: number, a: bigint): void => {
      const got = exec(insnOf(spec, { imm }), new Map([[1, a]]));
      const want = evalAlu(op, width(spec), a, immOperand(imm));
      if (got !== want) expect.fail(`${label(spec)} ${hex(a)}, imm ${imm}: got ${hex(got)}, want ${hex(want)}`);
    };
    it(`${label(spec)}: edge values`, () => {
      for (const imm of IMM_EDGE) for (const a of EDGE) check(imm, a);
    });
    it(`${label(spec)}: random values`, () => {
      fc.assert(fc.property(arbImm, arbU64, check), RUNS);
    });
  }
});

describe('movsx, neg, end/bswap', () => {
  const arbAll = fc.oneof(arbU64, fc.bigInt({ min: 0n, max: 0xffffn }), fc.bigInt({ min: 0n, max: 0xffn }));
  for (const spec of OPCODES.filter((s) => s.kind === 'movsx')) {
    const insn = insnOf(spec);
    const check = (v: bigint): void => {
      expect(exec(insn, new Map([[2, v]])), hex(v)).toBe(movsx(v, spec.fields.off as number, width(spec)));
    };
    it(`${spec.mnemonic}`, () => {
      for (const v of [...EDGE, 0x80n, 0x7fn, 0xff7fn, 0x8000n, 0x7fffn, 0x1_0000_8080n]) check(v);
      fc.assert(fc.property(arbAll, check), RUNS);
      for (const v of EDGE) {
        expect(exec(insnOf(spec, { dst: 4, src: 4 }), new Map([[4, v]])), `alias ${hex(v)}`).toBe(movsx(v, spec.fields.off as number, width(spec)));
      }
      expect(exec(insnOf(spec, { src: 10 }), new Map())).toBe(movsx(BigInt(R10), spec.fields.off as number, width(spec)));
    });
  }
  for (const spec of OPCODES.filter((s) => s.kind === 'neg')) {
    const insn = insnOf(spec);
    const check = (v: bigint): void => {
      expect(exec(insn, new Map([[1, v]])), hex(v)).toBe(neg(v, width(spec)));
    };
    it(spec.mnemonic, () => {
      EDGE.forEach(check);
      fc.assert(fc.property(arbAll, check), RUNS);
    });
  }
  for (const spec of OPCODES.filter((s) => s.kind === 'end' || s.kind === 'bswap')) {
    const insn = insnOf(spec);
    const fn = BYTE_ORDER[byteOrderOf(spec)!];
    const check = (v: bigint): void => {
      expect(exec(insn, new Map([[1, v]])), hex(v)).toBe(fn(v, spec.width as 16 | 32 | 64));
    };
    it(`${spec.mnemonic} (${spec.kind})`, () => {
      EDGE.forEach(check);
      check(0x0102_0304_0506_0708n);
      fc.assert(fc.property(arbAll, check), RUNS);
    });
  }
});

describe('lddw', () => {
  const imm64 = OPCODES.find((s) => s.kind === 'lddw' && s.lddwSrc === 0)!;
  const func = OPCODES.find((s) => s.kind === 'lddw' && s.lddwSrc === 4)!;
  it('src 0: the 64-bit constant', () => {
    const check = (imm: number, imm2: number): void => {
      const want = (BigInt(imm2 >>> 0) << 32n) | BigInt(imm >>> 0);
      expect(exec(insnOf(imm64, { imm, imm2 }), new Map()), `${imm}, ${imm2}`).toBe(want);
    };
    for (const imm of IMM_EDGE) for (const imm2 of IMM_EDGE) check(imm, imm2);
    fc.assert(fc.property(arbImm, arbImm, check), RUNS);
  });
  it('src 4: the code address of pc + 1 + imm, high half 0', () => {
    for (const [pc, imm] of [[0, 1], [10, 5], [10, -11], [100, 0], [3, 1000]] as const) {
      expect(exec(insnOf(func, { pc, imm }), new Map())).toBe(BigInt(codeAddress(pc + 1 + imm)));
    }
  });
  it('other srcs are not compiled', () => {
    const mapFd = OPCODES.find((s) => s.kind === 'lddw' && s.lddwSrc === 1)!;
    expect(() => lowerAlu(ctx, insnOf(mapFd, { imm: 3 }))).toThrow(/lddw src 1/);
  });
});

describe('arith64 slow paths', () => {
  const cases = [
    ['div', div64], ['mod', mod64], ['sdiv', sdiv64], ['smod', smod64],
  ] as const;
  // Divisors of 2^32 and up take the estimate-and-correct path: near its edges
  // (quotients 0..3, divisors near 2^32, 2^63, 2^64 / 3, dividends near multiples).
  const arbWide = fc.oneof(
    fc.bigInt({ min: 1n << 32n, max: M64 }),
    fc.bigInt({ min: -3n, max: 3n }).map((d) => (1n << 32n) + d + 3n),
    fc.bigInt({ min: -3n, max: 3n }).map((d) => (1n << 63n) + d),
    fc.bigInt({ min: -3n, max: 3n }).map((d) => M64 / 3n + d),
  );
  const arbDivisor = fc.oneof(arbU64, fc.bigInt({ min: 1n, max: 0xffff_ffffn }), fc.constantFrom(0n, 1n, M64, 1n << 32n), arbWide);
  const arbNearMultiple = fc.tuple(arbWide, fc.bigInt({ min: 0n, max: 0xffff_ffffn }), fc.bigInt({ min: -2n, max: 2n }))
    .map(([b, q, d]) => [u64(b * q + d), b] as const);
  for (const [op, f] of cases) {
    it(`${op}64 against lib/ops`, () => {
      const check = (a: bigint, b: bigint): void => {
        const ret = new Int32Array(2);
        const lo = f(Number(a & 0xffff_ffffn) | 0, Number(a >> 32n) | 0, Number(b & 0xffff_ffffn) | 0, Number(b >> 32n) | 0, ret);
        expect(Object.is(lo, lo | 0)).toBe(true);
        const got = (BigInt(ret[1]! >>> 0) << 32n) | BigInt(lo >>> 0);
        expect(got, `${hex(a)} ${op} ${hex(b)}`).toBe(evalAlu(op, 64, a, b));
      };
      for (const a of EDGE) for (const b of EDGE) check(a, b);
      fc.assert(fc.property(arbU64, arbDivisor, check), { seed: 0x5eed, numRuns: 2000 });
      fc.assert(fc.property(arbNearMultiple, ([a, b]) => check(a, b)), { seed: 0x5eed, numRuns: 2000 });
    });
  }
});

describe('constant folding', () => {
  const text = (mnemonic: string, imm: number): string =>
    lowerAlu(ctx, insnOf(ALU_SPECS.find((s) => s.mnemonic === mnemonic && s.source === 'imm')!, { imm })).map((s) => generate(s)).join(' ');
  it('turns immediates into literals', () => {
    expect(text('mov', -5)).toBe('r1 = -5; r1h = -1;');
    expect(text('mov32', -5)).toBe('r1 = -5; r1h = 0;');
    expect(text('and', 0xff)).toBe('r1 = r1 & 255; r1h = 0;');
    expect(text('or', 0)).toBe('');
    expect(text('xor', -1)).toBe('r1 = ~r1; r1h = ~r1h;');
    expect(text('lsh', 32)).toBe('r1h = r1; r1 = 0;');
    expect(text('rsh', 64)).toBe('');
    expect(text('div', 0)).toBe('r1 = 0; r1h = 0;');
    expect(text('mod', 0)).toBe('');
    expect(text('mod32', 0)).toBe('r1h = 0;');
    expect(text('div', 8)).toBe('r1 = r1 >>> 3 | r1h << 29; r1h = r1h >>> 3;');
    expect(text('mul32', 4)).toBe('r1 = r1 << 2; r1h = 0;');
  });
  it('multiplies halves by a power of two with a shift', () => {
    // imm -2^31: lo = 2^31 (as uint32), hi = -1; ah * 2^31 is ah << 31, al * 2^31 is al << 31.
    // The high half of al * 2^31 is al >>> 1: no multiply at all.
    expect(text('mul', -0x8000_0000)).toBe('r1h = (r1 >>> 1) + (-r1 | 0) + (r1h << 31) | 0; r1 = r1 << 31;');
  });
});
