import { describe, expect, it } from 'vitest';
import {
  AVAILABLE_ENGINES, AssemblerError, BudgetExceededError, ExecutionError, HelperError, MemoryAccessError,
  UsageError, ValidationError, Vm, XdpContext, assemble, type HelperFn,
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
    expect(() => new Vm({ maxTailCalls: -1 })).toThrow(/maxTailCalls/);
    expect(() => new Vm({ cpus: 0 })).toThrow(UsageError);
    expect(() => new Vm({ standardHelpers: 'yes' as never })).toThrow(/standardHelpers/);
    expect(() => new Vm({ printk: 'stderr' as never })).toThrow(/printk/);
    expect(() => new Vm({ seed: Number.NaN })).toThrow(/seed/);
    expect(() => new Vm({ pid: -1 })).toThrow(UsageError);
    expect(() => new Vm().load('exit').run(undefined, { cpu: 1 })).toThrow(/cpu/);
    expect(() => new Vm().load('exit').run({} as never)).toThrow(/program context/);
    const huge = { r1: 1n << 40n, r2: 0n, packet: { address: 0, length: 0 } };
    expect(() => new Vm().load('exit').run(huge)).toThrow(/context r1 must be in/);
  });

  it('maxInstructions limits program length', () => {
    const vm = new Vm({ maxInstructions: 2 });
    expect(vm.load('mov %r0, 1\nexit').run()).toBe(1n);
    expect(() => vm.load('mov %r0, 1\nmov %r0, 2\nexit')).toThrow(ValidationError);
  });

  it('two Vms share nothing', () => {
    const a = new Vm({ helpers: { 1000: () => 1 } });
    const b = new Vm();
    expect(a.load('call 1000\nexit').run()).toBe(1n);
    expect(() => b.load('call 1000\nexit')).toThrow(ValidationError);
    a.createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(a.maps.list()).toHaveLength(1);
    expect(b.maps.list()).toHaveLength(0);
  });
});

describe.each(AVAILABLE_ENGINES)('helpers on %s', (engine) => {
  it('has Linux\'s standard helpers by default, and none with standardHelpers: false', () => {
    const vm = new Vm({ engine, clock: () => 1234n });
    expect(vm.load('call 5\nexit').run()).toBe(1234n);
    expect(() => new Vm({ engine, standardHelpers: false }).load('call 5\nexit')).toThrow(ValidationError);
    // Tail calls are the engines' own: available either way.
    expect(new Vm({ engine, standardHelpers: false }).load('mov %r3, 0\ncall 12\nexit')).toBeDefined();
  });

  it('registers helpers by id or by standard name, replacing standard ones', () => {
    const vm = new Vm({ engine, helpers: { ktime_get_ns: () => 7n, 1000: () => 8n } });
    expect(vm.load('call 5\nexit').run()).toBe(7n);
    expect(vm.load('call 1000\nexit').run()).toBe(8n);
    vm.registerHelper('bpf_get_prandom_u32', () => 9n);
    expect(vm.load('call 7\nexit').run()).toBe(9n);
    vm.registerHelper(7, () => 10n);
    expect(vm.load('call 7\nexit').run()).toBe(10n);
    const viaMap = new Vm({ engine, helpers: new Map<number | string, HelperFn>([['get_smp_processor_id', () => 11n]]) });
    expect(viaMap.load('call 8\nexit').run()).toBe(11n);
  });

  it('rejects unknown names and helper 12 (tail_call, built into the engines)', () => {
    const vm = new Vm({ engine });
    expect(() => vm.registerHelper('my_helper', () => 0)).toThrow(UsageError);
    expect(() => vm.registerHelper(12, () => 0)).toThrow(/tail_call/);
    expect(() => vm.registerHelper('bpf_tail_call', () => 0)).toThrow(/tail_call/);
    expect(() => new Vm({ helpers: { 12: () => 0 } })).toThrow(UsageError);
    expect(() => new Vm({ helpers: { nope: () => 0 } })).toThrow(/unknown helper name 'nope'/);
  });

  it('gives helpers the run\'s services: cpu, env, context, maps', () => {
    const seen: unknown[] = [];
    const vm = new Vm({ engine, cpus: 4, comm: 'tester', helpers: { 1000: (_1, _2, _3, _4, _5, ctx) => {
      seen.push(ctx.run.cpu, ctx.run.maps === vm.maps, ctx.run.env === vm.env, ctx.run.context.r2);
      return 0;
    } } });
    vm.load('call 1000\nexit').run(new Uint8Array(5), { cpu: 3 });
    expect(seen).toEqual([3, true, true, 5n]);
    expect(vm.load('call 8\nexit').run(undefined, { cpu: 2 })).toBe(2n);
    expect(() => vm.load('exit').run(undefined, { cpu: 4 })).toThrow(UsageError);
  });

  it('trace_printk lines go to the printk sink', () => {
    const lines: string[] = [];
    const vm = new Vm({ engine, printk: (line) => lines.push(line) });
    // "hi %d\n" on the stack, then trace_printk(fmt, 7, 42).
    const prog = vm.load(`
      lddw %r1, 0x000a642520696800
      stxdw [%r10-8], %r1
      mov %r1, %r10
      add %r1, -7
      mov %r2, 7
      mov %r3, 42
      call 6
      exit`);
    prog.run();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('hi 42');
  });

  it('a helper result that is not an integer (nor undefined) is a HelperError, never a silent 0', () => {
    const results: Array<[unknown, string]> = [
      [{}, 'an object'], [[], 'an array'], [null, 'null'], ['7', 'a string'], [true, 'a boolean'], [Symbol('s'), 'a symbol'],
      [() => 1, 'a function'], [Promise.resolve(1), 'an object'], [new Number(3), 'an object'], [1.5, 'not a safe integer'],
      [NaN, 'not a safe integer'], [Infinity, 'not a safe integer'], [2 ** 53, 'not a safe integer'],
    ];
    for (const [result, what] of results) {
      const vm = new Vm({ engine, helpers: { 1000: () => result as bigint } });
      let e: unknown;
      try {
        vm.load('mov %r0, 5\ncall 1000\nexit').run();
      } catch (err) {
        e = err;
      }
      expect(e, String(what)).toBeInstanceOf(HelperError);
      expect(e).toMatchObject({ pc: 1, helper: 1000, message: expect.stringContaining(what) });
    }
    // What is allowed: integers (number or bigint, wrapped to u64) and undefined (0).
    for (const [result, r0] of [[undefined, 0n], [-1, 2n ** 64n - 1n], [-1n, 2n ** 64n - 1n], [2 ** 53 - 1, 2n ** 53n - 1n]] as const) {
      expect(new Vm({ engine, helpers: { 1000: () => result } }).load('mov %r0, 5\ncall 1000\nexit').run()).toBe(r0);
    }
  });

  it('ends every run with maps.endRun(), however the run ends', () => {
    const vm = new Vm({ engine, budget: 100, helpers: { 1000: () => { throw new Error('no'); } } });
    let ended = 0;
    const real = vm.maps.endRun.bind(vm.maps);
    vm.maps.endRun = () => {
      ended++;
      real();
    };
    const runs: Array<[string, boolean]> = [
      ['mov %r0, 1\nexit', false], // exit
      ['ldxb %r0, [%r0]\nexit', true], // fault
      ['mov %r0, 0\nl:\nadd %r0, 1\nja l', true], // budget
      ['call 1000\nexit', true], // a helper's error
    ];
    for (const [src, throws] of runs) {
      const prog = vm.load(src);
      if (throws) expect(() => prog.run(new Uint8Array(4))).toThrow();
      else prog.run(new Uint8Array(4));
    }
    expect(ended).toBe(4);
    // Not for a run refused before it starts (a nested run): the outer run's state is not the inner's to end.
    vm.registerHelper(1001, () => vm.load('exit').run());
    expect(() => vm.load('call 1001\nexit').run()).toThrow(/do not nest/);
    expect(ended).toBe(5);
    // An error of endRun itself surfaces when the run succeeded, and gives way to the run's own error.
    vm.maps.endRun = () => {
      throw new Error('endRun failed');
    };
    expect(() => vm.load('mov %r0, 1\nexit').run()).toThrow(/endRun failed/);
    expect(() => vm.load('mov %r0, 0\nl:\nadd %r0, 1\nja l').run()).toThrow(BudgetExceededError);
    vm.maps.endRun = real;
    expect(vm.load('mov %r0, 3\nexit').run()).toBe(3n);
  });

  it('a ring-buffer reservation left pending when a run ends is discarded', () => {
    const vm = new Vm({ engine });
    const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 });
    const records: Uint8Array[] = [];
    rb.onRecord((r: Uint8Array) => records.push(r));
    // Reserves 8 bytes and exits without submitting; then a second program reserves, writes and submits.
    const reserve = (submit: boolean) => vm.load(`
      lddw %r1, map_fd ${rb.fd}
      mov %r2, 8
      mov %r3, 0
      call ringbuf_reserve
      jeq %r0, 0, out
      stdw [%r0], 42
      ${submit ? 'mov %r1, %r0\nmov %r2, 0\ncall ringbuf_submit' : ''}
    out:
      mov %r0, 0
      exit`);
    reserve(false).run();
    reserve(true).run();
    expect(records).toHaveLength(1);
    expect(records[0]![0]).toBe(42);
  });

  it('own helpers take a name that assembly loaded by this Vm may call', () => {
    const vm = new Vm({ engine });
    vm.registerHelper(0x10000, (a: bigint) => a + 2n, { name: 'add_two' });
    expect(vm.load('mov %r1, 40\ncall add_two\nexit').run()).toBe(42n);
    // Standard names still resolve; a standard name for its own id is allowed (it replaces the helper).
    vm.registerHelper(7, () => 9n, { name: 'get_prandom_u32' });
    expect(vm.load('call get_prandom_u32\ncall map_lookup_elem\nexit')).toBeDefined();
    expect(vm.load('call bpf_get_prandom_u32\nexit').run()).toBe(9n);
    // Re-registering the same id under the same name replaces the function.
    vm.registerHelper(0x10000, (a: bigint) => a + 3n, { name: 'add_two' });
    expect(vm.load('mov %r1, 40\ncall add_two\nexit').run()).toBe(43n);
    // Names are the Vm's own: another Vm and the plain assembler do not know them.
    expect(() => new Vm({ engine }).load('call add_two\nexit')).toThrow(AssemblerError);
    expect(() => assemble('call add_two\nexit')).toThrow(/unknown helper name 'add_two'/);
  });

  it('rejects a helper name that clashes or is not an identifier', () => {
    const vm = new Vm({ engine });
    vm.registerHelper(0x10000, () => 0, { name: 'mine' });
    // A standard name of another id, with or without bpf_.
    expect(() => vm.registerHelper(0x10001, () => 0, { name: 'map_lookup_elem' })).toThrow(UsageError);
    expect(() => vm.registerHelper(0x10001, () => 0, { name: 'bpf_map_lookup_elem' })).toThrow(/standard name of helper 1/);
    // A name this Vm already gave another id.
    expect(() => vm.registerHelper(0x10001, () => 0, { name: 'mine' })).toThrow(/already names helper 65536/);
    for (const name of ['', '1x', 'a-b', 'r1', 'has space', 5, null]) {
      expect(() => vm.registerHelper(0x10001, () => 0, { name: name as string })).toThrow(UsageError);
    }
    expect(() => vm.registerHelper(0x10001, () => 0, null as never)).toThrow(UsageError);
    // A failed registration registers nothing.
    expect(() => vm.load('call 0x10001\nexit')).toThrow(ValidationError);
  });

  it('a helper cannot start another run of the same Vm', () => {
    const vm = new Vm({ engine });
    const inner = vm.load('mov %r0, 1\nexit');
    vm.registerHelper(1000, () => inner.run());
    expect(() => vm.load('call 1000\nexit').run()).toThrow(/do not nest/);
    // The Vm is usable afterwards.
    expect(inner.run()).toBe(1n);
  });
});

describe.each(AVAILABLE_ENGINES)('maps and map references on %s', (engine) => {
  it('lddw map_fd loads the map pointer; helpers reach the map through it', () => {
    const vm = new Vm({ engine });
    const counts = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 });
    expect(vm.maps.byFd(1)).toBe(counts);
    expect(vm.load('lddw %r0, map_fd 1\nexit').run()).toBe(0xfe000001n);
    // *lookup(counts, &1) += 5, twice.
    const bump = vm.load(`
      stw [%r10-4], 1
      lddw %r1, map_fd 1
      mov %r2, %r10
      add %r2, -4
      call 1
      jeq %r0, 0, out
      ldxdw %r1, [%r0]
      add %r1, 5
      stxdw [%r0], %r1
      mov %r0, %r1
    out:
      exit`);
    expect(bump.run()).toBe(5n);
    expect(bump.run()).toBe(10n);
    expect(counts.get(1, 'u64')).toBe(10n);
  });

  it('lddw map_value is the address of a byte of an array\'s single value', () => {
    const vm = new Vm({ engine });
    const data = vm.createMap({ type: 'array', keySize: 4, valueSize: 16, maxEntries: 1 });
    data.set(0, Uint8Array.from({ length: 16 }, (_, i) => i));
    expect(vm.load('lddw %r1, map_value 1, 4\nldxw %r0, [%r1]\nstb [%r1+8], 0xee\nexit').run()).toBe(0x07060504n);
    expect(data.get(0)![12]).toBe(0xee);
  });

  it('lddw map_idx and map_idx_value name the maps given to load()', () => {
    const vm = new Vm({ engine });
    vm.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 });
    const data = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    data.set(0, 0x1122334455667788n);
    expect(vm.load('lddw %r0, map_idx 0\nexit', { maps: [data] }).run()).toBe(BigInt(data.pointer));
    expect(vm.load('lddw %r1, map_idx_value 1, 0\nldxdw %r0, [%r1]\nexit', { maps: [vm.maps.byFd(1)!, data] }).run())
      .toBe(0x1122334455667788n);
    // Resolved at load: the program holds plain constants.
    expect(vm.load('lddw %r0, map_idx 0\nexit', { maps: [data] }).disassemble()).toBe(`lddw %r0, 0x${data.pointer.toString(16)}\nexit\n`);
  });

  it('bytecode is resolved the same way', () => {
    const vm = new Vm({ engine });
    vm.createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(vm.load(assemble('lddw %r0, map_fd 1\nexit')).run()).toBe(0xfe000001n);
    expect(() => vm.load(assemble('lddw %r0, map_fd 2\nexit'))).toThrow(ValidationError);
  });

  it('references that name nothing are ValidationErrors at their pc', () => {
    const vm = new Vm({ engine });
    vm.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 });
    const array = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    const fails = (src: string, maps?: never[]): ValidationError => {
      try {
        vm.load(src, maps === undefined ? {} : { maps });
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error('loaded');
    };
    const cases: ReadonlyArray<readonly [string, string, RegExp]> = [
      ['lddw %r1, map_fd 3', 'UNKNOWN_MAP_FD', /unresolved lddw src 1 \(map_fd\): no map has fd 3 at pc 1: lddw %r1, map_fd 3/],
      ['lddw %r1, map_fd 1, 4', 'BAD_LDDW_SECOND', /second slot's imm must be 0/],
      ['lddw %r1, map_value 1, 0', 'BAD_MAP_VALUE', /no direct value address/],
      ['lddw %r1, map_value 2, 8', 'BAD_MAP_VALUE', /offset 8 is outside/],
      ['lddw %r1, map_value 9, 0', 'UNKNOWN_MAP_FD', /no map has fd 9/],
      ['lddw %r1, map_idx 0', 'UNKNOWN_MAP_INDEX', /no map at index 0 \(load\(\) was given 0\)/],
      ['lddw %r1, map_idx_value 1, 0', 'UNKNOWN_MAP_INDEX', /no map at index 1/],
      ['lddw %r1, btf_var 7', 'UNRESOLVED_LDDW', /unresolved lddw src 3/],
    ];
    for (const [insn, code, message] of cases) {
      const e = fails(`mov %r0, 0\n${insn}\nexit`);
      expect(e).toBeInstanceOf(ValidationError);
      expect(e).toMatchObject({ code, pc: 1 });
      expect(e.message).toMatch(message);
    }
    // The first failing pc wins, whichever pass finds it.
    expect(fails('lddw %r1, map_fd 3\ncall 9999\nexit')).toMatchObject({ code: 'UNKNOWN_MAP_FD', pc: 0 });
    expect(fails('call 9999\nlddw %r1, map_fd 3\nexit')).toMatchObject({ code: 'UNKNOWN_HELPER', pc: 0 });
    expect(fails('lddw %r1, map_fd 3\nlddw %r1, map_fd 4\nexit')).toMatchObject({ pc: 0 });
    expect(() => vm.load('exit', { maps: [new Vm().createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 })] }))
      .toThrow(UsageError);
    expect(() => vm.load('exit', { maps: [null as never] })).toThrow(UsageError);
    expect(array.fd).toBe(2);
  });

  it('runs a program on an XDP context: r1 = xdp_md, packet loads read the packet', () => {
    const vm = new Vm({ engine });
    const packet = Uint8Array.from({ length: 60 }, (_, i) => i);
    const xdp = new XdpContext(vm.memory, packet);
    try {
      // data_end - data, then the big-endian u16 at packet offset 12, then both in one value.
      const prog = vm.load(`
        mov %r6, %r1
        ldxw %r2, [%r1+0]
        ldxw %r3, [%r1+4]
        sub %r3, %r2
        ldabsh 12
        lsh %r0, 16
        or %r0, %r3
        exit`);
      expect(prog.run(xdp)).toBe((0x0c0dn << 16n) | 60n);
      // xdp_adjust_head(ctx, 2): the packet moves, and packet loads follow it.
      const adjusted = vm.load('mov %r6, %r1\nmov %r2, 2\ncall 44\nldabsb 0\nexit');
      expect(adjusted.run(xdp)).toBe(2n);
      expect(xdp.packetBytes()).toHaveLength(58);
    } finally {
      xdp.release();
    }
  });
});
