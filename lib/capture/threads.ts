// runCapture over worker threads (workers > 1). This thread loads the spec
// into a Vm whose maps live in SharedArrayBuffers (so it holds the final map
// contents and can report them) and reads the packets; each worker loads the
// same spec into a Vm attached to those maps, as CPU i of `workers` (per-CPU
// maps keep one value per worker), and runs the batches it is sent.
//
// Order of events: every worker loads (re-applying the object's static
// initializers to the shared maps, which nothing has changed yet), then
// job.setup runs here, then packets flow. Whatever the outcome, every
// worker is terminated before runCapture returns or throws.
//
// What differs from one thread: maps are shared, so counters updated with
// atomic instructions end equal to a one-thread run, while plain
// read-modify-write updates may lose increments (as on a multi-core Linux
// host). Ring buffers, perf event arrays, PROG_ARRAY and map-in-map slots
// (lib/maps keeps them per thread: each worker's are set by the object's
// initializers) and the helper environment are per thread; records are
// forwarded here when job.onRecord asks for them. After a packet faults, packets of later
// batches may already have run on other workers and changed maps.

import type { CapturedPacket } from '../pcap/types.js';
import { Vm } from '../vm.js';
import { PacketError, WorkerFault } from './error.js';
import { Framer, Skips } from './frames.js';
import { consume, type CaptureInput } from './input.js';
import { LineLog } from './lines.js';
import { dataOptions, type CheckedJob } from './options.js';
import { WorkerPool } from './pool.js';
import { unpacked, type DoneMessage, type WorkerInit } from './protocol.js';
import { withPartial } from './partial.js';
import { loadSpec } from './spec.js';
import type { CaptureJob, CaptureResult, PacketResult } from './types.js';
import { VerdictRules } from './verdicts.js';

/** A batch holds at most this many packets, or this many bytes (whichever comes first). */
export const BATCH_PACKETS = 256;
export const BATCH_BYTES = 1 << 20;
const EMPTY = new Uint8Array(0);

/** A packet skipped while its batch was filled: after `at` of the batch's packets. */
interface BatchSkip {
  readonly at: number;
  readonly index: number;
  readonly offset: number;
  readonly reason: string;
}

/** What this thread keeps of a batch until its answers are delivered. */
interface KeptBatch {
  readonly packets: readonly CapturedPacket[];
  readonly skipped: readonly BatchSkip[];
}

/** The compiled worker entry, next to this module (dist/lib/capture/worker.js in the package). */
const WORKER_URL = new URL('./worker.js', import.meta.url);

export async function runThreads(job: CaptureJob, checked: CheckedJob, input: CaptureInput,
  onResult: ((r: PacketResult) => void) | undefined, onProgress: ((done: number) => void) | undefined): Promise<CaptureResult> {
  const start = performance.now();
  const { workers, engine } = checked;
  const log = new LineLog(checked.vm.printk);
  const vm = new Vm({ ...checked.vm, engine, cpus: workers, shareMaps: true, printk: (line: string) => log.add(line) });
  const spec = loadSpec(vm, job.spec, job.ctx);
  const rules = new VerdictRules(spec.kind);
  const onRecord = job.onRecord;
  let delivered = 0;
  const framer = new Framer(checked.frames, spec.wireLen);
  // Skips are counted when their batch is delivered, in packet order, so a
  // run that fails counts only those before the failing packet.
  const skips = new Skips();

  const deliver = (kept: KeptBatch, m: DoneMessage, worker: number): void => {
    const { packets, skipped } = kept;
    let p = 0;
    let r = 0;
    let s = 0;
    // A skip at `at` came after `at` packets of the batch.
    const skipTo = (i: number): void => {
      for (; s < skipped.length && skipped[s]!.at <= i; s++) skips.add(skipped[s]!, skipped[s]!.reason);
    };
    // The faulting packet's lines and records are delivered too, as on one thread (they came before the fault).
    const last = m.error === undefined ? m.ran - 1 : m.ran;
    for (let i = 0; i <= last; i++) {
      skipTo(i);
      for (; r < m.records.length && m.records[r]!.at === i; r++) {
        const { map, data } = m.records[r]!;
        onRecord?.({ map, data, packetIndex: packets[i]!.index, worker });
      }
      for (; p < m.printkAt.length && m.printkAt[p] === i; p++) log.add(m.printk[p]!);
      if (i === m.ran) break;
      const r0 = m.verdicts[i]!;
      rules.count(r0);
      delivered++;
      if (onResult !== undefined) {
        const output = m.outputs === undefined ? EMPTY : unpacked(m.outputs, i);
        onResult({ packet: packets[i]!, verdict: r0, verdictName: rules.name, pass: rules.pass, output, worker });
      }
    }
    if (m.error === undefined) skipTo(packets.length);
    onProgress?.(delivered);
    if (m.error !== undefined) {
      const bad = packets[m.ran]!;
      throw new PacketError(new WorkerFault(m.error), bad.index, bad.offset, worker);
    }
  };

  const shared = vm.maps.sharedState();
  const inits: WorkerInit[] = Array.from({ length: workers }, (_, cpu) => ({
    spec: job.spec, ctx: job.ctx, cpu, cpus: workers, shared, vm: dataOptions(checked.vm), engine, outputs: checked.outputs,
    records: onRecord !== undefined,
  }));
  const pool = new WorkerPool<KeptBatch>(WORKER_URL, inits, deliver);
  const result = (): CaptureResult => ({
    packets: delivered, counts: rules.counts(), passed: rules.passed, elapsedNs: Math.round((performance.now() - start) * 1e6),
    perWorker: pool.stats.map((st, worker) => ({ worker, packets: st.packets, busyNs: st.busyNs })),
    vm, object: spec.object, printk: log.list(), printkDropped: log.dropped, skipped: skips.count, skippedExamples: [...skips.examples],
  });
  try {
    try {
      await pool.started();
      await job.setup?.(vm, spec.object);
      let batch: CapturedPacket[] = [];
      let skipped: BatchSkip[] = [];
      let frames: Uint8Array[] = [];
      let lens: number[] = [];
      let bytes = 0;
      const submit = (): Promise<void> => {
        const kept: KeptBatch = { packets: batch, skipped };
        const out = frames;
        const outLens = spec.wireLen ? Uint32Array.from(lens) : undefined;
        batch = [];
        skipped = [];
        frames = [];
        lens = [];
        bytes = 0;
        return pool.submit(kept, out, outLens);
      };
      let inputError: { readonly error: unknown } | undefined;
      try {
        await consume(input, (packet) => {
          const framed = framer.frame(packet);
          if (typeof framed === 'string') {
            skipped.push({ at: batch.length, index: packet.index, offset: packet.offset, reason: framed });
          } else {
            batch.push(packet);
            frames.push(framed.frame);
            lens.push(framed.len ?? framed.frame.length);
            bytes += framed.frame.byteLength;
          }
          // Skipped packets count toward the batch's size, so a run of them is delivered (counted) in order too.
          if (batch.length + skipped.length < BATCH_PACKETS && bytes < BATCH_BYTES) return undefined;
          return submit();
        });
      } catch (e) {
        // The pool's own failure comes first in packet order; the input's error
        // (a truncated capture) after every packet before it.
        if (pool.failed !== undefined) throw pool.failed.error;
        inputError = { error: e };
      }
      if (batch.length + skipped.length > 0) await submit();
      await pool.drain();
      if (inputError !== undefined) throw inputError.error;
    } finally {
      await pool.terminate();
    }
  } catch (e) {
    // Every thread is gone: the maps are as the delivered (and any later, already run) packets left them.
    throw withPartial(e, result());
  }
  return result();
}
