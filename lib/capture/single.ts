// runCapture on the calling thread (workers: 1): one Vm, its contexts reused
// from packet to packet (runner.ts), each result delivered as its packet
// runs. Nothing is awaited per packet unless the input itself is async.

import { EbpfError } from '../errors.js';
import type { CapturedPacket } from '../pcap/types.js';
import { Vm } from '../vm.js';
import { PacketError } from './error.js';
import { Framer, Skips } from './frames.js';
import { consume, type CaptureInput } from './input.js';
import { LineLog } from './lines.js';
import type { CheckedJob } from './options.js';
import { subscribeRecords } from './records.js';
import { PacketRunner } from './runner.js';
import { withPartial } from './partial.js';
import { loadSpec } from './spec.js';
import type { CaptureJob, CaptureResult, PacketResult } from './types.js';
import { VerdictRules } from './verdicts.js';

/** onProgress is called after this many packets (and at the end). */
export const PROGRESS_EVERY = 1024;

export async function runSingle(job: CaptureJob, checked: CheckedJob, input: CaptureInput,
  onResult: ((r: PacketResult) => void) | undefined, onProgress: ((done: number) => void) | undefined): Promise<CaptureResult> {
  const start = performance.now();
  const log = new LineLog(checked.vm.printk);
  const vm = new Vm({ ...checked.vm, engine: checked.engine, cpus: 1, printk: (line) => log.add(line) });
  const spec = loadSpec(vm, job.spec, job.ctx);
  let current: CapturedPacket | undefined;
  const onRecord = job.onRecord;
  if (onRecord !== undefined) {
    subscribeRecords(vm, (map, data) => onRecord({ map, data, packetIndex: current!.index, worker: 0 }));
  }
  await job.setup?.(vm, spec.object);
  const runner = new PacketRunner(spec, { engine: checked.engine, cpu: 0, outputs: checked.outputs });
  const rules = new VerdictRules(spec.kind);
  const framer = new Framer(checked.frames, spec.wireLen);
  const skips = new Skips();
  let packets = 0;
  const runStart = performance.now();
  const result = (): CaptureResult => ({
    packets, counts: rules.counts(), passed: rules.passed, elapsedNs: Math.round((performance.now() - start) * 1e6),
    perWorker: [{ worker: 0, packets, busyNs: Math.round((performance.now() - runStart) * 1e6) }],
    vm, object: spec.object, printk: log.list(), printkDropped: log.dropped, skipped: skips.count, skippedExamples: [...skips.examples],
  });

  try {
    await consume(input, (packet) => {
      current = packet;
      const framed = framer.frame(packet);
      if (typeof framed === 'string') {
        skips.add(packet, framed);
        return undefined;
      }
      let r0: bigint;
      try {
        r0 = runner.run(framed.frame, framed.len, job.trace?.(packet));
      } catch (e) {
        throw e instanceof EbpfError ? new PacketError(e, packet.index, packet.offset, 0) : e;
      }
      rules.count(r0);
      packets++;
      if (onResult !== undefined) {
        onResult({ packet, verdict: r0, verdictName: rules.name, pass: rules.pass, output: runner.output, worker: 0 });
      }
      if (onProgress !== undefined && packets % PROGRESS_EVERY === 0) onProgress(packets);
      return undefined;
    });
  } catch (e) {
    // The packets delivered so far, the maps as they are: for a caller that reports them anyway.
    throw withPartial(e, result());
  } finally {
    runner.close();
  }
  onProgress?.(packets);
  return result();
}
