// bpf_tail_call (helper 12) on both engines: the chain limit, failures and
// their r0, what the target starts with, PROG_ARRAY slots changed from JS
// between runs, the maxTailCalls option, and the budget carried along a chain.
import { describe, expect, it } from 'vitest';
import { BudgetExceededError, HelperError } from '../lib/errors.js';
import type { ProgArrayMap } from '../lib/maps/index.js';
import {
  DEFAULT_MAX_TAIL_CALLS, TAIL_CALL_BAD_INDEX, TAIL_CALL_EMPTY, TAIL_CALL_LIMIT,
} from '../lib/tail-call.js';
import { AVAILABLE_ENGINES, Vm, type LoadedProgram, type VmOptions } from '../lib/vm.js';

const u64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));

/** A Vm with a PROG_ARRAY of `slots` entries at fd 1. */
function world(engine: VmOptions['engine'], slots = 64, options: VmOptions = {}): { vm: Vm; progs: ProgArrayMap } {
  const vm = new Vm({ engine, ...options });
  const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: slots });
  return { vm, progs };
}

/** Adds 1 to the u64 at ctx[0] and records `tag` at ctx[8], then tail-calls slot `next`; returns r0 if the call fails. */
function counter(tag: number, next: number | string): string {
  return `
    ldxdw %r0, [%r1]
    add %r0, 1
    stxdw [%r1], %r0
    stdw [%r1+8], ${tag}
    lddw %r2, map_fd 1
    ${typeof next === 'number' ? `mov %r3, ${next}` : next}
    call 12
    exit`;
}

function ctxMemory(): { mem: Uint8Array; count: () => bigint; tag: () => bigint } {
  const mem = new Uint8Array(16);
  const view = new DataView(mem.buffer);
  return { mem, count: () => view.getBigUint64(0, true), tag: () => view.getBigUint64(8, true) };
}

describe.each(AVAILABLE_ENGINES)('tail calls on %s', (engine) => {
  it('33 chained tail calls succeed and the 34th fails with -E2BIG', () => {
    const { vm, progs } = world(engine);
    // Program k tail-calls slot k + 1; every slot up to 40 is filled, so only the count stops the chain.
    for (let k = 0; k <= 40; k++) progs.set(k, vm.load(counter(k, k + 1)));
    const { mem, count, tag } = ctxMemory();
    expect((progs.get(0) as LoadedProgram).run(mem)).toBe(u64(TAIL_CALL_LIMIT));
    expect(count()).toBe(34n);
    expect(tag()).toBe(33n);
    expect(DEFAULT_MAX_TAIL_CALLS).toBe(33);
  });

  it('a program that tail-calls itself runs 34 times', () => {
    const { vm, progs } = world(engine);
    const self = vm.load(counter(7, 0));
    progs.set(0, self);
    const { mem, count } = ctxMemory();
    expect(self.run(mem)).toBe(u64(-7));
    expect(count()).toBe(34n);
    // The counter is per run.
    expect(self.run(mem)).toBe(u64(-7));
    expect(count()).toBe(68n);
  });

  it('an index >= max_entries fails with -EINVAL, not counted; the index is the low 32 bits of r3', () => {
    const { vm, progs } = world(engine, 4);
    progs.set(1, vm.load('mov %r0, 11\nexit'));
    const run = (r3: string): bigint => vm.load(`lddw %r2, map_fd 1\nlddw %r3, ${r3}\ncall 12\nexit`).run(new Uint8Array(8));
    expect(run('4')).toBe(u64(TAIL_CALL_BAD_INDEX));
    expect(run('0xffffffff')).toBe(u64(TAIL_CALL_BAD_INDEX));
    expect(run('0x100000001')).toBe(11n);
    // Failures do not count: 40 bad indices, then 33 good tail calls still work.
    const { vm: vm2, progs: progs2 } = world(engine, 4);
    const prog = vm2.load(`
      mov %r6, 40
    bad:
      lddw %r2, map_fd 1
      mov %r3, 9
      call 12
      sub %r6, 1
      jne %r6, 0, bad
      ${counter(0, 0)}`);
    progs2.set(0, vm2.load(counter(1, 0)));
    const { mem, count } = ctxMemory();
    expect(prog.run(mem)).toBe(u64(TAIL_CALL_LIMIT));
    expect(count()).toBe(34n);
  });

  it('an empty slot fails with -ENOENT and the caller goes on', () => {
    const { vm } = world(engine, 4);
    const prog = vm.load('mov %r6, 5\nlddw %r2, map_fd 1\nmov %r3, 2\ncall 12\nadd %r0, %r6\nexit');
    expect(prog.run(new Uint8Array(8))).toBe(u64(TAIL_CALL_EMPTY + 5));
  });

  it('r0 after each kind of failure is a negative errno, r1..r9 unchanged', () => {
    const failing = (maxTailCalls: number, index: number): [bigint, bigint] => {
      const { vm, progs } = world(engine, 2, { maxTailCalls });
      progs.set(0, vm.load('mov %r0, 1\nexit'));
      const mem = new Uint8Array(8);
      const sum = vm.load(`
        mov %r6, 6
        mov %r9, 9
        lddw %r2, map_fd 1
        mov %r3, ${index}
        call 12
        stxdw [%r1], %r0
        mov %r0, %r6
        add %r0, %r9
        add %r0, %r3
        exit`).run(mem);
      return [new DataView(mem.buffer).getBigInt64(0, true), sum - 15n];
    };
    // Slot 0 is full but the limit (0) is reached; slot 1 is empty; 2 is out of range.
    expect([failing(0, 0), failing(33, 1), failing(33, 2)]).toEqual([[-7n, 0n], [-2n, 1n], [-22n, 2n]]);
    expect([TAIL_CALL_LIMIT, TAIL_CALL_EMPTY, TAIL_CALL_BAD_INDEX]).toEqual([-7, -2, -22]);
    // Linux's order: the index first, then the limit, then the slot.
    expect([failing(0, 1), failing(0, 2)]).toEqual([[-7n, 1n], [-22n, 2n]]);
  });

  it('the target gets r1 = ctx, r2..r9 = 0 and the caller\'s r10; its r0 is the result', () => {
    const { vm, progs } = world(engine);
    // The target ORs r2..r9 into r0 (all 0), adds *(u32 *)ctx and checks r10 is the main frame's.
    progs.set(0, vm.load(`
      mov %r0, %r2
      or %r0, %r3
      or %r0, %r4
      or %r0, %r5
      or %r0, %r6
      or %r0, %r7
      or %r0, %r8
      or %r0, %r9
      ldxw %r6, [%r1]
      add %r0, %r6
      ldxdw %r6, [%r1+8]
      jeq %r6, %r10, same
      add %r0, 1000
    same:
      exit`));
    const prog = vm.load(`
      stxdw [%r1+8], %r10
      lddw %r2, map_fd 1
      mov %r3, 0
      lddw %r4, -1
      lddw %r5, -1
      lddw %r6, -1
      lddw %r7, -1
      lddw %r8, -1
      lddw %r9, -1
      call 12
      exit`);
    const mem = new Uint8Array(16);
    mem[0] = 42;
    expect(prog.run(mem)).toBe(42n);
  });

  it('JS sets, replaces and clears slots between runs', () => {
    const { vm, progs } = world(engine, 4);
    const caller = vm.load('lddw %r2, map_fd 1\nmov %r3, 3\ncall 12\nexit');
    expect(caller.run()).toBe(u64(TAIL_CALL_EMPTY));
    progs.set(3, vm.load('mov %r0, 1\nexit'));
    expect(caller.run()).toBe(1n);
    progs.set(3, vm.load('mov %r0, 2\nexit'));
    expect(caller.run()).toBe(2n);
    progs.set(3, null);
    expect(caller.run()).toBe(u64(TAIL_CALL_EMPTY));
    progs.set(3, vm.load('mov %r0, 3\nexit'));
    expect(caller.run()).toBe(3n);
    expect(progs.delete(3)).toBe(0);
    expect(caller.run()).toBe(u64(TAIL_CALL_EMPTY));
  });

  it('a slot takes only programs of the same Vm', () => {
    const { progs } = world(engine, 4);
    const other = new Vm({ engine }).load('mov %r0, 1\nexit');
    expect(() => progs.set(0, other)).toThrow(/same VM/);
    expect(() => progs.set(0, {} as never)).toThrow(/same VM/);
  });

  it('maxTailCalls bounds the chain', () => {
    for (const max of [0, 1, 5, 100]) {
      const { vm, progs } = world(engine, 4, { maxTailCalls: max });
      const self = vm.load(counter(0, 0));
      progs.set(0, self);
      const { mem, count } = ctxMemory();
      expect(self.run(mem)).toBe(u64(TAIL_CALL_LIMIT));
      expect(count()).toBe(BigInt(max + 1));
    }
  });

  it('callx with helper id 12 is a tail call', () => {
    const { vm, progs } = world(engine, 4);
    progs.set(1, vm.load('mov %r0, 77\nexit'));
    const prog = vm.load('lddw %r2, map_fd 1\nmov %r3, 1\nmov %r6, 12\ncallx %r6\nexit');
    expect(prog.run(new Uint8Array(8))).toBe(77n);
    expect(vm.load('lddw %r2, map_fd 1\nmov %r3, 2\nmov %r6, 12\ncallx %r6\nexit').run()).toBe(u64(TAIL_CALL_EMPTY));
  });

  it('r2 that is not a PROG_ARRAY is a HelperError; so is an r1 that is not a context pointer', () => {
    const { vm, progs } = world(engine, 4);
    vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    progs.set(0, vm.load('mov %r0, 1\nexit'));
    const fails = (src: string): HelperError => {
      try {
        vm.load(src).run(new Uint8Array(8));
      } catch (e) {
        return e as HelperError;
      }
      throw new Error('no error');
    };
    for (const [r2, what] of [['0', 'not a map'], ['map_fd 2', 'map '], ['0x1fe000001', 'not a map']] as const) {
      const e = fails(`mov %r3, 0\nlddw %r2, ${r2}\ncall 12\nexit`);
      expect(e).toBeInstanceOf(HelperError);
      expect(e).toMatchObject({ pc: 3, helper: 12 });
      expect(e.message).toContain(`is not a prog_array map (${what}`);
    }
    for (const r1 of ['0x100000000', '0xff000000', '-1']) {
      const e = fails(`lddw %r1, ${r1}\nlddw %r2, map_fd 1\nmov %r3, 0\ncall 12\nexit`);
      expect(e).toBeInstanceOf(HelperError);
      expect(e.message).toMatch(/r1 = 0x[0-9a-f]+ is not a context pointer/);
    }
    // NULL is a pointer like any other (the target faults if it reads it).
    expect(vm.load('mov %r1, 0\nlddw %r2, map_fd 1\nmov %r3, 0\ncall 12\nexit').run()).toBe(1n);
  });

  it('the budget is carried along the chain: the run stops where the total passes it', () => {
    // Each member executes 7 instructions up to and including its call (lddw counts 1).
    for (const [budget, members] of [[20, 3], [21, 4], [27, 4], [28, 5]] as const) {
      const { vm, progs } = world(engine, 4, { budget });
      const self = vm.load(counter(0, 0));
      progs.set(0, self);
      const { mem, count } = ctxMemory();
      let error: unknown;
      try {
        self.run(mem);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BudgetExceededError);
      expect(error).toMatchObject({ pc: 7, budget });
      expect(count()).toBe(BigInt(members));
    }
  });

  it('a chain within the budget returns normally, with the budget or without', () => {
    const { vm, progs } = world(engine, 4, { maxTailCalls: 3 });
    const self = vm.load(counter(0, 0));
    progs.set(0, self);
    const { mem, count } = ctxMemory();
    // 4 members x 7 instructions, the last one's failed call then its exit: 29.
    expect(self.run(mem, { budget: 28 })).toBe(u64(TAIL_CALL_LIMIT));
    expect(count()).toBe(4n);
    expect(() => self.run(mem, { budget: 27 })).toThrow(BudgetExceededError);
    expect(self.run(mem)).toBe(u64(TAIL_CALL_LIMIT));
  });
});
