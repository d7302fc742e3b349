// Extern symbols (undefined in the object, st_shndx 0), as libbpf resolves
// them at load (bpf_object__collect_externs / bpf_object__resolve_externs):
//
// - `extern T NAME __kconfig` (BTF DATASEC .kconfig): a value from the
//   loader's `kconfig` option (LINUX_KERNEL_VERSION defaults to
//   DEFAULT_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE and
//   LINUX_HAS_SYSCALL_WRAPPER to true), laid out in one read-only ARRAY map `.kconfig`
//   that programs reach with lddw map_value. libbpf freezes that map at
//   load; so does this. A weak (`__weak`) extern without a value is 0; a
//   strong one is an ElfError naming it.
// - `extern T NAME __ksym` (DATASEC .ksyms): kernel symbols and kfuncs. There
//   is no kernel here: weak ksym variables become the constant 0 (what
//   `bpf_ksym_exists()` tests), strong ones are an ElfError listing them.
//
// What it does not do: kfunc calls (a call to an extern function is an
// ElfError where it is linked, weak or not), reading a kernel's config by
// itself (give its values in `kconfig`; parseKconfigText reads a .config).

import type { Btf } from '../btf/index.js';
import { ElfError, UsageError } from '../errors.js';
import { ArrayMap, MAP_FLAGS, type BpfMap } from '../maps/index.js';
import type { Vm } from '../vm.js';
import { DEFAULT_KERNEL_VERSION, encodeKconfig, kcfgType, type KcfgType, type KconfigValue } from './kconfig.js';
import { createMapAt } from './placed.js';
import { STB_WEAK, STT_FUNC, type ElfSymbol, type SymbolTable } from './symbols.js';

/** One extern of the object, as `BpfObject.externs` lists it. */
export interface ObjectExtern {
  readonly name: string;
  readonly kind: 'kconfig' | 'ksym';
  readonly weak: boolean;
  /** kconfig: its C type ("unsigned int", "char[16]", "enum libbpf_tristate", ...) and BTF type id. */
  readonly type?: string;
  readonly typeId?: number;
  /** kconfig: byte offset and size of its value in the `.kconfig` map. */
  readonly offset?: number;
  readonly size?: number;
  /** Where the value came from: the kconfig option, the built-in default, or 0 for an unresolved weak extern. */
  readonly source: 'option' | 'default' | 'weak';
  /** kconfig: the value as given (or the default); undefined when it is 0 by weakness. */
  readonly value?: KconfigValue;
}

export interface ResolvedExterns {
  readonly externs: readonly ObjectExtern[];
  /** The `.kconfig` map (undefined when the object has no kconfig externs). */
  readonly kconfig: BpfMap | undefined;
  /** What an lddw of extern symbol `sym` + imm loads: an address in `.kconfig`, the constant 0, or undefined (not an extern this resolved). */
  readonly at: (sym: ElfSymbol, imm: number) => { map: BpfMap; offset: number } | 'zero' | undefined;
}

export const KCONFIG_MAP = '.kconfig';

interface Pending {
  readonly sym: ElfSymbol;
  readonly kcfg: { type: KcfgType; size: number; align: number; signed: boolean };
  readonly type: string;
  readonly typeId: number;
}

export function resolveExterns(vm: Vm, symtab: SymbolTable, btf: Btf | undefined, kconfig: Readonly<Record<string, KconfigValue>>): ResolvedExterns {
  const undefinedSymbols = symtab.symbols.filter((s) => s.index > 0 && s.shndx === 0 && s.name !== '');
  if (undefinedSymbols.length === 0) return { externs: [], kconfig: undefined, at: () => undefined };
  const where = symtab.where;
  // By name, built once (a hostile object could pair many externs with many vars).
  const kconfigVars = new Map((btf?.datasec('.kconfig')?.vars ?? []).map((v) => [v.name, v]));
  const ksymVars = new Set(btf?.datasec('.ksyms')?.vars.map((v) => v.name) ?? []);
  const pending: Pending[] = [];
  const ksyms: ElfSymbol[] = [];
  for (const sym of undefinedSymbols) {
    const v = kconfigVars.get(sym.name);
    if (v !== undefined) {
      const varType = (btf!.types[v.type] as { type: number }).type;
      const kcfg = kcfgType(btf!, varType);
      if (kcfg === undefined) {
        throw new ElfError(`kconfig extern ${sym.name} has type ${btf!.typeName(varType)}, which libbpf cannot fill (bool, char, int, enum libbpf_tristate, char[N])`, where, sym.at);
      }
      pending.push({ sym, kcfg, type: btf!.typeName(varType), typeId: varType });
    } else if (ksymVars.has(sym.name)) {
      ksyms.push(sym);
    } else if (sym.type !== STT_FUNC) {
      // A function that is neither is an ordinary undefined call target: linking reports it where it is called.
      throw new ElfError(`extern ${sym.name} is neither __kconfig nor __ksym${btf === undefined ? ' (the object has no .BTF to say; compile with -g)' : ''}`, where, sym.at);
    }
  }
  const strongKsyms = ksyms.filter((s) => s.bind !== STB_WEAK);
  if (strongKsyms.length > 0) {
    throw new ElfError(`kernel symbol extern(s) ${listed(strongKsyms.map((s) => s.name))} (__ksym) cannot be resolved: there is no kernel here (declare them __weak to get 0)`,
      where, strongKsyms[0]!.at);
  }
  const missing = pending.filter((p) => p.sym.bind !== STB_WEAK && valueOf(p.sym.name, kconfig) === undefined);
  if (missing.length > 0) {
    throw new ElfError(`kconfig extern(s) ${listed(missing.map((p) => p.sym.name))} have no value: give them values (loadObject's kconfig option, or --kconfig NAME=VALUE on the command line) or declare them __weak to get 0`,
      where, missing[0]!.sym.at);
  }

  // libbpf's layout: by alignment (largest first), then size, then name.
  pending.sort((a, b) => b.kcfg.align - a.kcfg.align || a.kcfg.size - b.kcfg.size || (a.sym.name < b.sym.name ? -1 : a.sym.name > b.sym.name ? 1 : 0));
  let size = 0;
  const offsets = new Map<string, number>();
  for (const p of pending) {
    size = Math.ceil(size / p.kcfg.align) * p.kcfg.align;
    offsets.set(p.sym.name, size);
    size += p.kcfg.size;
  }
  // The map first: creating it checks the size (a hostile char[2^32 - 1] stops here, not in an allocation).
  let map: BpfMap | undefined;
  if (pending.length > 0) {
    map = createMapAt(vm, { type: 'array', keySize: 4, valueSize: Math.max(size, 1), maxEntries: 1, name: KCONFIG_MAP, flags: MAP_FLAGS.BPF_F_RDONLY_PROG }, where, pending[0]!.sym.at);
  }
  const bytes = new Uint8Array(map === undefined ? 0 : map.valueSize);
  const externs: ObjectExtern[] = [];
  for (const p of pending) {
    const offset = offsets.get(p.sym.name)!;
    const given = valueOf(p.sym.name, kconfig);
    if (given !== undefined) encodeKconfig(p.sym.name, p.kcfg, given.value, bytes.subarray(offset, offset + p.kcfg.size));
    externs.push({
      name: p.sym.name, kind: 'kconfig', weak: p.sym.bind === STB_WEAK, type: p.type, typeId: p.typeId, offset, size: p.kcfg.size,
      source: given?.source ?? 'weak', ...(given === undefined ? {} : { value: given.value }),
    });
  }
  for (const s of ksyms) externs.push({ name: s.name, kind: 'ksym', weak: true, source: 'weak' });

  if (map instanceof ArrayMap) map.set(0, bytes);
  map?.freeze();
  const byName = new Map(externs.map((e) => [e.name, e]));
  return {
    externs, kconfig: map,
    at: (sym, imm) => {
      if (sym.shndx !== 0) return undefined;
      const e = byName.get(sym.name);
      if (e === undefined) return undefined;
      if (e.kind === 'ksym') return 'zero';
      return { map: map!, offset: e.offset! + imm };
    },
  };
}

/**
 * libbpf's virtual externs, which it computes from the running kernel,
 * default to what a 6.8 x86-64 kernel says (DEFAULT_KERNEL_VERSION):
 * BPF_KSYSCALL (bpf_tracing.h) declares LINUX_HAS_SYSCALL_WRAPPER strong.
 */
const VIRTUAL_DEFAULTS: Readonly<Record<string, KconfigValue>> = {
  LINUX_KERNEL_VERSION: DEFAULT_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE: true, LINUX_HAS_SYSCALL_WRAPPER: true,
};

function valueOf(name: string, kconfig: Readonly<Record<string, KconfigValue>>): { value: KconfigValue; source: 'option' | 'default' } | undefined {
  if (Object.hasOwn(kconfig, name)) return { value: kconfig[name]!, source: 'option' };
  if (Object.hasOwn(VIRTUAL_DEFAULTS, name)) return { value: VIRTUAL_DEFAULTS[name]!, source: 'default' };
  return undefined;
}

/** Names sorted, at most 20 of them (a hostile object can have thousands). */
function listed(names: string[]): string {
  const sorted = [...new Set(names)].sort();
  return sorted.length > 20 ? `${sorted.slice(0, 20).join(', ')} and ${sorted.length - 20} more` : sorted.join(', ');
}

/** The kconfig option, checked: an object of string / number / boolean / bigint values. */
export function checkKconfigOption(kconfig: unknown): Readonly<Record<string, KconfigValue>> {
  if (kconfig === undefined) return {};
  if (typeof kconfig !== 'object' || kconfig === null || Array.isArray(kconfig)) throw new UsageError('loadObject option kconfig must be an object of CONFIG_* values');
  for (const [k, v] of Object.entries(kconfig)) {
    if (!['string', 'number', 'boolean', 'bigint'].includes(typeof v)) throw new UsageError(`kconfig.${k} must be a string, number, boolean or bigint, got ${typeof v}`);
  }
  return kconfig as Record<string, KconfigValue>;
}
