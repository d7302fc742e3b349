// Traces (RunOptions.trace): the events of hand-checked programs on the
// interpreter, and the same events on every engine for programs covering
// each instruction family, call kind (local, helper, callback, tail call,
// callx), unwinding and packet loads; C lines from an ELF object; faults;
// and the Tracer's robustness against odd report sequences.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadObject } from '../lib/elf/index.js';
import { BudgetExceededError, ExecutionError, HelperError, MemoryAccessError } from '../lib/errors.js';
import { OPCODES, writesDst, writesSrc, type Instruction } from '../lib/isa.js';
import { memoryOperand, writtenRegister } from '../lib/trace/effects.js';
import { Tracer } from '../lib/trace/tracer.js';
import type { TraceEvent } from '../lib/trace/types.js';
import { TraceText } from '../lib/trace/format.js';
import { AVAILABLE_ENGINES, Vm, type EngineName, type LoadedProgram, type VmOptions } from '../lib/vm.js';
import { XdpContext } from '../lib/xdp.js';

const U64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));
const UNWIND = 50;

/** A Vm with an unwind helper (50: returns r1; ends the run on 0) and a prog_array as map fd 1. */
function world(engine: EngineName, options: VmOptions = {}) {
  const vm = new Vm({ engine, helpers: { [UNWIND]: (a: bigint) => a }, unwindHelper: UNWIND, seed: 7, ...options });
  const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 4 });
  return { vm, progs };
}

interface Traced {
  events: TraceEvent[];
  result?: bigint;
  error?: unknown;
}

/** Runs `prog` traced; collects the events and the result or the error. */
function traced(prog: LoadedProgram, input: () => Parameters<LoadedProgram['run']>[0]): Traced {
  const events: TraceEvent[] = [];
  try {
    return { events, result: prog.run(input(), { trace: (e) => events.push(e) }) };
  } catch (error) {
    return { events, error };
  }
}

const pcs = (t: Traced): number[] => t.events.map((e) => e.pc);
const frames = (t: Traced): number[] => t.events.map((e) => e.frame);
const regsAt = (t: Traced, pc: number) => t.events.find((e) => e.pc === pc)!.registers;

/**
 * Each case builds its world on an engine and returns the traced result; the
 * same case must give the same events (and result or error) on every engine.
 */
interface Case {
  name: string;
  run: (engine: EngineName) => Traced;
}

/** A program run on 64 bytes of input memory (0, 1, 2, ... 63). */
function onMemory(source: string, options: VmOptions = {}): (engine: EngineName) => Traced {
  return (engine) => {
    const { vm } = world(engine, options);
    const prog = vm.load(source);
    return traced(prog, () => Uint8Array.from({ length: 64 }, (_, i) => i));
  };
}

const CASES: Case[] = [
  {
    name: 'ALU64 and ALU32',
    run: onMemory(`
      mov %r1, -7
      mov32 %r2, -7
      add %r1, 100
      sub32 %r2, 3
      mul %r1, 0x12345
      div %r1, 7
      sdiv %r2, -2
      mod32 %r1, 5
      smod %r2, 3
      or %r1, 0xf0
      and32 %r1, 0xff
      xor %r2, %r1
      lsh %r2, 40
      rsh32 %r2, 3
      arsh %r2, 7
      neg %r1
      neg32 %r2
      be16 %r1
      le32 %r2
      bswap64 %r1
      movsx832 %r3, %r1
      movsx3264 %r4, %r2
      mov %r0, %r1
      exit`),
  },
  {
    name: 'loads and stores of each size, sign-extending loads',
    run: onMemory(`
      ldxb %r2, [%r1+63]
      ldxh %r3, [%r1+2]
      ldxw %r4, [%r1+4]
      ldxdw %r5, [%r1+8]
      ldxsb %r6, [%r1+63]
      ldxsh %r7, [%r1+62]
      ldxsw %r8, [%r1+60]
      stb [%r1], -1
      sth [%r1+2], 0x1234
      stw [%r1+4], -2
      stdw [%r1+8], -3
      stxb [%r10-1], %r2
      stxh [%r10-4], %r3
      stxw [%r10-8], %r4
      stxdw [%r10-16], %r5
      ldxdw %r0, [%r10-16]
      exit`),
  },
  {
    name: 'atomics: plain, fetch, xchg, cmpxchg (32 and 64 bits)',
    run: onMemory(`
      mov %r2, 5
      lock add [%r1], %r2
      lock fetch add [%r1+8], %r2
      lock or32 [%r1+16], %r2
      lock fetch xor32 [%r1+20], %r2
      mov %r3, 77
      lock xchg [%r1+24], %r3
      mov %r0, 0x2120
      mov %r4, 9
      lock cmpxchg32 [%r1+32], %r4
      mov %r0, 0
      lock cmpxchg [%r1+40], %r4
      stxdw [%r10-8], %r4
      lock fetch and [%r10-8], %r0
      exit`),
  },
  {
    name: 'lddw: imm64, map fd, function address',
    run: (engine) => {
      const { vm } = world(engine);
      const prog = vm.load(`
        lddw %r1, 0x8877665544332211
        lddw %r2, map_fd 1
        lddw %r3, func f
        mov %r0, 0
        exit
      f:
        exit`);
      return traced(prog, () => undefined);
    },
  },
  {
    name: 'local calls three frames deep, callx to a function',
    run: onMemory(`
      mov %r6, 1
      call local a
      lddw %r7, func b
      callx %r7
      add %r0, %r6
      exit
    a:
      mov %r1, 10
      call local b
      add %r0, 1
      exit
    b:
      mov %r0, %r1
      stxdw [%r10-8], %r0
      exit`),
  },
  {
    name: 'helper calls (map update and lookup, prandom), callx to a helper',
    run: (engine) => {
      const { vm } = world(engine);
      const map = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 });
      const prog = vm.load(`
        stw [%r10-4], 1
        stdw [%r10-16], 42
        lddw %r1, map_fd ${map.fd}
        mov %r2, %r10
        add %r2, -4
        mov %r3, %r10
        add %r3, -16
        mov %r4, 0
        call 2
        lddw %r1, map_fd ${map.fd}
        mov %r2, %r10
        add %r2, -4
        call 1
        ldxdw %r6, [%r0]
        mov %r9, 7
        callx %r9
        add %r0, %r6
        exit`);
      return traced(prog, () => undefined);
    },
  },
  {
    name: 'bpf_loop: the callback\'s events come before the call\'s',
    run: onMemory(`
      stdw [%r10-8], 0
      mov %r1, 3
      lddw %r2, func cb
      mov %r3, %r10
      add %r3, -8
      mov %r4, 0
      call 181
      ldxdw %r0, [%r10-8]
      exit
    cb:
      ldxdw %r3, [%r2]
      add %r3, %r1
      stxdw [%r2], %r3
      mov %r0, 0
      exit`),
  },
  {
    name: 'tail calls: success from main, failure, success from a subprogram, callx to 12',
    run: (engine) => {
      const { vm, progs } = world(engine);
      progs.set(0, vm.load('mov %r0, 5\nexit', { name: 'five' }));
      progs.set(1, vm.load('mov %r0, %r10\nexit', { name: 'frame' }));
      const prog = vm.load(`
        mov %r6, %r1
        lddw %r2, map_fd 1
        mov %r3, 3
        call 12
        mov %r8, %r0
        mov %r1, %r6
        call local sub
        mov %r7, %r0
        mov %r1, %r6
        lddw %r2, map_fd 1
        mov %r3, 2
        mov %r9, 12
        callx %r9
        mov %r1, %r6
        lddw %r2, map_fd 1
        mov %r3, 0
        call 12
        exit
      sub:
        lddw %r2, map_fd 1
        mov %r3, 1
        call 12
        mov %r0, 1
        exit`, { name: 'main' });
      return traced(prog, () => new Uint8Array(8));
    },
  },
  {
    name: 'a tail call from a subprogram whose target unwinds the run; callx to an unwinding helper',
    run: (engine) => {
      const { vm, progs } = world(engine);
      progs.set(0, vm.load(`mov %r1, 0\ncall ${UNWIND}\nexit`, { name: 'unwinds' }));
      progs.set(1, vm.load(`mov %r1, 0\nmov %r2, ${UNWIND}\ncallx %r2\nexit`, { name: 'unwinds-callx' }));
      const prog = vm.load(`
        mov %r6, %r1
        call local sub
        mov %r0, 99
        exit
      sub:
        lddw %r2, map_fd 1
        ldxb %r3, [%r1]
        call 12
        mov %r0, 1
        exit`, { name: 'main' });
      const first = traced(prog, () => new Uint8Array(8));
      const second = traced(prog, () => new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
      return { events: [...first.events, ...second.events], result: (first.result ?? -1n) * 1000n + (second.result ?? -1n) };
    },
  },
  {
    name: 'unwind-on-success in a subprogram ends the run; a non-zero result does not',
    run: onMemory(`
      mov %r1, 3
      call ${UNWIND}
      mov %r6, %r0
      call local sub
      mov %r0, 99
      exit
    sub:
      mov %r1, 0
      call ${UNWIND}
      mov %r0, 1
      exit`),
  },
  {
    name: 'unwind-on-success inside a bpf_loop callback',
    run: onMemory(`
      mov %r1, 5
      lddw %r2, func cb
      mov %r3, 0
      mov %r4, 0
      call 181
      mov %r0, 99
      exit
    cb:
      mov %r6, %r1
      mov %r1, 2
      sub %r1, %r6
      call ${UNWIND}
      mov %r0, 0
      exit`),
  },
  {
    name: 'LD_ABS / LD_IND, then one out of bounds ends the run',
    run: (engine) => {
      const { vm } = world(engine);
      const prog = vm.load(`
        mov %r6, %r1
        ldabsh 12
        mov %r7, 4
        ldindb %r7, 2
        ldabsw 100
        mov %r0, 1
        exit`);
      const packet = Uint8Array.from({ length: 60 }, (_, i) => i);
      const events: TraceEvent[] = [];
      const ctx = new XdpContext(vm.memory, packet);
      try {
        return { events, result: prog.run(ctx, { trace: (e) => events.push(e) }) };
      } finally {
        ctx.release();
      }
    },
  },
  {
    name: 'a fault: events up to the faulting instruction',
    run: onMemory(`
      mov %r2, 1
      ldxw %r3, [%r1+60]
      ldxw %r4, [%r1+62]
      mov %r0, 0
      exit`),
  },
  {
    name: 'a fault inside a bpf_loop callback',
    run: onMemory(`
      mov %r6, 1
      mov %r1, 2
      lddw %r2, func cb
      mov %r3, 0
      mov %r4, 0
      call 181
      exit
    cb:
      mov %r2, %r1
      lsh %r2, 30
      ldxb %r0, [%r2]
      mov %r0, 0
      exit`),
  },
  {
    name: 'a budget stop at a call',
    run: onMemory('mov %r1, 1\nmov %r1, 2\nmov %r1, 3\ncall 7\nexit', { budget: 3 }),
  },
];

/** Events with the error reduced to its class and pc (errors are not equal across engines as objects). */
function comparable(t: Traced) {
  const error = t.error instanceof Error ? { name: t.error.name, message: t.error.message } : t.error;
  return { events: t.events, result: t.result, error };
}

describe('the same trace on every engine', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const reference = comparable(c.run('interp'));
    expect(reference.events.length).toBeGreaterThan(0);
    for (const engine of AVAILABLE_ENGINES) expect(comparable(c.run(engine)), engine).toEqual(reference);
  });
});

describe('interpreter traces, checked by hand', () => {
  const byName = (name: string) => CASES.find((c) => c.name.startsWith(name))!.run('interp');

  it('registers written, memory touched with the values after, frames', () => {
    const vm = new Vm({ engine: 'interp' });
    const prog = vm.load(`
      mov %r6, %r1
      mov32 %r2, -1
      stxw [%r6+0], %r2
      ldxh %r3, [%r6+2]
      ldxsb %r4, [%r6]
      lddw %r5, 0x1122334455667788
      jeq %r5, 0, +1
      mov %r1, 3
      call local f
      exit
    f:
      mov %r0, %r1
      exit`);
    const t = traced(prog, () => new Uint8Array(8));
    expect(t.result).toBe(3n);
    const a = t.events[0]!.registers[0]!.value;
    expect(t.events).toEqual([
      { program: 'prog', pc: 0, frame: 1, registers: [{ reg: 6, value: a }], memory: [] },
      { program: 'prog', pc: 1, frame: 1, registers: [{ reg: 2, value: 0xffffffffn }], memory: [] },
      { program: 'prog', pc: 2, frame: 1, registers: [], memory: [{ kind: 'store', address: a, size: 4, value: 0xffffffffn }] },
      { program: 'prog', pc: 3, frame: 1, registers: [{ reg: 3, value: 0xffffn }], memory: [{ kind: 'load', address: a + 2n, size: 2, value: 0xffffn }] },
      { program: 'prog', pc: 4, frame: 1, registers: [{ reg: 4, value: U64(-1) }], memory: [{ kind: 'load', address: a, size: 1, value: 0xffn }] },
      { program: 'prog', pc: 5, frame: 1, registers: [{ reg: 5, value: 0x1122334455667788n }], memory: [] },
      { program: 'prog', pc: 7, frame: 1, registers: [], memory: [] },
      { program: 'prog', pc: 8, frame: 1, registers: [{ reg: 1, value: 3n }], memory: [] },
      { program: 'prog', pc: 9, frame: 1, registers: [], memory: [] },
      { program: 'prog', pc: 11, frame: 2, registers: [{ reg: 0, value: 3n }], memory: [] },
      { program: 'prog', pc: 12, frame: 2, registers: [], memory: [] },
      { program: 'prog', pc: 10, frame: 1, registers: [], memory: [] },
    ]);
  });

  it('atomics: fetch forms write src, cmpxchg r0, the others nothing; memory values after', () => {
    const t = byName('atomics');
    const base = t.events.find((e) => e.pc === 1)!.memory[0]!.address;
    expect(t.events.find((e) => e.pc === 1)).toMatchObject({ registers: [], memory: [{ kind: 'atomic', size: 8, value: 0x0706050403020105n }] });
    expect(t.events.find((e) => e.pc === 2)).toMatchObject({ registers: [{ reg: 2, value: 0x0f0e0d0c0b0a0908n }], memory: [{ address: base + 8n, value: 0x0f0e0d0c0b0a090dn }] });
    expect(regsAt(t, 3)).toEqual([]);
    expect(regsAt(t, 4)).toEqual([{ reg: 2, value: 0x17161514n }]);
    expect(regsAt(t, 6)).toEqual([{ reg: 3, value: 0x1f1e1d1c1b1a1918n }]);
    expect(t.events.find((e) => e.pc === 6)!.memory[0]!.value).toBe(77n);
    // cmpxchg32 matches (0x23222120 vs r0's low 32 bits: no, 0x2120 != 0x23222120): r0 = old, memory unchanged.
    expect(t.events.find((e) => e.pc === 9)).toMatchObject({ registers: [{ reg: 0, value: 0x23222120n }], memory: [{ size: 4, value: 0x23222120n }] });
    expect(regsAt(t, 11)).toEqual([{ reg: 0, value: 0x2f2e2d2c2b2a2928n }]);
  });

  it('bpf_loop: callback events (frame 2) come first, then the call\'s, with r0 = the iterations', () => {
    const t = byName('bpf_loop');
    expect(t.result).toBe(3n);
    expect(pcs(t)).toEqual([0, 1, 2, 4, 5, 6, ...[0, 1, 2].flatMap(() => [10, 11, 12, 13, 14]), 7, 8, 9]);
    expect(frames(t)).toEqual([1, 1, 1, 1, 1, 1, ...Array(15).fill(2), 1, 1, 1]);
    expect(t.events[21]).toMatchObject({ pc: 7, registers: [{ reg: 0, value: 3n }] });
  });

  it('tail calls: program names, frames, r0 only on failure', () => {
    const t = byName('tail calls');
    expect(t.result).toBe(5n);
    const summary = t.events.map((e) => `${e.program}:${e.pc}@${e.frame}${e.registers.map((r) => ` r${r.reg}=${BigInt.asIntN(64, r.value)}`).join('')}`);
    const [r6, map, frame2] = [t.events[0]!.registers[0]!.value, t.events[1]!.registers[0]!.value, 0x1001000n - 512n];
    expect(frame2).toBe(t.events.find((e) => e.program === 'frame')!.registers[0]!.value);
    // The failed tail calls (slots 3 and 2 are empty; call 12 and callx to 12) write r0 = -ENOENT. Slot 1's
    // target runs in sub's frame (2), its events before the tail call's (which completes after), and returns
    // to main. The last tail call ends main: slot 0 ('five') runs in frame 1.
    expect(summary).toEqual([
      `main:0@1 r6=${r6}`, `main:1@1 r2=${map}`, 'main:3@1 r3=3', 'main:4@1 r0=-2', 'main:5@1 r8=-2', `main:6@1 r1=${r6}`, 'main:7@1',
      `main:21@2 r2=${map}`, 'main:23@2 r3=1', `frame:0@2 r0=${frame2}`, 'frame:1@2', 'main:24@2',
      `main:8@1 r7=${frame2}`, `main:9@1 r1=${r6}`, `main:10@1 r2=${map}`, 'main:12@1 r3=2', 'main:13@1 r9=12', 'main:14@1 r0=-2',
      `main:15@1 r1=${r6}`, `main:16@1 r2=${map}`, 'main:18@1 r3=0', 'main:19@1', 'five:0@1 r0=5', 'five:1@1',
    ]);
  });

  it('unwind-on-success: the helper call that ends the run has an event and no registers', () => {
    const t = byName('unwind-on-success in');
    expect(t.result).toBe(0n);
    expect(t.events.map((e) => [e.pc, e.frame])).toEqual([[0, 1], [1, 1], [2, 1], [3, 1], [6, 2], [7, 2]]);
    expect(regsAt(t, 1)).toEqual([{ reg: 0, value: 3n }]);
    expect(regsAt(t, 7)).toEqual([]);
  });

  it('unwind inside a callback: the callback\'s last event is the helper call; the loop call has none', () => {
    const t = byName('unwind-on-success inside');
    expect(t.result).toBe(0n);
    const calls = t.events.filter((e) => e.pc === 11);
    expect(calls.map((e) => e.registers)).toEqual([[{ reg: 0, value: 2n }], [{ reg: 0, value: 1n }], []]);
    expect(t.events.at(-1)).toMatchObject({ pc: 11, frame: 2 });
    expect(t.events.some((e) => e.pc === 6)).toBe(false);
  });

  it('a chain that unwinds inside a subprogram: the unwinding call is the last event; no event for the tail call', () => {
    const t = byName('a tail call from a subprogram');
    expect(t.result).toBe(0n);
    const summary = t.events.map((e) => `${e.program}:${e.pc}@${e.frame}`);
    expect(summary).toEqual([
      'main:0@1', 'main:1@1', 'main:4@2', 'main:6@2', 'unwinds:0@2', 'unwinds:1@2',
      'main:0@1', 'main:1@1', 'main:4@2', 'main:6@2', 'unwinds-callx:0@2', 'unwinds-callx:1@2', 'unwinds-callx:2@2',
    ]);
    expect(t.events.at(-1)!.registers).toEqual([]);
  });

  it('LD_ABS/LD_IND write r0 and report no memory; the one out of bounds ends the run with an event', () => {
    const t = byName('LD_ABS');
    expect(t.result).toBe(0n);
    expect(t.events.map((e) => [e.pc, e.registers, e.memory])).toEqual([
      [0, [{ reg: 6, value: t.events[0]!.registers[0]!.value }], []],
      [1, [{ reg: 0, value: 0x0c0dn }], []],
      [2, [{ reg: 7, value: 4n }], []],
      [3, [{ reg: 0, value: 6n }], []],
      [4, [], []],
    ]);
  });

  it('a fault: events up to the instruction before, then the error', () => {
    const t = byName('a fault:');
    expect(t.error).toBeInstanceOf(MemoryAccessError);
    expect((t.error as MemoryAccessError).pc).toBe(2);
    expect(pcs(t)).toEqual([0, 1]);
    const inCallback = byName('a fault inside');
    expect(inCallback.error).toBeInstanceOf(MemoryAccessError);
    // The first callback faults at its load (r1 = 0 gives address 0): no event for it, nor for the call.
    expect(pcs(inCallback)).toEqual([0, 1, 2, 4, 5, 8, 9]);
  });

  it('a budget stop at a call: no event for the call', () => {
    const t = byName('a budget');
    expect(t.error).toBeInstanceOf(BudgetExceededError);
    expect(pcs(t)).toEqual([0, 1, 2]);
  });
});

describe.each(AVAILABLE_ENGINES)('traces on %s', (engine) => {
  it('an ELF program\'s events carry its C lines', () => {
    const vm = new Vm({ engine });
    const obj = loadObject(vm, readFileSync(new URL('../fixtures/elf/xdp_firewall.o', import.meta.url)));
    const prog = obj.programs.get('xdp_firewall')!;
    const packet = new Uint8Array(60);
    packet[12] = 0x08;
    const events: TraceEvent[] = [];
    const ctx = new XdpContext(vm.memory, packet);
    try {
      expect(prog.prog.run(ctx, { trace: (e) => events.push(e) })).toBe(2n);
    } finally {
      ctx.release();
    }
    expect(events.every((e) => e.program === 'xdp_firewall')).toBe(true);
    const lines = events.filter((e) => e.line !== undefined);
    expect(lines.length).toBeGreaterThan(events.length / 3);
    expect(lines.every((e) => e.line!.file.endsWith('xdp_firewall.c'))).toBe(true);
    expect(lines.map((e) => e.line!.line)).toContainEqual(expect.stringContaining('bpf_map_lookup_elem'));
    expect(events[0]!.line).toEqual(prog.lineInfo![0]);
  });

  it('a run without a trace is unaffected; a traced run in between changes nothing', () => {
    const { vm } = world(engine);
    const prog = vm.load('mov %r0, 0\nloop:\nadd %r0, 3\njlt %r0, 30, loop\nexit');
    expect(prog.run()).toBe(30n);
    let n = 0;
    expect(prog.run(undefined, { trace: () => { n++; } })).toBe(30n);
    expect(n).toBe(1 + 2 * 10 + 1);
    expect(prog.run()).toBe(30n);
    expect(prog.run(undefined, { budget: 100 })).toBe(30n);
  });

  it('a trace callback that throws ends the run with its error; the Vm is usable after', () => {
    const { vm } = world(engine);
    const prog = vm.load('mov %r0, 1\nmov %r0, 2\nexit');
    let seen = 0;
    const boom = new Error('enough');
    expect(() => prog.run(undefined, { trace: () => { seen++; throw boom; } })).toThrow(boom);
    expect(seen).toBe(1);
    expect(prog.run()).toBe(2n);
  });

  it('a trace callback that throws inside a bpf_loop callback: the run ends with that error, not a HelperError', () => {
    const { vm } = world(engine);
    const prog = vm.load(`
      mov %r1, 3
      lddw %r2, func cb
      mov %r3, 0
      mov %r4, 0
      call 181
      exit
    cb:
      mov %r0, 0
      exit`);
    const boom = new RangeError('in the callback');
    let frame = 0;
    expect(() => prog.run(undefined, { trace: (e) => { if (e.frame === 2) { frame = e.frame; throw boom; } } })).toThrow(boom);
    expect(frame).toBe(2);
    expect(prog.run()).toBe(3n); // bpf_loop's iterations
  });

  it('a trace callback error that a helper swallows still ends the run, with that error', () => {
    const swallow = (fn: bigint, _b: bigint, _c: bigint, _d: bigint, _e: bigint, ctx: { run: { callFunction: (a: bigint, args: bigint[]) => bigint } }) => {
      try {
        ctx.run.callFunction(fn, [0n]);
      } catch {
        // A careless helper.
      }
      return 0n;
    };
    const { vm } = world(engine, { helpers: { 63: swallow as never } });
    const prog = vm.load('lddw %r1, func cb\ncall 63\nmov %r0, 5\nexit\ncb:\nmov %r0, 0\nexit');
    const boom = new RangeError('swallowed');
    const seen: number[] = [];
    expect(() => prog.run(undefined, { trace: (e) => { seen.push(e.pc); if (e.frame === 2) throw boom; } })).toThrow(boom);
    // Nothing after the throw is delivered (mov %r0, 5 and exit run no further).
    expect(seen).toEqual([0, 5]);
    expect(prog.run()).toBe(5n);
  });

  it('a trace that is not a function is a UsageError', () => {
    const { vm } = world(engine);
    const prog = vm.load('exit');
    expect(() => prog.run(undefined, { trace: 5 as never })).toThrow(/trace must be a function/);
  });

  it('a call past the depth limit faults with no event for it', () => {
    const { vm } = world(engine, { maxCallDepth: 3 });
    const prog = vm.load('call local a\nexit\na:\ncall local b\nexit\nb:\ncall local c\nexit\nc:\nexit');
    const t = traced(prog, () => undefined);
    expect(t.error).toBeInstanceOf(ExecutionError);
    expect((t.error as ExecutionError).code).toBe('CALL_DEPTH_EXCEEDED');
    expect(t.events.map((e) => [e.pc, e.frame])).toEqual([[0, 1], [2, 2]]);
  });

  it('a helper that throws: no event for its call', () => {
    const { vm } = world(engine, { helpers: { 60: () => { throw new Error('no'); } } });
    const t = traced(vm.load('mov %r0, 1\ncall 60\nexit'), () => undefined);
    expect(t.error).toBeInstanceOf(HelperError);
    expect(pcs(t)).toEqual([0]);
  });
});

describe('effects.ts: what each instruction form writes and accesses', () => {
  const insn = (spec: Instruction['spec']): Instruction => ({ opcode: spec.opcode, dst: 3, src: 4, off: -8, imm: 0, pc: 0, spec, imm2: 0 });

  it('agrees with the ISA table on dst and src writes, and gives r0 for calls, packet loads and cmpxchg', () => {
    for (const spec of OPCODES) {
      const expected = writesDst(spec) ? 3 : writesSrc(spec) ? 4
        : ['call', 'callx', 'ldabs', 'ldind'].includes(spec.kind) || spec.atomic === 'cmpxchg' ? 0 : undefined;
      expect(writtenRegister(insn(spec)), spec.mnemonic).toBe(expected);
    }
  });

  it('memory operands: loads through src, stores and atomics through dst, with their sizes', () => {
    for (const spec of OPCODES) {
      const operand = memoryOperand(insn(spec));
      const kind = { ldx: 'load', ldsx: 'load', st: 'store', stx: 'store', atomic: 'atomic' }[spec.kind as string];
      if (kind === undefined) {
        expect(operand, spec.mnemonic).toBeUndefined();
        continue;
      }
      expect(operand, spec.mnemonic).toEqual({ base: kind === 'load' ? 4 : 3, off: -8, size: spec.width / 8, kind });
    }
  });
});

describe('the Tracer on odd report sequences', () => {
  const program = new Vm().load('mov %r0, 1\nldxw %r1, [%r10-4]\nexit').program;
  const make = () => {
    const events: TraceEvent[] = [];
    const vm = new Vm();
    return { events, tracer: new Tracer(vm.memory, () => ({ name: 'p' }), (e) => events.push(e)) };
  };

  it('ignores reports outside an execution, and a leave too many', () => {
    const { events, tracer } = make();
    expect(() => {
      tracer.insn(0);
      tracer.wrote(1n);
      tracer.leave();
      tracer.enter(program, 1);
      tracer.insn(99);
      tracer.wrote(5n);
      tracer.leave();
      tracer.leave();
    }).not.toThrow();
    expect(events).toEqual([]);
  });

  it('an aborted execution drops its pending instruction; a normal end delivers it', () => {
    const { events, tracer } = make();
    tracer.enter(program, 1);
    tracer.insn(0);
    tracer.wrote(1n);
    tracer.insn(2);
    tracer.leave(false);
    tracer.enter(program, 1);
    tracer.insn(0);
    tracer.leave(true);
    expect(events).toEqual([
      { program: 'p', pc: 0, frame: 1, registers: [{ reg: 0, value: 1n }], memory: [] },
      { program: 'p', pc: 2, frame: 1, registers: [], memory: [] },
    ]);
  });

  it('a memory operand it cannot read is left out rather than thrown', () => {
    const { events, tracer } = make();
    tracer.enter(program, 1);
    tracer.insn(1, 8n);
    tracer.insn(2);
    tracer.leave();
    expect(events[0]).toEqual({ program: 'p', pc: 1, frame: 1, registers: [], memory: [] });
  });
});

describe('TraceText', () => {
  it('escapes control characters from the object (names, C lines) so none reaches a terminal', () => {
    const prog = new Vm().load('mov %r0, 1\nexit');
    const text = new TraceText(() => prog.program);
    const line = { file: 'a\x1b[31m.c', line: '  int x;\x07', lineNum: 3, col: 1 };
    text.format({ program: 'first', pc: 0, frame: 1, registers: [], memory: [] });
    const out = text.format({ program: 'p\x1b[2J', pc: 1, frame: 1, registers: [], memory: [], line });
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(out).toContain('-> p\\x1b[2J');
    expect(out).toContain('// a\\x1b[31m.c:3: int x;\\x07');
    expect(out.split('\n')).toHaveLength(2);
  });
});
