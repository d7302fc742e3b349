// codegen/lower-call.ts and codegen/runtime.ts against the reference
// interpreter: helper calls (arguments, result normalization, errors,
// unwind-on-success), local calls (registers, frames, depth limit), callx to
// functions, helpers and garbage, the budget check, and early ends from any
// depth. Each case runs the same program on both engines
// (test/lower-world.ts); expected values come from the interpreter.
import { generate } from 'astring';
import { describe, expect, it } from 'vitest';
import { budgetCheck, lowerCall, lowerExit } from '../codegen/lower-call.js';
import { createRuntime } from '../codegen/runtime.js';
import type { CompileOptions } from '../codegen/context.js';
import { codeAddress } from '../lib/code-address.js';
import { MemoryAccessError } from '../lib/errors.js';
import type { HelperContext, HelperFn } from '../lib/runtime.js';
import { assembleProgram, both, makeWorld, runLowered, type Outcome, type RunSetup } from './lower-world.js';
import { runSnippet, split } from './jit-harness.js';

const hex = (v: bigint | number): string => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
const lddw = (reg: number, v: bigint | number): string => `lddw %r${reg}, ${hex(v)}`;

const UNWIND = 10;

/** Helpers with every kind of result: each is pure, as the reference runs a program several times. */
const HELPERS = new Map<number, HelperFn>([
  // A 64-bit mix of all five arguments (wraps: normalization makes it u64).
  [1, (a, b, c, d, e) => a + b * 2n + c * 3n + d * 4n + (e << 40n)],
  [2, () => -1],
  [3, () => 2 ** 40 + 3],
  [4, () => undefined],
  [5, () => null as unknown as number],
  [6, () => 2 ** 60],
  [7, () => { throw new Error('boom'); }],
  [8, () => { throw 'a string'; }],
  // A helper's own bad memory access keeps its class and the call's pc.
  [9, (a, _b, _c, _d, _e, ctx: HelperContext) => ctx.memory.load(a, 8, ctx.pc)],
  // Returns r1: the unwind helper of these tests (like the conformance suite's 5).
  [UNWIND, (a) => a],
  [11, () => -(2n ** 63n)],
  // (12 is bpf_tail_call, which the engines do themselves.)
  [19, () => 1.5],
  [13, () => { throw { toString() { throw new Error('nope'); } }; }],
  [14, () => -(2 ** 53) + 1],
  [15, () => 2n ** 70n + 5n],
  // Echoes the context: id in the high half, pc in the low half.
  [16, (_a, _b, _c, _d, _e, ctx: HelperContext) => (BigInt(ctx.id) << 32n) | BigInt(ctx.pc)],
  [17, () => 0x80000000],
  [18, () => 'text' as unknown as number],
]);

function same(main: string, funcs = '', setup: RunSetup = {}): Outcome {
  const { ref, jit } = both(main, funcs, { helpers: HELPERS, ...setup });
  expect(jit).toEqual(ref);
  return ref;
}

/** r1..r5 with both halves busy, so argument passing shows every bit. */
const ARGS = [
  lddw(1, 0x0123456789abcdefn), lddw(2, 0xfedcba9876543210n), lddw(3, 0x8000000000000001n),
  lddw(4, 0x00000000ffffffffn), lddw(5, 0xffffffff00000000n),
].join('\n');

describe('helper calls', () => {
  for (const id of [1, 2, 3, 4, 11, 14, 15, 16, 17]) {
    it(`helper ${id}: r0 is the normalized result, r1..r9 are kept`, () => {
      const ref = same(`${ARGS}\n${lddw(7, 0x77n)}\ncall ${id}`);
      expect(ref.regs).toBeDefined();
    });
  }
  for (const [id, message] of [[5, 'null'], [6, 'not a safe integer'], [19, 'not a safe integer'], [18, 'string'], [7, 'boom'], [8, 'a string'], [13, 'cannot be printed']] as const) {
    it(`helper ${id}: HelperError (${message})`, () => {
      const ref = same(`${ARGS}\ncall ${id}`);
      expect(ref.error).toMatchObject({ name: 'HelperError', code: 'HELPER', pc: 10, helper: id, message: expect.stringContaining(message) });
    });
  }
  it('an EbpfError thrown by a helper passes through unchanged', () => {
    const ref = same(`${lddw(1, 0)}\ncall 9`);
    expect(ref.error).toMatchObject({ name: 'MemoryAccessError', pc: 2, address: 0n });
    same(`${lddw(1, 0x100000000n)}\ncall 9`);
  });
  it('a helper reads memory through its context', () => {
    same('call 9');
  });
  it('a helper missing at run time fails as in the interpreter', () => {
    const helpers = new Map(HELPERS);
    const program = assembleProgram('call 2\nexit', helpers);
    helpers.delete(2);
    const world = makeWorld();
    const rt = createRuntime(world.memory, helpers, program, 8, world.stack);
    expect(() => rt.CALL(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).toThrow(expect.objectContaining({ code: 'UNKNOWN_HELPER', pc: 0 }));
  });
  it('helpers get BigInt u64 arguments and { memory, pc, id, run }', () => {
    const seen: unknown[] = [];
    const world = makeWorld();
    const helpers = new Map<number, HelperFn>([[3, (a, b, c, d, e, ctx) => { seen.push([a, b, c, d, e], ctx); return 7n; }]]);
    const program = assembleProgram('call 3\nexit', helpers);
    const rt = createRuntime(world.memory, helpers, program, 8, world.stack);
    expect(rt.CALL(3, 42, -1, -1, 5, 0, 0, 1, 0, -2147483648, 1, 2)).toBe(7);
    expect(rt.RET[0]).toBe(7);
    expect(rt.RET[1]).toBe(0);
    expect(seen[0]).toEqual([0xffffffffffffffffn, 5n, 0x100000000n, 0x8000000000000000n, 0x200000001n]);
    expect(seen[1]).toEqual({ memory: world.memory, pc: 42, id: 3, run: rt.state.services });
  });
});

describe('tail calls (helper 12)', () => {
  // Outside a Vm there are no maps: both engines refuse the same way (test/tailcall-*.test.ts run them in a Vm).
  it('call 12 and callx 12 reach the engine\'s tail call, not a registered helper', () => {
    const helpers = new Map([...HELPERS, [12, () => 99n] as const]);
    const ref = same(`${lddw(3, 0)}\ncall 12`, '', { helpers });
    expect(ref.error).toMatchObject({ name: 'UsageError', message: expect.stringContaining('no run in progress') });
    expect(same(`${lddw(6, 12)}\ncallx %r6`, '', { helpers }).error).toMatchObject({ name: 'UsageError' });
  });
});

describe('unwind-on-success', () => {
  const setup: RunSetup = { unwindHelper: UNWIND };
  it('the marked helper returning 0 ends the run with r0 = 0', () => {
    expect(same(`${lddw(1, 0)}\n${lddw(6, 9)}\ncall ${UNWIND}\n${lddw(0, 5)}`, '', setup)).toMatchObject({ ended: true, r0: 0n });
  });
  it('a non-zero result (even only in the high half) continues', () => {
    expect(same(`${lddw(1, 0x100000000n)}\ncall ${UNWIND}`, '', setup).regs![0]).toBe(0x100000000n);
    expect(same(`${lddw(1, 3)}\ncall ${UNWIND}`, '', setup).regs).toBeDefined();
  });
  it('other helpers returning 0 do not unwind; without an unwind helper nothing does', () => {
    expect(same('call 4', '', setup).regs).toBeDefined();
    expect(same(`${lddw(1, 0)}\ncall ${UNWIND}`).regs).toBeDefined();
  });
  it('ends the whole run from inside nested local calls', () => {
    const funcs = `f1:\n${lddw(6, 1)}\ncall local f2\n${lddw(0, 11)}\nexit\nf2:\n${lddw(1, 0)}\ncall ${UNWIND}\n${lddw(0, 12)}\nexit`;
    expect(same(`call local f1\n${lddw(0, 10)}`, funcs, setup)).toMatchObject({ ended: true, r0: 0n });
  });
  it('a packet load out of bounds ends the whole run from inside a local call', () => {
    const funcs = `f1:\ncall local f2\n${lddw(0, 11)}\nexit\nf2:\nldabsw 1000\n${lddw(0, 12)}\nexit`;
    expect(same(`call local f1\n${lddw(0, 10)}`, funcs)).toMatchObject({ ended: true, r0: 0n });
  });
});

describe('local calls', () => {
  it('the callee gets r1..r5, r0 and r6..r9 at 0, r10 one frame down; the caller keeps r1..r9', () => {
    const funcs = [
      'f1:',
      // r0 = r6 (0) ... then record what the callee saw in the stack below its frame pointer.
      'stxdw [%r10-8], %r0', 'stxdw [%r10-16], %r6', 'stxdw [%r10-24], %r9', 'stxdw [%r10-32], %r10',
      'stxdw [%r10-40], %r1', 'stxdw [%r10-48], %r5',
      lddw(1, 0x1111), lddw(6, 0x6666), lddw(9, 0x9999), lddw(0, 0x1234567890abcdefn), 'exit',
    ].join('\n');
    const ref = same(`${ARGS}\n${lddw(6, 0x60)}\n${lddw(9, 0x90)}\ncall local f1\nldxdw %r7, [%r10-544]\nldxdw %r8, [%r10-520]`, funcs);
    expect(ref.regs![0]).toBe(0x1234567890abcdefn);
  });
  it('the high half of r0 comes back through RET[1]', () => {
    same('call local f1', `f1:\n${lddw(0, 0xffffffff00000001n)}\nexit`);
  });
  it('nested calls up to the depth limit run', () => {
    const funcs = 'f1:\ncall local f2\nexit\nf2:\ncall local f3\nexit\nf3:\nldxdw %r0, [%r10-512]\nexit';
    same('call local f1', funcs, { maxCallDepth: 4 });
  });
  for (const maxCallDepth of [1, 2, 3, 8]) {
    it(`the depth limit (${maxCallDepth} frames) fails at the call that would exceed it`, () => {
      const ref = same('call local f1', 'f1:\ncall local f1\nexit', { maxCallDepth });
      expect(ref.error).toMatchObject({ name: 'ExecutionError', code: 'CALL_DEPTH_EXCEEDED', pc: maxCallDepth === 1 ? 0 : 3 });
    });
  }
  it('DEPTH is back to 1 after a call returns', () => {
    const program = assembleProgram('call local f1\nexit\nf1:\nexit', HELPERS);
    const options: CompileOptions = { budget: false, unwindHelper: undefined, helperIds: new Set() };
    const body = lowerCall({ program, options }, program.insns[0]!);
    const callee = { type: 'FunctionDeclaration', id: { type: 'Identifier', name: 'f2' }, params: [], body: { type: 'BlockStatement', body: [{ type: 'ReturnStatement', argument: { type: 'Literal', value: 5 } }] } };
    const world = makeWorld();
    const out = runSnippet([callee as never, ...body], { r10: world.stack.end }, { ...createRuntime(world.memory, HELPERS, program, 8, world.stack), DEPTH: 1, UNWOUND: false, RET: Int32Array.of(0, 9) });
    expect(out).toMatchObject({ r0: 5, r0h: 9, DEPTH: 1 });
  });
});

describe('callx', () => {
  it('to a function (a code address from lddw func)', () => {
    same(`${ARGS}\nlddw %r6, func f1\ncallx %r6`, `f1:\nmov %r0, %r5\nexit`);
  });
  it('to a helper (the id in the register), arguments and r1..r9 kept', () => {
    same(`${ARGS}\n${lddw(6, 1)}\ncallx %r6`);
  });
  it('through r1, which is also an argument', () => {
    same(`${lddw(1, 16)}\ncallx %r1`);
  });
  it('to the unwind helper: checked at run time, also when the id is in r0', () => {
    const setup = { unwindHelper: UNWIND };
    expect(same(`${lddw(1, 0)}\n${lddw(6, UNWIND)}\ncallx %r6`, '', setup)).toMatchObject({ ended: true });
    expect(same(`${lddw(1, 0)}\n${lddw(0, UNWIND)}\ncallx %r0`, '', setup)).toMatchObject({ ended: true });
    expect(same(`${lddw(1, 5)}\n${lddw(0, UNWIND)}\ncallx %r0`, '', setup).regs![0]).toBe(5n);
    expect(same(`${lddw(1, 0)}\n${lddw(0, 4)}\ncallx %r0`, '', setup).regs).toBeDefined();
  });
  const GARBAGE: ReadonlyArray<readonly [string, bigint]> = [
    ['an id with no helper', 0x1234n],
    ['a helper id with the high half set', 0x100000001n],
    ['a code address that is no function entry', BigInt(codeAddress(1))],
    ['a code address past the program', BigInt(codeAddress(5000))],
    ['a negative number', (1n << 64n) - 1n],
  ];
  for (const [what, value] of GARBAGE) {
    it(`to ${what}: ExecutionError BAD_CALLX_TARGET`, () => {
      const ref = same(`${lddw(6, value)}\ncallx %r6`, 'f1:\nexit');
      expect(ref.error).toMatchObject({ code: 'BAD_CALLX_TARGET', pc: 2 });
    });
  }
  it('through r10 (a stack address) is garbage too', () => {
    expect(same('callx %r10').error).toMatchObject({ code: 'BAD_CALLX_TARGET' });
  });
  it('to the main function (pc 0) recurses until the depth limit', () => {
    const ref = same('main:\nlddw %r6, func main\ncallx %r6', '', { maxCallDepth: 3 });
    expect(ref.error).toMatchObject({ code: 'CALL_DEPTH_EXCEEDED', pc: 2 });
  });
});

describe('budget checks at calls', () => {
  // The call is the 2nd instruction executed (after one lddw) in each program.
  const programs: ReadonlyArray<readonly [string, string, string]> = [
    ['a helper call', `${lddw(1, 2)}\ncall 1`, ''],
    ['a local call', `${lddw(1, 2)}\ncall local f1`, 'f1:\nexit'],
    ['a callx', `${lddw(6, 1)}\ncallx %r6`, ''],
  ];
  for (const [what, main, funcs] of programs) {
    for (const budget of [0, 1, 2, 3, 100]) {
      it(`${what} with budget ${budget}`, () => {
        const ref = same(main, funcs, { budget });
        if (budget < 2) expect(ref.error).toMatchObject({ name: 'BudgetExceededError', pc: 2, budget });
        else expect(ref.error).toBeUndefined();
      });
    }
  }
  it('counts carry across local calls', () => {
    // pcs: main 0 call local, 1 call 4; f1 at 4: call 4, call 4, exit. The
    // exit returning to pc 1 is no check (a return is not a backward jump):
    // with budget 3 the run goes on to fail at pc 1.
    const funcs = 'f1:\ncall 4\ncall 4\nexit';
    const pcs = new Map([[0, 0], [1, 4], [2, 5], [3, 1], [4, 1], [5, undefined], [6, undefined]]);
    for (const [budget, pc] of pcs) {
      const ref = same('call local f1\ncall 4', funcs, { budget });
      expect(ref.error?.pc).toBe(pc);
    }
  });
  it('budgetCheck(pc) is `if (COUNT > BUDGET) BUDGETFAIL(pc, BUDGET)`', () => {
    const src = generate({ type: 'Program', sourceType: 'script', body: [budgetCheck(7)] } as never);
    expect(src.replace(/\s+/g, ' ').trim()).toBe('if (COUNT > BUDGET) { BUDGETFAIL(7, BUDGET); }');
    const world = makeWorld();
    const rt = createRuntime(world.memory, HELPERS, assembleProgram('exit', HELPERS), 8, world.stack);
    expect(() => runSnippet([budgetCheck(7)], {}, { ...rt, COUNT: 11, BUDGET: 10 })).toThrow(
      expect.objectContaining({ name: 'BudgetExceededError', pc: 7, budget: 10 }),
    );
    expect(runSnippet([budgetCheck(7)], {}, { ...rt, COUNT: 10, BUDGET: 10 }).COUNT).toBe(10);
  });
  it('no budget option, no check', () => {
    const out = runLowered(`${lddw(1, 2)}\ncall 1`, '', { helpers: HELPERS });
    expect(generate({ type: 'Program', body: out.source } as never)).not.toContain('BUDGET');
  });
});

describe('exit', () => {
  it('returns r0 low, with the high half in RET[1]', () => {
    const program = assembleProgram('exit', HELPERS);
    const options: CompileOptions = { budget: false, unwindHelper: undefined, helperIds: new Set() };
    const ret = new Int32Array(2);
    const out = runSnippet(lowerExit({ program, options }, program.insns[0]!), split(0, 0xdeadbeef_00c0ffeen), { RET: ret });
    expect(out.returned).toBe(0x00c0ffee);
    expect(ret[1]).toBe(0xdeadbeef | 0);
  });
});

describe('runtime entry points', () => {
  const world = makeWorld();
  const program = assembleProgram('lddw %r1, func f1\nexit\nf1:\nexit', HELPERS);
  const rt = createRuntime(world.memory, HELPERS, program, 8, world.stack);
  it('has every binding the generated code reads', () => {
    for (const k of ['V', 'O', 'L', 'WL', 'RET', 'FAULT', 'CALL', 'CALLX', 'BUDGETFAIL', 'DEPTHFAIL', 'PKT', 'DIV64', 'MOD64', 'SDIV64', 'SMOD64', 'MAXDEPTH']) {
      expect(rt).toHaveProperty(k);
    }
    expect(rt.V).toBe(world.memory.tables.views);
    expect(rt.MAXDEPTH).toBe(8);
  });
  it('the 64-bit division slow paths leave the high half in this runtime\'s RET', () => {
    expect(rt.DIV64(0, 2, 2, 0)).toBe(0);
    expect(rt.RET[1]).toBe(1);
    expect(rt.MOD64(7, 1, 0, 1)).toBe(7);
    expect(rt.RET[1]).toBe(0);
    expect(rt.SDIV64(-4, -1, 2, 0)).toBe(-2);
    expect(rt.RET[1]).toBe(-1);
    expect(rt.SMOD64(-5, -1, 3, 0)).toBe(-2);
    expect(rt.RET[1]).toBe(-1);
  });
  it('CALLX: entry pc, -1 for a helper, otherwise throws', () => {
    expect(rt.CALLX(0, codeAddress(3) | 0, 0)).toBe(3);
    expect(rt.CALLX(0, codeAddress(0) | 0, 0)).toBe(0);
    expect(rt.CALLX(0, 16, 0)).toBe(-1);
    expect(() => rt.CALLX(4, 16, 1)).toThrow(expect.objectContaining({ code: 'BAD_CALLX_TARGET', pc: 4, message: expect.stringContaining('0x100000010') }));
  });
  it('FAULT throws what Memory throws for the same access', () => {
    let err: unknown;
    try {
      rt.FAULT(3, world.data.base + 60, 0, 2, 4, true);
    } catch (e) {
      err = e;
    }
    let want: unknown;
    try {
      world.memory.store(BigInt(world.data.base + 62), 4, 0n, 3);
    } catch (e) {
      want = e;
    }
    expect(err).toBeInstanceOf(MemoryAccessError);
    expect(err).toEqual(want);
  });
  it('PKT: -1 outside the packet, the big-endian value inside', () => {
    rt.setPacket(world.packet.base, 4);
    const b = world.packet.bytes;
    expect(rt.PKT(0, 0, 0, 0, 4)).toBe(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
    expect(rt.PKT(0, 2, 0, 1, 2)).toBe(-1);
    expect(rt.PKT(0, 3, 0, 0, 1)).toBe(b[3]);
    expect(rt.PKT(0, 0, 1, -0x80000000, 1)).toBe(-1);
    // A packet that is not mapped where the runner said faults like the interpreter's load.
    rt.setPacket(0x60000000, 16);
    expect(() => rt.PKT(5, 0, 0, 0, 2)).toThrow(expect.objectContaining({ name: 'MemoryAccessError', pc: 5, address: 0x60000000n }));
  });
});
