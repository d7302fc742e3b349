// PERF_EVENT_ARRAY: bpf_perf_event_output sends a sample to the perf buffer
// in slot `index` (usually one per CPU, BPF_F_CURRENT_CPU picking the
// current CPU's). Here every slot below max_entries is open, as after
// libbpf's perf_buffer__new, and all slots feed one record stream.
//
// Records wait until JS consumes them (callbacks, iterator, drain). Linux
// drops samples when a perf buffer is full and counts them as lost; here at
// most PERF_PENDING_LIMIT bytes may wait: beyond that output returns
// -ENOSPC and `lost` counts the sample. Each sample is charged what it
// takes in a Linux perf buffer (perfRecordBytes: an 8-byte record header,
// the 4-byte raw size, the data, rounded up to 8), so even empty samples
// use up the limit: at most PERF_PENDING_LIMIT / 16 records wait.

import { E2BIG, ENOSPC } from '../errno.js';
import { UsageError } from '../errors.js';
import { Fifo } from './fifo.js';
import { RecordMap } from './records.js';

/** Bytes of records (perfRecordBytes each) that may wait unconsumed in one perf event array. */
export const PERF_PENDING_LIMIT = 16 * 1024 * 1024;

/**
 * What a sample of `size` bytes takes in a Linux perf buffer: the
 * perf_event_header (8 bytes), PERF_SAMPLE_RAW's u32 size and the data,
 * padded to 8. An empty sample takes 16.
 */
export function perfRecordBytes(size: number): number {
  return 8 + Math.ceil((4 + size) / 8) * 8;
}

/** Shared by every empty sample (a 0-byte array cannot be written). */
const NO_DATA = new Uint8Array(0);

export interface PerfRecord {
  /** CPU the program ran on. */
  readonly cpu: number;
  /** Slot the sample was sent to. */
  readonly index: number;
  /** A copy of the sample. */
  readonly data: Uint8Array;
}

export class PerfEventArrayMap extends RecordMap<PerfRecord> {
  private readonly queue = new Fifo<PerfRecord>();
  private pendingBytes = 0;
  /** Samples refused because PERF_PENDING_LIMIT bytes were waiting. */
  lost = 0;

  /** Records waiting to be consumed. */
  override get size(): number {
    return this.queue.length;
  }

  /**
   * bpf_perf_event_output from a program running on `cpu`: 0, -E2BIG when
   * the index is past max_entries, -ENOSPC when too much is waiting.
   */
  output(cpu: number, index: number | 'current', data: Uint8Array): number {
    this.checkCpu(cpu);
    const slot = index === 'current' ? cpu : index;
    if (!Number.isInteger(slot) || slot < 0) throw new UsageError(`map ${this.name}: bad perf event index ${slot}`);
    if (slot >= this.maxEntries) return -E2BIG;
    const bytes = perfRecordBytes(data.byteLength);
    if (this.pendingBytes + bytes > PERF_PENDING_LIMIT) {
      this.lost++;
      return -ENOSPC;
    }
    this.pendingBytes += bytes;
    this.queue.push({ cpu, index: slot, data: data.byteLength === 0 ? NO_DATA : data.slice() });
    this.committed();
    return 0;
  }

  protected take(): PerfRecord | undefined {
    const record = this.queue.shift();
    if (record !== undefined) this.pendingBytes -= perfRecordBytes(record.data.byteLength);
    return record;
  }
}
