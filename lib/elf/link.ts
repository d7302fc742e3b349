// Linking one program as libbpf does (bpf_object__reloc_code): the program's
// own instructions, then every subprogram it reaches (functions of .text, or
// static functions of its section) appended once each, with each bpf-to-bpf
// call and code address (lddw src 4) re-aimed at the copy. lddw relocations
// against maps and global data become lddw map_fd / map_value with the fd,
// which Vm.load resolves.
//
// Call targets (libbpf's rules): with an R_BPF_64_32 relocation, target =
// st_value / 8 + imm + 1 in the symbol's section; without one, the call is
// pc-relative within its own section. lddw with R_BPF_64_64 against code:
// target = (st_value + imm) / 8.

import { ElfError } from '../errors.js';
import { CLS, LDDW_FORMS, LDDW_OPCODE, SLOT_SIZE, type Slot } from '../isa.js';
import type { BpfMap } from '../maps/index.js';
import { functionAt, type ElfFunction } from './functions.js';
import { label, SHN_LORESERVE } from './reader.js';
import { R_BPF_64_32, R_BPF_64_64, type Relocation } from './relocations.js';
import type { Parsed } from './sections.js';
import type { ElfSymbol } from './symbols.js';

const CALL_OPCODE = CLS.JMP | 0x80;
const SRC_CALL = 1;
const SRC_MAP_FD = LDDW_FORMS.indexOf('map_fd');
const SRC_MAP_VALUE = LDDW_FORMS.indexOf('map_value');
const SRC_FUNC = LDDW_FORMS.indexOf('func');

/** What linking needs from the object. */
export interface LinkInput {
  readonly parsed: Parsed;
  readonly symbols: readonly ElfSymbol[];
  readonly functions: Map<number, ElfFunction[]>;
  /** Relocations by section index, each list keyed by offset here. */
  readonly relocations: Map<number, Map<number, Relocation>>;
  /** The map a symbol (plus the lddw's imm) names, for sections holding maps or data. */
  readonly mapAt: (symbol: ElfSymbol, imm: number) => { map: BpfMap; offset: number | undefined } | undefined;
  /** What an lddw of an extern symbol loads (lib/elf/externs.ts): a .kconfig address, the constant 0, or undefined. */
  readonly externAt: (symbol: ElfSymbol, imm: number) => { map: BpfMap; offset: number } | 'zero' | undefined;
}

export interface LinkedProgram {
  readonly slots: Slot[];
  /** For each slot, the section and instruction index it came from. */
  readonly origins: { readonly section: number; readonly insn: number }[];
}

function decode(view: DataView, at: number): Slot {
  const regs = view.getUint8(at + 1);
  return { opcode: view.getUint8(at), dst: regs & 0xf, src: regs >> 4, off: view.getInt16(at + 2, true), imm: view.getInt32(at + 4, true) };
}

/**
 * Links `main` with the subprograms it reaches. `budget` caps the slots made
 * (each program copies its subprograms, so a hostile object with many
 * programs over one large section could otherwise multiply its size).
 */
export function linkProgram(input: LinkInput, main: ElfFunction, budget: number): LinkedProgram {
  const { sections } = input.parsed;
  const slots: Slot[] = [];
  const origins: { section: number; insn: number }[] = [];
  const placed = new Map<ElfFunction, number>();
  const queue: ElfFunction[] = [];
  const place = (fn: ElfFunction): number => {
    let at = placed.get(fn);
    if (at === undefined) {
      at = slots.length;
      if (at + fn.end - fn.start > budget) {
        throw new ElfError(`program ${main.name} with its subprograms exceeds ${budget} instructions`, label(main.section, sections[main.section]!.name),
          sections[main.section]!.offset + main.start * SLOT_SIZE);
      }
      placed.set(fn, at);
      const s = sections[fn.section]!;
      const view = new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
      for (let i = fn.start; i < fn.end; i++) {
        slots.push(decode(view, i * SLOT_SIZE));
        origins.push({ section: fn.section, insn: i });
      }
      queue.push(fn);
    }
    return at;
  };
  place(main);
  for (let q = 0; q < queue.length; q++) {
    const fn = queue[q]!;
    const base = placed.get(fn)!;
    const s = sections[fn.section]!;
    const where = label(fn.section, s.name);
    const relocs = input.relocations.get(fn.section);
    for (let i = fn.start; i < fn.end; i++) {
      const pc = base + i - fn.start;
      const slot = slots[pc]!;
      const fileAt = s.offset + i * SLOT_SIZE;
      const rel = relocs?.get(i * SLOT_SIZE);
      const isLddw = slot.opcode === LDDW_OPCODE;
      if (isLddw && i + 1 >= fn.end) throw new ElfError(`lddw at instruction ${i} has no second half in function ${fn.name}`, where, fileAt);
      /** Re-aims a pc-relative reference at instruction `target` of section `section`. */
      const aim = (section: number, target: number, what: string): number => {
        const callee = functionContaining(input, section, target);
        if (callee === undefined) {
          throw new ElfError(`${what} at instruction ${i} targets instruction ${target} of section #${section}, which is in no function`, where, fileAt);
        }
        return place(callee) + (target - callee.start) - (pc + 1);
      };
      if (rel !== undefined) {
        const sym = input.symbols[rel.symbol]!;
        if (rel.type === R_BPF_64_32) {
          if (slot.opcode !== CALL_OPCODE || slot.src !== SRC_CALL) {
            throw new ElfError(`R_BPF_64_32 at offset ${rel.offset} is not on a bpf-to-bpf call`, rel.where, rel.at);
          }
          checkCodeSymbol(input, sym, rel);
          slots[pc] = { ...slot, imm: aim(sym.shndx, sym.value / SLOT_SIZE + slot.imm + 1, 'call') };
        } else if (rel.type === R_BPF_64_64) {
          if (!isLddw) throw new ElfError(`R_BPF_64_64 at offset ${rel.offset} is not on an lddw`, rel.where, rel.at);
          const second = slots[pc + 1]!;
          if (sym.shndx !== 0 && sym.shndx < sections.length && functionsIn(input, sym.shndx)) {
            const byte = sym.value + slot.imm;
            if (byte % SLOT_SIZE !== 0) throw new ElfError(`code address ${byte} in section #${sym.shndx} is not an instruction`, rel.where, rel.at);
            slots[pc] = { ...slot, src: SRC_FUNC, imm: aim(sym.shndx, byte / SLOT_SIZE, 'code address') };
          } else if (sym.shndx === 0 && input.externAt(sym, slot.imm) === 'zero') {
            // An unresolved weak __ksym: its address is 0 (libbpf: a plain lddw of 0).
            slots[pc] = { ...slot, src: 0, imm: 0 };
            slots[pc + 1] = { ...second, imm: 0 };
          } else {
            const ref = refersTo(input, sym, slot.imm, rel);
            slots[pc] = { ...slot, src: ref.offset === undefined ? SRC_MAP_FD : SRC_MAP_VALUE, imm: ref.map.fd };
            slots[pc + 1] = { ...second, imm: ref.offset ?? 0 };
          }
        } else {
          throw new ElfError(`relocation type ${rel.type} at offset ${rel.offset} cannot apply to code`, rel.where, rel.at);
        }
      } else if (slot.opcode === CALL_OPCODE && slot.src === SRC_CALL) {
        slots[pc] = { ...slot, imm: aim(fn.section, i + 1 + slot.imm, 'call') };
      } else if (isLddw && slot.src === SRC_FUNC) {
        slots[pc] = { ...slot, imm: aim(fn.section, i + 1 + slot.imm, 'code address') };
      }
      if (isLddw) i++;
    }
  }
  return { slots, origins };
}

function functionsIn(input: LinkInput, section: number): boolean {
  return input.functions.has(section);
}

function functionContaining(input: LinkInput, section: number, insn: number): ElfFunction | undefined {
  return functionAt(input.functions, section, insn) ?? input.functions.get(section)?.find((f) => insn >= f.start && insn < f.end);
}

function checkCodeSymbol(input: LinkInput, sym: ElfSymbol, rel: Relocation): void {
  if (sym.shndx === 0) {
    throw new ElfError(`call to ${sym.name || 'an undefined symbol'}, which is not defined in this object (extern functions and kfuncs are not supported)`, rel.where, rel.at);
  }
  if (sym.shndx >= SHN_LORESERVE || !functionsIn(input, sym.shndx)) {
    throw new ElfError(`call through symbol ${sym.name} (#${sym.index}), which is not in a code section`, rel.where, rel.at);
  }
  if (sym.value % SLOT_SIZE !== 0) throw new ElfError(`call target symbol ${sym.name} is not at an instruction`, rel.where, rel.at);
}

function refersTo(input: LinkInput, sym: ElfSymbol, imm: number, rel: Relocation): { map: BpfMap; offset: number | undefined } {
  if (sym.shndx === 0) {
    const ext = input.externAt(sym, imm);
    if (ext === undefined || ext === 'zero') throw new ElfError(`lddw of ${sym.name || 'an undefined symbol'}, an extern that is neither __kconfig nor __ksym`, rel.where, rel.at);
    if (ext.offset < 0 || ext.offset >= ext.map.valueSize) {
      throw new ElfError(`lddw of ${sym.name} + ${imm}: offset ${ext.offset} is outside ${ext.map.name} (${ext.map.valueSize} bytes)`, rel.where, rel.at);
    }
    return ext;
  }
  const ref = input.mapAt(sym, imm);
  if (ref === undefined) {
    const section = sym.shndx < input.parsed.sections.length ? input.parsed.sections[sym.shndx]!.name : `#${sym.shndx}`;
    throw new ElfError(`lddw of symbol ${sym.name || section} (in section ${section}), which is neither a map, global data nor code`, rel.where, rel.at);
  }
  if (ref.offset !== undefined && (ref.offset < 0 || ref.offset >= ref.map.valueSize)) {
    throw new ElfError(`lddw of ${sym.name || ref.map.name} + ${imm}: offset ${ref.offset} is outside ${ref.map.name} (${ref.map.valueSize} bytes)`, rel.where, rel.at);
  }
  return ref;
}
