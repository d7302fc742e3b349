// Kept for existing importers (the bench, older tests): the ELF section
// reader and programBytes now live in lib/elf/.

export {
  SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOBITS, SHT_REL, SHF_EXECINSTR, EM_BPF,
} from './elf/reader.js';
export type { ElfSection } from './elf/reader.js';
export { readElfSections } from './elf/sections.js';
export { programBytes } from './elf/program-bytes.js';
