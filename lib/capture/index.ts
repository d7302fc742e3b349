// Running a program over captured packets, on one thread or many. This
// module holds runCapture and re-exports the rest.

import { UsageError } from '../errors.js';
import type { CaptureInput } from './input.js';
import { checkJob } from './options.js';
import { runSingle } from './single.js';
import { runThreads } from './threads.js';
import type { CaptureJob, CaptureResult, PacketResult } from './types.js';

export type { CaptureContextKind, CaptureJob, CaptureRecord, CaptureResult, PacketResult, ProgramSpec, SkippedPacket, WorkerStats } from './types.js';
export { partialResult } from './partial.js';
export { SKIPPED_EXAMPLES } from './frames.js';
export type { CaptureInput, CaptureInputItem } from './input.js';
export { PacketError, WorkerError, WorkerFault } from './error.js';
export { MAX_WORKERS } from './options.js';

/**
 * Runs `job.spec` over `packets` and returns the counts, the Vm (its maps
 * hold the final contents) and the trace_printk lines. onResult gets every
 * packet's result in packet order; onProgress the number of packets done,
 * now and then. A program fault on a packet is a PacketError naming it,
 * thrown after every earlier packet was delivered; an error of the input
 * (PcapError for a truncated capture) is thrown after every packet before it.
 * Such errors (and onResult's, and a worker thread's) carry the result so
 * far: partialResult(e). A packet that cannot be given to the program (see
 * CaptureJob.frames) is skipped and counted in `skipped`, not fatal.
 */
export async function runCapture(job: CaptureJob, packets: CaptureInput, onResult?: (r: PacketResult) => void,
  onProgress?: (done: number) => void): Promise<CaptureResult> {
  const checked = checkJob(job);
  if (onResult !== undefined && typeof onResult !== 'function') throw new UsageError('runCapture onResult must be a function');
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new UsageError('runCapture onProgress must be a function');
  if (typeof packets !== 'object' || packets === null) throw new UsageError('runCapture packets must be an iterable of captured packets');
  return checked.workers === 1 ? runSingle(job, checked, packets, onResult, onProgress) : runThreads(job, checked, packets, onResult, onProgress);
}
