// libbpf's BTF-defined maps: each variable of the `.maps` DATASEC is a struct
// whose members describe the map (bpf_helpers.h):
//   __uint(name, N)    int (*name)[N]       -> N is the array's nelems
//   __type(name, T)    typeof(T) *name      -> key/value type, size from BTF
//   __array(name, T)   typeof(T) *name[]    -> `values`: zero-length array of
//                      pointers; T a struct (the inner map template of a
//                      map-in-map) or a function prototype (PROG_ARRAY)
// Checked as libbpf's parse_btf_map_def checks them (strict mode): unknown
// fields, conflicting sizes, `values` not last or on another map type, and
// nested inner maps are errors.
//
// What it does not do: resolve the static `.values = { &a, &b }` slots. Those
// are relocations of the `.maps` ELF section; valuesOffset tells the loader
// where in the variable the slots start (8 bytes each).
//
// Clang leaves DATASEC variable offsets 0 (libbpf fixes them up from the ELF
// symbol table), so the loader passes the symbols' offsets; without them the
// BTF's offsets are used as they are.

import type { MapDefinition } from '../maps/index.js';
import { MAP_TYPES } from '../maps/index.js';
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import { BTF_LINKAGE, type BtfComposite, type BtfMember } from './types.js';

export interface BtfMapDef {
  name: string;
  /** type is the Linux map type number; sizes come from __uint or __type; flags from map_flags. */
  def: MapDefinition;
  /** The BTF type ids of __type(key, ...) / __type(value, ...), when given that way. */
  keyType?: number;
  valueType?: number;
  /** Byte offset of the `values` array inside this variable (PROG_ARRAY and map-in-map with __array). */
  valuesOffset?: number;
  /** Offset and size of the variable in the `.maps` section. */
  varOffset: number;
  varSize: number;
  /** __uint(pinning, ...) and __uint(map_extra, ...), when given (ebpf-js does not use them). */
  pinning?: number;
  mapExtra?: number;
}

const MAP_IN_MAP = new Set<number>([MAP_TYPES.array_of_maps, MAP_TYPES.hash_of_maps]);
const VALUES_SLOT = 8;

/** The maps of `btf`'s `.maps` DATASEC, in DATASEC order; [] when there is none. */
export function btfMaps(btf: Btf, symbols?: ReadonlyMap<string, number>): BtfMapDef[] {
  const sec = btf.datasec('.maps', symbols);
  if (sec === undefined) return [];
  return sec.vars.map((v) => {
    const variable = btf.types[v.type]!;
    const fail = (msg: string): never => btf.reader.fail(`map '${v.name}': ${msg}`, variable.offset);
    if (variable.kind !== 'var') return fail(`is a ${variable.kind}, not a variable`);
    if (variable.linkage === BTF_LINKAGE.extern) return fail('is extern');
    const struct = btf.resolved(variable.type);
    if (struct.kind !== 'struct') return fail(`is a ${struct.kind}, not a struct`);
    if (struct.size > v.size) return fail(`definition size ${struct.size} exceeds the variable's ${v.size} bytes`);
    const parsed = parseDef(btf, v.name, struct, false);
    const out: BtfMapDef = { name: v.name, def: parsed.def, varOffset: v.offset, varSize: v.size };
    if (parsed.keyType !== undefined) out.keyType = parsed.keyType;
    if (parsed.valueType !== undefined) out.valueType = parsed.valueType;
    if (parsed.valuesOffset !== undefined) {
      if ((v.size - parsed.valuesOffset) % VALUES_SLOT !== 0) {
        return fail(`values at byte ${parsed.valuesOffset} do not fill the ${v.size}-byte variable with ${VALUES_SLOT}-byte slots`);
      }
      out.valuesOffset = parsed.valuesOffset;
    }
    if (parsed.pinning !== undefined) out.pinning = parsed.pinning;
    if (parsed.mapExtra !== undefined) out.mapExtra = parsed.mapExtra;
    return out;
  });
}

interface Parsed {
  def: MapDefinition;
  keyType?: number;
  valueType?: number;
  valuesOffset?: number;
  pinning?: number;
  mapExtra?: number;
}

function parseDef(btf: Btf, mapName: string, struct: BtfComposite, inner: boolean): Parsed {
  const fail = (m: BtfMember | undefined, msg: string): never =>
    btf.reader.fail(`map '${mapName}'${m === undefined ? '' : `: field '${m.name}'`}: ${msg}`, struct.offset);
  let type: number | undefined;
  let keySize: number | undefined;
  let valueSize: number | undefined;
  let maxEntries = 0;
  let flags = 0;
  const out: Omit<Parsed, 'def'> & { inner?: MapDefinition } = {};
  /** `int (*name)[N]`: N. */
  const uint = (m: BtfMember): number => {
    const ptr = btf.resolved(m.type);
    if (ptr.kind !== 'ptr') return fail(m, `is a ${ptr.kind}, not a pointer (use __uint)`);
    const arr = btf.resolved(ptr.type);
    if (arr.kind !== 'array') return fail(m, `points to a ${arr.kind}, not an array (use __uint)`);
    return arr.nelems;
  };
  /** `typeof(T) *name`: T and its size. */
  const typed = (m: BtfMember): { id: number; size: number } => {
    const ptr = btf.resolved(m.type);
    if (ptr.kind !== 'ptr') return fail(m, `is a ${ptr.kind}, not a pointer (use __type)`);
    try {
      return { id: ptr.type, size: btf.sizeOf(ptr.type) };
    } catch (e) {
      if (e instanceof BtfError) return fail(m, `points to ${btf.typeName(ptr.type)}, which has no size`);
      throw e;
    }
  };
  const sameSize = (m: BtfMember, prev: number | undefined, size: number): number => {
    if (prev !== undefined && prev !== size) fail(m, `size ${size} conflicts with ${prev}`);
    return size;
  };
  struct.members.forEach((m, i) => {
    switch (m.name) {
      case 'type': type = uint(m); break;
      case 'max_entries': maxEntries = uint(m); break;
      case 'map_flags': flags = uint(m); break;
      case 'numa_node': uint(m); break;
      case 'key_size': keySize = sameSize(m, keySize, uint(m)); break;
      case 'value_size': valueSize = sameSize(m, valueSize, uint(m)); break;
      case 'pinning': out.pinning = uint(m); break;
      case 'map_extra': out.mapExtra = uint(m); break;
      case 'key': {
        const t = typed(m);
        keySize = sameSize(m, keySize, t.size);
        out.keyType = t.id;
        break;
      }
      case 'value': {
        const t = typed(m);
        valueSize = sameSize(m, valueSize, t.size);
        out.valueType = t.id;
        break;
      }
      case 'values': {
        if (inner) fail(m, 'multi-level inner maps are not supported');
        if (i !== struct.members.length - 1) fail(m, 'must be the last member');
        if (type === undefined || (type !== MAP_TYPES.prog_array && !MAP_IN_MAP.has(type))) {
          fail(m, 'only a prog_array or a map-in-map (with its type given first) can have values');
        }
        valueSize = sameSize(m, valueSize, 4);
        if (m.bitfieldSize !== 0 || m.bitOffset % 64 !== 0) fail(m, `bit offset ${m.bitOffset} is not 8-byte aligned`);
        out.valuesOffset = m.bitOffset / 8;
        const arr = btf.resolved(m.type);
        if (arr.kind !== 'array' || arr.nelems !== 0) fail(m, 'is not a zero-length array (use __array)');
        const ptr = btf.resolved((arr as { type: number }).type);
        if (ptr.kind !== 'ptr') fail(m, `is an array of ${ptr.kind}, not of pointers`);
        const target = btf.resolved((ptr as { type: number }).type);
        if (type === MAP_TYPES.prog_array) {
          if (target.kind !== 'func_proto') fail(m, `prog_array values must point to a function prototype, not a ${target.kind}`);
        } else {
          if (target.kind !== 'struct') fail(m, `inner map template must be a struct, not a ${target.kind}`);
          out.inner = parseDef(btf, `${mapName}.inner`, target as BtfComposite, true).def;
        }
        break;
      }
      default:
        fail(m, 'unknown field');
    }
  });
  if (type === undefined) fail(undefined, 'no type (__uint(type, ...))');
  const def: MapDefinition = { type: type!, keySize: keySize ?? 0, valueSize: valueSize ?? 0, maxEntries, flags, name: mapName };
  if (out.inner !== undefined) def.inner = out.inner;
  const { inner: _inner, ...rest } = out;
  return { def, ...rest };
}
