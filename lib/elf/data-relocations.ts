// R_BPF_64_ABS64 / R_BPF_64_ABS32 in global data: a pointer in .data (or
// .rodata) to another global, e.g. `const char *name = "eth0";`. The word
// holds the addend; it becomes the target's address in the Vm's memory (the
// high half of an ABS64 is 0: addresses are 32-bit). libbpf leaves such
// pointers unrelocated; here they work.
//
// What it does not do: pointers to functions or maps in data (ElfError).

import { ElfError } from '../errors.js';
import { ArrayMap } from '../maps/index.js';
import type { PlacedMap } from './placed.js';
import { SHT_NOBITS } from './reader.js';
import { R_BPF_64_ABS32, R_BPF_64_ABS64, R_BPF_64_NODYLD32, R_BPF_NONE, type Relocation } from './relocations.js';
import type { Parsed } from './sections.js';
import type { ElfSymbol } from './symbols.js';

export function applyDataRelocations(p: Parsed, relocations: Map<number, Relocation[]>, symbols: readonly ElfSymbol[], placed: readonly PlacedMap[]): void {
  for (const [index, list] of relocations) {
    const data = placed.find((m) => m.isData && m.section === index);
    if (data === undefined || !(data.map instanceof ArrayMap)) continue;
    const value = data.map.get(0)!;
    const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
    let changed = false;
    for (const rel of list) {
      if (rel.type === R_BPF_NONE || rel.type === R_BPF_64_NODYLD32) continue;
      if (rel.type !== R_BPF_64_ABS64 && rel.type !== R_BPF_64_ABS32) {
        throw new ElfError(`relocation type ${rel.type} at offset ${rel.offset} cannot apply to data`, rel.where, rel.at);
      }
      if (p.sections[index]!.type === SHT_NOBITS) throw new ElfError(`relocation at offset ${rel.offset} of a section without contents`, rel.where, rel.at);
      const sym = symbols[rel.symbol]!;
      const addend = rel.type === R_BPF_64_ABS64 ? Number(view.getBigUint64(rel.offset, true)) : view.getUint32(rel.offset, true);
      const target = placed.find((m) => m.isData && m.section === sym.shndx);
      const at = sym.value + addend;
      if (target === undefined || at >= target.size) {
        throw new ElfError(`address of ${sym.name || `symbol #${sym.index}`} + ${addend} in data is not an address in global data`, rel.where, rel.at);
      }
      const address = target.map.valueAddress(at);
      if (rel.type === R_BPF_64_ABS64) view.setBigUint64(rel.offset, BigInt(address), true);
      else view.setUint32(rel.offset, address, true);
      changed = true;
    }
    if (changed) data.map.set(0, value);
  }
}
