// programBytes: the code of one section or function of an ELF object, for
// objects without relocations (the bench and hand-written tests use it; the
// full loader is loadObject in index.ts).

import { ElfError, UsageError } from '../errors.js';
import { CLS, LDDW_FORMS, LDDW_OPCODE, SLOT_SIZE } from '../isa.js';
import {
  label, printable, readString, REL_SIZE, RELA_SIZE, SHN_LORESERVE, SHT_PROGBITS, SHT_REL, SHT_RELA, SHT_STRTAB,
  SHT_SYMTAB, SHF_EXECINSTR, STT_FUNC, SYM_SIZE, TABLE, type ElfSection,
} from './reader.js';
import { parse, type Parsed } from './sections.js';

/** `call` with src 1 (BPF_PSEUDO_CALL): a bpf-to-bpf call, target pc + 1 + imm. */
const CALL_OPCODE = CLS.JMP | 0x80;
const CALL_SRC_LOCAL = 1;
/** lddw src 4 (BPF_PSEUDO_FUNC): a code address, target pc + 1 + imm. */
const LDDW_SRC_FUNC = LDDW_FORMS.indexOf('func');

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
