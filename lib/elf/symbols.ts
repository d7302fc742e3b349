// The symbol table (.symtab) of a BPF object: every symbol's name, value,
// size, type, binding and section, each field range-checked. Symbols are
// what relocations name and what programs and maps are called.
//
// What it does not do: SHN_XINDEX (extended section indexes), which no BPF
// object needs; symbols in reserved sections (ABS, COMMON) are kept with
// their shndx and rejected where they are used.

import { ElfError } from '../errors.js';
import { label, readString, SHT_STRTAB, SHT_SYMTAB, SYM_SIZE, type ElfSection } from './reader.js';
import type { Parsed } from './sections.js';

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly type: number;
  readonly bind: number;
  /** st_shndx: 0 undefined (extern), 0xff00 and up reserved. */
  readonly shndx: number;
  /** File offset of the entry, for errors. */
  readonly at: number;
}

export interface SymbolTable {
  readonly symbols: readonly ElfSymbol[];
  /** The symbol table section's index and label (for errors). */
  readonly index: number;
  readonly where: string;
}

/** The one SYMTAB of the object (an empty table when there is none; two is an ElfError). */
export function readSymbols(p: Parsed): SymbolTable {
  const { reader: r, raw, sections } = p;
  const tables = raw.flatMap((s, i) => (s.type === SHT_SYMTAB ? [i] : []));
  if (tables.length === 0) return { symbols: [], index: 0, where: 'no symbol table' };
  const t = tables[0]!;
  const tab = raw[t]!;
  const where = label(t, sections[t]!.name);
  if (tables.length > 1) throw new ElfError(`${tables.length} symbol tables; an object has one`, label(tables[1]!, sections[tables[1]!]!.name), raw[tables[1]!]!.at);
  if (tab.entsize !== SYM_SIZE) throw new ElfError(`symbol entry size ${tab.entsize} is not ${SYM_SIZE}`, where, tab.at + 56);
  if (tab.size % SYM_SIZE !== 0) throw new ElfError(`size ${tab.size} is not a multiple of ${SYM_SIZE}`, where, tab.at + 32);
  if (tab.link === 0 || tab.link >= raw.length || raw[tab.link]!.type !== SHT_STRTAB) {
    throw new ElfError(`sh_link ${tab.link} is not a string table`, where, tab.at + 40);
  }
  const strings: Uint8Array = (sections[tab.link] as ElfSection).data;
  const symbols: ElfSymbol[] = [];
  // The range was checked against the file: at most file size / 24 entries.
  for (let at = tab.offset, index = 0; at < tab.offset + tab.size; at += SYM_SIZE, index++) {
    const info = r.u8(at + 4, 'st_info', where);
    symbols.push({
      index,
      name: readString(strings, r.u32(at, 'st_name', where), 'symbol name', where, at),
      type: info & 0xf,
      bind: info >> 4,
      shndx: r.u16(at + 6, 'st_shndx', where),
      value: r.u64(at + 8, 'st_value', where),
      size: r.u64(at + 16, 'st_size', where),
      at,
    });
  }
  return { symbols, index: t, where };
}
