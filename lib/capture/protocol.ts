// What the calling thread and the capture workers say to each other.
//
// Packets travel in batches: the frames of a batch (made on the calling
// thread by frames.ts, which also skips packets that have none; with their
// skb lens for classic BPF) in one ArrayBuffer (transferred, not copied) with their end offsets. A batch comes back as one message: r0 per packet, the outputs
// packed the same way when asked for, the trace_printk lines and records
// each tagged with the position of the packet that produced them, and the
// error that stopped the batch, if any (`ran` packets ran before it).

import type { SharedMapsState } from '../vm.js';
import type { ErrorData } from './error.js';
import type { DataVmOptions } from './options.js';
import type { CaptureContextKind, ProgramSpec } from './types.js';

/** workerData of a capture worker. */
export interface WorkerInit {
  readonly spec: ProgramSpec;
  readonly ctx: CaptureContextKind | undefined;
  readonly cpu: number;
  readonly cpus: number;
  /** vm.maps.sharedState() of the calling thread's Vm (lib/maps). */
  readonly shared: SharedMapsState;
  readonly vm: DataVmOptions;
  readonly engine: 'interp' | 'jit';
  readonly outputs: boolean;
  /** Whether to listen for ring-buffer / perf records and send them back. */
  readonly records: boolean;
}

export interface BatchMessage {
  readonly type: 'batch';
  readonly seq: number;
  readonly frames: PackedBytes;
  /** __sk_buff.len of each frame (classic BPF: the wire length), or undefined for the frames' own lengths. */
  readonly lens: Uint32Array | undefined;
}

export interface PackedBytes {
  readonly data: ArrayBuffer;
  /** End offset of item i. */
  readonly ends: Uint32Array;
}

export interface DoneMessage {
  readonly type: 'done';
  readonly seq: number;
  /** Packets that ran to completion (all of them unless `error`). */
  readonly ran: number;
  readonly verdicts: BigUint64Array;
  readonly busyNs: number;
  readonly outputs: PackedBytes | undefined;
  readonly printkAt: readonly number[];
  readonly printk: readonly string[];
  readonly records: readonly { readonly at: number; readonly map: string; readonly data: Uint8Array }[];
  /** The program's error on packet `ran`. */
  readonly error: ErrorData | undefined;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly error: ErrorData }
  | DoneMessage;

/** Packs byte arrays (frames, outputs) into one transferable buffer. */
export function packBytes(items: readonly Uint8Array[]): PackedBytes {
  let total = 0;
  for (const item of items) total += item.byteLength;
  const data = new ArrayBuffer(total);
  const bytes = new Uint8Array(data);
  const ends = new Uint32Array(items.length);
  let at = 0;
  for (let i = 0; i < items.length; i++) {
    bytes.set(items[i]!, at);
    at += items[i]!.byteLength;
    ends[i] = at;
  }
  return { data, ends };
}

/** Item i of packed bytes (a view into the one buffer). */
export function unpacked(packed: PackedBytes, i: number): Uint8Array {
  const start = i === 0 ? 0 : packed.ends[i - 1]!;
  return new Uint8Array(packed.data, start, packed.ends[i]! - start);
}
