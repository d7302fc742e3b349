// Delivering records (ring buffer samples, perf events) from programs to JS.
//
// A producer commits records into its own buffer and calls `committed()`.
// With at least one onRecord callback, every record that can be consumed is
// consumed at once and handed to each callback synchronously, during the
// helper call that committed it (a throwing callback therefore aborts that
// run). Without callbacks records stay in the producer (holding its space)
// until `drain()` or the `records()` iterator consumes them.

import { BpfMap, type MapContext } from './base.js';
import type { ValidDefinition } from './definition.js';

export interface RecordSource<T> {
  /** Consumes and returns the next record that can be consumed, or undefined. */
  take(): T | undefined;
}

export class RecordStream<T> {
  private readonly listeners = new Set<(record: T) => void>();
  private readonly waiters = new Set<() => void>();
  private readonly source: RecordSource<T>;

  constructor(source: RecordSource<T>) {
    this.source = source;
  }

  /** Calls `listener` with every record from now on; returns the function that stops it. */
  onRecord(listener: (record: T) => void): () => void {
    const own = (record: T): void => listener(record); // a listener added twice gets its records twice
    this.listeners.add(own);
    return () => void this.listeners.delete(own);
  }

  /** Consumes and returns every record that can be consumed now, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let r = this.source.take(); r !== undefined; r = this.source.take()) out.push(r);
    return out;
  }

  /**
   * Records as they come, oldest first, forever (leave the loop with
   * break/return). Each record is consumed when the iterator yields it.
   */
  async *records(): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const record = this.source.take();
      if (record !== undefined) {
        yield record;
        continue;
      }
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  /** The producer committed something: deliver it to callbacks, or wake iterators. */
  committed(): void {
    if (this.listeners.size > 0) {
      for (const record of this.drain()) for (const listener of [...this.listeners]) listener(record);
      return;
    }
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiting) wake();
  }
}

/** A map whose programs produce records for JS (ring buffers, perf event arrays). */
export abstract class RecordMap<T> extends BpfMap {
  private readonly stream: RecordStream<T>;

  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx);
    this.stream = new RecordStream({ take: () => this.take() });
  }

  /**
   * Calls `listener` with each record as it is committed (consuming it), from
   * inside the helper call that committed it; returns the unsubscribe function.
   */
  onRecord(listener: (record: T) => void): () => void {
    return this.stream.onRecord(listener);
  }

  /** Records as they are committed, oldest first; each is consumed when yielded. */
  records(): AsyncGenerator<T, void, undefined> {
    return this.stream.records();
  }

  /** Consumes and returns every record that can be consumed now, oldest first. */
  drain(): T[] {
    return this.stream.drain();
  }

  /** Tells JS consumers that a record was committed (or a reservation discarded). */
  protected committed(): void {
    this.stream.committed();
  }

  /** Consumes and returns the next record that can be consumed, or undefined. */
  protected abstract take(): T | undefined;
}
