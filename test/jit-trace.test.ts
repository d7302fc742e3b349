// The JIT's traced code (codegen/trace.ts) against the interpreter's hook:
// every program runs on both engines with `trace`, and the two event lists
// (and results, or errors) must be identical. Cases cover what the JIT
// compiles in its own way: lowerings that emit nothing, analysis-folded
// constants, frame accesses checked at compile time, split functions,
// subprograms, loops, tail calls from main and subprograms, callx, bpf_loop
// callbacks, atomics, every lddw form, packet loads, unwind-on-success,
// budgets and faults. A property test runs the differential fuzzer's random
// programs the same way. Untraced code is checked unchanged by
// golden.test.ts (the golden JS files).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileProgram, jitSource } from '../codegen/compile.js';
import { conformanceVm } from '../lib/conformance.js';
import { EbpfError } from '../lib/errors.js';
import type { HelperFn } from '../lib/runtime.js';
import type { TraceEvent } from '../lib/trace/types.js';
import { Vm, type LoadedProgram, type RunInput, type VmOptions } from '../lib/vm.js';
import { describeCase, fuzzCase } from './fuzz/gen.js';

const UNWIND = 50;
const CALLBACK = 60;

/** Helpers of every test Vm: 50 returns r1 (the unwind helper), 60 calls r1 back with (7, r2), 61 throws, 62 returns 3 * r1 + r2. */
function helpers(): Record<number, HelperFn> {
  return {
    [UNWIND]: (a) => a,
    [CALLBACK]: (fn, b, _c, _d, _e, ctx) => ctx.run.callFunction(fn, [7n, b]),
    61: () => {
      throw new Error('helper failed');
    },
    62: (a, b) => a * 3n + b,
  };
}

interface Traced {
  readonly events: TraceEvent[];
  readonly result?: bigint;
  readonly error?: string;
  readonly memory: number[];
}

/**
 * Runs the program `setup` loads on a fresh Vm of each engine, traced;
 * `input` is made afresh per engine (runs write into it).
 */
function trace(
  engine: 'interp' | 'jit' | 'jit-split', setup: (vm: Vm) => LoadedProgram, input?: () => Uint8Array, options: VmOptions = {},
  budget?: number,
): Traced {
  const vm = new Vm({ helpers: helpers(), unwindHelper: UNWIND, ...options });
  if (engine === 'jit-split') splitEveryBlock(vm);
  const prog = setup(vm);
  const mem = input?.();
  const events: TraceEvent[] = [];
  const runOptions = {
    engine: engine === 'interp' ? 'interp' as const : 'jit' as const, trace: (e: TraceEvent) => events.push(e),
    ...(budget === undefined ? {} : { budget }),
  };
  try {
    const result = prog.run(mem as RunInput, runOptions);
    return { events, result, memory: [...(mem ?? [])] };
  } catch (e) {
    if (!(e instanceof EbpfError)) throw e;
    return { events, error: `${e.name} ${e.message}`, memory: [...(mem ?? [])] };
  }
}

/** Both engines' traces, asserted identical; returns the interpreter's. */
function same(setup: (vm: Vm) => LoadedProgram | string, input?: () => Uint8Array, options: VmOptions = {}, budget?: number): Traced {
  const load = (vm: Vm): LoadedProgram => {
    const p = setup(vm);
    return typeof p === 'string' ? vm.load(p) : p;
  };
  const interp = trace('interp', load, input, options, budget);
  const jit = trace('jit', load, input, options, budget);
  expect(jit).toEqual(interp);
  expect(trace('jit-split', load, input, options, budget)).toEqual(interp);
  expect(interp.events.length).toBeGreaterThan(0);
  return interp;
}

/** Makes the Vm's JIT split every function into one piece per block (split.ts), traced or not. */
function splitEveryBlock(vm: Vm): void {
  const options = vm.compileOptions.bind(vm);
  (vm as { compileOptions: (budgeted: boolean, traced?: boolean) => object }).compileOptions =
    (budgeted, traced) => ({ ...options(budgeted, traced), splitLimit: 1 });
}

const bytes = (n: number): (() => Uint8Array) => () => Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);

const pcs = (t: Traced): number[] => t.events.map((e) => e.pc);
const frames = (t: Traced): number[] => t.events.map((e) => e.frame);

describe('JIT traces equal the interpreter\'s', () => {
  it('ALU: every op, both widths, instructions whose lowering is empty, folded constants', () => {
    const ops = ['add', 'sub', 'mul', 'div', 'or', 'and', 'lsh', 'rsh', 'mod', 'xor', 'arsh', 'sdiv', 'smod'];
    const lines = ['lddw %r1, 0x8123456789abcdef', 'mov %r2, -7', 'mov %r3, 5', 'mov %r1, %r1', 'mov32 %r4, %r4', 'mov %r5, 0'];
    for (const op of ops) {
      lines.push(`mov %r6, %r1`, `${op} %r6, %r3`, `${op} %r6, 3`, `${op}32 %r6, %r2`, `${op} %r6, %r2`, `${op} %r6, %r6`);
      // By zero: div gives 0, mod leaves dst.
      lines.push(`mov %r7, %r1`, `${op} %r7, %r5`, `${op}32 %r7, 0`);
    }
    lines.push('neg %r1', 'neg32 %r2', 'be16 %r1', 'le32 %r2', 'be64 %r3', 'bswap16 %r1', 'bswap64 %r2', 'le64 %r3');
    lines.push('movsx864 %r4, %r1', 'movsx1664 %r4, %r2', 'movsx3264 %r4, %r3', 'movsx832 %r5, %r1');
    lines.push('mov %r0, %r4', 'add %r0, %r6', 'exit');
    const t = same(() => lines.join('\n'));
    // Every instruction has its event, lddw one, `mov r1, r1` included, each with its register.
    expect(t.events.length).toBe(lines.length);
    expect(t.events[3]).toMatchObject({ pc: 4, registers: [{ reg: 1, value: 0x8123456789abcdefn }] });
    expect(t.events.at(-1)).toMatchObject({ registers: [], memory: [] });
  });

  it('loads and stores: input memory and the stack, every width, sign extension, pointers into the frame', () => {
    const src = `
      mov %r6, %r1
      ldxb %r2, [%r6+1]
      ldxh %r3, [%r6+2]
      ldxw %r4, [%r6+4]
      ldxdw %r5, [%r6+8]
      ldxsb %r2, [%r6+3]
      ldxsh %r3, [%r6+6]
      ldxsw %r4, [%r6+12]
      stb [%r6+16], 0x80
      sth [%r6+18], -2
      stw [%r6+20], 0x12345678
      stdw [%r6+24], -1
      stxdw [%r10-8], %r5
      stxw [%r10-12], %r4
      stxh [%r10-14], %r3
      stxb [%r10-15], %r2
      ldxdw %r7, [%r10-8]
      mov %r8, %r10
      add %r8, -64
      stxdw [%r8+8], %r7
      ldxdw %r0, [%r8+8]
      stxdw [%r6+32], %r0
      ldxw %r1, [%r6+32]
      stxdw [%r6], %r1
      exit`;
    const t = same(() => src, bytes(40));
    const stores = t.events.filter((e) => e.memory[0]?.kind === 'store');
    expect(stores.length).toBe(11);
    expect(t.events[1]!.memory[0]).toMatchObject({ kind: 'load', size: 1 });
  });

  it('atomics: every op, both widths, fetch forms, cmpxchg hit and miss, on the stack and in input memory', () => {
    const lines = ['mov %r6, %r1', 'stdw [%r10-8], 5', 'mov %r0, 5'];
    for (const [base, off] of [['%r6', 0], ['%r10', -8]] as const) {
      const at = `[${base}${off >= 0 ? '+' : ''}${off}]`;
      for (const w of ['32', '']) {
        lines.push(
          `mov %r2, 3`, `lock add${w} ${at}, %r2`,
          `mov %r2, 6`, `lock or${w} ${at}, %r2`,
          `lock and${w} ${at}, %r2`,
          `lock fetch add${w} ${at}, %r2`,
          `lock fetch xor${w} ${at}, %r2`,
          `lock xchg${w} ${at}, %r2`,
          `lock cmpxchg${w} ${at}, %r2`,
          `mov %r0, %r2`,
          `lock cmpxchg${w} ${at}, %r6`,
        );
      }
    }
    lines.push('exit');
    const src = lines.join('\n');
    const t = same(() => src, bytes(16));
    expect(t.events.filter((e) => e.memory[0]?.kind === 'atomic').length).toBe(32);
    // Input memory over a SharedArrayBuffer: the JIT's atomics go through the runtime (Atomics) there.
    const shared = (): Uint8Array => {
      const mem = new Uint8Array(new SharedArrayBuffer(16));
      mem.set(bytes(16)());
      return mem;
    };
    expect(same(() => src, shared)).toEqual(t);
  });

  it('lddw of every kind: imm, map_fd, map_value, func, map_idx, map_idx_value', () => {
    const t = same((vm) => {
      const map = vm.createMap({ type: 'array', keySize: 4, valueSize: 16, maxEntries: 1 });
      return vm.load(`
        lddw %r1, 0x1122334455667788
        lddw %r2, map_fd 1
        lddw %r3, map_value 1, 8
        lddw %r4, func f
        lddw %r5, map_idx 0
        lddw %r6, map_idx_value 0, 4
        stxdw [%r3], %r1
        ldxdw %r0, [%r6+4]
        exit
      f:
        exit`, { maps: [map] });
    });
    expect(t.events.slice(0, 6).every((e) => e.registers.length === 1)).toBe(true);
  });

  it('loops, with and without a budget, and a budget that runs out at a backward jump', () => {
    const src = `
      mov %r0, 0
      mov %r1, 0
    loop:
      add %r0, %r1
      stxdw [%r10-8], %r0
      add %r1, 1
      jlt %r1, 50, loop
      ja +1
      mov %r0, 99
      exit`;
    const t = same(() => src);
    expect(t.events.length).toBe(2 + 50 * 4 + 2);
    same(() => src, undefined, {}, 10_000);
    const stopped = same(() => src, undefined, {}, 60);
    expect(stopped.error).toMatch(/BudgetExceeded/);
  });

  it('subprograms: frames, registers kept, recursion, depth limit', () => {
    const src = `
      mov %r6, 3
      mov %r1, 4
      call local fact
      add %r0, %r6
      exit
    fact:
      mov %r0, 1
      jeq %r1, 0, done
      mov %r6, %r1
      sub %r1, 1
      call local fact
      mul %r0, %r6
    done:
      exit`;
    const t = same(() => src);
    expect(t.result).toBe(27n);
    expect(Math.max(...frames(t))).toBe(6);
    const deep = same(() => src, undefined, { maxCallDepth: 3 });
    expect(deep.error).toMatch(/CALL_DEPTH|depth/i);
  });

  it('split functions (a function too big for one JS function), with loops across pieces and calls', () => {
    // Each checked store is estimated at ~210 bytes: 400 of them split the function.
    const stores = Array.from({ length: 200 }, (_, i) => `stxw [%r6+${(i % 8) * 4}], %r1`).join('\n');
    const src = `
      mov %r6, %r1
      mov %r1, 0
    loop:
      ${stores}
      add %r1, 1
      call local f
      add %r7, %r0
      ${stores}
      jlt %r1, 3, loop
      mov %r0, %r7
      exit
    f:
      ldxw %r0, [%r6+4]
      exit`;
    const probe = new Vm();
    const compiled = jitSource(probe.load(src).program, { budget: false, unwindHelper: undefined, helperIds: new Set(), trace: true });
    expect(compiled).toMatch(/piece 2 of/);
    // And the forced split the other cases also run under reaches traced code.
    const forced = new Vm();
    splitEveryBlock(forced);
    const source = forced.load('mov %r0, 1\nja +0\nexit').compiled(false, true).source;
    expect(source).toMatch(/function f0_1\(/);
    expect(source).toMatch(/TI\(1\)/);
    same(() => src, bytes(32));
    same(() => src, bytes(32), {}, 100_000);
  });

  it('tail calls from main and from subprograms, failing and succeeding, and their chains', () => {
    const setup = (vm: Vm): LoadedProgram => {
      const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 4 });
      progs.set(0, vm.load('mov %r0, 5\nstxdw [%r10-8], %r0\nexit', { name: 'five' }));
      progs.set(1, vm.load(`lddw %r2, map_fd 1\nmov %r3, 0\ncall 12\nmov %r0, 77\nexit`, { name: 'again' }));
      return vm.load(`
        mov %r6, %r1
        call local sub
        mov %r7, %r0
        mov %r1, %r6
        lddw %r2, map_fd 1
        mov %r3, 3
        call 12
        add %r7, %r0
        mov %r1, %r6
        lddw %r2, map_fd 1
        mov %r3, 1
        call 12
        exit
      sub:
        lddw %r2, map_fd 1
        mov %r3, 0
        call 12
        mov %r0, 1
        exit`, { name: 'main' });
    };
    const t = same(setup, bytes(8));
    expect(new Set(t.events.map((e) => e.program))).toEqual(new Set(['main', 'five', 'again']));
    // The failed tail call (slot 3 is empty) reports r0; the successful ones nothing.
    const calls = t.events.filter((e) => e.program === 'main' && (e.pc === 13 || e.pc === 4 + 3 + 2));
    expect(calls.some((e) => e.registers.length === 1)).toBe(true);
    same(setup, bytes(8), {}, 1_000);
  });

  it('callx: to a function, to a helper, to the tail call, and to the unwind helper', () => {
    const setup = (vm: Vm): LoadedProgram => {
      const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2 });
      progs.set(0, vm.load('mov %r0, 9\nexit'));
      return vm.load(`
        mov %r6, %r1
        lddw %r8, func f
        callx %r8
        mov %r7, %r0
        mov %r1, 4
        mov %r2, 5
        mov %r8, 62
        callx %r8
        add %r7, %r0
        mov %r1, %r6
        lddw %r2, map_fd 1
        mov %r3, 1
        mov %r8, 12
        callx %r8
        add %r7, %r0
        mov %r1, %r7
        mov %r8, ${UNWIND}
        callx %r8
        mov %r1, %r6
        lddw %r2, map_fd 1
        mov %r3, 0
        mov %r8, 12
        callx %r8
        exit
      f:
        mov %r0, 100
        exit`);
    };
    const t = same(setup, bytes(8));
    expect(t.result).toBe(9n);
    // With r1 = 0 the unwind helper ends the run at the callx: no r0 for it.
    const ended = same((vm) => vm.load(`mov %r1, 0\nmov %r8, ${UNWIND}\ncallx %r8\nmov %r0, 3\nexit`));
    expect(ended.result).toBe(0n);
    expect(ended.events.at(-1)).toMatchObject({ pc: 2, registers: [] });
  });

  it('callbacks (bpf_loop, a helper of our own): frames, nesting, tail calls inside, faults inside', () => {
    const loop = `
      stdw [%r10-8], 0
      mov %r1, 4
      lddw %r2, func cb
      mov %r3, %r10
      add %r3, -8
      mov %r4, 0
      call 181
      ldxdw %r1, [%r10-8]
      add %r0, %r1
      exit
    cb:
      ldxdw %r3, [%r2]
      add %r3, %r1
      stxdw [%r2], %r3
      call local g
      exit
    g:
      mov %r0, 0
      exit`;
    const t = same(() => loop);
    expect(Math.max(...frames(t))).toBe(3);
    // The helper call's event comes after its callbacks' events.
    const call = t.events.findIndex((e) => e.pc === 7);
    expect(call).toBe(t.events.length - 4);
    // A callback through helper 60 that tail-calls, and one that faults.
    const setup = (fault: boolean) => (vm: Vm): LoadedProgram => {
      const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1 });
      progs.set(0, vm.load('mov %r0, 11\nexit'));
      return vm.load(`
        mov %r6, %r1
        lddw %r1, func cb
        mov %r2, %r6
        call ${CALLBACK}
        add %r0, 1
        exit
      cb:
        mov %r6, %r2
        ${fault ? 'ldxdw %r0, [%r6+4096]' : 'mov %r0, 0'}
        mov %r1, %r6
        lddw %r2, map_fd 1
        mov %r3, 0
        call 12
        exit`);
    };
    expect(same(setup(false), bytes(8)).result).toBe(12n);
    expect(same(setup(true), bytes(8)).error).toMatch(/MemoryAccess/);

    // Callbacks with a budget that runs out at the helper call.
    const stopped = same(() => loop, undefined, {}, 20);
    expect(stopped.error).toMatch(/BudgetExceeded/);
  });

  // Needs both engines to tell the Tracer an execution ended by throwing
  // (leave(true): interpreter.ts hooked() and vm.ts jitStep, requests-A.md
  // item 2); the JIT's callbacks already do.
  it('a helper that throws inside a callback: neither it nor the call that ran the callback gets an event', () => {
    const throwing = same(() => `lddw %r1, func cb\nmov %r2, 0\ncall ${CALLBACK}\nexit\ncb:\nmov %r6, 1\ncall 61\nexit`);
    expect(throwing.error).toMatch(/helper failed/);
    expect(pcs(throwing)).toEqual([0, 2, 5]);
  });

  it('packet loads: r0 written in bounds, nothing when the load ends the run', () => {
    const t = same(() => 'mov %r6, %r1\nldabsb 1\nldabsh 2\nmov %r7, 1\nldindw %r7, 2\nldabsb 100\nmov %r0, 5\nexit', bytes(16));
    expect(t.result).toBe(0n);
    expect(t.events.slice(1, 5).map((e) => e.registers.length)).toEqual([1, 1, 1, 1]);
    expect(t.events.at(-1)).toMatchObject({ pc: 5, registers: [] });
  });

  it('unwind-on-success: no r0 when the run ends, r0 when it goes on; from a subprogram too', () => {
    const t = same(() => `mov %r1, 3\ncall ${UNWIND}\ncall local f\nmov %r0, 4\nexit\nf:\nmov %r1, 0\ncall ${UNWIND}\nexit`);
    expect(t.result).toBe(0n);
    expect(t.events[1]).toMatchObject({ pc: 1, registers: [{ reg: 0, value: 3n }] });
    expect(t.events.at(-1)).toMatchObject({ pc: 6, registers: [], frame: 2 });
  });

  it('faults end the trace at the same instruction: memory, a helper that throws, a helper call in a subprogram', () => {
    expect(same(() => 'mov %r1, 1\nldxdw %r0, [%r1+0]\nexit').error).toMatch(/MemoryAccess/);
    expect(same(() => 'mov %r6, 2\ncall 61\nexit').error).toMatch(/helper failed/);
    expect(same(() => 'call local f\nexit\nf:\nmov %r1, 1\ncall 61\nexit').error).toMatch(/helper failed/);
    expect(same(() => 'mov %r6, %r1\nstw [%r6+8], 1\nexit', bytes(8)).error).toMatch(/MemoryAccess/);
  });

  it('C lines and program names come through the JIT as through the interpreter', () => {
    const lines = [{ file: 'a.c', lineNum: 1, col: 1, line: 'int x = 1;' }, undefined, { file: 'a.c', lineNum: 2, col: 1, line: 'return x;' }];
    const t = same((vm) => vm.load('mov %r0, 1\nadd %r0, 1\nexit', { sourceLines: lines, name: 'lined' }));
    expect(t.events.map((e) => e.line?.lineNum)).toEqual([1, undefined, 2]);
    expect(t.events[0]!.program).toBe('lined');
  });

  it('untraced runs keep using the untraced code; traced code is a separate compile', () => {
    const vm = new Vm();
    const prog = vm.load('mov %r0, 1\nexit');
    const events: TraceEvent[] = [];
    expect(prog.run(undefined, { engine: 'jit' })).toBe(1n);
    expect(prog.run(undefined, { engine: 'jit', trace: (e) => events.push(e) })).toBe(1n);
    expect(prog.run(undefined, { engine: 'jit' })).toBe(1n);
    expect(pcs({ events, memory: [] })).toEqual([0, 1]);
    const plain = prog.jitSource();
    const traced = jitSource(prog.program, { ...vm.compileOptions(false), trace: true });
    expect(plain).not.toMatch(/\bT[IBW]\(/);
    expect(traced).toMatch(/TI\(0\)/);
    expect(traced).toMatch(/TI\(1\)/);
    expect(prog.jitSource({ trace: true })).toBe(traced);
    expect(() => prog.jitSource({ trace: 'yes' as unknown as boolean })).toThrow(/option trace must be a boolean/);
  });

  it('a traced module outside a Vm reports nowhere (its runtime has no tracer)', () => {
    const vm = new Vm();
    const prog = vm.load('mov %r0, 6\nstxdw [%r10-8], %r0\nexit');
    const target = { memory: vm.memory, helpers: new Map(), maxCallDepth: 8, stack: vm.memory.map(new Uint8Array(4096), { name: 'stack' }) };
    const compiled = compileProgram(prog.program, { budget: false, unwindHelper: undefined, helperIds: new Set(), trace: true }, target);
    expect(compiled.exports.entry(0, 0, 0, 0, target.stack.end, Infinity, 0, 1)).toBe(6);
  });
});

describe('random programs: JIT (whole and split into blocks) and interpreter traces agree (property)', () => {
  it('the differential fuzzer\'s programs, traced', () => {
    const run = (engine: 'interp' | 'jit' | 'jit-split', c: ReturnType<typeof fuzzCase> extends fc.Arbitrary<infer T> ? T : never) => {
      const events: TraceEvent[] = [];
      const mem = c.mem.slice();
      try {
        const vm = conformanceVm(engine === 'interp' ? 'interp' : 'jit', c.budget);
        if (engine === 'jit-split') splitEveryBlock(vm);
        const r0 = vm.load(c.bytes).run(mem, { trace: (e) => events.push(e) });
        return { events, r0, mem: [...mem] };
      } catch (e) {
        if (!(e instanceof EbpfError)) throw e;
        return { events, error: `${e.name}: ${e.message}`, mem: [...mem] };
      }
    };
    fc.assert(
      fc.property(fuzzCase(), (c) => {
        const interp = run('interp', c);
        for (const engine of ['jit', 'jit-split'] as const) {
          const jit = run(engine, c);
          if (JSON.stringify(jit, big) !== JSON.stringify(interp, big)) {
            expect({ engine, jit, program: describeCase(c) }).toEqual({ engine, jit: interp, program: describeCase(c) });
          }
        }
      }),
      { seed: 0x7ace, numRuns: 300 },
    );
  });
});

function big(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}
