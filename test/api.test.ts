import { describe, expect, it } from 'vitest';
import {
  AVAILABLE_ENGINES, AssemblerError, BudgetExceededError, ExecutionError, HelperError, MemoryAccessError,
  UsageError, ValidationError, Vm, assemble,
} from '../lib/index.js';

describe.each(AVAILABLE_ENGINES)('public API on %s', (engine) => {
  it('loads assembly text and bytecode alike', () => {
    const vm = new Vm({ engine });
    const src = 'mov %r0, 40\nadd %r0, 2\nexit';
    expect(vm.load(src).run()).toBe(42n);
    expect(vm.load(assemble(src)).run()).toBe(42n);
  });

  it('maps run memory without copying: r1/r2 point at it and writes land in it', () => {
    const vm = new Vm({ engine });
    const prog = vm.load('mov %r0, %r2\nstb [%r1+1], 0x7f\nexit');
    const mem = new Uint8Array(3);
    expect(prog.run(mem)).toBe(3n);
    expect([...mem]).toEqual([0, 0x7f, 0]);
    // The region is unmapped after the run.
    expect(vm.memory.regions().map((r) => r.name)).toEqual(['stack']);
  });

  it('gives every run a zeroed stack', () => {
    const vm = new Vm({ engine });
    const prog = vm.load('ldxdw %r0, [%r10-8]\nstdw [%r10-8], 99\nexit');
    expect(prog.run()).toBe(0n);
    expect(prog.run()).toBe(0n);
  });

  it('calls registered helpers with u64 arguments and memory access', () => {
    const seen: bigint[] = [];
    const vm = new Vm({
      engine,
      helpers: {
        1: (a, b, c, d, e) => { seen.push(a, b, c, d, e); return -1; },
        2: (p, n, _c, _d, _e, ctx) => ctx.memory.read(p, Number(n), ctx.pc).reduce((s, x) => s + x, 0),
      },
    });
    expect(vm.load('mov %r1, -2\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 1\nexit').run()).toBe(0xffffffffffffffffn);
    expect(seen).toEqual([0xfffffffffffffffen, 2n, 3n, 4n, 5n]);
    expect(vm.load('mov %r2, 3\ncall 2\nexit').run(Uint8Array.from([1, 2, 3, 4]))).toBe(6n);
  });

  it('rejects calls to helpers not registered at load time', () => {
    const vm = new Vm({ engine });
    expect(() => vm.load('call 9\nexit')).toThrow(ValidationError);
    vm.registerHelper(9, () => 5n);
    expect(vm.load('call 9\nexit').run()).toBe(5n);
  });

  it('wraps non-EbpfError helper failures in HelperError and bad results too', () => {
    const vm = new Vm({ engine, helpers: { 1: () => { throw new Error('boom'); }, 2: () => 1.5 } });
    const e = (() => { try { vm.load('mov %r0, 0\ncall 1\nexit').run(); } catch (x) { return x; } })() as HelperError;
    expect(e).toBeInstanceOf(HelperError);
    expect(e.pc).toBe(1);
    expect(e.helper).toBe(1);
    expect(e.message).toMatch(/boom/);
    expect(() => vm.load('call 2\nexit').run()).toThrow(HelperError);
  });

  it('ends the program at once when the unwind helper returns 0', () => {
    const vm = new Vm({ engine, helpers: { 3: (a) => a }, unwindHelper: 3 });
    const prog = vm.load('mov %r1, %r2\ncall 3\nmov %r0, 77\nexit');
    expect(prog.run()).toBe(0n);
    expect(prog.run(new Uint8Array(4))).toBe(77n);
    vm.setUnwindHelper(undefined);
    expect(prog.run()).toBe(77n);
  });

  it('enforces the instruction budget, per Vm and per run', () => {
    const vm = new Vm({ engine, budget: 100 });
    const loop = vm.load('l:\nadd %r0, 1\nja l');
    const e = (() => { try { loop.run(); } catch (x) { return x; } })() as BudgetExceededError;
    expect(e).toBeInstanceOf(BudgetExceededError);
    expect(e.budget).toBe(100);
    expect(e.pc).toBe(1);
    expect(() => loop.run(undefined, { budget: 10 })).toThrow(/budget of 10 exceeded/);
    // Checked only at calls and backward jumps: straight-line code never stops.
    expect(vm.load('mov %r0, 1\nmov %r0, 2\nexit').run(undefined, { budget: 0 })).toBe(2n);
    const twice = vm.load('mov %r1, 2\nl:\nsub %r1, 1\njne %r1, 0, l\nexit');
    expect(twice.run(undefined, { budget: 3 })).toBe(0n);
    expect(() => twice.run(undefined, { budget: 2 })).toThrow(/budget of 2 exceeded at pc 2/);
  });

  it('limits call depth (maxCallDepth frames, default 8)', () => {
    // f recurses until its depth (r1, passed as the argument) reaches r2.
    const rec = 'mov %r1, 0\ncall local f\nexit\nf:\nadd %r1, 1\nmov %r0, %r1\njge %r1, %r2, done\ncall local f\ndone:\nexit';
    const prog = (vm: Vm) => vm.load(rec);
    expect(prog(new Vm({ engine })).run(new Uint8Array(7))).toBe(7n);
    expect(() => prog(new Vm({ engine })).run(new Uint8Array(8))).toThrow(ExecutionError);
    expect(prog(new Vm({ engine, maxCallDepth: 9 })).run(new Uint8Array(8))).toBe(8n);
  });

  it('faults on NULL and out-of-bounds accesses with pc and address', () => {
    const vm = new Vm({ engine });
    const e = (() => { try { vm.load('mov %r0, 0\nldxw %r0, [%r1+4]\nexit').run(); } catch (x) { return x; } })() as MemoryAccessError;
    expect(e).toBeInstanceOf(MemoryAccessError);
    expect(e.pc).toBe(1);
    expect(e.address).toBe(4n);
    expect(e.size).toBe(4);
  });

  it('disassembles a loaded program', () => {
    const vm = new Vm({ engine });
    const text = vm.load('lddw %r0, 0x1122334455667788\nexit').disassemble();
    expect(text.trim().split('\n')).toEqual(['lddw %r0, 0x1122334455667788', 'exit']);
  });

  it('loads an assembly error as AssemblerError with its line', () => {
    const vm = new Vm({ engine });
    const e = (() => { try { vm.load('mov %r0, 1\n  bogus %r1\nexit'); } catch (x) { return x; } })() as AssemblerError;
    expect(e).toBeInstanceOf(AssemblerError);
    expect(e.line).toBe(2);
  });
});

describe('Vm options', () => {
  it('are validated up front', () => {
    expect(() => new Vm({ budget: -1 })).toThrow(UsageError);
    expect(() => new Vm({ maxInstructions: 0 })).toThrow(UsageError);
    expect(() => new Vm({ maxCallDepth: 1.5 })).toThrow(UsageError);
    expect(() => new Vm({ engine: 'fast' as never })).toThrow(/unknown engine/);
    expect(() => new Vm().registerHelper(-1, () => 0)).toThrow(UsageError);
    expect(() => new Vm().registerHelper(1, 5 as never)).toThrow(UsageError);
    expect(() => new Vm().load(5 as never)).toThrow(UsageError);
  });

  it('maxInstructions limits program length', () => {
    const vm = new Vm({ maxInstructions: 2 });
    expect(vm.load('mov %r0, 1\nexit').run()).toBe(1n);
    expect(() => vm.load('mov %r0, 1\nmov %r0, 2\nexit')).toThrow(ValidationError);
  });

  it('two Vms share nothing', () => {
    const a = new Vm({ helpers: { 1: () => 1 } });
    const b = new Vm();
    expect(a.load('call 1\nexit').run()).toBe(1n);
    expect(() => b.load('call 1\nexit')).toThrow(ValidationError);
  });
});
