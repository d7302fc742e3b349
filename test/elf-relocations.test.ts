// Relocation types as clang emits them and as libbpf treats them: program
// sections take R_BPF_64_64 and R_BPF_64_32 only (anything else is an
// ElfError naming the relocation section and entry); relocation sections of
// sections nothing loads (DWARF .debug_*, .BTF, .BTF.ext: R_BPF_64_ABS32,
// R_BPF_64_ABS64, R_BPF_64_NODYLD32) are ignored unread, as libbpf skips them.

import { describe, expect, test } from 'vitest';
import { loadObject, readElfSections } from '../lib/elf/index.js';
import { Vm } from '../lib/vm.js';
import { elfError, fixture, FIXTURE_KCONFIG, FIXTURE_NAMES, runXdp } from './elf-helpers.js';

interface RelSection { name: string; index: number; offset: number; size: number; types: number[] }

/** The relocation sections of an object, with each entry's type. */
function relSections(bytes: Uint8Array): RelSection[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  return readElfSections(bytes).flatMap((s, index) => {
    if (!s.name.startsWith('.rel')) return [];
    const types: number[] = [];
    for (let at = s.offset; at < s.offset + s.size; at += 16) types.push(v.getUint32(at + 8, true));
    return [{ name: s.name, index, offset: s.offset, size: s.size, types }];
  });
}

function withType(bytes: Uint8Array, entryAt: number, type: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(entryAt + 8, type, true);
  return out;
}

describe('relocation types', () => {
  const calls = fixture('calls');
  const rels = relSections(calls);
  const relxdp = rels.find((r) => r.name === '.relxdp')!;

  test('the fixtures carry what clang emits: ABS32/ABS64 in DWARF, NODYLD32 in .BTF/.BTF.ext', () => {
    const byName = new Map(rels.map((r) => [r.name, new Set(r.types)]));
    const dwarf = new Set(rels.filter((r) => r.name.startsWith('.rel.debug')).flatMap((r) => r.types));
    expect(dwarf).toEqual(new Set([2, 3]));
    expect(byName.get('.rel.BTF')).toEqual(new Set([4]));
    expect(byName.get('.rel.BTF.ext')).toEqual(new Set([4]));
    expect(byName.get('.relxdp')).toEqual(new Set([10]));
    // Every fixture, DWARF and all, loads.
    for (const name of FIXTURE_NAMES) {
      expect(() => loadObject(new Vm(), fixture(name), { kconfig: FIXTURE_KCONFIG }), name).not.toThrow();
    }
  });

  test.each([
    [2, 'R_BPF_64_ABS64'], [3, 'R_BPF_64_ABS32'], [4, 'R_BPF_64_NODYLD32'], [0, 'R_BPF_NONE'],
  ])('type %i (%s) on an instruction is an ElfError at its entry', (type) => {
    const e = elfError(() => loadObject(new Vm(), withType(calls, relxdp.offset, type)));
    expect(e.message).toMatch(new RegExp(`relocation type ${type} at offset 16 cannot apply to code`));
    expect(e.section).toBe(`.relxdp (#${relxdp.index})`);
    expect(e.offset).toBe(relxdp.offset);
  });

  test('an unknown type in a program section names the section and offset it relocates', () => {
    const e = elfError(() => loadObject(new Vm(), withType(calls, relxdp.offset + 16, 99)));
    expect(e.message).toMatch(/relocation type 99 at offset \d+ of section xdp is not a BPF relocation/);
    expect(e).toMatchObject({ section: `.relxdp (#${relxdp.index})`, offset: relxdp.offset + 16 + 8 });
  });

  test('damaged relocations of DWARF, .BTF and .BTF.ext are ignored, as libbpf ignores them', () => {
    let bytes = calls;
    for (const r of rels.filter((x) => /^\.rel(\.debug|\.BTF)/.test(x.name))) {
      for (let at = r.offset; at < r.offset + r.size; at += 16) bytes = withType(bytes, at, 99);
    }
    const vm = new Vm();
    const obj = loadObject(vm, bytes);
    for (const engine of ['interp', 'jit'] as const) expect(runXdp(vm, obj.program('calls_xdp').prog, new Uint8Array([1]), engine)).toBe(1n);
  });
});
