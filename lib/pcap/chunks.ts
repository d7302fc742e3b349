// A pull-based byte queue over an async iterable of chunks of any size. The
// readers ask for the next record's bytes (fill), then take them; the queue
// only ever holds what was asked for plus the rest of the last chunk pulled,
// so memory stays one record plus one chunk whatever the stream's length.
// skip() discards bytes without keeping them (unknown pcapng blocks).
//
// Chunks are kept by reference until consumed: a producer must not modify a
// chunk after handing it over (Node's fs streams and reads never do).

import { UsageError } from '../errors.js';

/** Chunks smaller than this are copied together (see appendSmall). */
const SMALL_CHUNK = 512;
const COALESCE_SIZE = 4096;

export class ChunkReader {
  private readonly source: AsyncIterator<Uint8Array>;
  private readonly chunks: Uint8Array[] = [];
  /** Read position inside chunks[0]. */
  private head = 0;
  private done = false;
  /** The coalescing buffer for tiny chunks, and the queued view of its bytes [ownStart, ownEnd). */
  private own: Uint8Array | undefined;
  private ownView: Uint8Array | undefined;
  private ownStart = 0;
  private ownEnd = 0;
  /** Bytes queued and not yet taken. */
  available = 0;
  /** Absolute offset of the next byte to be taken. */
  position = 0;

  constructor(source: CaptureInput) {
    this.source = iteratorOf(source);
  }

  /** Pulls chunks until `n` bytes are queued; false when the stream ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.available < n) {
      if (!(await this.pull())) return false;
    }
    return true;
  }

  /**
   * The next `n` queued bytes (n <= available), consumed. A view into a chunk
   * when they lie in one, else a fresh copy: callers copy what they keep.
   */
  take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && this.head + n <= first.length) {
      const view = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      this.consumed(n);
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let used = 0;
    while (filled < n) {
      const chunk = this.chunks[used]!;
      const part = Math.min(chunk.length - this.head, n - filled);
      out.set(chunk.subarray(this.head, this.head + part), filled);
      filled += part;
      this.head += part;
      if (this.head === chunk.length) {
        used++;
        this.head = 0;
      }
    }
    // One splice for all the chunks this record spanned: 1-byte chunks stay linear.
    this.chunks.splice(0, used);
    this.consumed(n);
    return out;
  }

  /** The next `n` queued bytes (n <= available), not consumed. */
  peek(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && this.head + n <= first.length) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let filled = 0;
    for (let i = 0, from = this.head; filled < n; i++, from = 0) {
      const chunk = this.chunks[i]!;
      const part = Math.min(chunk.length - from, n - filled);
      out.set(chunk.subarray(from, from + part), filled);
      filled += part;
    }
    return out;
  }

  /** Discards up to `n` bytes, pulling as needed; returns how many were discarded. */
  async skip(n: number): Promise<number> {
    let left = n;
    for (;;) {
      while (left > 0 && this.chunks.length > 0) {
        const chunk = this.chunks[0]!;
        const part = Math.min(chunk.length - this.head, left);
        this.head += part;
        left -= part;
        this.consumed(part);
        if (this.head === chunk.length) {
          this.chunks.shift();
          this.head = 0;
        }
      }
      if (left === 0 || !(await this.pull())) return n - left;
    }
  }

  /** Stops the source early (the consumer stopped iterating). */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.chunks.length = 0;
    this.available = 0;
    await this.source.return?.();
  }

  /**
   * Tiny chunks (a byte at a time from a slow pipe) are copied into a 4 KiB
   * buffer of our own, so a record spread over a million of them costs its
   * bytes, not a million objects. Bytes already queued there never move:
   * views handed out by take() stay valid.
   */
  private appendSmall(chunk: Uint8Array): void {
    const last = this.chunks.length - 1;
    const own = this.own;
    if (own !== undefined && last >= 0 && this.chunks[last] === this.ownView && this.ownEnd + chunk.length <= own.length) {
      own.set(chunk, this.ownEnd);
      this.ownEnd += chunk.length;
      this.ownView = own.subarray(this.ownStart, this.ownEnd);
      this.chunks[last] = this.ownView;
    } else {
      this.own = new Uint8Array(COALESCE_SIZE);
      this.own.set(chunk);
      this.ownStart = 0;
      this.ownEnd = chunk.length;
      this.ownView = this.own.subarray(0, this.ownEnd);
      this.chunks.push(this.ownView);
    }
  }

  private consumed(n: number): void {
    this.available -= n;
    this.position += n;
  }

  private async pull(): Promise<boolean> {
    while (!this.done) {
      const r = await this.source.next();
      if (r.done === true) {
        this.done = true;
        return false;
      }
      const chunk: unknown = r.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new UsageError(`capture chunks must be Uint8Array, got ${chunk === null ? 'null' : typeof chunk}`);
      }
      if (chunk.length === 0) continue;
      if (chunk.length < SMALL_CHUNK) this.appendSmall(chunk);
      // A Buffer (or other subclass) is viewed as a plain Uint8Array, so packet data copies are plain too.
      else this.chunks.push(chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      this.available += chunk.length;
      return true;
    }
    return false;
  }
}

/** What readCapture accepts: chunks, async or not, or all the bytes at once. */
export type CaptureInput = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array;

function iteratorOf(source: CaptureInput): AsyncIterator<Uint8Array> {
  // A Uint8Array is itself iterable (over numbers): take it as the one chunk.
  if (source instanceof Uint8Array) return (async function* one() { yield source; })();
  const s = source as Partial<AsyncIterable<Uint8Array> & Iterable<Uint8Array>> | null | undefined;
  if (typeof s?.[Symbol.asyncIterator] === 'function') return s[Symbol.asyncIterator]!();
  if (typeof s?.[Symbol.iterator] === 'function') {
    const it = s[Symbol.iterator]!();
    return {
      next: async () => it.next(),
      return: async () => it.return?.() ?? { done: true, value: undefined },
    };
  }
  throw new UsageError('readCapture needs a Uint8Array or an (async) iterable of Uint8Array chunks');
}

/** A copy of `bytes` (a plain Uint8Array: pull() never queues Buffers, whose slice shares memory). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return bytes.slice();
}

/** A u32 at b[i] in either byte order, without a DataView per record. */
export function u32(b: Uint8Array, i: number, le: boolean): number {
  return le
    ? (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0
    : ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function u16(b: Uint8Array, i: number, le: boolean): number {
  return le ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!;
}
