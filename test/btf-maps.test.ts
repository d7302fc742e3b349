// BTF-defined maps (libbpf's `.maps` convention): the committed clang objects
// (hash, percpu array, ringbuf, prog_array with static values, array and hash
// of maps with an inner template), offsets from the symbol table, and one
// test per rejected definition.

import { describe, expect, it } from 'vitest';
import { btfMaps, parseBtf } from '../lib/btf/index.js';
import { MAP_TYPES } from '../lib/maps/index.js';
import { BtfBuilder, btfError, fixture, info, KIND, symbolOffsets } from './btf-builder.js';

function mapsOf(name: string) {
  const sections = fixture(name);
  const btf = parseBtf(sections.find((s) => s.name === '.BTF')!.data);
  return { btf, maps: btfMaps(btf, symbolOffsets(sections, '.maps')), size: sections.find((s) => s.name === '.maps')?.size };
}

describe('clang objects', () => {
  it('xdp_firewall.o: a hash of __u32 -> __u8 and a percpu array of struct counters', () => {
    const { btf, maps } = mapsOf('xdp_firewall.o');
    expect(maps.map((m) => [m.name, m.def, m.varOffset, m.varSize])).toEqual([
      ['blocked', { type: MAP_TYPES.hash, keySize: 4, valueSize: 1, maxEntries: 1024, flags: 0, name: 'blocked' }, 0, 32],
      ['stats', { type: MAP_TYPES.percpu_array, keySize: 4, valueSize: 16, maxEntries: 3, flags: 0, name: 'stats' }, 32, 32],
    ]);
    expect(btf.typeName(maps[0]!.keyType!)).toBe('__u32');
    expect(btf.typeName(maps[1]!.valueType!)).toBe('struct counters');
    expect(maps[0]!.valuesOffset).toBeUndefined();
  });

  it('ringbuf.o: a ring buffer with only type and max_entries', () => {
    const { maps } = mapsOf('ringbuf.o');
    expect(maps).toEqual([{ name: 'events', def: { type: MAP_TYPES.ringbuf, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, name: 'events' }, varOffset: 0, varSize: 16 }]);
  });

  it('tail_dispatch.o: a prog_array whose values start after the definition', () => {
    const { maps, size } = mapsOf('tail_dispatch.o');
    expect(maps).toEqual([{
      name: 'jump_table', def: { type: MAP_TYPES.prog_array, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0, name: 'jump_table' },
      varOffset: 0, varSize: 40, valuesOffset: 24,
    }]);
    // Two slots initialized (.values = { [0] = ..., [1] = ... }): 16 bytes after the values offset.
    expect(size).toBe(40);
  });

  it('map_in_map.o: inner maps and outer maps with the inner template', () => {
    const { maps } = mapsOf('map_in_map.o');
    const inner = { type: MAP_TYPES.array, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 };
    expect(maps.map((m) => [m.name, m.varOffset, m.varSize, m.valuesOffset])).toEqual([
      ['inner_a', 0, 32, undefined], ['inner_b', 32, 32, undefined], ['outer_array', 64, 40, 24], ['outer_hash', 104, 40, 24],
    ]);
    expect(maps[0]!.def).toEqual({ ...inner, name: 'inner_a' });
    expect(maps[2]!.def).toEqual({ type: MAP_TYPES.array_of_maps, keySize: 4, valueSize: 4, maxEntries: 2, flags: 0, name: 'outer_array', inner: { ...inner, name: 'outer_array.inner' } });
    expect(maps[3]!.def).toMatchObject({ type: MAP_TYPES.hash_of_maps, maxEntries: 8, inner: { ...inner, name: 'outer_hash.inner' } });
  });

  it('objects without .maps have no BTF maps', () => {
    expect(mapsOf('calls.o').maps).toEqual([]);
  });
});

/** A map struct builder: `__uint(name, n)` members and friends, in a `.maps` DATASEC. */
function mapBtf(build: (b: BtfBuilder, u: (n: number) => number, int: number) => [string, number, number, number?][], varSize = 64, linkage = 1) {
  const b = new BtfBuilder();
  const int = b.int('int', 4, true);
  const u = (n: number): number => b.ref('ptr', b.array(int, n));
  const members = build(b, u, int);
  const st = b.struct('', 8 * members.length, members);
  const v = b.var('m', st, linkage);
  b.datasec('.maps', varSize, [[v, 0, varSize]]);
  return parseBtf(b.build());
}

describe('definitions', () => {
  it('reads flags, key_size/value_size, pinning, map_extra and numa_node', () => {
    const btf = mapBtf((_b, u) => [['type', u(1), 0], ['key_size', u(8), 64], ['value_size', u(12), 128], ['max_entries', u(9), 192],
      ['map_flags', u(1), 256], ['pinning', u(1), 320], ['map_extra', u(5), 384], ['numa_node', u(0), 448]]);
    expect(btfMaps(btf)).toEqual([{ name: 'm', def: { type: 1, keySize: 8, valueSize: 12, maxEntries: 9, flags: 1, name: 'm' }, varOffset: 0, varSize: 64, pinning: 1, mapExtra: 5 }]);
  });

  it('accepts key_size and __type(key) that agree', () => {
    const btf = mapBtf((b, u, int) => [['type', u(1), 0], ['key_size', u(4), 64], ['key', b.ref('ptr', int), 128], ['value', b.ref('ptr', int), 192]]);
    expect(btfMaps(btf)[0]!.def).toMatchObject({ keySize: 4, valueSize: 4 });
  });

  const cases: [string, () => ReturnType<typeof parseBtf>, RegExp][] = [
    ['no type', () => mapBtf((_b, u) => [['max_entries', u(1), 0]]), /no type/],
    ['unknown field', () => mapBtf((_b, u) => [['type', u(1), 0], ['colour', u(1), 64]]), /field 'colour': unknown field/],
    ['__uint not a pointer', () => mapBtf((_b, _u, int) => [['type', int, 0]]), /is a int, not a pointer/],
    ['__uint not to an array', () => mapBtf((b, _u, int) => [['type', b.ref('ptr', int), 0]]), /points to a int, not an array/],
    ['__type not a pointer', () => mapBtf((_b, u, int) => [['type', u(1), 0], ['key', int, 64]]), /not a pointer \(use __type\)/],
    ['__type of a sizeless type', () => mapBtf((b, u) => [['type', u(1), 0], ['key', b.ref('ptr', 0), 64]]), /has no size/],
    ['conflicting key size', () => mapBtf((b, u, int) => [['type', u(1), 0], ['key_size', u(8), 64], ['key', b.ref('ptr', int), 128]]), /size 4 conflicts with 8/],
    ['values on a hash', () => mapBtf((b, u, int) => [['type', u(1), 0], ['values', b.array(b.ref('ptr', int), 0), 64]]), /only a prog_array or a map-in-map/],
    ['values not last', () => mapBtf((b, u, int) => [['type', u(3), 0], ['values', b.array(b.ref('ptr', int), 0), 64], ['max_entries', u(1), 64]]), /must be the last member/],
    ['values not a zero-length array', () => mapBtf((b, u, int) => [['type', u(3), 0], ['values', b.array(b.ref('ptr', int), 2), 64]]), /zero-length array/],
    ['values of non-pointers', () => mapBtf((b, u, int) => [['type', u(3), 0], ['values', b.array(int, 0), 64]]), /not of pointers/],
    ['prog_array values not functions', () => mapBtf((b, u, int) => [['type', u(3), 0], ['values', b.array(b.ref('ptr', int), 0), 64]]), /function prototype/],
    ['inner template not a struct', () => mapBtf((b, u, int) => [['type', u(12), 0], ['values', b.array(b.ref('ptr', int), 0), 64]]), /must be a struct/],
    ['nested inner maps', () => mapBtf((b, u, int) => {
      const innermost = b.struct('i2', 8, [['type', u(2), 0]]);
      const mid = b.struct('i1', 16, [['type', u(12), 0], ['values', b.array(b.ref('ptr', innermost), 0), 64]]);
      void int;
      return [['type', u(12), 0], ['values', b.array(b.ref('ptr', mid), 0), 64]];
    }), /multi-level inner maps/],
    ['values misaligned', () => mapBtf((b, u) => [['type', u(3), 0], ['values', b.array(b.ref('ptr', b.raw(0, info(KIND.func_proto), 0)), 0), 68]]), /not 8-byte aligned/],
    ['values not filling the variable', () => mapBtf((b, u) => [['type', u(3), 0], ['values', b.array(b.ref('ptr', b.raw(0, info(KIND.func_proto), 0)), 0), 64]], 20), /do not fill/],
    ['definition larger than the variable', () => mapBtf((_b, u) => [['type', u(1), 0], ['max_entries', u(1), 64]], 8), /definition size 16 exceeds/],
    ['extern map', () => mapBtf((_b, u) => [['type', u(1), 0]], 8, 2), /is extern/],
  ];
  it.each(cases)('rejects %s', (_name, make, message) => {
    const e = btfError(() => btfMaps(make()));
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/map 'm/);
    expect(e.section).toBe('.BTF');
  });

  it('rejects a .maps entry that is not a struct variable', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4);
    const v = b.var('x', int);
    b.datasec('.maps', 4, [[v, 0, 4]]);
    expect(btfError(() => btfMaps(parseBtf(b.build()))).message).toMatch(/map 'x': is a int, not a struct/);
  });
});
