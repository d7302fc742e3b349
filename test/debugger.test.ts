// The stepping debugger (lib/debug): breakpoints by pc and by C line, the
// step / next / finish / continue commands, what a stop reads (registers,
// stack, memory, call stack), bad arguments, stale stops and errors thrown
// by onStop. Debugged runs are on the interpreter; their r0 is checked
// against plain runs on every engine. Callbacks, tail calls and ELF objects:
// test/debugger-calls.test.ts.
import { describe, expect, it } from 'vitest';
import { Debugger, type OnStop, type Stop, type StepCommand } from '../lib/debug/debugger.js';
import { BudgetExceededError, MemoryAccessError, UsageError } from '../lib/errors.js';
import { FRAME_SIZE } from '../lib/runtime.js';
import { AVAILABLE_ENGINES, Vm, type LoadedProgram, type RunInput, type SourceLine } from '../lib/vm.js';
import { collect } from './debugger-helpers.js';
import { thrown } from './maps-helpers.js';

const line = (lineNum: number, text: string): SourceLine => ({ file: 'src/loop.c', line: text, lineNum, col: 1 });

/** Sums 0..4: r0 = 10. Lines: 1 (pcs 0-1), 2 (pc 2), 3 (pcs 3-4), 4 (pc 5). */
const LOOP = `
  mov %r0, 0
  mov %r1, 0
loop:
  add %r0, %r1
  add %r1, 1
  jlt %r1, 5, loop
  exit`;
const LOOP_LINES = [line(1, 'int s = 0, i = 0;'), line(1, 'int s = 0, i = 0;'), line(2, 's += i;'), line(3, 'while (++i < 5)'), line(3, 'while (++i < 5)'), line(4, 'return s;')];

/** main calls f(3) and adds r6 = 7: r0 = 13. */
const CALLS = `
  mov %r6, 7
  mov %r1, 3
  call local f
  add %r0, %r6
  exit
f:
  mov %r0, %r1
  mul %r0, 2
  exit`;

describe('breakpoints', () => {
  it('a pc breakpoint stops every time its instruction is reached, before it runs', () => {
    const vm = new Vm();
    const dbg = new Debugger(vm.load(LOOP));
    dbg.breakAt(2);
    const seen: [bigint, bigint][] = [];
    const r0 = dbg.run(undefined, (stop) => {
      expect(stop).toMatchObject({ reason: 'breakpoint', pc: 2, frame: 1, program: 'prog', text: 'add %r0, %r1' });
      seen.push([stop.register(0), stop.register(1)]);
    });
    expect(r0).toBe(10n);
    expect(seen).toEqual([[0n, 0n], [0n, 1n], [1n, 2n], [3n, 3n], [6n, 4n]]);
  });

  it('a line breakpoint stops at the first pc of each run of the line\'s instructions', () => {
    const vm = new Vm();
    const prog = vm.load(LOOP, { sourceLines: LOOP_LINES });
    const dbg = new Debugger(prog);
    const id = dbg.breakAt({ line: 3 });
    expect(dbg.breakpoints).toEqual([{ id, pcs: [3], line: 3 }]);
    const { stops, r0 } = collect(dbg);
    expect(r0).toBe(10n);
    expect(stops.map((s) => s.pc)).toEqual([3, 3, 3, 3, 3]);
    expect(stops[0]!.line).toEqual(line(3, 'while (++i < 5)'));
  });

  it('a line spread over several places gets one pc per run, and file matches a path suffix', () => {
    const vm = new Vm();
    // Line 7 at pcs 0-1 and 3-4 (two runs), line 8 between and at the end.
    const lines = [7, 7, 8, 7, 7, 8].map((n) => line(n, `line ${n}`));
    const prog = vm.load('mov %r0, 1\nadd %r0, 1\nadd %r0, 1\nadd %r0, 1\nadd %r0, 1\nexit', { sourceLines: lines });
    const dbg = new Debugger(prog);
    dbg.breakAt({ line: 7, file: 'loop.c' });
    dbg.breakAt({ line: 8, file: 'src/loop.c' });
    expect(dbg.breakpoints.map((b) => b.pcs)).toEqual([[0, 3], [2, 5]]);
    expect(collect(dbg).stops.map((s) => s.pc)).toEqual([0, 2, 3, 5]);
    // Another file's line 7 is not this one.
    expect(thrown(() => dbg.breakAt({ line: 7, file: 'other.c' }))).toMatchObject({ message: expect.stringContaining('other.c:7') });
    // 'oop.c' is not a path component of 'src/loop.c'.
    expect(thrown(() => dbg.breakAt({ line: 7, file: 'oop.c' }))).toBeInstanceOf(UsageError);
  });

  it('clearing a breakpoint, also from inside onStop; several breakpoints on one pc stop once', () => {
    const vm = new Vm();
    const dbg = new Debugger(vm.load(LOOP, { sourceLines: LOOP_LINES }));
    const a = dbg.breakAt(2);
    const b = dbg.breakAt({ line: 2 });
    expect(collect(dbg).stops).toHaveLength(5);
    dbg.clearBreakpoint(a);
    expect(dbg.breakpoints.map((x) => x.id)).toEqual([b]);
    // The line breakpoint still stops; clearing it at the first stop ends the stops.
    let stops = 0;
    expect(dbg.run(undefined, () => { stops++; dbg.clearBreakpoint(b); })).toBe(10n);
    expect(stops).toBe(1);
    expect(collect(dbg).stops).toHaveLength(0);
    // Set from inside onStop: takes effect at once.
    dbg.breakAt(0);
    stops = 0;
    dbg.run(undefined, () => { if (stops++ === 0) dbg.breakAt(5); });
    expect(stops).toBe(2);
  });
});

describe('stepping', () => {
  it('step from the entry stops at every instruction executed', () => {
    const vm = new Vm();
    const { stops, r0 } = collect(new Debugger(vm.load(LOOP)), undefined, 'step', { stopAtEntry: true });
    expect(r0).toBe(10n);
    expect(stops).toHaveLength(2 + 5 * 3 + 1);
    expect(stops[0]!.reason).toBe('entry');
    expect(stops.slice(1).every((s) => s.reason === 'step')).toBe(true);
    expect(stops.map((s) => s.pc)).toEqual([0, 1, ...Array<number[]>(5).fill([2, 3, 4]).flat(), 5]);
  });

  it('without stopAtEntry or breakpoints nothing stops', () => {
    const vm = new Vm();
    let stops = 0;
    expect(new Debugger(vm.load(LOOP)).run(undefined, () => { stops++; return 'step'; })).toBe(10n);
    expect(stops).toBe(0);
  });

  it('next steps over a local call; step goes into it', () => {
    const vm = new Vm();
    const dbg = new Debugger(vm.load(CALLS));
    dbg.breakAt(2);
    const over = collect(dbg, undefined, (s) => (s.pc === 2 ? 'next' : 'continue'));
    expect(over.stops.map((s) => [s.pc, s.frame])).toEqual([[2, 1], [3, 1]]);
    // r0 at pc 3 is f's result.
    expect(over.stops[1]!.registers[0]).toBe(6n);
    const into = collect(dbg, undefined, (s) => (s.pc === 2 ? 'step' : 'continue'));
    expect(into.stops.map((s) => [s.pc, s.frame])).toEqual([[2, 1], [5, 2]]);
    // In f: its own frame, one frame down, called from pc 2.
    expect(into.stops[1]!.callStack).toEqual([{ program: 'prog', pc: 5, frame: 2 }, { program: 'prog', pc: 2, frame: 1 }]);
    expect(into.stops[1]!.registers[10]).toBe(into.stops[0]!.registers[10]! - BigInt(FRAME_SIZE));
    expect(over.r0).toBe(13n);
    expect(into.r0).toBe(13n);
  });

  it('next and step all the way agree with the instructions each frame runs', () => {
    const vm = new Vm();
    const prog = vm.load(CALLS);
    const step = collect(new Debugger(prog), undefined, 'step', { stopAtEntry: true });
    expect(step.stops.map((s) => s.pc)).toEqual([0, 1, 2, 5, 6, 7, 3, 4]);
    expect(step.stops.map((s) => s.frame)).toEqual([1, 1, 1, 2, 2, 2, 1, 1]);
    const next = collect(new Debugger(prog), undefined, 'next', { stopAtEntry: true });
    expect(next.stops.map((s) => s.pc)).toEqual([0, 1, 2, 3, 4]);
    // next at a function's exit stops in its caller.
    const dbg = new Debugger(prog);
    dbg.breakAt(7);
    expect(collect(dbg, undefined, (s) => (s.pc === 7 ? 'next' : 'continue')).stops.map((s) => s.pc)).toEqual([7, 3]);
  });

  it('finish runs to the caller; from the main function, to the end', () => {
    const vm = new Vm();
    const dbg = new Debugger(vm.load(CALLS));
    dbg.breakAt(5);
    const { stops } = collect(dbg, undefined, 'finish');
    expect(stops.map((s) => [s.reason, s.pc, s.frame])).toEqual([['breakpoint', 5, 2], ['step', 3, 1]]);
    // From main, finish is continue: only breakpoints stop.
    const main = new Debugger(vm.load(LOOP));
    main.breakAt(4);
    expect(collect(main, undefined, 'finish', { stopAtEntry: true }).stops.map((s) => s.pc)).toEqual([0, 4, 4, 4, 4, 4]);
  });

  it('breakpoints inside a call stop a next over it; reasons say which', () => {
    const vm = new Vm();
    const dbg = new Debugger(vm.load(CALLS));
    dbg.breakAt(2);
    dbg.breakAt(6);
    const { stops } = collect(dbg, undefined, 'next');
    expect(stops.map((s) => [s.reason, s.pc])).toEqual([['breakpoint', 2], ['breakpoint', 6], ['step', 7], ['step', 3], ['step', 4]]);
  });

  it('continue runs to the next breakpoint, N times round a loop', () => {
    const vm = new Vm();
    const dbg = new Debugger(vm.load('mov %r0, 0\nloop:\nadd %r0, 3\njlt %r0, 300, loop\nexit'));
    dbg.breakAt(1);
    const { stops, r0 } = collect(dbg, undefined, 'continue');
    expect(r0).toBe(300n);
    expect(stops).toHaveLength(100);
    expect(stops.map((s) => s.registers[0])).toEqual(Array.from({ length: 100 }, (_, k) => BigInt(3 * k)));
  });
});

describe('what a stop reads', () => {
  const STORES = `
    mov %r3, 0x55
    stxb [%r10-1], %r3
    stdw [%r10-16], -2
    ldxw %r0, [%r1+4]
    call local f
    exit
  f:
    stw [%r10-4], 7
    mov %r0, 1
    exit`;

  it('registers, the stack frame after stores, and input memory', () => {
    const vm = new Vm();
    const input = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const prog = vm.load(STORES);
    const dbg = new Debugger(prog);
    const stops: Record<number, { regs: bigint[]; stack: Uint8Array; mem: Uint8Array }> = {};
    const r0 = dbg.run(input, (stop) => {
      const regs = stop.registers();
      expect(regs).toHaveLength(11);
      expect(regs.map((_, n) => stop.register(n))).toEqual(regs);
      stops[stop.pc] = { regs, stack: stop.stack(), mem: stop.readMemory(regs[1]!, 8) };
      return 'step';
    }, { stopAtEntry: true });
    expect(r0).toBe(1n);
    const at3 = stops[3]!;
    // r1 = the input's address, r2 its length, r10 the frame pointer.
    expect(at3.regs[2]).toBe(8n);
    expect(at3.mem).toEqual(input);
    // The stack after the two stores: the byte at r10-1 and the u64 -2 at r10-16.
    expect(at3.stack).toHaveLength(FRAME_SIZE);
    expect(at3.stack[FRAME_SIZE - 1]).toBe(0x55);
    expect([...at3.stack.subarray(FRAME_SIZE - 16, FRAME_SIZE - 8)]).toEqual([0xfe, 255, 255, 255, 255, 255, 255, 255]);
    expect(stops[1]!.stack.every((b) => b === 0)).toBe(true);
    // In f (pc 8, its exit): its own frame holds 7 at r10-4, and main's frame is the 512 bytes above.
    const inF = stops[8]!;
    expect(inF.regs[10]).toBe(at3.regs[10]! - 512n);
    expect([...inF.stack.subarray(FRAME_SIZE - 4)]).toEqual([7, 0, 0, 0]);
    expect(stops[4]!.regs[0]).toBe(0x08070605n);
    // u64 values: -2 in a register reads as 2^64 - 2.
    const neg = new Debugger(vm.load('mov %r4, -2\nmov %r0, 0\nexit'));
    neg.breakAt(1);
    neg.run(undefined, (s) => { expect(s.register(4)).toBe(2n ** 64n - 2n); });
  });

  it('stack() and readMemory() are copies', () => {
    const vm = new Vm();
    const input = new Uint8Array(4);
    const dbg = new Debugger(vm.load('stb [%r10-1], 9\nldxb %r0, [%r1]\nexit'));
    dbg.breakAt(1);
    dbg.run(input, (stop) => {
      stop.stack().fill(1);
      stop.readMemory(stop.register(1), 4).fill(1);
      expect(stop.stack()[FRAME_SIZE - 1]).toBe(9);
      expect(stop.readMemory(Number(stop.register(1)), 4)).toEqual(new Uint8Array(4));
    });
    expect(input).toEqual(new Uint8Array(4));
  });

  it('readMemory of unmapped or out-of-range addresses is a MemoryAccessError naming the stop\'s pc', () => {
    const vm = new Vm();
    const dbg = new Debugger(vm.load('mov %r0, 0\nexit'));
    dbg.breakAt(1);
    dbg.run(new Uint8Array(4), (stop) => {
      for (const [address, length] of [[0, 4], [2n ** 40n, 1], [-1n, 1], [stop.register(1), 5]] as const) {
        const e = thrown(() => stop.readMemory(address, length));
        expect(e).toBeInstanceOf(MemoryAccessError);
        expect(e).toMatchObject({ pc: 1 });
      }
      expect(stop.readMemory(stop.register(1), 0)).toEqual(new Uint8Array(0));
    });
  });

  it('text is the instruction about to run, in assembly (lddw as one line)', () => {
    const vm = new Vm();
    const dbg = new Debugger(vm.load('lddw %r0, 0x123456789\njeq %r0, 1, +1\nexit\nexit'));
    const { stops } = collect(dbg, undefined, 'step', { stopAtEntry: true });
    expect(stops.map((s) => [s.pc, s.text])).toEqual([[0, 'lddw %r0, 0x123456789'], [2, 'jeq %r0, 1, +1'], [3, 'exit']]);
  });
});

describe('bad arguments', () => {
  it('constructor, breakAt and clearBreakpoint', () => {
    const vm = new Vm();
    expect(thrown(() => new Debugger({} as LoadedProgram))).toBeInstanceOf(UsageError);
    const dbg = new Debugger(vm.load('lddw %r0, 1\nexit'));
    for (const bad of [-1, 3, 1.5, NaN, 1, '0', null, undefined, {}, { line: 1 }]) {
      expect(thrown(() => dbg.breakAt(bad as number)), String(bad)).toBeInstanceOf(UsageError);
    }
    expect(thrown(() => dbg.breakAt(1))).toMatchObject({ message: expect.stringContaining('second slot of an lddw') });
    expect(thrown(() => dbg.breakAt({ line: 1 }))).toMatchObject({ message: expect.stringContaining('no source lines') });
    const lined = new Debugger(vm.load(LOOP, { sourceLines: LOOP_LINES }));
    for (const bad of [{ line: 0 }, { line: 2.5 }, { line: '2' }, { line: 2, file: '' }, { line: 2, file: 3 }, { line: 9 }]) {
      expect(thrown(() => lined.breakAt(bad as { line: number })), JSON.stringify(bad)).toBeInstanceOf(UsageError);
    }
    expect(thrown(() => lined.breakAt({ line: 9 }))).toMatchObject({ message: 'no instruction is on line 9' });
    expect(lined.breakpoints).toEqual([]);
    expect(thrown(() => dbg.clearBreakpoint(1))).toBeInstanceOf(UsageError);
    const id = dbg.breakAt(0);
    dbg.clearBreakpoint(id);
    expect(thrown(() => dbg.clearBreakpoint(id))).toBeInstanceOf(UsageError);
  });

  it('run: onStop, options, input; the Vm runs on afterwards', () => {
    const vm = new Vm({ cpus: 2 });
    const prog = vm.load(LOOP);
    const dbg = new Debugger(prog);
    const noop: OnStop = () => undefined;
    const bad: [unknown, unknown, unknown][] = [
      [undefined, 'not a function', {}], [undefined, noop, null], [undefined, noop, { stopAtEntry: 1 }],
      [undefined, noop, { budget: -1 }], [undefined, noop, { cpu: 2 }], ['bytes', noop, {}],
    ];
    for (const [input, onStop, options] of bad) {
      expect(thrown(() => dbg.run(input as RunInput, onStop as OnStop, options as object))).toBeInstanceOf(UsageError);
    }
    expect(dbg.run(undefined, noop, { cpu: 1 })).toBe(10n);
    expect(prog.run()).toBe(10n);
  });

  it('an unknown command is a UsageError out of run, and the Vm runs on', () => {
    const vm = new Vm();
    const prog = vm.load(LOOP);
    for (const command of ['jump', 'Step', 1, null, {}]) {
      const e = thrown(() => new Debugger(prog).run(undefined, () => command as StepCommand, { stopAtEntry: true }));
      expect(e, String(command)).toBeInstanceOf(UsageError);
      expect((e as Error).message).toMatch(/onStop returned .*expected 'step', 'next', 'finish', 'continue' or undefined/);
    }
    expect(prog.run()).toBe(10n);
  });

  it('register numbers outside 0..10', () => {
    const vm = new Vm();
    new Debugger(vm.load(LOOP)).run(undefined, (stop) => {
      for (const n of [-1, 11, 1.5, NaN]) expect(thrown(() => stop.register(n)), String(n)).toBeInstanceOf(UsageError);
      for (const [a, l] of [['1', 1], [1.5, 1], [-1, 1], [0n, -1], [0n, 1.5]] as const) {
        expect(thrown(() => stop.readMemory(a as bigint, l)), `${String(a)} ${l}`).toBeInstanceOf(UsageError);
      }
    }, { stopAtEntry: true });
  });
});

describe('stale stops and errors in onStop', () => {
  it('a Stop used after its callback returned is a UsageError', () => {
    const vm = new Vm();
    const dbg = new Debugger(vm.load(LOOP));
    const kept: Stop[] = [];
    dbg.run(new Uint8Array(4), (stop) => {
      // The previous stop is stale already, inside the next callback.
      if (kept.length > 0) expect(thrown(() => kept[0]!.pc)).toBeInstanceOf(UsageError);
      kept.push(stop);
      return kept.length < 3 ? 'step' : 'continue';
    }, { stopAtEntry: true });
    expect(kept).toHaveLength(3);
    const stale = kept[2]!;
    const uses: (() => unknown)[] = [
      () => stale.reason, () => stale.pc, () => stale.frame, () => stale.program, () => stale.line, () => stale.text,
      () => stale.registers(), () => stale.register(0), () => stale.stack(), () => stale.readMemory(0n, 1), () => stale.callStack,
    ];
    for (const use of uses) {
      const e = thrown(use);
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toMatch(/stop is no longer current/);
    }
  });

  it('what onStop throws ends the run and comes out of run() as is; the Vm runs on', () => {
    const vm = new Vm();
    const prog = vm.load(LOOP);
    const dbg = new Debugger(prog);
    dbg.breakAt(3);
    const boom = new Error('boom');
    let stops = 0;
    expect(thrown(() => dbg.run(new Uint8Array(4), () => { if (++stops === 2) throw boom; }))).toBe(boom);
    expect(stops).toBe(2);
    // A non-Error value too.
    expect(thrown(() => dbg.run(undefined, () => { throw 'text'; }))).toBe('text');
    // Nothing is left behind: the Vm runs on both engines, the debugger again.
    for (const engine of AVAILABLE_ENGINES) expect(prog.run(new Uint8Array(4), { engine })).toBe(10n);
    expect(collect(dbg).stops).toHaveLength(5);
    // A run started inside onStop is refused (runs of one Vm do not nest).
    expect(thrown(() => dbg.run(undefined, () => { prog.run(); }))).toBeInstanceOf(UsageError);
    expect(prog.run()).toBe(10n);
  });

  it('the program\'s own errors come out of a debugged run as from a plain one', () => {
    const vm = new Vm();
    const fault = new Debugger(vm.load('mov %r1, 0\nldxw %r0, [%r1]\nexit'));
    expect(thrown(() => fault.run(undefined, () => 'step', { stopAtEntry: true }))).toMatchObject({ code: 'MEMORY_ACCESS', pc: 1 });
    const spin = new Debugger(vm.load('mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 1000000, loop\nexit'));
    let stops = 0;
    expect(thrown(() => spin.run(undefined, () => { stops++; return 'step'; }, { stopAtEntry: true, budget: 50 }))).toBeInstanceOf(BudgetExceededError);
    expect(stops).toBeGreaterThan(40);
  });
});

describe.each(AVAILABLE_ENGINES)('r0 of a debugged run is the r0 of a plain run on %s', (engine) => {
  const programs: [string, string, () => RunInput | undefined][] = [
    ['loop', LOOP, () => undefined],
    ['calls', CALLS, () => undefined],
    ['input', 'ldxdw %r0, [%r1]\nmul %r0, 3\nexit', () => Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2])],
    ['stores', 'stdw [%r10-8], -5\nldxdw %r0, [%r10-8]\nrsh %r0, 4\nexit', () => undefined],
  ];
  it.each(programs)('%s', (_name, source, input) => {
    const vm = new Vm({ engine });
    const prog = vm.load(source);
    const plain = prog.run(input(), { engine });
    for (const command of ['step', 'next', 'finish', 'continue'] as const) {
      expect(new Debugger(prog).run(input(), () => command, { stopAtEntry: true }), command).toBe(plain);
    }
  });
});
