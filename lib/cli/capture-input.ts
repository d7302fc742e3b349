// The capture a command reads: a file, or a stream (a pipe, process
// substitution's /dev/fd/N, and standard input as `-` or /dev/stdin). A
// stream has no size (no progress percentage, one worker by default) and is
// read once, as it comes.

import { statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { openCapture, readCapture, type CapturedPacket } from '../pcap/index.js';

export interface CaptureSource {
  readonly path: string;
  /** Bytes, for a regular file; undefined for a stream. */
  readonly size: number | undefined;
}

/** Standard input is read through process.stdin: opening /dev/stdin fails when it is a socket (ENXIO). */
function isStdin(path: string): boolean {
  return path === '-' || path === '/dev/stdin';
}

/**
 * Checks the capture before anything runs or any output file is made: a
 * missing or unreadable path or a directory is a UsageError.
 */
export function captureSource(path: string): CaptureSource {
  if (isStdin(path)) return { path, size: undefined };
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const reason = e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : 'unreadable';
    throw new UsageError(`cannot read ${path}: ${reason}`);
  }
  if (st.isDirectory()) throw new UsageError(`cannot read ${path}: a directory, not a capture`);
  return { path, size: st.isFile() ? st.size : undefined };
}

/** The packets of the capture, streamed. */
export function capturePackets(source: CaptureSource): AsyncGenerator<CapturedPacket> {
  return isStdin(source.path) ? readCapture(process.stdin) : openCapture(source.path);
}
