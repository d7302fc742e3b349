// Atomic instructions on memory over a SharedArrayBuffer (lib/atomics.ts):
// every op, both widths, gives exactly what it gives on plain memory (aligned
// addresses go through Atomics, unaligned ones through the plain path), and
// two threads adding through BPF programs to the same shared counters lose
// no update, on both engines.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Memory } from '../lib/memory.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';

const OPS = ['add', 'or', 'and', 'xor', 'fetch add', 'fetch or', 'fetch and', 'fetch xor', 'xchg', 'cmpxchg'] as const;
const SRC = 0x8765432112345678n;
const MEM = 0x0123456789abcdefn;

/** `lock OP [r1+off]` with r2 = SRC, r0 = `r0`; then r0 and r2 are stored after the operand for comparison. */
function program(op: string, width: 32 | 64, off: number, r0: bigint): string {
  return `
    lddw %r2, 0x${SRC.toString(16)}
    lddw %r0, 0x${r0.toString(16)}
    lock ${op}${width === 32 ? '32' : ''} [%r1+${off}], %r2
    stxdw [%r1+32], %r0
    stxdw [%r1+40], %r2
    mov %r0, 0
    exit`;
}

function initial(buffer: ArrayBufferLike): Uint8Array {
  const bytes = new Uint8Array(buffer, 0, 48);
  const view = new DataView(bytes.buffer);
  for (let k = 0; k < 24; k += 8) view.setBigUint64(k, MEM, true);
  return bytes;
}

describe.each(AVAILABLE_ENGINES)('atomics on shared memory on %s', (engine) => {
  it('a region over a SharedArrayBuffer is shared, and its slot says so', () => {
    const memory = new Memory();
    const plain = memory.map(new Uint8Array(8), { name: 'plain' });
    const shared = memory.map(new Uint8Array(new SharedArrayBuffer(8)), { name: 'shared' });
    expect([plain.shared, shared.shared]).toEqual([false, true]);
    expect([memory.tables.shared[plain.base >>> 24], memory.tables.shared[shared.base >>> 24]]).toEqual([0, 1]);
    memory.unmap(shared);
    expect(memory.tables.shared[shared.base >>> 24]).toBe(0);
  });

  const cases = OPS.flatMap((op) => ([32, 64] as const).flatMap((width) =>
    // Aligned, unaligned (plain path even when shared), and for cmpxchg both a match and a miss.
    [0, 8 + 3].flatMap((off) => (op === 'cmpxchg' ? [MEM, 5n] : [5n]).map((r0) => [op, width, off, r0] as const))));

  it.each(cases)('lock %s (width %i) at +%i, r0 = %s: shared equals plain', (op, width, off, r0) => {
    const vm = new Vm({ engine });
    const prog = vm.load(program(op, width, off, r0));
    const plain = initial(new ArrayBuffer(48));
    const shared = initial(new SharedArrayBuffer(48));
    expect(prog.run(plain)).toBe(0n);
    expect(prog.run(shared)).toBe(0n);
    expect([...shared]).toEqual([...plain]);
    // And the plain result is the op's: spot-check add.
    if (op === 'add' && off === 0) {
      const mask = width === 32 ? 0xffffffffn : (1n << 64n) - 1n;
      const low = new DataView(plain.buffer).getBigUint64(0, true);
      expect(low & mask).toBe((MEM + SRC) & mask);
    }
  });

  it('ATOMIC covers an access whose slot was cached by a plain one', () => {
    // The slot cache holds the shared slot from the load; the atomic must still see SH.
    const vm = new Vm({ engine });
    const prog = vm.load(`ldxdw %r3, [%r1+0]\nmov %r2, 2\nlock fetch add [%r1+0], %r2\nmov %r0, %r2\nexit`);
    const shared = initial(new SharedArrayBuffer(48));
    expect(prog.run(shared)).toBe(MEM);
    expect(new DataView(shared.buffer).getBigUint64(0, true)).toBe(MEM + 2n);
  });
});

describe('atomics on shared memory in split JIT functions', () => {
  it('every piece knows whether its slot is shared (split limit 1: a piece per block)', () => {
    const vm = new Vm({ engine: 'jit' });
    const options = vm.compileOptions.bind(vm);
    (vm as { compileOptions: (budgeted: boolean) => object }).compileOptions = (budgeted) => ({ ...options(budgeted), splitLimit: 1 });
    const prog = vm.load(`
      ldxdw %r3, [%r1+0]
      mov %r2, 3
      jeq %r3, 7, +2
      lock fetch add [%r1+0], %r2
      ja +1
      lock xchg32 [%r1+8], %r2
      lock cmpxchg [%r1+16], %r2
      mov %r0, %r2
      exit`);
    expect(prog.jitSource()).toMatch(/piece 2 of/);
    for (const first of [MEM, 7n]) {
      const plain = initial(new ArrayBuffer(48)), shared = initial(new SharedArrayBuffer(48));
      new DataView(plain.buffer).setBigUint64(0, first, true);
      new DataView(shared.buffer).setBigUint64(0, first, true);
      const a = prog.run(plain), b = prog.run(shared);
      expect(b).toBe(a);
      expect([...shared]).toEqual([...plain]);
    }
  });
});

// ---------------------------------------------------------------------------
// Two threads

const DIST = new URL('../dist/lib/vm.js', import.meta.url);
const built = existsSync(DIST);
if (!built) console.warn('engine-atomics-shared.test.ts: the two-thread test skipped: dist/ is not built (npm run build)');

const ITERATIONS = 100_000;

/** 100,000 times: 64-bit add at +0, 32-bit add at +8, a cmpxchg retry loop incrementing +16. */
const THREAD_PROGRAM = `
  mov %r3, 0
  mov %r2, 1
  lock add [%r1+0], %r2
  lock add32 [%r1+8], %r2
  ldxdw %r0, [%r1+16]
  mov %r4, %r0
  add %r4, 1
  mov %r5, %r0
  lock cmpxchg [%r1+16], %r4
  jne %r0, %r5, -6
  add %r3, 1
  jlt %r3, ${ITERATIONS}, -10
  mov %r0, 0
  exit`;

/**
 * The worker: loads the program, waits until both threads are ready, runs it
 * once over the shared bytes. (The same loop with plain loads and stores
 * loses updates on both engines given enough iterations: the threads do overlap.)
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.url).then(({ Vm }) => {
  const vm = new Vm({ engine: workerData.engine });
  const prog = vm.load(workerData.asm);
  if (workerData.engine === 'jit') prog.compile();
  const gate = new Int32Array(workerData.gate);
  // Spinning (not Atomics.wait) starts both runs within microseconds, so they overlap.
  Atomics.add(gate, 0, 1);
  for (const end = Date.now() + 20000; Atomics.load(gate, 0) < 2 && Date.now() < end;);
  parentPort.postMessage(String(prog.run(new Uint8Array(workerData.sab))));
}).catch((e) => parentPort.postMessage('error: ' + (e && e.stack || e)));
`;

function runThread(engine: string, sab: SharedArrayBuffer, gate: SharedArrayBuffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { url: DIST.href, engine, asm: THREAD_PROGRAM, sab, gate } });
    worker.once('message', (m: string) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

describe.skipIf(!built).each(AVAILABLE_ENGINES)('two threads on %s', (engine) => {
  it(`each adding ${ITERATIONS} times to shared counters end at exactly ${2 * ITERATIONS}`, async () => {
    const sab = new SharedArrayBuffer(24);
    const gate = new SharedArrayBuffer(4);
    const results = await Promise.all([runThread(engine, sab, gate), runThread(engine, sab, gate)]);
    expect(results).toEqual(['0', '0']);
    const view = new DataView(sab);
    expect(view.getBigUint64(0, true)).toBe(BigInt(2 * ITERATIONS));
    expect(view.getUint32(8, true)).toBe(2 * ITERATIONS);
    expect(view.getBigUint64(16, true)).toBe(BigInt(2 * ITERATIONS));
  }, 60_000);
});
