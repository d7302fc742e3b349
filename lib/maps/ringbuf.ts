// RINGBUF: Linux's BPF ring buffer, with its space accounting. max_entries
// is the data size (a power of 2, a multiple of 4096). Every record takes an
// 8-byte header plus its size, rounded up to 8, from a producer position
// that only grows; the consumer position follows as JS consumes records
// (records.ts). A reservation fails when it would put the producer a whole
// ring ahead of the consumer, so unconsumed records hold their space, and
// a reserved record not yet submitted or discarded holds back every later
// one, exactly as in Linux.
//
// Memory: one region of twice the data size. Linux maps the data pages twice
// in a row so a record that wraps past the end stays contiguous; here the
// second half plays that part: a reservation's bytes are always
// [offset, offset + size) of the region, and submit copies them out.
//
// Linux's verifier refuses a program that can exit holding a reservation.
// Here a run can end anyhow (a fault, the budget, a plain exit), so the
// registry's endRun() calls discardPending() after every run: a reservation
// never outlives the run that made it, and cannot wedge the ring.
//
// Wakeup flags (BPF_RB_NO_WAKEUP / FORCE_WAKEUP) are accepted and have no
// effect: every commit notifies. submit/discard of an address that is no
// pending reservation throws MapError EINVAL (Linux's verifier makes that
// impossible), which aborts the run.

import { EAGAIN, EINVAL } from '../errno.js';
import type { Region } from '../memory.js';
import type { MapContext } from './base.js';
import type { ValidDefinition } from './definition.js';
import { MapError } from './error.js';
import { Fifo } from './fifo.js';
import { RecordMap } from './records.js';
import { mapRegion } from './store.js';
import {
  BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RB_PROD_POS, BPF_RB_RING_SIZE,
} from './types.js';

const HEADER = 8;
/** Linux's RINGBUF_MAX_RECORD_SZ. */
const MAX_RECORD = Math.floor(0xffffffff / 4);

interface RingRecord {
  readonly position: number;
  /** Bytes taken from the ring: header + size, rounded up to 8. */
  readonly length: number;
  readonly size: number;
  state: 'busy' | 'committed' | 'discarded';
  data: Uint8Array | undefined;
}

/** Records are the submitted bytes (copies). */
export class RingBufMap extends RecordMap<Uint8Array> {
  private readonly region: Region;
  private producer = 0;
  private consumer = 0;
  /** Records from the consumer position on, oldest first. */
  private readonly ring = new Fifo<RingRecord>();
  /** Reservations not yet submitted or discarded, by the address given to the program. */
  private readonly reserved = new Map<number, RingRecord>();

  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx);
    this.region = mapRegion(ctx.memory, new Uint8Array(2 * def.maxEntries), `map ${this.name}`);
  }

  override regions() {
    return [this.region];
  }

  /** Records submitted and not yet consumed. */
  override get size(): number {
    let n = 0;
    for (const record of this.ring) if (record.state === 'committed') n++;
    return n;
  }

  /** bpf_ringbuf_reserve: the address of `size` writable bytes, or 0 (flags not 0, too big, no room). */
  reserve(size: number, flags: number): number {
    if (flags !== 0 || !Number.isInteger(size) || size < 0 || size > MAX_RECORD) return 0;
    const length = Math.ceil((size + HEADER) / 8) * 8;
    if (length > this.maxEntries || this.producer + length - this.consumer >= this.maxEntries) return 0;
    const record: RingRecord = { position: this.producer, length, size, state: 'busy', data: undefined };
    this.producer += length;
    this.ring.push(record);
    const address = this.region.base + (record.position % this.maxEntries) + HEADER;
    this.reserved.set(address, record);
    return address;
  }

  /** bpf_ringbuf_submit: the record at `address` becomes readable. */
  submit(address: number, flags: number): void {
    const record = this.pending(address, 'submit');
    const start = address - this.region.base;
    record.data = this.region.bytes.slice(start, start + record.size);
    record.state = 'committed';
    this.committed();
  }

  /** bpf_ringbuf_discard: the record at `address` is skipped by the consumer. */
  discard(address: number, flags: number): void {
    this.pending(address, 'discard').state = 'discarded';
    this.committed();
  }

  /** bpf_ringbuf_output: reserve, copy, submit. 0, -EAGAIN (no room) or -EINVAL (flags). */
  output(data: Uint8Array, flags: number): number {
    if ((flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) !== 0) return -EINVAL;
    const address = this.reserve(data.byteLength, 0);
    if (address === 0) return -EAGAIN;
    this.region.bytes.set(data, address - this.region.base);
    this.submit(address, flags);
    return 0;
  }

  /**
   * Discards every reservation not yet submitted or discarded (the end of a
   * run; see above), so the records behind them can be consumed. Returns how
   * many there were. Delivers to onRecord callbacks like a discard does.
   */
  discardPending(): number {
    const count = this.reserved.size;
    if (count === 0) return 0;
    for (const record of this.reserved.values()) record.state = 'discarded';
    this.reserved.clear();
    this.committed();
    return count;
  }

  /** bpf_ringbuf_query: available bytes, ring size, consumer or producer position; 0 for other flags. */
  query(flags: number): bigint {
    switch (flags) {
      case BPF_RB_AVAIL_DATA: return BigInt(this.producer - this.consumer);
      case BPF_RB_RING_SIZE: return BigInt(this.maxEntries);
      case BPF_RB_CONS_POS: return BigInt(this.consumer);
      case BPF_RB_PROD_POS: return BigInt(this.producer);
      default: return 0n;
    }
  }

  private pending(address: number, what: string): RingRecord {
    const record = this.reserved.get(address);
    if (record === undefined) {
      throw new MapError(EINVAL, `map ${this.name}: ${what} of 0x${address.toString(16)}, which is not a pending ringbuf reservation`);
    }
    this.reserved.delete(address);
    return record;
  }

  /** Moves the consumer past discarded records and returns the next submitted one; stops at a busy one. */
  protected take(): Uint8Array | undefined {
    for (let record = this.ring.peek(); record !== undefined; record = this.ring.peek()) {
      if (record.state === 'busy') return undefined;
      this.ring.shift();
      this.consumer += record.length;
      if (record.state === 'committed') return record.data;
    }
    return undefined;
  }
}
