// The value of one byte array (the input memory or packet, the stack frame)
// at every stop of a debug recording, without a copy per stop: checkpoints
// (whole copies) and, at each stop, the runs of bytes that changed since the
// previous stop, all in one byte pool.
//
// The value at stop k is the checkpoint at or before k with the runs of the
// stops after it applied. A new checkpoint is taken once the runs recorded
// since the last one cost more than the array (or CHECKPOINT_GAP bytes for a
// small array), so rebuilding a stop copies at most about twice the array,
// and a recording of n changed bytes holds O(n) bytes, not O(n * size).
// Moving forward from the last stop asked for applies only the runs between
// (stepping and continuing stay cheap); moving back rebuilds from the
// checkpoint.
//
// The caller says which bytes an instruction may have changed (`record`'s
// window): only those are compared. A window that is wrong records a wrong
// history, so callers widen it to the whole array when they cannot tell.

import { ByteColumn, IntColumn } from './columns.js';

/** What one run costs besides its bytes: offset, length and pool position. */
const RUN_COST = 12;
/** Runs' bytes allowed between checkpoints at least, for small arrays (a stack frame, a short input). */
const CHECKPOINT_GAP = 4096;

export class ByteHistory {
  /** Per stop: the index of its first run. */
  private readonly firstRun = new IntColumn();
  private readonly runOffset = new IntColumn();
  private readonly runLength = new IntColumn();
  private readonly runAt = new IntColumn();
  private readonly checkpointStop = new IntColumn();
  private readonly checkpointAt = new IntColumn();
  private readonly checkpointLength = new IntColumn();
  private readonly pool = new ByteColumn();
  /** The value at the last stop recorded, which the next is compared with. */
  private last: Uint8Array | undefined;
  /** Cost of the runs recorded since the last checkpoint. */
  private sinceCheckpoint = 0;
  /** The last stop rebuilt, to go forward from. */
  private cached: { stop: number; checkpoint: number; bytes: Uint8Array } | undefined;

  /** Stops recorded. */
  get stops(): number {
    return this.firstRun.length;
  }

  /** Bytes held: the pool, the run and checkpoint tables, and the working copies. */
  get bytes(): number {
    return this.pool.bytes + this.firstRun.bytes + this.runOffset.bytes + this.runLength.bytes + this.runAt.bytes
      + this.checkpointStop.bytes + this.checkpointAt.bytes + this.checkpointLength.bytes
      + (this.last?.byteLength ?? 0) + (this.cached?.bytes.byteLength ?? 0);
  }

  /**
   * Records the next stop's value `now`, comparing only bytes [from, to)
   * with the previous stop's (the others must be unchanged). A first stop,
   * or a length that changed, is a checkpoint.
   */
  record(now: Uint8Array, from = 0, to = now.length): void {
    const stop = this.stops;
    this.firstRun.push(this.runOffset.length);
    const last = this.last;
    if (last === undefined || last.length !== now.length) {
      this.checkpoint(stop, now);
      return;
    }
    let i = Math.max(0, from);
    const end = Math.min(to, now.length);
    while (i < end) {
      i = firstDifference(now, last, i, end);
      if (i >= end) break;
      let j = i + 1;
      while (j < end && now[j] !== last[j]) j++;
      this.runOffset.push(i);
      this.runLength.push(j - i);
      this.runAt.push(this.pool.length);
      this.pool.push(now, i, j);
      last.set(now.subarray(i, j), i);
      this.sinceCheckpoint += j - i + RUN_COST;
      i = j;
    }
    if (this.sinceCheckpoint > Math.max(last.length, CHECKPOINT_GAP)) this.checkpoint(stop, last);
  }

  /** Records the next stop as unchanged from the previous one. */
  same(): void {
    if (this.last === undefined) throw new Error('ByteHistory: the first stop needs its bytes');
    this.firstRun.push(this.runOffset.length);
  }

  private checkpoint(stop: number, now: Uint8Array): void {
    this.checkpointStop.push(stop);
    this.checkpointAt.push(this.pool.length);
    this.checkpointLength.push(now.length);
    this.pool.push(now, 0, now.length);
    if (now !== this.last) this.last = now.slice();
    this.sinceCheckpoint = 0;
  }

  /** A copy of the value at stop `stop` (0-based). */
  at(stop: number): Uint8Array {
    if (!Number.isInteger(stop) || stop < 0 || stop >= this.stops) throw new RangeError(`no stop ${stop} (${this.stops} recorded)`);
    const checkpoint = this.checkpointFor(stop);
    let cache = this.cached;
    if (cache === undefined || cache.checkpoint !== checkpoint || cache.stop > stop) {
      const at = this.checkpointAt.get(checkpoint);
      cache = { stop: this.checkpointStop.get(checkpoint), checkpoint, bytes: this.pool.view(at, this.checkpointLength.get(checkpoint)).slice() };
    }
    // The runs of stops (cache.stop, stop]: runs are kept in stop order.
    const first = cache.stop + 1 < this.stops ? this.firstRun.get(cache.stop + 1) : this.runOffset.length;
    const end = stop + 1 < this.stops ? this.firstRun.get(stop + 1) : this.runOffset.length;
    for (let r = first; r < end; r++) cache.bytes.set(this.pool.view(this.runAt.get(r), this.runLength.get(r)), this.runOffset.get(r));
    cache.stop = stop;
    this.cached = cache;
    return cache.bytes.slice();
  }

  /** The last checkpoint at or before `stop` (the first stop always is one). */
  private checkpointFor(stop: number): number {
    let lo = 0;
    let hi = this.checkpointStop.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.checkpointStop.get(mid) <= stop) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * The first index in [from, end) where `a` and `b` differ, or `end`. Four
 * bytes at a time where both arrays are aligned alike (a helper call makes
 * the whole input be compared, so this is the recording's hot loop).
 */
function firstDifference(a: Uint8Array, b: Uint8Array, from: number, end: number): number {
  let i = from;
  if (end - i >= 64 && ((a.byteOffset - b.byteOffset) & 3) === 0) {
    while (((a.byteOffset + i) & 3) !== 0) {
      if (a[i] !== b[i]) return i;
      i++;
    }
    const words = (end - i) >> 2;
    const wa = new Int32Array(a.buffer, a.byteOffset + i, words);
    const wb = new Int32Array(b.buffer, b.byteOffset + i, words);
    let w = 0;
    while (w < words && wa[w] === wb[w]) w++;
    i += w * 4;
  }
  while (i < end && a[i] === b[i]) i++;
  return i;
}
