// loadObject: an ELF object as libbpf would load it. Sections, symbols and
// relocations are read and checked first; then maps (global data, legacy
// `maps`, BTF-defined `.maps`) are created in the Vm, every program is
// linked with its subprograms and loaded, and finally the static
// initializers (.maps `values`, addresses in data) are applied.
//
// Anything malformed is an ElfError naming the section and file offset; a
// program the validator rejects is its ValidationError (with the program's
// name and C line). A failed load destroys the maps it made.

import { atPc, ElfError, UsageError, ValidationError } from '../errors.js';
import { encodeSlots, SLOT_SIZE } from '../isa.js';
import type { BpfMap } from '../maps/index.js';
import type { LoadedProgram, Vm } from '../vm.js';
import { applyDataRelocations } from './data-relocations.js';
import { createDataMaps } from './data.js';
import { isCodeSection, readFunctions } from './functions.js';
import { programKind } from './kinds.js';
import { checkKconfigOption, resolveExterns } from './externs.js';
import { createLegacyMaps } from './legacy-maps.js';
import { linkProgram, type LinkInput } from './link.js';
import { BpfObject, type ObjectProgram, type SourceLine } from './object.js';
import type { PlacedMap } from './placed.js';
import { HEADER, label } from './reader.js';
import { readRelocations, type Relocation } from './relocations.js';
import { parse, type Parsed } from './sections.js';
import { readSymbols, type ElfSymbol } from './symbols.js';
import { checkNoCore, createBtfMaps, dataVariables, initializeBtfMaps, programLines, readBtfInfo } from './btf-maps.js';
import { sourceLineText } from '../source-line.js';

const ET_REL = 1;
/** Linux's limit on a program's instructions (BPF_COMPLEXITY_LIMIT_INSNS), and on all the object's programs together. */
const MAX_PROGRAM_SLOTS = 1_000_000;
const MAX_OBJECT_SLOTS = 4_000_000;

export interface LoadObjectOptions {
  /**
   * What to do with .BTF.ext CO-RE relocations: 'error' (the default) refuses
   * the object listing them; 'local' keeps the offsets clang compiled in,
   * i.e. assumes the running kernel's types are the object's own.
   */
  readonly core?: 'error' | 'local';
  /**
   * Values of the object's `extern ... __kconfig` variables by name
   * (CONFIG_*, LINUX_*): booleans and 'y'/'n'/'m' for bool, tristate and
   * char externs, numbers (or numeric strings) for integers, strings for
   * char arrays (lib/elf/kconfig.ts). LINUX_KERNEL_VERSION defaults to
   * DEFAULT_KERNEL_VERSION (6.8.0), LINUX_HAS_BPF_COOKIE and
   * LINUX_HAS_SYSCALL_WRAPPER to true; weak externs left out are 0, strong
   * ones are an ElfError.
   */
  readonly kconfig?: Readonly<Record<string, string | number | boolean | bigint>>;
}

export function loadObject(vm: Vm, bytes: Uint8Array, options: LoadObjectOptions = {}): BpfObject {
  if (typeof options !== 'object' || options === null) throw new UsageError('loadObject options must be an object');
  if (options.core !== undefined && options.core !== 'error' && options.core !== 'local') {
    throw new UsageError("loadObject option core must be 'error' or 'local'");
  }
  checkKconfigOption(options.kconfig);
  const parsed = parse(bytes);
  // On failure, the maps made so far are destroyed: a failed load leaves the Vm as it was.
  const before = new Set(vm.maps.list());
  try {
    return build(vm, parsed, options);
  } catch (e) {
    for (const map of vm.maps.list()) if (!before.has(map)) vm.maps.destroy(map);
    throw e;
  }
}

function build(vm: Vm, parsed: Parsed, options: LoadObjectOptions): BpfObject {
  const type = parsed.reader.u16(16, 'e_type', HEADER);
  if (type !== ET_REL) throw new ElfError(`e_type ${type} is not a relocatable object (1): give the .o clang -c wrote`, HEADER, 16);
  const symtab = readSymbols(parsed);
  const relocations = readRelocations(parsed, symtab);
  const functions = readFunctions(parsed, symtab);
  const btf = readBtfInfo(parsed);
  if (options.core !== 'local') checkNoCore(btf, parsed);

  const placed: PlacedMap[] = [
    ...createDataMaps(vm, parsed),
    ...createLegacyMaps(vm, parsed, symtab),
    ...createBtfMaps(vm, parsed, symtab, btf),
  ];
  // libbpf freezes .rodata* at load; here JS may still set `const volatile`
  // configuration until the first run of any program of the Vm.
  for (const p of placed) if (p.isData && p.map.name.startsWith('.rodata')) vm.freezeBeforeRun(p.map);
  const externs = resolveExterns(vm, symtab, btf.btf, checkKconfigOption(options.kconfig));
  const maps = new Map<string, BpfMap>();
  if (externs.kconfig !== undefined) maps.set(externs.kconfig.name, externs.kconfig);
  for (const p of placed) {
    if (maps.has(p.map.name)) {
      throw new ElfError(`two maps are named ${p.map.name}`, label(p.section, parsed.sections[p.section]!.name), parsed.sections[p.section]!.offset + p.offset);
    }
    maps.set(p.map.name, p.map);
  }

  const codeRelocations = new Map<number, Map<number, Relocation>>();
  for (const [index, list] of relocations) {
    if (!isCodeSection(parsed.sections[index]!)) continue;
    const byOffset = new Map<number, Relocation>();
    for (const rel of list) {
      if (rel.offset % SLOT_SIZE !== 0) throw new ElfError(`offset ${rel.offset} is not an instruction's`, rel.where, rel.at);
      if (byOffset.has(rel.offset)) throw new ElfError(`two relocations at offset ${rel.offset}`, rel.where, rel.at);
      byOffset.set(rel.offset, rel);
    }
    codeRelocations.set(index, byOffset);
  }
  const input: LinkInput = {
    parsed, symbols: symtab.symbols, functions, relocations: codeRelocations,
    mapAt: (sym: ElfSymbol, imm: number) => {
      const at = sym.value + imm;
      const p = placed.find((m) => m.section === sym.shndx && at >= m.offset && at < m.offset + Math.max(m.size, 1));
      if (p === undefined) return undefined;
      if (p.isData) return { map: p.map, offset: at - p.offset };
      return at === p.offset ? { map: p.map, offset: undefined } : undefined;
    },
    externAt: externs.at,
  };

  const programs = new Map<string, ObjectProgram>();
  let slotsLeft = MAX_OBJECT_SLOTS;
  for (const [index, list] of functions) {
    const section = parsed.sections[index]!;
    for (const fn of list) {
      if (!fn.isProgram) continue;
      if (programs.has(fn.name)) {
        throw new ElfError(`two programs are named ${fn.name}`, label(index, section.name), section.offset + fn.start * SLOT_SIZE);
      }
      const linked = linkProgram(input, fn, Math.min(MAX_PROGRAM_SLOTS, slotsLeft));
      slotsLeft -= linked.slots.length;
      const lineInfo = programLines(btf, parsed, linked.origins);
      let prog: LoadedProgram;
      try {
        prog = vm.load(encodeSlots(linked.slots), lineInfo === undefined ? { name: fn.name } : { sourceLines: lineInfo, name: fn.name });
      } catch (e) {
        throw e instanceof ValidationError ? withSource(e, fn.name, lineInfo?.[e.pc]) : e;
      }
      programs.set(fn.name, {
        name: fn.name, section: section.name, kind: programKind(section.name), prog,
        ...(lineInfo === undefined ? {} : { lineInfo }),
      });
    }
  }

  applyDataRelocations(parsed, relocations, symtab.symbols, placed);
  initializeBtfMaps(parsed, relocations, symtab.symbols, placed, programs);
  const mapTypes = new Map(placed.filter((p) => p.keyType !== undefined || p.valueType !== undefined)
    .map((p) => [p.map.name, { ...(p.keyType === undefined ? {} : { keyType: p.keyType }), ...(p.valueType === undefined ? {} : { valueType: p.valueType }) }]));
  const globals = dataVariables(btf, parsed, symtab, placed);
  return new BpfObject(programs, maps, license(parsed), { btf: btf.btf, mapTypes, globals, externs: externs.externs });
}

/** The validator's error with the program's name and the C line of its pc. */
function withSource(e: ValidationError, program: string, line: SourceLine | undefined): ValidationError {
  const suffix = atPc('', e.pc, e.insn === '' ? undefined : e.insn);
  const message = e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) : e.message;
  const where = line === undefined ? '' : `, ${sourceLineText(line)}`;
  return new ValidationError(e.code, `${message} (program ${program}${where})`, e.pc, e.insn);
}

function license(p: Parsed): string | undefined {
  const s = p.sections.find((x) => x.name === 'license');
  if (s === undefined) return undefined;
  const end = s.data.indexOf(0);
  return new TextDecoder().decode(s.data.subarray(0, end < 0 ? s.data.length : Math.min(end, 128)));
}
