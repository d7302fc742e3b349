// The error of malformed BTF: an ElfError (BTF arrives inside an ELF object,
// and callers that catch ElfError for any bad object catch this too) whose
// section is '.BTF' or '.BTF.ext' and whose offset is a byte offset inside
// that section's data.

import { ElfError } from '../errors.js';

export const BTF_SECTION = '.BTF';
export const BTF_EXT_SECTION = '.BTF.ext';

export class BtfError extends ElfError {
  constructor(message: string, section: string, offset: number) {
    super(message, section, offset);
  }
}

/** Little-endian u32 reads inside one section's bytes that throw BtfError, never RangeError. */
export class SectionReader {
  readonly bytes: Uint8Array;
  readonly section: string;
  private readonly view: DataView;
  constructor(bytes: Uint8Array, section: string) {
    this.bytes = bytes;
    this.section = section;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(message: string, offset: number): never {
    throw new BtfError(message, this.section, offset);
  }
  need(offset: number, size: number, what: string): void {
    if (offset < 0 || offset + size > this.bytes.byteLength) {
      this.fail(`truncated: ${what} needs ${size} bytes at offset ${offset}, section has ${this.bytes.byteLength}`, offset);
    }
  }
  u8(offset: number, what: string): number {
    this.need(offset, 1, what);
    return this.view.getUint8(offset);
  }
  u16(offset: number, what: string): number {
    this.need(offset, 2, what);
    return this.view.getUint16(offset, true);
  }
  u32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.view.getUint32(offset, true);
  }
  i32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.view.getInt32(offset, true);
  }
}
