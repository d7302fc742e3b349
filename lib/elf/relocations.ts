// Relocation sections (.rel<section>): each entry's offset, type and symbol,
// checked against the section it applies to and the symbol table. Only REL
// (no addend: BPF keeps the addend in the instruction or the data) is what
// clang emits; RELA is an ElfError.
//
// Relocation types (llvm BPF ELF ABI):
//   R_BPF_64_64     1  lddw: the imm pair gets a map / data / code address
//   R_BPF_64_ABS64  2  64-bit data word: an address (.maps values, debug)
//   R_BPF_64_ABS32  3  32-bit data word (debug info)
//   R_BPF_64_NODYLD32 4  32-bit data word in .BTF.ext (nothing to do)
//   R_BPF_64_32    10  call: a bpf-to-bpf call target

import { ElfError } from '../errors.js';
import { label, REL_SIZE, SHT_REL, SHT_RELA } from './reader.js';

const SHF_ALLOC = 0x2;
import type { Parsed } from './sections.js';
import type { SymbolTable } from './symbols.js';

export const R_BPF_NONE = 0;
export const R_BPF_64_64 = 1;
export const R_BPF_64_ABS64 = 2;
export const R_BPF_64_ABS32 = 3;
export const R_BPF_64_NODYLD32 = 4;
export const R_BPF_64_32 = 10;

/** Bytes each type patches, at its offset. */
const WIDTH: Readonly<Record<number, number>> = {
  [R_BPF_NONE]: 0, [R_BPF_64_64]: 16, [R_BPF_64_ABS64]: 8, [R_BPF_64_ABS32]: 4, [R_BPF_64_NODYLD32]: 4, [R_BPF_64_32]: 8,
};

export interface Relocation {
  /** Offset in the target section. */
  readonly offset: number;
  readonly type: number;
  readonly symbol: number;
  /** Label of the relocation section and file offset of the entry, for errors. */
  readonly where: string;
  readonly at: number;
}

/** Every relocation of a loaded (SHF_ALLOC) section, by the index of the section it applies to (entries in file order). */
export function readRelocations(p: Parsed, symtab: SymbolTable): Map<number, Relocation[]> {
  const { reader: r, raw, sections } = p;
  const out = new Map<number, Relocation[]>();
  raw.forEach((rel, i) => {
    if (rel.type !== SHT_REL && rel.type !== SHT_RELA) return;
    const where = label(i, sections[i]!.name);
    if (rel.type === SHT_RELA) throw new ElfError('RELA relocations (with addends) are not what BPF objects use', where, rel.at + 4);
    if (rel.entsize !== REL_SIZE) throw new ElfError(`relocation entry size ${rel.entsize} is not ${REL_SIZE}`, where, rel.at + 56);
    if (rel.size % REL_SIZE !== 0) throw new ElfError(`size ${rel.size} is not a multiple of ${REL_SIZE}`, where, rel.at + 32);
    if (rel.info === 0 || rel.info >= raw.length) throw new ElfError(`sh_info ${rel.info} is not a section to relocate`, where, rel.at + 44);
    if (rel.size > 0 && rel.link !== symtab.index) {
      throw new ElfError(`sh_link ${rel.link} is not the symbol table (#${symtab.index})`, where, rel.at + 40);
    }
    // Relocations of sections nothing loads (DWARF, .BTF, .BTF.ext: not SHF_ALLOC)
    // are ignored unread, as libbpf ignores them.
    if ((p.raw[rel.info]!.flags & SHF_ALLOC) === 0) return;
    if (out.has(rel.info)) throw new ElfError(`a second relocation section for section #${rel.info}`, where, rel.at + 44);
    const target = sections[rel.info]!;
    const list: Relocation[] = [];
    for (let at = rel.offset; at < rel.offset + rel.size; at += REL_SIZE) {
      const offset = r.u64(at, 'r_offset', where);
      const type = r.u32(at + 8, 'r_info type', where);
      const symbol = r.u32(at + 12, 'r_info symbol', where);
      const width = WIDTH[type];
      if (width === undefined) {
        throw new ElfError(`relocation type ${type} at offset ${offset} of section ${target.name} is not a BPF relocation (1, 2, 3, 4, 10)`, where, at + 8);
      }
      if (symbol >= symtab.symbols.length) {
        throw new ElfError(`symbol index ${symbol} is outside the symbol table (${symtab.symbols.length} symbols)`, where, at + 12);
      }
      if (offset + width > target.size) {
        throw new ElfError(`offset ${offset} (+${width} bytes) is outside section ${label(rel.info, target.name)} (${target.size} bytes)`, where, at);
      }
      list.push({ offset, type, symbol, where, at });
    }
    out.set(rel.info, list);
  });
  return out;
}
