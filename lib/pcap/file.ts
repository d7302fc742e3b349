// Files: the only module of lib/pcap that touches node:fs (Deno provides it).
// openCapture streams a file in 64 KiB reads; writeCaptureFile buffers
// records and writes them synchronously, so write() stays synchronous like
// PcapWriter's and close() is the one point to wait for.

import { closeSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { readCapture } from './read.js';
import type { CapturedPacket } from './types.js';
import { PcapWriter, type PacketToWrite, type PcapWriterOptions } from './writer.js';

const READ_SIZE = 64 * 1024;
const WRITE_BUFFER = 64 * 1024;

/** The packets of a pcap or pcapng file, streamed; the file closes when iteration ends or stops. */
export function openCapture(path: string): AsyncGenerator<CapturedPacket> {
  // Not a generator of its own: one async-generator level less per packet. The
  // file is opened on the first next(), as readCapture pulls its first chunk.
  return readCapture(fileChunks(path));
}

async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    for (;;) {
      // A fresh buffer per read: the reader keeps chunks until it has consumed them.
      const buf = new Uint8Array(READ_SIZE);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buf, 0, READ_SIZE, null));
      } catch (e) {
        throw new UsageError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (bytesRead === 0) return;
      yield bytesRead === READ_SIZE ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

export interface CaptureFileWriter {
  write(p: PacketToWrite): void;
  /** Flushes and closes; idempotent. */
  close(): Promise<void>;
  readonly packets: number;
}

/** A pcap file written packet by packet (PcapWriter's options). */
export function writeCaptureFile(path: string, options: PcapWriterOptions = {}): CaptureFileWriter {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = (): void => {
    if (fd === undefined || pendingBytes === 0) return;
    const all = new Uint8Array(pendingBytes);
    let at = 0;
    for (const c of pending) {
      all.set(c, at);
      at += c.length;
    }
    pending = [];
    pendingBytes = 0;
    try {
      for (let done = 0; done < all.length;) done += writeSync(fd, all, done, all.length - done);
    } catch (e) {
      throw new UsageError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  let writer: PcapWriter;
  try {
    writer = new PcapWriter((chunk) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_BUFFER) flush();
    }, options);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return {
    write(p: PacketToWrite): void {
      if (fd === undefined) throw new UsageError(`write to ${path} after close`);
      writer.write(p);
    },
    async close(): Promise<void> {
      if (fd === undefined) return;
      try {
        flush();
      } finally {
        closeSync(fd);
        fd = undefined;
      }
    },
    get packets(): number {
      return writer.packets;
    },
  };
}
