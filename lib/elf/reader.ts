// Little-endian field reads for ELF objects that throw ElfError, never
// RangeError, plus the naming helpers every ELF error message uses.
//
// Safety: every field read from the file is range-checked before it is used
// as an offset, size or index, with plain numbers (exact up to 2^53, so sums
// like offset + size cannot wrap as they would in 32-bit arithmetic).

import { ElfError } from '../errors.js';

export interface ElfSection {
  /** From the section-name string table ('' when the file has none). */
  readonly name: string;
  /** sh_type: 1 PROGBITS, 2 SYMTAB, 3 STRTAB, 8 NOBITS, 9 REL, ... */
  readonly type: number;
  /** sh_flags: 2 ALLOC, 4 EXECINSTR, ... */
  readonly flags: number;
  /** File offset of the contents. */
  readonly offset: number;
  /** Size in bytes (for NOBITS, the size in memory: no bytes in the file). */
  readonly size: number;
  /** A view of the contents inside the input (not a copy); empty for NOBITS and NULL. */
  readonly data: Uint8Array;
}

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHF_EXECINSTR = 0x4;
export const EM_BPF = 247;

export const EHDR_SIZE = 64;
export const SHDR_SIZE = 64;
export const SYM_SIZE = 24;
export const REL_SIZE = 16;
export const RELA_SIZE = 24;
export const STT_FUNC = 2;
/** Section indexes from here up are reserved (ABS, COMMON, XINDEX, ...). */
export const SHN_LORESERVE = 0xff00;
/** The largest integer a u64 field may hold here: offsets and sizes beyond 2^53 are nonsense in any file. */
export const MAX_U64 = Number.MAX_SAFE_INTEGER;

export const HEADER = 'ELF header';
/** Where searches for a section or symbol happen, for "not found" errors. */
export const TABLE = 'section header table';

const DECODER = new TextDecoder('utf-8');

/** A name fit for an error message: printable ASCII, at most 64 characters. */
export function printable(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 64 ? `${ascii.slice(0, 61)}...` : ascii;
}

/** How errors name section `index`: its printable name and index. */
export function label(index: number, name: string): string {
  const shown = printable(name);
  return shown === '' ? `#${index}` : `${shown} (#${index})`;
}

/** Little-endian field reads that throw ElfError instead of RangeError. */
export class Reader {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(offset: number, size: number, what: string, section: string): void {
    if (offset + size > this.bytes.byteLength) {
      throw new ElfError(`truncated: ${what} needs ${size} bytes at offset ${offset}, file has ${this.bytes.byteLength}`,
        section, offset);
    }
  }
  u8(offset: number, what: string, section: string): number {
    this.need(offset, 1, what, section);
    return this.view.getUint8(offset);
  }
  u16(offset: number, what: string, section: string): number {
    this.need(offset, 2, what, section);
    return this.view.getUint16(offset, true);
  }
  u32(offset: number, what: string, section: string): number {
    this.need(offset, 4, what, section);
    return this.view.getUint32(offset, true);
  }
  /** A u64 field as an exact number; values past 2^53 are malformed. */
  u64(offset: number, what: string, section: string): number {
    this.need(offset, 8, what, section);
    const lo = this.view.getUint32(offset, true);
    const hi = this.view.getUint32(offset + 4, true);
    const value = hi * 2 ** 32 + lo;
    if (value > MAX_U64) {
      throw new ElfError(`${what} 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')} is out of range`, section, offset);
    }
    return value;
  }
  /** An inclusive-exclusive file range [offset, offset + size) that must lie inside the file. */
  range(offset: number, size: number, what: string, section: string, at: number): void {
    if (offset > this.bytes.byteLength || size > this.bytes.byteLength - offset) {
      throw new ElfError(`${what} [${offset}, ${offset + size}) lies outside the file (${this.bytes.byteLength} bytes)`,
        section, at);
    }
  }
}

/** A NUL-terminated string at `index` in string table `table`. */
export function readString(table: Uint8Array, index: number, what: string, section: string, at: number): string {
  if (index >= table.byteLength) {
    throw new ElfError(`${what} index ${index} is outside its string table (${table.byteLength} bytes)`, section, at);
  }
  const end = table.indexOf(0, index);
  if (end < 0) throw new ElfError(`${what} at string table index ${index} is not NUL-terminated`, section, at);
  return DECODER.decode(table.subarray(index, end));
}

