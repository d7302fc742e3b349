// The functions of an object's code sections, from FUNC symbols: where each
// starts and ends (in instructions), whether it is a program (a global
// function in a program section) or a subprogram (.text, or static).
//
// A function's extent is its st_size; clang always sets it, and a symbol
// with size 0 runs to the next function or the section's end.

import { ElfError } from '../errors.js';
import { SLOT_SIZE } from '../isa.js';
import { label, SHF_EXECINSTR, SHN_LORESERVE, SHT_PROGBITS, type ElfSection } from './reader.js';
import type { Parsed } from './sections.js';
import { STB_LOCAL, STT_FUNC, type SymbolTable } from './symbols.js';

export interface ElfFunction {
  readonly name: string;
  readonly section: number;
  /** First instruction (slot index in the section) and one past the last. */
  readonly start: number;
  readonly end: number;
  /** A global function outside .text (and .text.*): an entry point libbpf would load. */
  readonly isProgram: boolean;
}

export function isCodeSection(s: ElfSection): boolean {
  return s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) !== 0;
}

/** Functions by section index, sorted by start. */
export function readFunctions(p: Parsed, symtab: SymbolTable): Map<number, ElfFunction[]> {
  const { sections, raw } = p;
  const bySection = new Map<number, ElfFunction[]>();
  for (const sym of symtab.symbols) {
    if (sym.type !== STT_FUNC) continue;
    const fn = `function ${sym.name}`;
    if (sym.shndx === 0) continue; // an extern function: an error only where it is called
    if (sym.shndx >= SHN_LORESERVE || sym.shndx >= sections.length || !isCodeSection(sections[sym.shndx]!)) {
      throw new ElfError(`${fn} has section index ${sym.shndx}, not a code section of this file`, symtab.where, sym.at + 6);
    }
    const code = sections[sym.shndx]!;
    const where = label(sym.shndx, code.name);
    if (code.size % SLOT_SIZE !== 0) throw new ElfError(`code size ${code.size} is not a multiple of ${SLOT_SIZE}`, where, raw[sym.shndx]!.at + 32);
    if (sym.value % SLOT_SIZE !== 0 || sym.value >= code.size) {
      throw new ElfError(`${fn} starts at ${sym.value}, not an instruction of section ${where} (${code.size} bytes)`, symtab.where, sym.at + 8);
    }
    if (sym.size % SLOT_SIZE !== 0 || sym.size > code.size - sym.value) {
      throw new ElfError(`${fn} has size ${sym.size}, not whole instructions inside section ${where}`, symtab.where, sym.at + 16);
    }
    const list = bySection.get(sym.shndx) ?? [];
    const start = sym.value / SLOT_SIZE;
    list.push({
      name: sym.name, section: sym.shndx, start, end: sym.size === 0 ? -1 : start + sym.size / SLOT_SIZE,
      isProgram: code.name !== '.text' && !code.name.startsWith('.text.') && sym.bind !== STB_LOCAL,
    });
    bySection.set(sym.shndx, list);
  }
  for (const [index, list] of bySection) {
    list.sort((a, b) => a.start - b.start);
    const slots = sections[index]!.size / SLOT_SIZE;
    bySection.set(index, list.map((f, i) => (f.end >= 0 ? f : { ...f, end: list[i + 1]?.start ?? slots })));
  }
  return bySection;
}

/** The function starting at instruction `start` of section `section`. */
export function functionAt(functions: Map<number, ElfFunction[]>, section: number, start: number): ElfFunction | undefined {
  return functions.get(section)?.find((f) => f.start === start);
}
