// Maps of the legacy `maps` section: one struct bpf_map_def per symbol
// { u32 type, key_size, value_size, max_entries, map_flags; ... }, named by
// the symbol. Fields after map_flags (inner_map_idx, numa_node) are ignored.

import { ElfError } from '../errors.js';
import type { Vm } from '../vm.js';
import { label, SHN_LORESERVE } from './reader.js';
import { createMapAt, type PlacedMap } from './placed.js';
import type { Parsed } from './sections.js';
import { STT_SECTION, type SymbolTable } from './symbols.js';

const MAP_DEF_SIZE = 20;

export function createLegacyMaps(vm: Vm, p: Parsed, symtab: SymbolTable): PlacedMap[] {
  const index = p.sections.findIndex((s) => s.name === 'maps');
  if (index < 0) return [];
  const section = p.sections[index]!;
  const where = label(index, section.name);
  const out: PlacedMap[] = [];
  for (const sym of symtab.symbols) {
    if (sym.shndx !== index || sym.shndx >= SHN_LORESERVE || sym.type === STT_SECTION || sym.name === '') continue;
    const size = sym.size === 0 ? MAP_DEF_SIZE : sym.size;
    if (size < MAP_DEF_SIZE || sym.value > section.data.byteLength - size) {
      throw new ElfError(`map ${sym.name}: a ${size}-byte definition at ${sym.value} does not fit (${MAP_DEF_SIZE} bytes needed, section has ${section.data.byteLength})`, where, section.offset + Math.min(sym.value, section.size));
    }
    const view = new DataView(section.data.buffer, section.data.byteOffset + sym.value, MAP_DEF_SIZE);
    const field = (k: number) => view.getUint32(4 * k, true);
    const map = createMapAt(vm, {
      name: sym.name, type: field(0), keySize: field(1), valueSize: field(2), maxEntries: field(3), flags: field(4),
    }, where, section.offset + sym.value);
    out.push({ map, section: index, offset: sym.value, size, isData: false });
  }
  return out;
}
