// Global data as libbpf maps it: each non-empty .rodata, .data, .bss,
// .rodata.* and .data.* (and .bss.*) section becomes a one-entry ARRAY map
// named after the section, whose value starts as the section's bytes (zeros
// for .bss). Programs reach it with lddw map_value; .rodata* maps are
// BPF_F_RDONLY_PROG (programs read them, JS may write them before a run,
// like a skeleton's `rodata->cfg = ...` before load; the loader freezes them
// at the Vm's first run, as libbpf freezes them at load).
//
// What it does not do: extern (.kconfig / .ksyms) data (lib/elf/externs.ts).

import { ArrayMap, MAP_FLAGS } from '../maps/index.js';
import type { Vm } from '../vm.js';
import { label, SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS } from './reader.js';
import { createMapAt, type PlacedMap } from './placed.js';
import type { Parsed } from './sections.js';

const SHF_ALLOC = 0x2;
const DATA_NAME = /^\.(rodata|data|bss)(\..*)?$/;

/** Whether section `name` holds global data (by libbpf's naming rules). */
export function isDataSectionName(name: string): boolean {
  return DATA_NAME.test(name);
}

export function createDataMaps(vm: Vm, p: Parsed): PlacedMap[] {
  const out: PlacedMap[] = [];
  p.sections.forEach((s, i) => {
    if (!isDataSectionName(s.name) || (s.flags & SHF_EXECINSTR) !== 0 || (s.flags & SHF_ALLOC) === 0) return;
    if (s.type !== SHT_PROGBITS && s.type !== SHT_NOBITS) return;
    if (s.size === 0) return;
    const readonly = s.name.startsWith('.rodata');
    const where = label(i, s.name);
    const map = createMapAt(vm, {
      type: 'array', keySize: 4, valueSize: s.size, maxEntries: 1, name: s.name,
      flags: readonly ? MAP_FLAGS.BPF_F_RDONLY_PROG : 0,
    }, where, p.raw[i]!.at + 32);
    if (s.type === SHT_PROGBITS && map instanceof ArrayMap) map.set(0, s.data);
    out.push({ map, section: i, offset: 0, size: s.size, isData: true });
  });
  return out;
}
