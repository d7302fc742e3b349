// Long-running programs keep the JS stack depth and the heap flat on every
// engine: loops compile to JS loops (no recursion), and a run allocates
// nothing per iteration that survives it.
import { describe, expect, it } from 'vitest';
import { AVAILABLE_ENGINES, Vm } from '../lib/index.js';

const LOOP = `
  mov %r6, ITERATIONS
  mov %r7, 0
loop:
  mov %r1, %r7
  call 1                # records the JS stack depth
  add %r7, 1
  stxdw [%r10-8], %r7
  ldxdw %r0, [%r10-8]
  jlt %r7, %r6, loop
  exit
`;

function stackDepth(): number {
  return (new Error().stack ?? '').split('\n').length;
}

describe.each(AVAILABLE_ENGINES)('long runs on %s', (engine) => {
  it('keep the JS stack depth constant across iterations and runs', () => {
    const depths: number[] = [];
    const vm = new Vm({ engine, helpers: { 1: () => { depths.push(stackDepth()); return 0; } } });
    const prog = vm.load(LOOP.replace('ITERATIONS', '2000'));
    expect(prog.run()).toBe(2000n);
    expect(prog.run()).toBe(2000n);
    expect(depths).toHaveLength(4000);
    expect(new Set(depths).size).toBe(1);
  });

  it('keep the heap flat over a million iterations', () => {
    const vm = new Vm({ engine, helpers: { 1: () => 0 } });
    const n = engine === 'jit' ? 1_000_000 : 200_000;
    const prog = vm.load(LOOP.replace('ITERATIONS', String(n)));
    prog.run(); // warm up (compiles, allocates once)
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let k = 0; k < 3; k++) expect(prog.run()).toBe(BigInt(n));
    globalThis.gc?.();
    const growth = process.memoryUsage().heapUsed - before;
    // Garbage is collected as it goes; what stays must not scale with the iterations.
    expect(growth).toBeLessThan(32 * 1024 * 1024);
  });
});
