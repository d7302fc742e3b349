// What the loader takes from BTF (lib/btf): BTF-defined maps of `.maps`,
// their static `values` initializers, .BTF.ext line info per program, and
// the CO-RE relocations check.
//
// `.maps` vars are matched to ELF symbols by name: clang leaves the DATASEC
// offsets 0, so (as libbpf does) the symbol's st_value is the var's offset.

import { btfMaps, coreReloKindName, lineAt, parseBtf, parseBtfExt, type Btf, type BtfExt, type LineInfo } from '../btf/index.js';
import { EbpfError, ElfError } from '../errors.js';
import { ArrayOfMapsMap, HashOfMapsMap, ProgArrayMap, type BpfMap } from '../maps/index.js';
import type { Vm } from '../vm.js';
import type { GlobalVariable, ObjectProgram, SourceLine } from './object.js';
import { createMapAt, type PlacedMap } from './placed.js';
import { label } from './reader.js';
import { R_BPF_64_ABS64, R_BPF_64_NODYLD32, R_BPF_NONE, type Relocation } from './relocations.js';
import type { Parsed } from './sections.js';
import { STT_FUNC, STT_SECTION, type ElfSymbol, type SymbolTable } from './symbols.js';


export interface BtfInfo {
  readonly btf: Btf | undefined;
  readonly ext: BtfExt | undefined;
}

export function readBtfInfo(p: Parsed): BtfInfo {
  const btfSection = p.sections.find((s) => s.name === '.BTF');
  const btf = btfSection === undefined ? undefined : parseBtf(btfSection.data);
  const extSection = p.sections.find((s) => s.name === '.BTF.ext');
  const ext = btf === undefined || extSection === undefined ? undefined : parseBtfExt(extSection.data, btf);
  return { btf, ext };
}

/** CO-RE relocations would need a target kernel's BTF to apply: refuse the object, listing them. */
export function checkNoCore(info: BtfInfo, p: Parsed): void {
  if (info.ext === undefined) return;
  const listed: string[] = [];
  for (const [section, relos] of info.ext.coreRelos) {
    for (const r of relos) {
      const type = info.btf?.typeName(r.typeId) ?? `type ${r.typeId}`;
      listed.push(`${section}+${r.insnOff}: ${coreReloKindName(r.kind)} ${type} ${r.accessStr}`);
    }
  }
  if (listed.length === 0) return;
  const at = p.sections.find((s) => s.name === '.BTF.ext')!;
  const shown = listed.length > 20 ? [...listed.slice(0, 20), `... ${listed.length - 20} more`] : listed;
  throw new ElfError(`${listed.length} CO-RE relocation(s) cannot be applied (no kernel BTF; loadObject({ core: 'local' }) keeps the compiled offsets): ${shown.join('; ')}`,
    '.BTF.ext', at.offset);
}

/** For each pc of a linked program, the source line of the instruction it came from. */
export function programLines(info: BtfInfo, p: Parsed, origins: readonly { section: number; insn: number }[]): (SourceLine | undefined)[] | undefined {
  if (info.ext === undefined) return undefined;
  const bySection = new Map<number, LineInfo[]>();
  for (const o of origins) {
    if (bySection.has(o.section)) continue;
    const lines = info.ext.lineInfo.get(p.sections[o.section]!.name) ?? [];
    bySection.set(o.section, [...lines].sort((a, b) => a.insnOff - b.insnOff));
  }
  if ([...bySection.values()].every((l) => l.length === 0)) return undefined;
  return origins.map((o) => {
    const l = lineAt(bySection.get(o.section)!, o.insn * 8);
    return l === undefined ? undefined : { file: l.file, line: l.line, lineNum: l.lineNum, col: l.col };
  });
}

/** The variables of each global data section (offsets from the ELF symbols), for decoding them. */
export function dataVariables(info: BtfInfo, p: Parsed, symtab: SymbolTable, placed: readonly PlacedMap[]): Map<string, GlobalVariable[]> {
  const out = new Map<string, GlobalVariable[]>();
  if (info.btf === undefined) return out;
  for (const m of placed) {
    if (!m.isData) continue;
    const offsets = new Map<string, number>();
    for (const s of symtab.symbols) if (s.shndx === m.section && s.type !== STT_SECTION && s.name !== '') offsets.set(s.name, s.value);
    const sec = info.btf.datasec(p.sections[m.section]!.name, offsets);
    if (sec === undefined) continue;
    const vars: GlobalVariable[] = [];
    for (const v of sec.vars) {
      const t = info.btf.types[v.type]!;
      if (t.kind !== 'var' || v.offset > m.size || v.size > m.size - v.offset) continue;
      vars.push({ name: v.name, type: t.type, offset: v.offset, size: v.size });
    }
    out.set(m.map.name, vars);
  }
  return out;
}

export function createBtfMaps(vm: Vm, p: Parsed, symtab: SymbolTable, info: BtfInfo): PlacedMap[] {
  const index = p.sections.findIndex((s) => s.name === '.maps');
  if (index < 0) return [];
  const section = p.sections[index]!;
  const where = label(index, section.name);
  if (info.btf === undefined) throw new ElfError('BTF-defined maps (.maps) need the object\'s .BTF (compile with -g)', where, section.offset);
  const out: PlacedMap[] = [];
  const offsets = new Map<string, number>();
  for (const s of symtab.symbols) if (s.shndx === index && s.type !== STT_SECTION && s.name !== '') offsets.set(s.name, s.value);
  for (const def of btfMaps(info.btf, offsets)) {
    const sym = symtab.symbols.find((s) => s.shndx === index && s.name === def.name && s.type !== STT_SECTION);
    if (sym === undefined) throw new ElfError(`map ${def.name} of the .maps DATASEC has no symbol`, where, section.offset);
    const size = sym.size > 0 ? sym.size : def.varSize;
    if (sym.value > section.size || size > section.size - sym.value) {
      throw new ElfError(`map ${def.name} at ${sym.value} (${size} bytes) lies outside .maps (${section.size} bytes)`, symtab.where, sym.at + 8);
    }
    const map = createMapAt(vm, { ...def.def, name: def.name }, where, section.offset + sym.value);
    out.push({
      map, section: index, offset: sym.value, size, isData: false,
      ...(def.valuesOffset === undefined ? {} : { valuesOffset: def.valuesOffset }),
      ...(def.keyType === undefined ? {} : { keyType: def.keyType }),
      ...(def.valueType === undefined ? {} : { valueType: def.valueType }),
    });
  }
  return out;
}

/** `.values = { [i] = &prog, [j] = &inner_map }`: R_BPF_64_ABS64 in .rel.maps, one per initialized slot. */
export function initializeBtfMaps(p: Parsed, relocations: Map<number, Relocation[]>, symbols: readonly ElfSymbol[],
  placed: readonly PlacedMap[], programs: ReadonlyMap<string, ObjectProgram>): void {
  const index = p.sections.findIndex((s) => s.name === '.maps');
  if (index < 0) return;
  for (const rel of relocations.get(index) ?? []) {
    if (rel.type === R_BPF_NONE || rel.type === R_BPF_64_NODYLD32) continue;
    if (rel.type !== R_BPF_64_ABS64) throw new ElfError(`relocation type ${rel.type} at offset ${rel.offset} cannot apply to .maps`, rel.where, rel.at);
    const outer = placed.find((m) => !m.isData && m.section === index && rel.offset >= m.offset && rel.offset < m.offset + m.size);
    if (outer === undefined || outer.valuesOffset === undefined) {
      throw new ElfError(`relocation at offset ${rel.offset} of .maps is not in a map's values array`, rel.where, rel.at);
    }
    const rel0 = rel.offset - outer.offset - outer.valuesOffset;
    const slot = rel0 / 8;
    if (!Number.isInteger(slot) || slot < 0 || slot >= outer.map.maxEntries) {
      throw new ElfError(`relocation at offset ${rel.offset} is not a slot of ${outer.map.name}'s values (${outer.map.maxEntries} slots)`, rel.where, rel.at);
    }
    const sym = symbols[rel.symbol]!;
    const value = initializer(sym, index, placed, programs, rel);
    try {
      const map = outer.map;
      if (map instanceof ProgArrayMap) {
        if (!('prog' in value)) throw new ElfError(`${map.name}[${slot}]: a prog_array slot takes a program, not map ${value.map.name}`, rel.where, rel.at);
        map.set(slot, value.prog);
      } else if (map instanceof ArrayOfMapsMap || map instanceof HashOfMapsMap) {
        if (!('map' in value)) throw new ElfError(`${map.name}[${slot}]: a map-in-map slot takes a map, not a program`, rel.where, rel.at);
        map.set(slot, value.map);
      } else {
        throw new ElfError(`${map.name} (${map.typeName}) has no values to initialize`, rel.where, rel.at);
      }
    } catch (e) {
      if (e instanceof EbpfError && !(e instanceof ElfError)) throw new ElfError(e.message, rel.where, rel.at);
      throw e;
    }
  }
}

function initializer(sym: ElfSymbol, mapsSection: number, placed: readonly PlacedMap[], programs: ReadonlyMap<string, ObjectProgram>,
  rel: Relocation): { prog: unknown } | { map: BpfMap } {
  if (sym.type === STT_FUNC) {
    const prog = programs.get(sym.name);
    if (prog === undefined) throw new ElfError(`values initializer ${sym.name} is not a program of this object`, rel.where, rel.at);
    return { prog: prog.prog };
  }
  const inner = placed.find((m) => !m.isData && m.section === mapsSection && m.offset === sym.value && sym.shndx === mapsSection);
  if (inner === undefined) throw new ElfError(`values initializer ${sym.name || `#${sym.index}`} is neither a program nor a map`, rel.where, rel.at);
  return { map: inner.map };
}
