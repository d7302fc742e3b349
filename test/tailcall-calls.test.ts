// Tail calls mixed with the other ways control moves, on both engines: a tail
// call made inside a subprogram (its target returns to the subprogram's
// caller), a program re-entering itself that way, unwind-on-success inside
// targets, and bpf_loop callbacks (helper 181: ctx.run.callFunction), with
// their depth limit, budget, tail calls and unwinding.
import { describe, expect, it } from 'vitest';
import { BudgetExceededError, ExecutionError } from '../lib/errors.js';
import type { HelperFn } from '../lib/runtime.js';
import { TAIL_CALL_LIMIT } from '../lib/tail-call.js';
import { AVAILABLE_ENGINES, Vm, type VmOptions } from '../lib/vm.js';
import { LOOP_MAIN } from './bpf-loop-programs.js';

const u64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));
const UNWIND = 50;

function world(engine: VmOptions['engine'], options: VmOptions = {}) {
  const vm = new Vm({ engine, helpers: { [UNWIND]: (a: bigint) => a }, unwindHelper: UNWIND, ...options });
  const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 8 });
  return { vm, progs };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('nothing thrown');
}

/** `sub`: tail-calls slot `slot` (r1 is the caller's ctx, passed as the argument); returns 1 if that fails. */
const SUB = (slot: number): string => `
  sub:
    lddw %r2, map_fd 1
    mov %r3, ${slot}
    call 12
    mov %r0, 1
    exit`;

describe.each(AVAILABLE_ENGINES)('tail calls in subprograms on %s', (engine) => {
  it('the target\'s exit returns to the subprogram\'s caller, which keeps its registers', () => {
    const { vm, progs } = world(engine);
    const main = vm.load(`mov %r6, 100\ncall local sub\nadd %r0, %r6\nexit\n${SUB(0)}`);
    expect(main.run(new Uint8Array(8))).toBe(101n);
    progs.set(0, vm.load('mov %r0, 5\nexit'));
    expect(main.run(new Uint8Array(8))).toBe(105n);
  });

  it('the target runs in the subprogram\'s frame', () => {
    const { vm, progs } = world(engine);
    progs.set(0, vm.load('mov %r0, %r10\nexit'));
    const main = vm.load(`call local sub\nmov %r1, %r10\nsub %r1, %r0\nmov %r0, %r1\nexit\n${SUB(0)}`);
    expect(main.run(new Uint8Array(8))).toBe(512n);
  });

  it('a chain started in a subprogram shares the run\'s tail-call count', () => {
    const { vm, progs } = world(engine, { maxTailCalls: 2 });
    progs.set(0, vm.load('lddw %r2, map_fd 1\nmov %r3, 1\ncall 12\nexit'));
    progs.set(1, vm.load('mov %r0, 7\nexit'));
    progs.set(2, vm.load('mov %r0, 8\nexit'));
    // sub -> 0 -> 1 (two tail calls, r0 = 7); then main's own tail call is the third: -E2BIG.
    const main = vm.load(`
      mov %r6, %r1
      call local sub
      stxdw [%r6], %r0
      mov %r1, %r6
      lddw %r2, map_fd 1
      mov %r3, 2
      call 12
      exit
      ${SUB(0)}`);
    const mem = new Uint8Array(8);
    expect(main.run(mem)).toBe(u64(TAIL_CALL_LIMIT));
    expect(mem[0]).toBe(7);
  });

  it('a program re-entering itself through a subprogram\'s tail call, then calling on', () => {
    for (const budget of [undefined, 10_000]) {
      const { vm, progs } = world(engine, { budget });
      const self = vm.load(`
        ldxdw %r6, [%r1]
        add %r6, 1
        stxdw [%r1], %r6
        jge %r6, 3, done
        call local sub
        mov %r7, %r0
        call local leaf
        add %r0, %r7
        exit
      done:
        mov %r0, 1
        exit
      ${SUB(0)}
      leaf:
        mov %r0, 10
        exit`);
      progs.set(0, self);
      const mem = new Uint8Array(8);
      // Three levels, each nested a frame deeper: 1, then 1 + 10, then 11 + 10.
      expect(self.run(mem)).toBe(21n);
      expect(mem[0]).toBe(3);
    }
  });

  it('the depth limit counts the frames below a chain started in a subprogram', () => {
    const { vm, progs } = world(engine, { maxCallDepth: 3 });
    // Target (in frame 2) calls f (frame 3), which calls g: a 4th frame.
    progs.set(0, vm.load('call local f\nexit\nf:\ncall local g\nexit\ng:\nmov %r0, 1\nexit'));
    const e = thrown(() => vm.load(`call local sub\nexit\n${SUB(0)}`).run(new Uint8Array(8)));
    expect(e).toBeInstanceOf(ExecutionError);
    expect(e).toMatchObject({ code: 'CALL_DEPTH_EXCEEDED', pc: 2 });
    // From the main frame the same target fits.
    expect(vm.load('lddw %r2, map_fd 1\nmov %r3, 0\ncall 12\nexit').run(new Uint8Array(8))).toBe(1n);
  });

  it('the unwind helper ends the run from inside a target, at any depth', () => {
    const { vm, progs } = world(engine);
    progs.set(0, vm.load(`mov %r1, 0\ncall ${UNWIND}\nmov %r0, 9\nexit`));
    progs.set(1, vm.load(`call local f\nmov %r0, 9\nexit\nf:\nmov %r1, 0\ncall ${UNWIND}\nmov %r0, 8\nexit`));
    progs.set(2, vm.load(`mov %r1, 3\ncall ${UNWIND}\nexit`));
    for (const slot of [0, 1]) {
      expect(vm.load(`lddw %r2, map_fd 1\nmov %r3, ${slot}\ncall 12\nexit`).run(new Uint8Array(8))).toBe(0n);
      // Started in a subprogram: the caller's code after the call must not run either.
      const mem = new Uint8Array(8);
      expect(vm.load(`mov %r6, %r1\ncall local sub\nstdw [%r6], 99\nmov %r0, 5\nexit\n${SUB(slot)}`).run(mem)).toBe(0n);
      expect(mem[0]).toBe(0);
    }
    // A target whose unwind helper returns non-zero goes on; main's unwind after the chain still works.
    const after = vm.load(`mov %r6, %r1\ncall local sub\nmov %r7, %r0\nmov %r1, 0\ncall ${UNWIND}\nmov %r0, %r7\nexit\n${SUB(2)}`);
    expect(after.run(new Uint8Array(8))).toBe(0n);
    expect(vm.load(`call local sub\nexit\n${SUB(2)}`).run(new Uint8Array(8))).toBe(3n);
  });
});


describe.each(AVAILABLE_ENGINES)('bpf_loop callbacks on %s', (engine) => {
  it('runs the callback with (index, ctx) until it returns non-zero', () => {
    const { vm } = world(engine);
    // Adds the index to *ctx; stops after index 6.
    const cb = 'cb:\nldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\njne %r1, 6, next\nmov %r0, 1\nnext:\nexit';
    expect(vm.load(`${LOOP_MAIN(5)}\n${cb}`).run()).toBe(5000n + 10n);
    expect(vm.load(`${LOOP_MAIN(100)}\n${cb}`).run()).toBe(7000n + 21n);
  });

  it('a callback gets its own frame below the caller', () => {
    const { vm } = world(engine);
    const cb = 'cb:\nmov %r0, %r2\nsub %r0, %r10\nstxdw [%r2], %r0\nmov %r0, 1\nexit';
    // ctx = caller's r10 - 8; the callback's r10 is one frame (512) lower.
    expect(vm.load(`${LOOP_MAIN(3)}\n${cb}`).run()).toBe(1000n + 504n);
  });

  it('callFunction passes up to five arguments and returns r0', () => {
    const call: HelperFn = (fn, _2, _3, _4, _5, ctx) => ctx.run.callFunction(fn, [1n, 2n, 3n, 4n, 5n]);
    const { vm } = world(engine, { helpers: { 60: call } });
    const prog = vm.load(`
      lddw %r1, func cb
      call 60
      exit
    cb:
      mul %r2, 10
      mul %r3, 100
      mul %r4, 1000
      mul %r5, 10000
      add %r1, %r2
      add %r1, %r3
      add %r1, %r4
      add %r1, %r5
      mov %r0, %r1
      exit`);
    expect(prog.run()).toBe(54321n);
  });

  it('a bad callback address is an ExecutionError at the helper call', () => {
    const { vm } = world(engine);
    for (const [value, why] of [['12345', 'not a function'], ['0xff000001', 'not a function'], ['0xff000000', 'the main function']]) {
      const e = thrown(() => vm.load(`mov %r1, 2\nlddw %r2, ${value}\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\nf:\nexit`).run());
      expect(e).toBeInstanceOf(ExecutionError);
      expect(e).toMatchObject({ code: 'BAD_CALLBACK', pc: 5, message: expect.stringContaining(why) });
    }
  });

  it('a code address made without lddw func calls back all the same', () => {
    const { vm } = world(engine);
    // 0xff000008: the code address of f (pc 8, a function since it is called), as a plain constant.
    const prog = 'call local f\nmov %r1, 3\nlddw %r2, 0xff000008\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\nf:\nmov %r0, 0\nexit';
    expect(vm.load(prog).run()).toBe(3n);
  });

  it('callbacks count against the depth limit', () => {
    const { vm } = world(engine, { maxCallDepth: 3 });
    // main (frame 1) -> cb (2) -> cb (3) -> cb would be a 4th frame.
    const nested = `
      mov %r1, 1
      lddw %r2, func cb
      mov %r3, 0
      mov %r4, 0
      call 181
      exit
    cb:
      mov %r1, 1
      lddw %r2, func cb
      mov %r3, 0
      mov %r4, 0
      call 181
      exit`;
    const e = thrown(() => vm.load(nested).run());
    expect(e).toBeInstanceOf(ExecutionError);
    expect(e).toMatchObject({ code: 'CALL_DEPTH_EXCEEDED', pc: 12 });
  });

  it('callbacks count against the budget', () => {
    // The callback's instructions count; its helper call is where the check falls.
    const cb = 'cb:\ncall 7\nmov %r0, 0\nexit';
    for (const [budget, fails] of [[100, true], [100_000, false]] as const) {
      const { vm } = world(engine, { budget });
      const run = () => vm.load(`${LOOP_MAIN(50)}\n${cb}`).run();
      if (!fails) expect(run()).toBe(50000n);
      else expect(thrown(run)).toMatchObject({ name: 'BudgetExceededError', pc: 12, budget });
    }
    expect(BudgetExceededError).toBeDefined();
  });

  it('each callback is a call: the budget is checked before it, so a straight-line callback loop stops', () => {
    // 2^20 iterations of a 203-instruction callback that calls nothing and jumps nowhere.
    const cb = `cb:\nmov %r0, 0\n${'add %r0, 1\n'.repeat(200)}mov %r0, 0\nexit`;
    const src = `mov %r1, 1048576\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall loop\nexit\n${cb}`;
    const e = thrown(() => new Vm({ engine, budget: 1000 }).load(src).run());
    expect(e).toBeInstanceOf(BudgetExceededError);
    // At the loop call's pc (5: lddw takes two slots): 5 instructions, then 5 callbacks (5 + 5 * 203 = 1020 > 1000).
    expect(e).toMatchObject({ pc: 5, budget: 1000 });
    // Exactly where the count goes over: with a budget of 5 + 5 * 203, the count is at the budget (not over)
    // before the 6th callback, which runs; the 7th is refused.
    let calls = 0;
    const counting: HelperFn = (fn, _2, _3, _4, _5, ctx) => {
      for (;;) {
        ctx.run.callFunction(fn, []);
        calls++;
      }
    };
    const vm = new Vm({ engine, budget: 5 + 5 * 203, helpers: { 60: counting } });
    const e2 = thrown(() => vm.load(`mov %r2, 0\nmov %r3, 0\nmov %r4, 0\nlddw %r1, func cb\ncall 60\nexit\n${cb}`).run());
    expect(e2).toMatchObject({ name: 'BudgetExceededError', pc: 5 });
    expect(calls).toBe(6);
    // Without a budget (or within it) nothing changes.
    expect(new Vm({ engine }).load(src.replace('1048576', '1000')).run()).toBe(1000n);
    expect(new Vm({ engine, budget: 5 + 1000 * 203 }).load(src.replace('1048576', '1000')).run()).toBe(1000n);
  });

  it('a tail call in a callback replaces the callback', () => {
    const { vm, progs } = world(engine);
    progs.set(0, vm.load('mov %r0, 1\nexit'));
    const cb = 'cb:\nmov %r1, %r2\nlddw %r2, map_fd 1\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit';
    // The target returns 1: the loop stops after one iteration.
    expect(vm.load(`${LOOP_MAIN(9)}\n${cb}`).run()).toBe(1000n);
    progs.set(0, null);
    expect(vm.load(`${LOOP_MAIN(9)}\n${cb}`).run()).toBe(9000n);
  });

  it('the unwind helper in a callback ends the whole run', () => {
    const { vm, progs } = world(engine);
    const unwinding = `cb:\nldxdw %r3, [%r2]\nadd %r3, 1\nstxdw [%r2], %r3\nmov %r1, 0\ncall ${UNWIND}\nmov %r0, 0\nexit`;
    // Main would return 1000 * 5 + 5 if the loop went on.
    const mem = new Uint8Array(8);
    const main = `mov %r9, %r1\n${LOOP_MAIN(5).replace('exit', 'stxdw [%r9], %r0\nexit')}`;
    expect(vm.load(`${main}\n${unwinding}`).run(mem)).toBe(0n);
    expect(mem[0]).toBe(0);
    // Also from a target the callback tail-called.
    progs.set(0, vm.load(`mov %r1, 0\ncall ${UNWIND}\nmov %r0, 0\nexit`));
    const cb = 'cb:\nmov %r1, %r2\nlddw %r2, map_fd 1\nmov %r3, 0\ncall 12\nexit';
    expect(vm.load(`${main}\n${cb}`).run(mem)).toBe(0n);
    expect(mem[0]).toBe(0);
  });
});

describe('tail calls in split functions (JIT pieces, split limit 1) agree with the interpreter', () => {
  /** Makes every compile of `vm` split each function into one piece per block. */
  function forceSplit(vm: Vm): Vm {
    const options = vm.compileOptions.bind(vm);
    (vm as { compileOptions: (budgeted: boolean) => object }).compileOptions = (budgeted) => ({ ...options(budgeted), splitLimit: 1 });
    return vm;
  }
  const target = 'ldxdw %r0, [%r1]\nadd %r0, 1\nstxdw [%r1], %r0\njgt %r0, 5, big\nmov %r0, 3\nexit\nbig:\nmov %r0, 4\nexit';
  const programs = [
    `mov %r6, 100\ncall local sub\nadd %r0, %r6\nexit\n${SUB(0)}`,
    `mov %r6, %r1\ncall local sub\nmov %r1, %r6\nlddw %r2, map_fd 1\nmov %r3, 0\ncall 12\nexit\n${SUB(0)}`,
    `${LOOP_MAIN(4)}\ncb:\nmov %r1, %r2\nlddw %r2, map_fd 1\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit`,
  ];
  for (const [k, src] of programs.entries()) {
    it(`program ${k}`, () => {
      const results = (['interp', 'jit'] as const).map((engine) => {
        const { vm, progs } = world(engine, { budget: 10_000 });
        if (engine === 'jit') forceSplit(vm);
        progs.set(0, vm.load(target));
        const mem = new Uint8Array(8);
        return [vm.load(src).run(mem), mem[0]];
      });
      expect(results[1]).toEqual(results[0]);
    });
  }
});

describe('what the JIT emits for tail calls', () => {
  const { vm } = world('jit');
  it('code that cannot tail call does not look for the sentinel', () => {
    const src = vm.load(`call local f\ncall local g\nexit\nf:\nmov %r0, 1\nexit\ng:\ncall 7\nexit`).jitSource({ budget: true });
    expect(src).not.toMatch(/CHAIN\(|RET\[2\] !==|TAIL\(/);
  });
  it('only calls to a function that tail-calls look for it', () => {
    const src = vm.load(`call local f\ncall local g\nexit\nf:\nmov %r0, 1\nexit\n${SUB(0)}`.replace('sub:', 'g:')).jitSource();
    expect(src.match(/TAIL\(/g)).toHaveLength(1);
    // One call site, plus the callback function (the program has subprograms).
    expect(src.match(/CHAIN\(/g)).toHaveLength(2);
  });
});
