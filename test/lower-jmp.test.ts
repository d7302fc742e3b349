// Runs the lowered condition of every conditional jump (every condition,
// width and source) on edge values and random u64 pairs and compares with
// lib/ops.ts's testJmp. The condition must evaluate to a boolean.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OPCODES, type Instruction, type OpSpec } from '../lib/isa.js';
import { immOperand, testJmp } from '../lib/ops.js';
import { lowerCondition } from '../codegen/lower-jmp.js';
import { ret } from '../codegen/ast.js';
import type { LowerContext } from '../codegen/context.js';
import { generate } from 'astring';
import { runSnippet, split, type Regs } from './jit-harness.js';

const M64 = (1n << 64n) - 1n;
const M32 = 0xffff_ffffn;
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

const ctx: LowerContext = {
  program: { insns: [], byPc: [], slotCount: 0, functions: [0], helpersUsed: new Set() },
  options: { budget: false, unwindHelper: undefined, helperIds: new Set() },
};

const EDGE: readonly bigint[] = [
  0n, 1n, 2n, M64, u64(-2n), 0x7fff_ffffn, 0x8000_0000n, 0x8000_0001n, M32, 1n << 32n, (1n << 32n) + 1n,
  1n << 63n, (1n << 63n) - 1n, (1n << 63n) + 1n, u64(-0x8000_0000n), u64(-0x8000_0001n), 0xffff_ffff_0000_0000n,
  0x1234_5678_9abc_def0n,
];
const IMM_EDGE: readonly number[] = [0, 1, -1, 2, -2, 0x7fff_ffff, -0x8000_0000, 0x7fff_fffe, -0x7fff_ffff, 100, -100];

const arbU64 = fc.oneof(
  fc.bigInt({ min: 0n, max: M64 }),
  fc.bigInt({ min: 0n, max: M32 }),
  fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }).map((x) => u64(BigInt(x))),
  fc.constantFrom(...EDGE),
);
/** Pairs that often agree in one half, so the tie-breaking half is exercised. */
const arbPair = fc.tuple(arbU64, arbU64, fc.nat(3)).map(([a, b, k]): [bigint, bigint] => {
  switch (k) {
    case 0: return [a, a];
    case 1: return [a, (a & ~M32 & M64) | (b & M32)];
    case 2: return [a, (b & ~M32 & M64) | (a & M32)];
    default: return [a, b];
  }
});
const arbImm = fc.oneof(fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }), fc.integer({ min: -3, max: 3 }), fc.constantFrom(...IMM_EDGE));
const RUNS = { seed: 0x5eed, numRuns: 200 };
const R10 = 0x8000_1200;

function insnOf(spec: OpSpec, f: Partial<Pick<Instruction, 'dst' | 'src' | 'imm'>> = {}): Instruction {
  return {
    opcode: spec.opcode, dst: f.dst ?? 1, src: f.src ?? (spec.source === 'reg' ? 2 : 0), off: 3, imm: f.imm ?? 0, imm2: 0, pc: 0, spec,
  };
}

/** Evaluates the condition with the given registers (r10 fixed above 2^31). */
function taken(insn: Instruction, values: ReadonlyMap<number, bigint>): unknown {
  const init: Regs = { r10: R10 };
  for (const [r, v] of values) Object.assign(init, split(r, v));
  return runSnippet([ret(lowerCondition(ctx, insn))], init).returned;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const width = (s: OpSpec): 32 | 64 => (s.width === 32 ? 32 : 64);
const JCOND = OPCODES.filter((s) => s.kind === 'jcond');

describe('jcond, register source', () => {
  for (const spec of JCOND.filter((s) => s.source === 'reg')) {
    const cond = spec.jmp!;
    const insn = insnOf(spec);
    const check = (a: bigint, b: bigint): void => {
      const got = taken(insn, new Map([[1, a], [2, b]]));
      if (got !== testJmp(cond, width(spec), a, b)) expect.fail(`${spec.mnemonic} ${hex(a)}, ${hex(b)}: got ${String(got)}`);
    };
    it(`${spec.mnemonic} reg: edge values`, () => {
      for (const a of EDGE) for (const b of EDGE) check(a, b);
    });
    it(`${spec.mnemonic} reg: random pairs`, () => {
      fc.assert(fc.property(arbPair, ([a, b]) => check(a, b)), RUNS);
    });
    it(`${spec.mnemonic} reg: dst is src, and r10 on either side`, () => {
      for (const a of EDGE) {
        expect(taken(insnOf(spec, { dst: 3, src: 3 }), new Map([[3, a]]))).toBe(testJmp(cond, width(spec), a, a));
        expect(taken(insnOf(spec, { src: 10 }), new Map([[1, a]])), `src r10 ${hex(a)}`).toBe(testJmp(cond, width(spec), a, BigInt(R10)));
        expect(taken(insnOf(spec, { dst: 10, src: 1 }), new Map([[1, a]])), `dst r10 ${hex(a)}`).toBe(testJmp(cond, width(spec), BigInt(R10), a));
      }
    });
  }
});

describe('jcond, immediate source', () => {
  for (const spec of JCOND.filter((s) => s.source === 'imm')) {
    const cond = spec.jmp!;
    const check = (imm: number, a: bigint): void => {
      const got = taken(insnOf(spec, { imm }), new Map([[1, a]]));
      // JMP sign-extends imm to 64 bits; JMP32 compares its low 32 bits, which are the same.
      if (got !== testJmp(cond, width(spec), a, immOperand(imm))) expect.fail(`${spec.mnemonic} ${hex(a)}, imm ${imm}: got ${String(got)}`);
    };
    it(`${spec.mnemonic} imm: edge values`, () => {
      for (const imm of IMM_EDGE) {
        // Values next to the immediate, in both halves.
        const near = [immOperand(imm), u64(immOperand(imm) + 1n), u64(immOperand(imm) - 1n), immOperand(imm) & M32, immOperand(imm) ^ (1n << 32n)];
        for (const a of [...EDGE, ...near]) check(imm, a);
      }
      for (const imm of IMM_EDGE) {
        expect(taken(insnOf(spec, { dst: 10, imm }), new Map())).toBe(testJmp(cond, width(spec), BigInt(R10), immOperand(imm)));
      }
    });
    it(`${spec.mnemonic} imm: random values`, () => {
      fc.assert(fc.property(arbImm, arbU64, check), RUNS);
    });
  }
});

describe('folding', () => {
  const text = (mnemonic: string, source: 'reg' | 'imm', imm = 0): string =>
    generate(lowerCondition(ctx, insnOf(JCOND.find((s) => s.mnemonic === mnemonic && s.source === source)!, { imm })));
  it('folds literal halves of immediates', () => {
    expect(text('jeq', 'imm')).toBe('(r1 | r1h) === 0');
    expect(text('jne', 'imm')).toBe('(r1 | r1h) !== 0');
    expect(text('jgt', 'imm')).toBe('(r1 | r1h) !== 0');
    expect(text('jge', 'imm')).toBe('true');
    expect(text('jslt', 'imm')).toBe('r1h < 0');
    expect(text('jsge', 'imm')).toBe('r1h >= 0');
    expect(text('jlt', 'imm', 100)).toBe('r1h === 0 && r1 >>> 0 < 100');
    expect(text('jgt', 'imm', 100)).toBe('r1h !== 0 || r1 >>> 0 > 100');
    expect(text('jset', 'imm', 8)).toBe('(r1 & 8) !== 0');
    expect(text('jeq32', 'imm', -1)).toBe('r1 === -1');
    expect(text('jlt32', 'imm', 5)).toBe('r1 >>> 0 < 5');
  });
  it('compares register pairs high half first', () => {
    expect(text('jgt', 'reg')).toBe('r1h >>> 0 > r2h >>> 0 || r1h === r2h && r1 >>> 0 > r2 >>> 0');
    expect(text('jsle', 'reg')).toBe('r1h < r2h || r1h === r2h && r1 >>> 0 <= r2 >>> 0');
    expect(text('jset', 'reg')).toBe('(r1 & r2 | r1h & r2h) !== 0');
  });
});
