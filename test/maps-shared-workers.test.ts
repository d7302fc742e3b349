// Real threads on one shared HASH map: 4 workers insert, update and delete
// thousands of keys (20 times over) through the map's BPF-side methods (their own keys, and
// keys they all race for with BPF_NOEXIST, whose values they all increment
// with Atomics through the address lookup returns). The end state must be
// the one the same work gives run one worker after another on a private map.
//
// Workers import the built library (dist/, which `npm test` builds first);
// the test is skipped with a message when dist/ is missing or predates
// shared maps.

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Memory } from '../lib/memory.js';
import { MapRegistry, type HashMap, type MapDefinition, type QueueStackMap } from '../lib/maps/index.js';

const WORKERS = 4;
const OWN = 1500;
const CONTENDED = 500;
const ROUNDS = 20;
const DEF: MapDefinition = { type: 'hash', keySize: 8, valueSize: 8, maxEntries: 8192, name: 'shared' };

/**
 * One worker's work on `map` as cpu `w` (plain JS, run by workers and by the
 * single-threaded reference alike). Returns how many BPF_NOEXIST inserts of
 * contended keys it won and how many results were not the expected ones.
 */
const WORK = `(map, w, gate) => {
  const key = new Uint8Array(8), value = new Uint8Array(8);
  const kv = new DataView(key.buffer), vv = new DataView(value.buffer);
  const region = map.regions()[0];
  const words = new BigInt64Array(region.bytes.buffer, region.bytes.byteOffset, region.bytes.byteLength / 8);
  let wins = 0, wrong = 0;
  const set = (k, v, flags) => { kv.setBigUint64(0, k, true); vv.setBigUint64(0, v, true); return map.updateElem(key, value, flags, w); };
  const del = (k) => { kv.setBigUint64(0, k, true); return map.deleteElem(key); };
  if (gate) {
    Atomics.add(gate, 0, 1);
    for (const end = Date.now() + 20000; Atomics.load(gate, 0) < ${WORKERS} && Date.now() < end;);
  }
  // Churn first: every own key inserted and deleted again, many times over,
  // so the threads overlap on the index (buckets, free list, order list).
  for (let round = 0; round < ${ROUNDS}; round++) {
    for (let i = 0; i < ${OWN}; i++) if (set(BigInt(w * ${OWN} + i) * 0x10001n + 1n, 1n, 1) !== 0) wrong++;
    for (let i = 0; i < ${OWN}; i++) if (del(BigInt(w * ${OWN} + i) * 0x10001n + 1n) !== 0) wrong++;
  }
  for (let i = 0; i < ${OWN}; i++) {
    const k = BigInt(w * ${OWN} + i) * 0x10001n + 1n;
    if (set(k, BigInt(i), 1) !== 0) wrong++;                          // BPF_NOEXIST: new
    if (i % 3 === 0 && del(k) !== 0) wrong++;
    if (i % 5 === 0 && set(k, BigInt(i * 2), 0) !== 0) wrong++;        // re-inserts when i % 15 == 0
    if (i % 7 === 0 && set(k, 7n, 2) !== (i % 3 === 0 && i % 5 !== 0 ? -2 : 0)) wrong++; // BPF_EXIST
    if (i < ${CONTENDED}) {
      const c = (1n << 60n) + BigInt(i);
      const r = set(c, 0n, 1);
      if (r === 0) wins++; else if (r !== -17) wrong++;
      kv.setBigUint64(0, c, true);
      const address = map.lookup(key, w);
      if (address === 0) wrong++;
      else Atomics.add(words, (address - region.base) / 8, 1n);
    }
  }
  return { wins, wrong };
}`;

const DIST = new URL('../dist/lib/maps/index.js', import.meta.url);
const MEMORY = new URL('../dist/lib/memory.js', import.meta.url);
const built = existsSync(DIST) && existsSync(MEMORY)
  && (await import(DIST.href) as { MapRegistry: { prototype: object } }).MapRegistry.prototype.hasOwnProperty('sharedState');
if (!built) console.warn('maps-shared-workers.test.ts: skipped: dist/ is not built with shared maps (npm run build)');

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
Promise.all([import(workerData.maps), import(workerData.memory)]).then(([{ MapRegistry }, { Memory }]) => {
  const registry = new MapRegistry(new Memory(), { cpus: ${WORKERS}, isProgram: () => false, attach: workerData.state });
  const map = registry.create(workerData.def);
  const work = ${WORK};
  parentPort.postMessage(work(map, workerData.w, new Int32Array(workerData.gate)));
}).catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

type Outcome = { wins: number; wrong: number; error?: string };

function runWorker(w: number, state: unknown, gate: SharedArrayBuffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      eval: true, workerData: { maps: DIST.href, memory: MEMORY.href, state, def: DEF, w, gate },
    });
    worker.once('message', (m: Outcome) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** Sorted [key, value] pairs as bigints. */
function contents(map: HashMap): [bigint, bigint][] {
  const out = [...map.entries()].map(([k, v]): [bigint, bigint] =>
    [new DataView(k.buffer).getBigUint64(0, true), new DataView(v.buffer).getBigUint64(0, true)]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

describe.skipIf(!built)(`${WORKERS} workers on one shared hash map`, () => {
  it('end with the same contents as the same work done by one thread', async () => {
    const work = new Function(`return ${WORK}`)() as (map: HashMap, w: number, gate: undefined) => Outcome;
    const single = new MapRegistry(new Memory(), { cpus: WORKERS, isProgram: () => false }).create(DEF) as HashMap;
    const singleOutcomes = Array.from({ length: WORKERS }, (_, w) => work(single, w, undefined));
    expect(singleOutcomes.reduce((n, o) => n + o.wins, 0)).toBe(CONTENDED);
    expect(singleOutcomes.every((o) => o.wrong === 0)).toBe(true);

    const registry = new MapRegistry(new Memory(), { cpus: WORKERS, isProgram: () => false, share: true });
    const shared = registry.create(DEF) as HashMap;
    const gate = new SharedArrayBuffer(4);
    const state = registry.sharedState();
    const outcomes = await Promise.all(Array.from({ length: WORKERS }, (_, w) => runWorker(w, state, gate)));
    expect(outcomes.map((o) => o.error)).toEqual(outcomes.map(() => undefined));
    expect(outcomes.map((o) => o.wrong)).toEqual(outcomes.map(() => 0));
    expect(outcomes.reduce((n, o) => n + o.wins, 0)).toBe(CONTENDED);

    const expected = contents(single);
    expect(shared.size).toBe(expected.length);
    expect(contents(shared)).toEqual(expected);
    // Every contended key was incremented once by each worker.
    expect(expected.filter(([k]) => k >= 1n << 60n).every(([, v]) => v === BigInt(WORKERS))).toBe(true);
  }, 60_000);
});

/** Each worker pushes PUSHES distinct values and pops as many as it can in between; nothing is lost or doubled. */
const PUSHES = 20_000;
const QUEUE_DEF: MapDefinition = { type: 'queue', keySize: 0, valueSize: 4, maxEntries: 64, name: 'q' };
const QUEUE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
Promise.all([import(workerData.maps), import(workerData.memory)]).then(([{ MapRegistry }, { Memory }]) => {
  const registry = new MapRegistry(new Memory(), { cpus: ${WORKERS}, isProgram: () => false, attach: workerData.state });
  const q = registry.create(workerData.def);
  const gate = new Int32Array(workerData.gate);
  Atomics.add(gate, 0, 1);
  for (const end = Date.now() + 20000; Atomics.load(gate, 0) < ${WORKERS} && Date.now() < end;);
  const value = new Uint8Array(4), out = new Uint8Array(4);
  const dv = new DataView(value.buffer), ov = new DataView(out.buffer);
  let pushedSum = 0, poppedSum = 0, popped = 0, full = 0;
  for (let i = 0; i < ${PUSHES}; i++) {
    const v = workerData.w * ${PUSHES} + i + 1;
    dv.setUint32(0, v, true);
    while (q.pushElem(value, 0) === -7) {
      full++;
      if (q.popElem(out) === 0) { poppedSum += ov.getUint32(0, true); popped++; }
    }
    pushedSum += v;
    if (i % 2 === 0 && q.popElem(out) === 0) { poppedSum += ov.getUint32(0, true); popped++; }
  }
  parentPort.postMessage({ pushedSum, poppedSum, popped, full });
}).catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

describe.skipIf(!built)(`${WORKERS} workers on one shared queue`, () => {
  it('every value pushed is popped once or still queued', async () => {
    const registry = new MapRegistry(new Memory(), { cpus: WORKERS, isProgram: () => false, share: true });
    const q = registry.create(QUEUE_DEF) as QueueStackMap;
    const gate = new SharedArrayBuffer(4);
    const state = registry.sharedState();
    const outcomes = await Promise.all(Array.from({ length: WORKERS }, (_, w) => new Promise<Record<string, number | string>>((resolve, reject) => {
      const worker = new Worker(QUEUE_WORKER, { eval: true, workerData: { maps: DIST.href, memory: MEMORY.href, state, def: QUEUE_DEF, w, gate } });
      worker.once('message', (m: Record<string, number | string>) => {
        resolve(m);
        void worker.terminate();
      });
      worker.once('error', reject);
    })));
    expect(outcomes.map((o) => o.error)).toEqual(outcomes.map(() => undefined));
    const left = [...q.values()].map((v) => new DataView(v.buffer).getUint32(0, true));
    const sum = (key: string): number => outcomes.reduce((n, o) => n + (o[key] as number), 0);
    const n = WORKERS * PUSHES;
    expect(sum('pushedSum')).toBe((n * (n + 1)) / 2);
    expect(sum('popped') + left.length).toBe(n);
    expect(sum('poppedSum') + left.reduce((a, b) => a + b, 0)).toBe(sum('pushedSum'));
  }, 60_000);
});
