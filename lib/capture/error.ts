// The error a capture run ends with when the program fails on one packet
// (a fault, the budget, a helper's error): it names the packet, as
// PcapError does (0-based packet number and the record's byte offset), and
// keeps the program's own error as `cause`.
//
// With workers, the program's error was thrown in another thread: it
// arrives as plain data and is rebuilt as a WorkerFault with the same name,
// code, message and pc, since structured cloning keeps no subclass.

import { EbpfError } from '../errors.js';

export class PacketError extends EbpfError {
  /** CapturedPacket.index: 0-based, the count of packets before it. */
  readonly packetNumber: number;
  /** Byte offset of the packet's record in the capture. */
  readonly offset: number;
  /** The thread that ran it (0 when single-threaded). */
  readonly worker: number;
  /** The program's pc when its error names one (MemoryAccessError, HelperError ...). */
  readonly pc: number | undefined;
  override readonly cause: EbpfError;
  constructor(cause: EbpfError, packetNumber: number, offset: number, worker: number) {
    super(cause.code, `${cause.message} at packet ${packetNumber}, byte offset ${offset}`);
    this.packetNumber = packetNumber;
    this.offset = offset;
    this.worker = worker;
    this.pc = 'pc' in cause && typeof cause.pc === 'number' ? cause.pc : undefined;
    this.cause = cause;
  }
}

/** What crosses the thread boundary for an error. */
export interface ErrorData {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly pc: number | undefined;
  readonly stack: string | undefined;
}

export function errorData(e: unknown): ErrorData {
  if (e instanceof EbpfError) {
    const pc = 'pc' in e && typeof e.pc === 'number' ? e.pc : undefined;
    return { name: e.name, code: e.code, message: e.message, pc, stack: e.stack };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, code: 'INTERNAL', message: err.message, pc: undefined, stack: err.stack };
}

/** A program's error from a worker thread, rebuilt: `name` is the original class name (MemoryAccessError ...). */
export class WorkerFault extends EbpfError {
  readonly pc: number | undefined;
  constructor(data: ErrorData) {
    super(data.code, data.message);
    this.name = data.name;
    this.pc = data.pc;
    if (data.stack !== undefined) this.stack = data.stack;
  }
}

/** A worker thread failed as a thread (its script did not start, it crashed or exited): not a program's fault. */
export class WorkerError extends EbpfError {
  readonly worker: number;
  constructor(message: string, worker: number) {
    super('WORKER', `worker ${worker}: ${message}`);
    this.worker = worker;
  }
}
