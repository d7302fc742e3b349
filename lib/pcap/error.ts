// The one error the capture readers throw for bad capture bytes: a truncated
// file, a bad magic, a record or block whose lengths do not add up. It names
// where: the number of the packet that failed (0-based: the count of good
// packets yielded before it) and the byte offset of the record or block (or
// header field) that is wrong. Readers throw it only after yielding every good
// packet before that point.

import { EbpfError } from '../errors.js';

export class PcapError extends EbpfError {
  readonly packetNumber: number;
  readonly offset: number;
  /** The message without the packet number and offset (what a skipped packet's reason says). */
  readonly reason: string;
  constructor(message: string, packetNumber: number, offset: number) {
    super('PCAP', `${message} at packet ${packetNumber}, byte offset ${offset}`);
    this.reason = message;
    this.packetNumber = packetNumber;
    this.offset = offset;
  }
}
