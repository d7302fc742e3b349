// Long tail-call chains keep the JS stack and the heap flat: a tail call
// returns to the dispatch loop (run-state.ts) instead of calling its target,
// and nothing it allocates outlives the run.
import { describe, expect, it } from 'vitest';
import { AVAILABLE_ENGINES, Vm, type EngineName } from '../lib/vm.js';

/** Counts itself in ctx[0], calls helper 70 (which may record the JS stack depth), then tail-calls slot 0 (itself). */
const SELF = `
  ldxdw %r0, [%r1]
  add %r0, 1
  stxdw [%r1], %r0
  mov %r6, %r1
  call 70
  mov %r1, %r6
  lddw %r2, map_fd 1
  mov %r3, 0
  call 12
  exit`;

function stackDepth(): number {
  return (new Error().stack ?? '').split('\n').length;
}

function chain(engine: EngineName, maxTailCalls: number, probe: () => void = () => {}) {
  const vm = new Vm({ engine, maxTailCalls, helpers: { 70: () => { probe(); return 0; } } });
  const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1 });
  const self = vm.load(SELF);
  progs.set(0, self);
  const mem = new Uint8Array(8);
  const view = new DataView(mem.buffer);
  return { vm, self, mem, count: () => view.getBigUint64(0, true) };
}

describe.each(AVAILABLE_ENGINES)('long chains on %s', (engine) => {
  it('keep the JS stack depth constant along a chain, from the main frame or a subprogram', () => {
    const depths: number[] = [];
    // Error.stack holds 10 frames by default: make room to see a growing stack.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 200;
    try {
      const { vm, self, mem, count } = chain(engine, 500, () => depths.push(stackDepth()));
      self.run(mem);
      expect(count()).toBe(501n);
      expect(new Set(depths).size).toBe(1);
      // The same chain started in a subprogram: one nesting level more, then flat.
      depths.length = 0;
      mem.fill(0);
      vm.load('call local sub\nexit\nsub:\nlddw %r2, map_fd 1\nmov %r3, 0\ncall 12\nexit').run(mem);
      // The subprogram's tail call is the first of the run's 500.
      expect(count()).toBe(500n);
      expect(new Set(depths).size).toBe(1);
    } finally {
      Error.stackTraceLimit = limit;
    }
  });

  it('a chain of 200,000 tail calls throws no RangeError', () => {
    const { self, mem, count } = chain(engine, 200_000);
    self.run(mem);
    expect(count()).toBe(200_001n);
  });

  it('keep the heap flat over many runs of chains', () => {
    const runs = engine === 'jit' ? 3000 : 500;
    const { self, mem, count } = chain(engine, 99);
    self.run(mem); // warm up (compiles, allocates once)
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let k = 0; k < runs; k++) self.run(mem);
    globalThis.gc?.();
    const growth = process.memoryUsage().heapUsed - before;
    expect(count()).toBe(BigInt((runs + 1) * 100));
    // Garbage is collected as it goes; what stays must not scale with the runs.
    expect(growth).toBeLessThan(32 * 1024 * 1024);
  });
});

describe.each(AVAILABLE_ENGINES)('a million runs of chains on %s', (engine) => {
  it('run 1,000,000 chains of 3 programs with the same JS stack depth and a flat heap', () => {
    let depth = 0;
    let changed = 0;
    let probing = false;
    const { self, mem, count } = chain(engine, 2, () => {
      if (!probing) return;
      const d = stackDepth();
      if (depth !== 0 && d !== depth) changed++;
      depth = d;
    });
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 200;
    try {
      self.run(mem); // warm up
      globalThis.gc?.();
      const before = process.memoryUsage().heapUsed;
      for (let k = 0; k < 1_000_000; k++) {
        // The stack probe is costly: look at it on 1 run in 1,000.
        probing = k % 1000 === 0;
        self.run(mem);
      }
      globalThis.gc?.();
      const growth = process.memoryUsage().heapUsed - before;
      expect(count()).toBe(3_000_003n);
      expect(changed).toBe(0);
      expect(growth).toBeLessThan(32 * 1024 * 1024);
    } finally {
      Error.stackTraceLimit = limit;
    }
  });
});
