// The debugger across executions: bpf_loop callbacks (helper 181, run by the
// helper through ctx.run.callFunction, one frame below the call), tail calls
// (a target takes over its caller's frame; from a subprogram, it returns to
// the subprogram's caller), and programs from an ELF object with BTF line
// info (line breakpoints, call stacks with C lines). r0 of each debugged run
// is checked against plain runs on every engine.
import { describe, expect, it } from 'vitest';
import { Debugger } from '../lib/debug/debugger.js';
import { HelperError } from '../lib/errors.js';
import { loadObject } from '../lib/elf/index.js';
import { XdpContext } from '../lib/xdp.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';
import { LOOP_MAIN } from './bpf-loop-programs.js';
import { collect } from './debugger-helpers.js';
import { thrown } from './maps-helpers.js';
import { fixture } from './elf-helpers.js';

/**
 * bpf_loop(3, cb, ctx = r10 - 8, 0), then r0 = 1000 * loops + *(u64 *)(r10 - 8).
 * pcs: 0 stdw, 1 mov, 2 lddw (2 slots), 4 mov, 5 add, 6 mov, 7 call 181, 8 mul, 9 ldxdw, 10 add, 11 exit;
 * cb: 12 ldxdw, 13 add, 14 stxdw, 15 mov, 16 exit. The callback adds its index to *ctx.
 */
const LOOP = `${LOOP_MAIN(3)}
  cb:
    ldxdw %r3, [%r2]
    add %r3, %r1
    stxdw [%r2], %r3
    mov %r0, 0
    exit`;
const CALL_181 = 7, CB = 12;

describe('bpf_loop callbacks', () => {
  it('next over the helper call skips its callbacks; step goes into the first', () => {
    const vm = new Vm();
    const prog = vm.load(LOOP);
    const dbg = new Debugger(prog);
    dbg.breakAt(CALL_181);
    const over = collect(dbg, undefined, (s) => (s.pc === CALL_181 ? 'next' : 'continue'));
    expect(over.r0).toBe(3003n);
    expect(over.stops.map((s) => [s.pc, s.frame])).toEqual([[CALL_181, 1], [CALL_181 + 1, 1]]);
    expect(over.stops[1]!.registers[0]).toBe(3n);
    const into = collect(dbg, undefined, (s) => (s.pc === CALL_181 ? 'step' : 'continue'));
    expect(into.stops.map((s) => [s.pc, s.frame])).toEqual([[CALL_181, 1], [CB, 2]]);
    const inCb = into.stops[1]!;
    // Called with (index 0, ctx), in a frame of its own below the caller's.
    expect(inCb.registers[1]).toBe(0n);
    expect(inCb.registers[2]).toBe(into.stops[0]!.registers[10]! - 8n);
    expect(inCb.registers[10]).toBe(into.stops[0]!.registers[10]! - 512n);
    expect(inCb.callStack).toEqual([{ program: 'prog', pc: CB, frame: 2 }, { program: 'prog', pc: CALL_181, frame: 1 }]);
  });

  it('stepping through every callback, and next inside one', () => {
    const vm = new Vm();
    const prog = vm.load(LOOP);
    const step = collect(new Debugger(prog), undefined, 'step', { stopAtEntry: true });
    const cb = [CB, CB + 1, CB + 2, CB + 3, CB + 4];
    expect(step.stops.map((s) => s.pc)).toEqual([0, 1, 2, 4, 5, 6, CALL_181, ...cb, ...cb, ...cb, 8, 9, 10, 11]);
    // next inside a callback stops at each instruction at its frame, the next iterations' too.
    const dbg = new Debugger(prog);
    dbg.breakAt(CB);
    const next = collect(dbg, undefined, (s) => (s.frame === 2 ? 'next' : 'continue'));
    expect(next.stops.map((s) => s.pc)).toEqual([...cb, ...cb, ...cb, 8]);
    expect(next.stops.filter((s) => s.pc === CB + 1).map((s) => s.registers[1])).toEqual([0n, 1n, 2n]);
  });

  it('a breakpoint in the callback stops each iteration; finish leaves the helper call', () => {
    const vm = new Vm();
    const dbg = new Debugger(vm.load(LOOP));
    dbg.breakAt(CB + 2);
    const each = collect(dbg);
    expect(each.stops.map((s) => s.registers[3])).toEqual([0n, 1n, 3n]);
    const finish = collect(dbg, undefined, (s) => (s.frame === 2 ? 'finish' : 'continue'));
    // finish runs until the helper returns: the next instruction at a frame below the callback's (the breakpoint still stops).
    expect(finish.stops.map((s) => [s.pc, s.frame])).toEqual([[CB + 2, 2], [CB + 2, 2], [CB + 2, 2], [CALL_181 + 1, 1]]);
    expect(finish.r0).toBe(3003n);
  });

  it('what onStop throws inside a callback comes out as is, not as the helper\'s error', () => {
    const vm = new Vm();
    const prog = vm.load(LOOP);
    const dbg = new Debugger(prog);
    dbg.breakAt(CB);
    const boom = new Error('boom');
    const e = thrown(() => dbg.run(undefined, () => { throw boom; }));
    expect(e).toBe(boom);
    expect(e).not.toBeInstanceOf(HelperError);
    expect(prog.run()).toBe(3003n);
    // A helper that swallows everything its callback throws does not hide the error either.
    const swallow = new Vm({ helpers: { 0x1000: (fn, _2, _3, _4, _5, ctx) => { try { ctx.run.callFunction(fn, []); } catch { /* ignored */ } return 5; } } });
    const wrapped = swallow.load('lddw %r1, func f\ncall 0x1000\nexit\nf:\nmov %r0, 0\nexit');
    const inner = new Debugger(wrapped);
    inner.breakAt(4);
    expect(thrown(() => inner.run(undefined, () => { throw boom; }))).toBe(boom);
    expect(wrapped.run()).toBe(5n);
  });
});

/** A Vm with a prog_array (map fd 1) and programs named for the call stack. */
function tailWorld() {
  const vm = new Vm();
  const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 4 });
  // The target: r0 = 5 + its r1's first byte. pcs 0, 1, 2.
  const target = vm.load('ldxb %r0, [%r1]\nadd %r0, 5\nexit', { name: 'target' });
  progs.set(0, target);
  return { vm, progs, target };
}

/** Tail-calls slot `slot`; r0 = 99 when it fails. pcs: 0 lddw, 2 mov, 3 call 12, 4 mov, 5 exit. */
const TAIL = (slot: number): string => `lddw %r2, map_fd 1\nmov %r3, ${slot}\ncall 12\nmov %r0, 99\nexit`;

describe('tail calls', () => {
  it('step and next from a tail call that succeeds stop at the target\'s first instruction, in the same frame', () => {
    const { vm } = tailWorld();
    const main = vm.load(TAIL(0), { name: 'main' });
    for (const command of ['step', 'next'] as const) {
      const dbg = new Debugger(main);
      dbg.breakAt(3);
      const { stops, r0 } = collect(dbg, Uint8Array.of(1), (s) => (s.pc === 3 ? command : 'continue'));
      expect(r0).toBe(6n);
      expect(stops.map((s) => [s.program, s.pc, s.frame])).toEqual([['main', 3, 1], ['target', 0, 1]]);
      // The target replaced main: the call stack holds it alone.
      expect(stops[1]!.callStack).toEqual([{ program: 'target', pc: 0, frame: 1 }]);
      expect(stops[1]!.text).toBe('ldxb %r0, [%r1]');
    }
  });

  it('a tail call that fails goes on in the caller', () => {
    const { vm } = tailWorld();
    const dbg = new Debugger(vm.load(TAIL(2), { name: 'main' }));
    dbg.breakAt(3);
    const { stops, r0 } = collect(dbg, Uint8Array.of(1), 'next');
    expect(r0).toBe(99n);
    expect(stops.map((s) => [s.program, s.pc])).toEqual([['main', 3], ['main', 4], ['main', 5]]);
    // r0 holds the tail call's error (-ENOENT) before the mov.
    expect(stops[1]!.registers[0]).toBe(2n ** 64n - 2n);
  });

  it('breakpoints belong to the debugged program, not to a target with the same pcs', () => {
    const { vm } = tailWorld();
    const dbg = new Debugger(vm.load(TAIL(0), { name: 'main' }));
    dbg.breakAt(0);
    const { stops } = collect(dbg, Uint8Array.of(1));
    expect(stops.map((s) => [s.program, s.pc])).toEqual([['main', 0]]);
  });

  it('a tail call from a subprogram: the target runs in its frame, finish returns to the subprogram\'s caller', () => {
    const { vm } = tailWorld();
    // pcs: 0 mov r6, 1 call local sub, 2 add, 3 exit; sub: 4 lddw, 6 mov, 7 call 12, 8 mov, 9 exit.
    const main = vm.load(`mov %r6, 100\ncall local sub\nadd %r0, %r6\nexit\nsub:\n${TAIL(0)}`, { name: 'main' });
    const dbg = new Debugger(main);
    dbg.breakAt(7);
    const { stops, r0 } = collect(dbg, Uint8Array.of(2), (s) => (s.pc === 7 && s.program === 'main' ? 'step' : 'finish'));
    expect(r0).toBe(107n);
    expect(stops.map((s) => [s.program, s.pc, s.frame])).toEqual([['main', 7, 2], ['target', 0, 2], ['main', 2, 1]]);
    // The subprogram that made the tail call is gone from the call stack: the target returns to its caller.
    expect(stops[1]!.callStack).toEqual([{ program: 'target', pc: 0, frame: 2 }, { program: 'main', pc: 1, frame: 1 }]);
    expect(stops[2]!.registers[0]).toBe(7n);
  });
});

describe('an ELF object with BTF line info (calls.o)', () => {
  function callsXdp() {
    const vm = new Vm();
    const obj = loadObject(vm, fixture('calls'));
    return { vm, prog: obj.program('calls_xdp').prog };
  }

  it('a line breakpoint stops once per time the line is reached', () => {
    const { vm, prog } = callsXdp();
    const dbg = new Debugger(prog);
    // `sum += p[i];`: clang unrolled the loop, so the line is 8 runs of instructions.
    dbg.breakAt({ line: 18, file: 'calls.c' });
    expect(dbg.breakpoints[0]!.pcs).toHaveLength(8);
    const ctx = new XdpContext(vm.memory, Uint8Array.of(10, 20, 30));
    try {
      const { stops } = collect(dbg, ctx);
      expect(stops).toHaveLength(3);
      expect(stops.every((s) => s.line?.lineNum === 18 && s.line.line.includes('sum += p[i]'))).toBe(true);
      expect(stops.every((s) => s.program === 'calls_xdp' && s.frame === 2)).toBe(true);
    } finally {
      ctx.release();
    }
  });

  it('the call stack names each function\'s C line', () => {
    const { vm, prog } = callsXdp();
    const dbg = new Debugger(prog);
    // `return (a * 31 + b) & 0xffff;` in mix(), called by classify(), called by the program.
    const id = dbg.breakAt({ line: 26 });
    const ctx = new XdpContext(vm.memory, Uint8Array.of(1, 2, 3, 4));
    try {
      const { stops, r0 } = collect(dbg, ctx, 'finish');
      expect(stops).toHaveLength(3);
      const [inMix, inClassify, inMain] = stops;
      expect(dbg.breakpoints).toEqual([{ id, pcs: [inMix!.pc], line: 26 }]);
      expect(inMix!.callStack.map((f) => [f.frame, f.line?.lineNum])).toEqual([[3, 26], [2, 32], [1, 42]]);
      expect(inMix!.callStack.map((f) => f.line?.file)).toEqual(['./calls.c', './calls.c', './calls.c']);
      // finish from mix lands in classify after the call; from classify, in the program.
      expect([inClassify!.frame, inClassify!.line?.lineNum, inMain!.frame, inMain!.line?.lineNum]).toEqual([2, 32, 1, 42]);
      expect(inClassify!.pc).toBe(inMix!.callStack[1]!.pc + 1);
      // mix(10, 1) = 311 & 0xffff: odd, XDP_DROP (1).
      expect(inClassify!.registers[0]).toBe(311n);
      expect(r0).toBe(1n);
    } finally {
      ctx.release();
    }
  });
});

describe('the README example (Stepping through a program)', () => {
  it('prints what the README shows', () => {
    const vm = new Vm();
    const prog = loadObject(vm, fixture('calls')).program('calls_xdp').prog;
    const dbg = new Debugger(prog);
    dbg.breakAt({ line: 18, file: 'calls.c' });
    dbg.breakAt({ line: 26 });
    const out: string[] = [];
    const log = (...parts: unknown[]): void => { out.push(parts.map((p) => (typeof p === 'bigint' ? `${p}n` : String(p))).join(' ')); };
    const ctx = new XdpContext(vm.memory, new Uint8Array([10, 20, 30]));
    const r0 = dbg.run(ctx, (stop) => {
      log(`${stop.reason} at pc ${stop.pc} (frame ${stop.frame}, line ${stop.line?.lineNum}): ${stop.text}`);
      if (stop.line?.lineNum === 18) {
        log('  sum so far', stop.register(0));
      } else if (stop.line?.lineNum === 26) {
        log('  a, b =', stop.register(0), stop.register(2));
        for (const f of stop.callStack) log(`  #${f.frame} ${f.program} pc ${f.pc}: ${f.line?.line.trim()}`);
        return 'finish';
      } else {
        log('  mix() returned', stop.register(0));
      }
      return 'continue';
    });
    ctx.release();
    log('r0 =', r0);
    expect(out).toEqual([
      'breakpoint at pc 10 (frame 2, line 18): ldxb %r0, [%r1]',
      '  sum so far 0n',
      'breakpoint at pc 14 (frame 2, line 18): ldxb %r3, [%r1+1]',
      '  sum so far 10n',
      'breakpoint at pc 19 (frame 2, line 18): ldxb %r3, [%r1+2]',
      '  sum so far 30n',
      'breakpoint at pc 57 (frame 3, line 26): mul32 %r0, 31',
      '  a, b = 60n 7n',
      '  #3 calls_xdp pc 57: return (a * 31 + b) & 0xffff;',
      '  #2 calls_xdp pc 49: return mix(sum, sum >> 3) & 1 ? XDP_DROP : XDP_PASS;',
      '  #1 calls_xdp pc 4: return classify(sum_bytes(data, data_end));',
      'step at pc 50 (frame 2, line 32): mov32 %r1, %r0',
      '  mix() returned 1867n',
      'r0 = 1n',
    ]);
  });
});

describe.each(AVAILABLE_ENGINES)('r0 of a debugged run across executions is the r0 of a plain run on %s', (engine) => {
  it('bpf_loop, tail calls (main and subprogram), calls.o', () => {
    const { vm } = tailWorld();
    const cases = [
      vm.load(LOOP), vm.load(TAIL(0)), vm.load(TAIL(3)), vm.load(`mov %r6, 100\ncall local sub\nadd %r0, %r6\nexit\nsub:\n${TAIL(0)}`),
    ];
    for (const prog of cases) {
      const plain = prog.run(Uint8Array.of(4), { engine });
      for (const command of ['step', 'next', 'finish'] as const) {
        expect(new Debugger(prog).run(Uint8Array.of(4), () => command, { stopAtEntry: true })).toBe(plain);
      }
    }
    const obj = loadObject(vm, fixture('calls'));
    const xdp = obj.program('calls_xdp').prog;
    for (const packet of [[], [1], [1, 2, 3, 4, 5, 6, 7, 8, 9], [255, 255, 255, 255, 255, 255, 255, 255]]) {
      const run = (f: (ctx: XdpContext) => bigint): bigint => {
        const ctx = new XdpContext(vm.memory, Uint8Array.from(packet));
        try {
          return f(ctx);
        } finally {
          ctx.release();
        }
      };
      const plain = run((ctx) => xdp.run(ctx, { engine }));
      expect(run((ctx) => new Debugger(xdp).run(ctx, () => 'step', { stopAtEntry: true })), String(packet)).toBe(plain);
    }
  });
});
