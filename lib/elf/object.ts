// What loadObject returns: the object's programs (loaded into the Vm) and
// maps (created in it), found by name.

import { decodeValue, encodeValue, type Btf } from '../btf/index.js';
import { UsageError } from '../errors.js';
import { ArrayMap, type BpfMap } from '../maps/index.js';
import type { LoadedProgram } from '../vm.js';
import type { SourceLine } from '../vm-options.js';
import type { ObjectExtern } from './externs.js';
import type { ProgramKind } from './kinds.js';

/** The C source line of one instruction (from .BTF.ext line info); the Vm's own type, so the JIT can print it. */
export type { SourceLine };

export interface ObjectProgram {
  /** The C function's name. */
  readonly name: string;
  /** Its SEC() name. */
  readonly section: string;
  readonly kind: ProgramKind;
  readonly prog: LoadedProgram;
  /** For each pc of the linked program, its source line when .BTF.ext says (undefined when no line info). */
  readonly lineInfo?: readonly (SourceLine | undefined)[];
}

/** A global variable of a data section: its BTF type and place in the section. */
export interface GlobalVariable {
  readonly name: string;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

/** What the object's BTF says about its maps and globals (all optional: objects without BTF load too). */
export interface ObjectTypes {
  readonly btf: Btf | undefined;
  /** Key and value type ids of BTF-defined maps, by map name. */
  readonly mapTypes: ReadonlyMap<string, { readonly keyType?: number; readonly valueType?: number }>;
  /** Variables of each global data map (.rodata, .data, .bss, ...), by map name. */
  readonly globals: ReadonlyMap<string, readonly GlobalVariable[]>;
  /** The object's extern symbols (__kconfig, weak __ksym) and what they resolved to. */
  readonly externs: readonly ObjectExtern[];
}

export class BpfObject {
  /** Programs by function name, in section order. */
  readonly programs: ReadonlyMap<string, ObjectProgram>;
  /** Maps by name: `.maps` / `maps` variables, and global data as `.rodata`, `.data`, `.bss`, `.rodata.str1.1`, ... */
  readonly maps: ReadonlyMap<string, BpfMap>;
  /** The object's license section ("GPL"), when it has one. */
  readonly license: string | undefined;
  /** The parsed .BTF, when the object has one. */
  readonly btf: Btf | undefined;
  /** Extern symbols: `__kconfig` values (in the frozen `.kconfig` map) and weak `__ksym`s (0). */
  readonly externs: readonly ObjectExtern[];
  private readonly types: ObjectTypes;

  constructor(programs: ReadonlyMap<string, ObjectProgram>, maps: ReadonlyMap<string, BpfMap>, license: string | undefined,
    types: ObjectTypes) {
    this.programs = programs;
    this.maps = maps;
    this.license = license;
    this.btf = types.btf;
    this.externs = types.externs;
    this.types = types;
  }

  /**
   * A key or value of map `mapName` as a JS value through its BTF type
   * (structs of integers and arrays become objects; see lib/btf/decode.ts),
   * or undefined when the map has no such type or it does not decode.
   */
  decode(mapName: string, which: 'key' | 'value', bytes: Uint8Array): unknown {
    this.map(mapName);
    const t = this.types.mapTypes.get(mapName);
    const id = which === 'key' ? t?.keyType : t?.valueType;
    if (this.btf === undefined || id === undefined) return undefined;
    return decodeValue(this.btf, id, bytes);
  }

  /**
   * The current values of the global variables of data map `name` ('.bss',
   * '.data', '.rodata', ...), by variable name: what a skeleton's
   * `skel->bss->counter` reads. Variables that do not decode are omitted.
   */
  globals(name: string): Record<string, unknown> {
    const map = this.map(name);
    const vars = this.types.globals.get(name);
    if (vars === undefined || this.btf === undefined) return {};
    const bytes = map instanceof ArrayMap ? map.get(0) : undefined;
    const out: Record<string, unknown> = {};
    if (bytes === undefined) return out;
    for (const v of vars) {
      const value = decodeValue(this.btf, v.type, bytes.subarray(v.offset, v.offset + v.size));
      if (value !== undefined) out[v.name] = value;
    }
    return out;
  }

  /**
   * Sets global variables of data map `name` by variable name, as a
   * skeleton's `skel->rodata->max_len = 64` does: each value is encoded
   * through the variable's BTF type (lib/btf/encode.ts; structs as objects,
   * char arrays as strings); variables not named keep their bytes. Unknown
   * names and values that do not fit are UsageErrors; `.rodata*` after the
   * Vm's first run is MapError EPERM (frozen, as libbpf freezes it).
   */
  setGlobals(name: string, values: Readonly<Record<string, unknown>>): void {
    const map = this.map(name);
    const vars = this.types.globals.get(name);
    if (typeof values !== 'object' || values === null) throw new UsageError('setGlobals takes an object of variable values');
    if (!(map instanceof ArrayMap) || vars === undefined || this.btf === undefined) {
      throw new UsageError(`${name} has no BTF-described variables to set${this.btf === undefined ? ' (the object has no .BTF: compile with -g)' : ''}`);
    }
    const bytes = map.get(0)!;
    for (const [key, value] of Object.entries(values)) {
      const v = vars.find((x) => x.name === key);
      if (v === undefined) throw new UsageError(`${name} has no variable ${key}; variables: ${vars.map((x) => x.name).join(', ') || 'none'}`);
      bytes.set(encodeValue(this.btf, v.type, value).subarray(0, v.size), v.offset);
    }
    map.set(0, bytes);
  }

  /**
   * A program by function name, or by section name when that section holds
   * exactly one program. Anything else is a UsageError listing the choices.
   */
  program(nameOrSection: string): ObjectProgram {
    const byName = this.programs.get(nameOrSection);
    if (byName !== undefined) return byName;
    const inSection = [...this.programs.values()].filter((p) => p.section === nameOrSection);
    if (inSection.length === 1) return inSection[0]!;
    const names = [...this.programs.values()].map((p) => `${p.name} (${p.section})`).join(', ') || 'none';
    if (inSection.length > 1) {
      throw new UsageError(`section ${nameOrSection} holds ${inSection.length} programs (${inSection.map((p) => p.name).join(', ')}): name one`);
    }
    throw new UsageError(`no program or section named ${nameOrSection}; programs: ${names}`);
  }

  /** BTF type ids of map `name`'s key and value (BTF-defined maps declared with __type); {} when unknown. */
  mapTypes(name: string): { readonly keyType?: number; readonly valueType?: number } {
    this.map(name);
    return this.types.mapTypes.get(name) ?? {};
  }

  /** A map by name (UsageError when there is none). */
  map(name: string): BpfMap {
    const map = this.maps.get(name);
    if (map === undefined) throw new UsageError(`no map named ${name}; maps: ${[...this.maps.keys()].join(', ') || 'none'}`);
    return map;
  }
}
