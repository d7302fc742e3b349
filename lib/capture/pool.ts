// The worker threads of a capture run, seen from the calling thread: it
// starts them, hands out batches of packets (to the least busy worker), and
// takes the answers back in batch order through a reorder buffer, so the
// caller sees packets in capture order whatever thread ran them.
//
// Memory stays flat: at most BATCHES_PER_WORKER batches per worker are out
// (sent and not yet delivered, whether running, queued or finished and
// waiting for an earlier one); submit() waits for room.
//
// Failure: the first error (a worker's batch stopped by a program fault,
// the caller's onResult throwing, a worker thread dying) is kept; batches
// before a faulting packet are still delivered first, since delivery is in
// order. The caller then terminates every thread (terminate()).

import { WorkerError, WorkerFault } from './error.js';
import { packBytes, type BatchMessage, type DoneMessage, type WorkerInit, type WorkerMessage } from './protocol.js';
import { startThread, threadKind, type Thread, type ThreadKind } from './thread.js';

/** Batches each worker may have out at once. */
export const BATCHES_PER_WORKER = 4;

/** Delivers one batch's answers, in order, with what the caller kept of it (`kept`); may throw (the run then fails with that). */
export type DeliverBatch<B> = (kept: B, done: DoneMessage, worker: number) => void;

/** B: what the caller keeps of each batch until it is delivered (its packets ...). */
export class WorkerPool<B = unknown> {
  readonly stats: { packets: number; busyNs: number }[];
  /** How the threads run: worker_threads under Node, Web Workers under Deno (thread.ts). */
  readonly threadKind: ThreadKind = threadKind();
  private readonly threads: Thread<BatchMessage>[] = [];
  private readonly outstanding: number[];
  private readonly sent = new Map<number, { readonly kept: B; readonly worker: number }>();
  private readonly finished = new Map<number, DoneMessage>();
  private readonly deliver: DeliverBatch<B>;
  private nextSeq = 0;
  private deliverSeq = 0;
  private ready = 0;
  private failure: { readonly error: unknown } | undefined;
  private terminating = false;
  private wake: (() => void) | undefined;

  constructor(url: URL, inits: readonly WorkerInit[], deliver: DeliverBatch<B>) {
    this.deliver = deliver;
    this.outstanding = inits.map(() => 0);
    this.stats = inits.map(() => ({ packets: 0, busyNs: 0 }));
    inits.forEach((init, i) => {
      let thread: Thread<BatchMessage>;
      try {
        thread = startThread<BatchMessage, WorkerMessage>(url, init, {
          message: (m) => this.onMessage(i, m),
          error: (e) => this.fail(new WorkerError(e.message, i)),
          exit: (code) => {
            if (!this.terminating) this.fail(new WorkerError(`exited (code ${code})`, i));
          },
        });
      } catch (e) {
        this.fail(new WorkerError(`cannot start: ${e instanceof Error ? e.message : String(e)}`, i));
        return;
      }
      this.threads.push(thread);
    });
  }

  /** Waits until every worker loaded the spec; throws the first failure. */
  async started(): Promise<void> {
    while (this.failure === undefined && this.ready < this.outstanding.length) await this.signal();
    this.check();
  }

  /**
   * Sends a batch (the frames of its packets and their skb lens, if any),
   * after waiting for room; `kept` comes back with its answers. Throws the
   * run's failure if there is one.
   */
  async submit(kept: B, frames: readonly Uint8Array[], lens: Uint32Array | undefined): Promise<void> {
    const window = BATCHES_PER_WORKER * this.threads.length;
    while (this.failure === undefined && this.nextSeq - this.deliverSeq >= window) await this.signal();
    this.check();
    let worker = 0;
    for (let i = 1; i < this.outstanding.length; i++) if (this.outstanding[i]! < this.outstanding[worker]!) worker = i;
    const seq = this.nextSeq++;
    const batch: BatchMessage = { type: 'batch', seq, frames: packBytes(frames), lens };
    this.sent.set(seq, { kept, worker });
    this.outstanding[worker]!++;
    const transfer = [batch.frames.data, batch.frames.ends.buffer as ArrayBuffer];
    if (lens !== undefined) transfer.push(lens.buffer as ArrayBuffer);
    this.threads[worker]!.post(batch, transfer);
  }

  /** Waits until every batch sent was delivered; throws the run's failure if there is one. */
  async drain(): Promise<void> {
    while (this.failure === undefined && this.deliverSeq < this.nextSeq) await this.signal();
    this.check();
  }

  /** Whether the run failed, and with what (the first error wins). */
  get failed(): { readonly error: unknown } | undefined {
    return this.failure;
  }

  /** Stops every thread (idempotent); resolves when they are gone. */
  async terminate(): Promise<void> {
    this.terminating = true;
    await Promise.all(this.threads.map((t) => t.terminate()));
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.notify();
  }

  private signal(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private onMessage(worker: number, m: WorkerMessage): void {
    if (this.terminating) return;
    if (m.type === 'ready') this.ready++;
    else if (m.type === 'failed') this.fail(new WorkerFault(m.error));
    else {
      this.outstanding[worker]!--;
      this.stats[worker]!.packets += m.ran;
      this.stats[worker]!.busyNs += m.busyNs;
      this.finished.set(m.seq, m);
      try {
        this.deliverReady();
      } catch (e) {
        this.fail(e);
      }
    }
    this.notify();
  }

  /** Delivers finished batches while the next one in order is among them. */
  private deliverReady(): void {
    for (let m = this.finished.get(this.deliverSeq); m !== undefined && this.failure === undefined; m = this.finished.get(this.deliverSeq)) {
      const sent = this.sent.get(this.deliverSeq)!;
      this.finished.delete(this.deliverSeq);
      this.sent.delete(this.deliverSeq);
      this.deliverSeq++;
      this.deliver(sent.kept, m, sent.worker);
    }
  }
}
