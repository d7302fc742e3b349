// The packets a capture run reads: an async iterable (a capture file being
// read) or a plain iterable, of packets or of arrays of packets (a reader
// that hands out what it parsed from one chunk at a time). `consume` awaits
// only what must be awaited: the iterator itself, and the promises `each`
// returns, so a batch of packets costs no promise per packet.

import { UsageError } from '../errors.js';
import type { CapturedPacket } from '../pcap/types.js';

export type CaptureInputItem = CapturedPacket | readonly CapturedPacket[];
export type CaptureInput = AsyncIterable<CaptureInputItem> | Iterable<CaptureInputItem>;

type Each = (packet: CapturedPacket) => Promise<void> | undefined;

function isAsync(input: CaptureInput): input is AsyncIterable<CaptureInputItem> {
  return typeof (input as AsyncIterable<CaptureInputItem>)[Symbol.asyncIterator] === 'function';
}

/** Calls `each` on one packet, after checking it is one (a bad item is a UsageError, not a TypeError later). */
function one(p: unknown, each: Each): Promise<void> | undefined {
  if (typeof p !== 'object' || p === null || !((p as CapturedPacket).data instanceof Uint8Array)) {
    throw new UsageError('runCapture packets must be captured packets ({ index, offset, linkType, data: Uint8Array, ... })');
  }
  return each(p as CapturedPacket);
}

/** The rest of an array of packets, once `each` asked to wait. */
async function rest(items: readonly CapturedPacket[], from: number, each: Each): Promise<void> {
  for (let i = from; i < items.length; i++) {
    const wait = one(items[i], each);
    if (wait !== undefined) await wait;
  }
}

/** One item of the input: a packet or an array of them; a promise only when `each` returned one. */
function feed(item: CaptureInputItem, each: Each): Promise<void> | undefined {
  if (!Array.isArray(item)) return one(item, each);
  const items = item as readonly CapturedPacket[];
  for (let i = 0; i < items.length; i++) {
    const wait = one(items[i], each);
    if (wait !== undefined) return wait.then(() => rest(items, i + 1, each));
  }
  return undefined;
}

/** Calls `each` on every packet in order; awaits what it returns when that is a promise. */
export async function consume(input: CaptureInput, each: Each): Promise<void> {
  if (isAsync(input)) {
    for await (const item of input) {
      const wait = feed(item, each);
      if (wait !== undefined) await wait;
    }
    return;
  }
  if (typeof (input as Iterable<CaptureInputItem>)[Symbol.iterator] !== 'function') {
    throw new UsageError('runCapture packets must be an iterable or async iterable of captured packets');
  }
  // A plain iterable is walked with for-of: for-await would make a promise per item.
  for (const item of input) {
    const wait = feed(item, each);
    if (wait !== undefined) await wait;
  }
}
