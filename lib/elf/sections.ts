// The section table of an ELF64 little-endian BPF object (`clang -target bpf
// -c`): header checks, section headers, names, and every section's range
// checked against the file. Malformed input throws ElfError naming the
// section and the file offset of the bad field; section data are views into
// the input (nothing is allocated in proportion to a size read from the file).
//
// What it does not do: program headers, extended section numbering (more
// than 65,279 sections), big-endian or 32-bit ELF (each a clear ElfError).

import { ElfError, UsageError } from '../errors.js';
import {
  EHDR_SIZE, HEADER, label, Reader, readString, SHDR_SIZE, EM_BPF, SHT_NOBITS, SHT_NULL, SHT_STRTAB,
  type ElfSection,
} from './reader.js';

/** A few e_machine values, so that a wrong object says what it is. */
const MACHINES: Readonly<Record<number, string>> = { 3: 'x86', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V' };

/** Parsed file header fields the rest needs. */
export interface Header {
  readonly shoff: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

function readHeader(r: Reader): Header {
  const len = r.bytes.byteLength;
  if (len < EHDR_SIZE) throw new ElfError(`truncated: ${len} bytes, an ELF64 header needs ${EHDR_SIZE}`, HEADER, len);
  const b = r.bytes;
  if (b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) {
    throw new ElfError('bad magic: not an ELF file', HEADER, 0);
  }
  if (b[4] !== 2) throw new ElfError(`class ${b[4]!} is not ELF64 (2)`, HEADER, 4);
  if (b[5] === 2) {
    throw new ElfError('big-endian object (clang -target bpfeb): only little-endian objects (-target bpf or bpfel) are supported', HEADER, 5);
  }
  if (b[5] !== 1) throw new ElfError(`data encoding ${b[5]!} is not little-endian (1)`, HEADER, 5);
  if (b[6] !== 1) throw new ElfError(`ident version ${b[6]!} is not 1`, HEADER, 6);
  const machine = r.u16(18, 'e_machine', HEADER);
  if (machine !== EM_BPF) {
    const known = MACHINES[machine];
    throw new ElfError(`machine ${machine}${known === undefined ? '' : ` (${known})`} is not BPF (${EM_BPF}): compile with clang -target bpf`, HEADER, 18);
  }
  const shoff = r.u64(40, 'e_shoff', HEADER);
  const shentsize = r.u16(58, 'e_shentsize', HEADER);
  const shnum = r.u16(60, 'e_shnum', HEADER);
  const shstrndx = r.u16(62, 'e_shstrndx', HEADER);
  if (shnum === 0) {
    // Either no sections at all, or extended numbering (count in section 0's
    // sh_size), which no BPF object needs.
    if (shoff !== 0) throw new ElfError('extended section numbering (e_shnum 0) is not supported', HEADER, 60);
    return { shoff, shnum, shstrndx: 0 };
  }
  if (shentsize !== SHDR_SIZE) throw new ElfError(`e_shentsize ${shentsize} is not ${SHDR_SIZE}`, HEADER, 58);
  r.range(shoff, shnum * SHDR_SIZE, `section header table (${shnum} entries)`, HEADER, 40);
  if (shstrndx >= shnum) {
    throw new ElfError(`e_shstrndx ${shstrndx} is not a section (${shnum} sections)`, HEADER, 62);
  }
  return { shoff, shnum, shstrndx };
}

/** The fields of one section header, each in range for its type (contents not yet checked against the file). */
export interface RawSection {
  readonly nameIndex: number;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly entsize: number;
  /** File offset of this section header. */
  readonly at: number;
}

function readRawSection(r: Reader, h: Header, i: number): RawSection {
  const at = h.shoff + i * SHDR_SIZE;
  const where = `#${i}`;
  return {
    nameIndex: r.u32(at, 'sh_name', where),
    type: r.u32(at + 4, 'sh_type', where),
    flags: r.u64(at + 8, 'sh_flags', where),
    offset: r.u64(at + 24, 'sh_offset', where),
    size: r.u64(at + 32, 'sh_size', where),
    link: r.u32(at + 40, 'sh_link', where),
    info: r.u32(at + 44, 'sh_info', where),
    entsize: r.u64(at + 56, 'sh_entsize', where),
    at,
  };
}

/** Contents of a section whose range was checked; empty for NULL and NOBITS. */
export function contents(r: Reader, s: RawSection): Uint8Array {
  if (s.type === SHT_NULL || s.type === SHT_NOBITS) return r.bytes.subarray(0, 0);
  return r.bytes.subarray(s.offset, s.offset + s.size);
}

/** All sections, names resolved, every range checked. */
export interface Parsed {
  readonly reader: Reader;
  readonly raw: readonly RawSection[];
  readonly sections: ElfSection[];
}

export function parse(bytes: Uint8Array): Parsed {
  if (!(bytes instanceof Uint8Array)) throw new UsageError('an ELF object must be given as a Uint8Array');
  const r = new Reader(bytes);
  const h = readHeader(r);
  const raw: RawSection[] = [];
  for (let i = 0; i < h.shnum; i++) raw.push(readRawSection(r, h, i));
  // Names first (the name table's own range checked first), so that every
  // later error can name its section.
  let names: Uint8Array | undefined;
  if (h.shnum > 0 && h.shstrndx !== 0) {
    const strtab = raw[h.shstrndx]!;
    if (strtab.type !== SHT_STRTAB) {
      throw new ElfError(`section-name table has type ${strtab.type}, not STRTAB (${SHT_STRTAB})`,
        `#${h.shstrndx}`, strtab.at + 4);
    }
    r.range(strtab.offset, strtab.size, 'contents', `#${h.shstrndx}`, strtab.at + 24);
    names = contents(r, strtab);
  }
  const sections = raw.map((s, i): ElfSection => {
    const name = names === undefined ? '' : readString(names, s.nameIndex, 'section name', `#${i}`, s.at);
    if (s.type !== SHT_NULL && s.type !== SHT_NOBITS) r.range(s.offset, s.size, 'contents', label(i, name), s.at + 24);
    return { name, type: s.type, flags: s.flags, offset: s.offset, size: s.size, data: contents(r, s) };
  });
  checkOverlaps(raw, sections);
  return { reader: r, raw, sections };
}

/**
 * Sections with file contents must not share bytes: a relocation or a symbol
 * table that is also code would let one edit be read two ways. (The header
 * table itself is not checked against them: readers never write.)
 */
function checkOverlaps(raw: readonly RawSection[], sections: readonly ElfSection[]): void {
  const held = raw.map((s, i) => ({ s, i })).filter(({ s }) => s.type !== SHT_NULL && s.type !== SHT_NOBITS && s.size > 0);
  held.sort((a, b) => a.s.offset - b.s.offset || a.i - b.i);
  for (let k = 1; k < held.length; k++) {
    const prev = held[k - 1]!;
    const cur = held[k]!;
    if (cur.s.offset < prev.s.offset + prev.s.size) {
      throw new ElfError(
        `contents [${cur.s.offset}, ${cur.s.offset + cur.s.size}) overlap section ${label(prev.i, sections[prev.i]!.name)} [${prev.s.offset}, ${prev.s.offset + prev.s.size})`,
        label(cur.i, sections[cur.i]!.name), cur.s.at + 24);
    }
  }
}

/**
 * The section table of an ELF64 little-endian BPF object (e_machine 247),
 * index 0 (the NULL section) included. Throws ElfError on malformed input.
 */
export function readElfSections(bytes: Uint8Array): ElfSection[] {
  return parse(bytes).sections;
}
