// readCapture: the one entry point for capture bytes. It looks at the first
// four bytes and streams pcap or pcapng records from there.

import { ChunkReader, viewOf, type CaptureInput } from './chunks.js';
import { PcapError } from './error.js';
import { pcapMagic, readPcap } from './pcap-read.js';
import { BT_SHB, readPcapng } from './pcapng-read.js';
import type { CapturedPacket } from './types.js';

/**
 * Streams the packets of a pcap or pcapng capture given as chunks of any
 * size (an async or sync iterable; or one Uint8Array holding the whole file).
 * Memory holds one record plus one chunk. Bad bytes: PcapError, thrown after
 * every good packet before them was yielded.
 */
export async function* readCapture(chunks: CaptureInput): AsyncGenerator<CapturedPacket> {
  const r = new ChunkReader(chunks);
  try {
    if (r.available < 4 && !(await r.fill(4))) {
      throw new PcapError(r.available === 0 ? 'empty capture file' : `truncated capture file: ${r.available} bytes`, 0, 0);
    }
    const first4 = viewOf(r.peek(4)).getUint32(0, false);
    if (pcapMagic(first4) !== undefined) yield* readPcap(r);
    else if (first4 === BT_SHB) yield* readPcapng(r);
    else throw new PcapError(unknownMagic(first4), 0, 0);
  } finally {
    await r.close();
  }
}

function unknownMagic(first4: number): string {
  const hex = first4.toString(16).padStart(8, '0');
  if (first4 >>> 16 === 0x1f8b) return `not a capture file: magic 0x${hex} is gzip (decompress it first)`;
  return `not a pcap or pcapng file: unknown magic 0x${hex}`;
}
