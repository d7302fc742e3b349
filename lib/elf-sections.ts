// A small, safe reader for the ELF64 little-endian BPF objects clang writes
// (`clang -target bpf -c`): the section table, section names, and the code
// of one function. The seed of the ELF loader.
//
// Safety: every field read from the file is range-checked before it is used
// as an offset, size or index, with plain numbers (exact up to 2^53, so sums
// like offset + size cannot wrap as they would in 32-bit arithmetic).
// Malformed input throws ElfError naming the section and the file offset of
// the bad field; nothing else is thrown, and nothing is allocated in
// proportion to a size read from the file (section data are views into the
// input, symbol tables are walked in place).
//
// What it does NOT do yet: relocations (maps, globals, helper calls by name:
// programBytes rejects code that has any), program headers, BTF, extended
// section numbering (more than 65,279 sections), big-endian or 32-bit ELF.

import { ElfError, UsageError } from './errors.js';
import { CLS, LDDW_FORMS, LDDW_OPCODE, SLOT_SIZE } from './isa.js';

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

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;
const STT_FUNC = 2;
/** Section indexes from here up are reserved (ABS, COMMON, XINDEX, ...). */
const SHN_LORESERVE = 0xff00;
/** The largest integer a u64 field may hold here: offsets and sizes beyond 2^53 are nonsense in any file. */
const MAX_U64 = Number.MAX_SAFE_INTEGER;
/** `call` with src 1 (BPF_PSEUDO_CALL): a bpf-to-bpf call, target pc + 1 + imm. */
const CALL_OPCODE = CLS.JMP | 0x80;
const CALL_SRC_LOCAL = 1;
/** lddw src 4 (BPF_PSEUDO_FUNC): a code address, target pc + 1 + imm. */
const LDDW_SRC_FUNC = LDDW_FORMS.indexOf('func');
const HEADER = 'ELF header';
/** Where searches for a section or symbol happen, for "not found" errors. */
const TABLE = 'section header table';

const DECODER = new TextDecoder('utf-8');

/** A name fit for an error message: printable ASCII, at most 64 characters. */
function printable(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 64 ? `${ascii.slice(0, 61)}...` : ascii;
}

/** How errors name section `index`: its printable name and index. */
function label(index: number, name: string): string {
  const shown = printable(name);
  return shown === '' ? `#${index}` : `${shown} (#${index})`;
}

/** Little-endian field reads that throw ElfError instead of RangeError. */
class Reader {
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
function readString(table: Uint8Array, index: number, what: string, section: string, at: number): string {
  if (index >= table.byteLength) {
    throw new ElfError(`${what} index ${index} is outside its string table (${table.byteLength} bytes)`, section, at);
  }
  const end = table.indexOf(0, index);
  if (end < 0) throw new ElfError(`${what} at string table index ${index} is not NUL-terminated`, section, at);
  return DECODER.decode(table.subarray(index, end));
}

/** Parsed file header fields the rest needs. */
interface Header {
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
  if (b[5] !== 1) throw new ElfError(`data encoding ${b[5]!} is not little-endian (1)`, HEADER, 5);
  if (b[6] !== 1) throw new ElfError(`ident version ${b[6]!} is not 1`, HEADER, 6);
  const machine = r.u16(18, 'e_machine', HEADER);
  if (machine !== EM_BPF) throw new ElfError(`machine ${machine} is not BPF (${EM_BPF})`, HEADER, 18);
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
interface RawSection {
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
function contents(r: Reader, s: RawSection): Uint8Array {
  if (s.type === SHT_NULL || s.type === SHT_NOBITS) return r.bytes.subarray(0, 0);
  return r.bytes.subarray(s.offset, s.offset + s.size);
}

/** All sections, names resolved, every range checked. */
interface Parsed {
  readonly reader: Reader;
  readonly raw: readonly RawSection[];
  readonly sections: ElfSection[];
}

function parse(bytes: Uint8Array): Parsed {
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
  return { reader: r, raw, sections };
}

/**
 * The section table of an ELF64 little-endian BPF object (e_machine 247),
 * index 0 (the NULL section) included. Throws ElfError on malformed input.
 */
export function readElfSections(bytes: Uint8Array): ElfSection[] {
  return parse(bytes).sections;
}

/** What programBytes found: the code's section and where the entry starts in it. */
interface CodeRange {
  readonly index: number;
  readonly start: number;
  /** "section X" or "function f", for messages. */
  readonly what: string;
}

function isCode(s: ElfSection): boolean {
  return s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0;
}

/** The code of the one FUNC symbol named `name` (undefined when there is none). */
function findFunction(p: Parsed, name: string): CodeRange | undefined {
  const { reader: r, raw, sections } = p;
  const fn = `function ${printable(name)}`;
  const found: { range: CodeRange; symtab: string; at: number }[] = [];
  raw.forEach((tab, t) => {
    if (tab.type !== SHT_SYMTAB) return;
    const where = label(t, sections[t]!.name);
    if (tab.entsize !== SYM_SIZE) throw new ElfError(`symbol entry size ${tab.entsize} is not ${SYM_SIZE}`, where, tab.at + 56);
    if (tab.size % SYM_SIZE !== 0) throw new ElfError(`size ${tab.size} is not a multiple of ${SYM_SIZE}`, where, tab.at + 32);
    if (tab.link === 0 || tab.link >= raw.length || raw[tab.link]!.type !== SHT_STRTAB) {
      throw new ElfError(`sh_link ${tab.link} is not a string table`, where, tab.at + 40);
    }
    const strings = sections[tab.link]!.data;
    for (let at = tab.offset; at < tab.offset + tab.size; at += SYM_SIZE) {
      const info = r.u8(at + 4, 'st_info', where);
      if ((info & 0xf) !== STT_FUNC) continue;
      if (readString(strings, r.u32(at, 'st_name', where), 'symbol name', where, at) !== name) continue;
      const shndx = r.u16(at + 6, 'st_shndx', where);
      const value = r.u64(at + 8, 'st_value', where);
      if (shndx === 0 || shndx >= SHN_LORESERVE || shndx >= raw.length) {
        throw new ElfError(`${fn} has section index ${shndx}, not a section of this file`, where, at + 6);
      }
      const code = sections[shndx]!;
      if (!isCode(code)) {
        throw new ElfError(`${fn} is in section ${label(shndx, code.name)}, which holds no code`, where, at + 6);
      }
      if (value % SLOT_SIZE !== 0 || value >= code.size) {
        throw new ElfError(`${fn} starts at ${value}, not an instruction of its section (${code.size} bytes)`,
          where, at + 8);
      }
      found.push({ range: { index: shndx, start: value, what: fn }, symtab: where, at });
    }
  });
  if (found.length > 1) {
    const second = found[1]!;
    throw new ElfError(`${found.length} functions are named ${printable(name)}; name their section instead`,
      second.symtab, second.at);
  }
  return found[0]?.range;
}

/** Relocations against [start, end) of section `index` make the code unusable as it is. */
function checkNoRelocations(p: Parsed, index: number, start: number, end: number, what: string): void {
  const { reader: r, raw, sections } = p;
  raw.forEach((rel, i) => {
    if ((rel.type !== SHT_REL && rel.type !== SHT_RELA) || rel.info !== index) return;
    const where = label(i, sections[i]!.name);
    const entsize = rel.type === SHT_REL ? REL_SIZE : RELA_SIZE;
    if (rel.entsize !== entsize) throw new ElfError(`relocation entry size ${rel.entsize} is not ${entsize}`, where, rel.at + 56);
    if (rel.size % entsize !== 0) throw new ElfError(`size ${rel.size} is not a multiple of ${entsize}`, where, rel.at + 32);
    for (let at = rel.offset; at < rel.offset + rel.size; at += entsize) {
      const offset = r.u64(at, 'r_offset', where);
      if (offset >= start && offset < end) {
        throw new ElfError(
          `${what} has a relocation at offset ${offset} of its section (maps, globals and helper calls by name need the ELF loader, not written yet)`,
          where, at);
      }
    }
  });
}

/** bpf-to-bpf calls and code addresses must land inside the returned code. */
function checkLocalTargets(code: Uint8Array, what: string, section: string, fileOffset: number): void {
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  const n = code.byteLength / SLOT_SIZE;
  for (let pc = 0; pc < n; pc++) {
    const opcode = code[pc * SLOT_SIZE]!;
    const src = code[pc * SLOT_SIZE + 1]! >> 4;
    const pcRelative = (opcode === CALL_OPCODE && src === CALL_SRC_LOCAL) || (opcode === LDDW_OPCODE && src === LDDW_SRC_FUNC);
    if (pcRelative) {
      const target = pc + 1 + view.getInt32(pc * SLOT_SIZE + 4, true);
      if (target < 0 || target >= n) {
        throw new ElfError(
          `${what}: the instruction at pc ${pc} refers to pc ${target}, outside its code (${n} instructions from the entry to the end of the section)`,
          section, fileOffset + pc * SLOT_SIZE);
      }
    }
    if (opcode === LDDW_OPCODE) pc++;
  }
}

/**
 * The bytecode to hand to `Vm.load`, a copy taken from an ELF object.
 *
 * - No name: the whole first executable section with code (entry pc 0).
 * - A section name: that whole section.
 * - Otherwise a function name from .symtab: its section from the function's
 *   start to the section's end, so the function is pc 0.
 *
 * Why "to the section's end" rather than the function alone: a function
 * calls its static helpers with pc-relative offsets, and clang places them
 * after the functions that call them within the section, so keeping
 * everything after the entry keeps every call valid without rewriting an
 * instruction. Unused functions that follow are dead code for the VM. A
 * call or code address reaching before the entry (or past the end) cannot
 * be honoured this way and throws ElfError, as do relocations in the range.
 */
export function programBytes(bytes: Uint8Array, sectionOrSymbol?: string): Uint8Array {
  if (sectionOrSymbol !== undefined && typeof sectionOrSymbol !== 'string') {
    throw new UsageError('programBytes: the section or function name must be a string');
  }
  const p = parse(bytes);
  const { sections, raw } = p;
  const tableAt = raw.length === 0 ? 0 : raw[0]!.at;
  let range: CodeRange | undefined;
  if (sectionOrSymbol === undefined) {
    const index = sections.findIndex(isCode);
    if (index < 0) throw new ElfError('no executable section with code', TABLE, tableAt);
    range = { index, start: 0, what: `section ${label(index, sections[index]!.name)}` };
  } else {
    const index = sections.findIndex((s) => s.name === sectionOrSymbol && isCode(s));
    range = index >= 0
      ? { index, start: 0, what: `section ${label(index, sectionOrSymbol)}` }
      : findFunction(p, sectionOrSymbol);
    if (range === undefined) {
      throw new ElfError(`no code section or function named ${printable(sectionOrSymbol)}`, TABLE, tableAt);
    }
  }
  const section = sections[range.index]!;
  const where = label(range.index, section.name);
  if (section.size % SLOT_SIZE !== 0) {
    throw new ElfError(`code size ${section.size} is not a multiple of ${SLOT_SIZE}`, where, raw[range.index]!.at + 32);
  }
  checkNoRelocations(p, range.index, range.start, section.size, range.what);
  const code = section.data.slice(range.start);
  checkLocalTargets(code, range.what, where, section.offset + range.start);
  return code;
}
