// loadObject on hand-made mutations of the fixtures: each kind of damage is
// an ElfError naming the section and the file offset of the bad field; and a
// fast-check fuzz over random mutations that throws nothing but EbpfErrors.

import fc from 'fast-check';
import { describe, expect, it, test } from 'vitest';
import { loadObject } from '../lib/elf/index.js';
import { readElfSections } from '../lib/elf/index.js';
import { EbpfError, ElfError } from '../lib/errors.js';
import { Vm } from '../lib/vm.js';
import { elfError, fixture, FIXTURE_KCONFIG, FIXTURE_NAMES } from './elf-helpers.js';

function patch(bytes: Uint8Array, at: number, width: 1 | 2 | 4 | 8, value: number | bigint): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  if (width === 1) v.setUint8(at, Number(value));
  else if (width === 2) v.setUint16(at, Number(value), true);
  else if (width === 4) v.setUint32(at, Number(value), true);
  else v.setBigUint64(at, BigInt(value), true);
  return out;
}

/** File offset of the header of the section named `name`, and the section. */
function header(bytes: Uint8Array, name: string): { at: number; index: number; offset: number; size: number } {
  const sections = readElfSections(bytes);
  const index = sections.findIndex((s) => s.name === name);
  if (index < 0) throw new Error(`no section ${name}`);
  const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true));
  return { at: shoff + 64 * index, index, offset: sections[index]!.offset, size: sections[index]!.size };
}

const load = (bytes: Uint8Array) => loadObject(new Vm(), bytes, { kconfig: FIXTURE_KCONFIG });

/** File offset of the .symtab entry of symbol `name`. */
function symbolEntry(bytes: Uint8Array, name: string): number {
  const sections = readElfSections(bytes);
  const symtab = sections.find((s) => s.name === '.symtab')!;
  const strtab = sections.find((s) => s.name === '.strtab')!;
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  for (let at = symtab.offset; at < symtab.offset + symtab.size; at += 24) {
    const start = strtab.offset + v.getUint32(at, true);
    if (new TextDecoder().decode(bytes.subarray(start, bytes.indexOf(0, start))) === name) return at;
  }
  throw new Error(`no symbol ${name}`);
}

describe('malformed objects', () => {
  const calls = fixture('calls');
  const legacy = fixture('legacy_maps');
  const relxdp = header(calls, '.relxdp');
  const symtab = header(calls, '.symtab');
  const xdp = header(calls, 'xdp');
  const text = header(calls, '.text');
  const maps = header(legacy, 'maps');
  const relsocket = header(legacy, '.relsocket');
  const bss = header(fixture('config_counters'), '.bss');
  const relWhere = `.relxdp (#${relxdp.index})`;
  // Symbol 16 is `mix` (the second .relxdp entry names it).
  const mix = symtab.offset + 24 * 16;
  const callsXdp = symbolEntry(calls, 'calls_xdp');
  const callsSocket = symbolEntry(calls, 'calls_socket');
  const sameName = patch(calls, callsSocket, 4, new DataView(calls.buffer).getUint32(callsXdp, true));
  const socket = header(calls, 'socket');
  const cases: [string, Uint8Array, RegExp, string, number][] = [
    ['two programs with one name', sameName, /two programs are named calls_xdp/, `socket (#${socket.index})`, socket.offset],
    ['truncated header', calls.subarray(0, 40), /truncated: 40 bytes/, 'ELF header', 40],
    ['not relocatable', patch(calls, 16, 2, 2), /e_type 2 is not a relocatable object/, 'ELF header', 16],
    ['relocation offset past the section', patch(calls, relxdp.offset, 8, xdp.size), /offset \d+ \(\+8 bytes\) is outside section xdp/, relWhere, relxdp.offset],
    ['relocation offset near 2^32', patch(calls, relxdp.offset, 8, 0xfffffff8), /offset 4294967288/, relWhere, relxdp.offset],
    ['relocation offset inside an instruction', patch(calls, relxdp.offset, 8, 0x14), /offset 20 is not an instruction's/, relWhere, relxdp.offset],
    ['relocation type', patch(calls, relxdp.offset + 8, 4, 77), /relocation type 77 at offset 16 of section xdp is not a BPF relocation/, relWhere, relxdp.offset + 8],
    ['relocation symbol index', patch(calls, relxdp.offset + 12, 4, 5000), /symbol index 5000 is outside the symbol table/, relWhere, relxdp.offset + 12],
    ['R_BPF_64_64 on a call', patch(calls, relxdp.offset + 8, 4, 1), /R_BPF_64_64 at offset 16 is not on an lddw/, relWhere, relxdp.offset],
    ['relocation entry size', patch(calls, relxdp.at + 56, 8, 24), /relocation entry size 24 is not 16/, relWhere, relxdp.at + 56],
    ['relocation target section', patch(calls, relxdp.at + 44, 4, 999), /sh_info 999 is not a section/, relWhere, relxdp.at + 44],
    ['call to a symbol outside code', patch(calls, relxdp.offset + 16 + 12, 4, 1), /call through symbol calls.c/, relWhere, relxdp.offset + 16],
    ['function past its section', patch(calls, mix + 16, 8, text.size + 8), /function mix has size \d+, not whole instructions inside section .text/, `.symtab (#${symtab.index})`, mix + 16],
    ['function start not an instruction', patch(calls, mix + 8, 8, 4), /function mix starts at 4/, `.symtab (#${symtab.index})`, mix + 8],
    ['symbol name index', patch(calls, mix, 4, 0x7fffffff), /symbol name index 2147483647 is outside/, `.symtab (#${symtab.index})`, mix],
    ['overlapping sections', patch(calls, text.at + 24, 8, xdp.offset), /overlap section .text \(#2\)/, `xdp (#${xdp.index})`, xdp.at + 24],
    ['legacy map definition', patch(legacy, maps.offset + 12, 4, 0xffffffff), /map proto_bytes: .*more than the 67108864-byte limit/, `maps (#${maps.index})`, maps.offset],
    ['legacy map type', patch(legacy, maps.offset, 4, 99), /map proto_bytes: .*type 99 is not a supported map type/, `maps (#${maps.index})`, maps.offset],
    ['lddw of a non-map', patch(legacy, relsocket.offset + 12, 4, 1), /lddw of symbol legacy_maps.c/, `.relsocket (#${relsocket.index})`, relsocket.offset],
    ['.bss size near 2^32', patch(fixture('config_counters'), bss.at + 32, 8, 0xfffffff8), /map .bss: .*valueSize 4294967288 is larger than/, `.bss (#${bss.index})`, bss.at + 32],
  ];

  it.each(cases)('%s', (_title, bytes, message, section, offset) => {
    const e = elfError(() => load(bytes));
    expect(e.message).toMatch(message);
    expect(e.section).toBe(section);
    expect(e.offset).toBe(offset);
  });
});

test('a failed load leaves no maps behind', () => {
  const vm = new Vm();
  const legacy = fixture('legacy_maps');
  const relsocket = header(legacy, '.relsocket');
  expect(() => loadObject(vm, patch(legacy, relsocket.offset + 12, 4, 1))).toThrow(ElfError);
  expect(vm.maps.list()).toEqual([]);
  expect([...loadObject(vm, legacy).maps.keys()].sort()).toEqual(['ethertype_packets', 'proto_bytes']);
});

/** The byte ranges whose damage matters: header, section headers, tables, code and map definitions. */
function hotRanges(bytes: Uint8Array): [number, number][] {
  const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true));
  const ranges: [number, number][] = [[0, 64], [shoff, bytes.length]];
  for (const s of readElfSections(bytes)) {
    if (s.size > 0 && !/^\.(rel)?\.debug|^\.rel\.BTF/.test(s.name) && s.type !== 8) ranges.push([s.offset, s.offset + s.size]);
  }
  return ranges;
}

test('random mutations of every fixture throw only EbpfErrors', () => {
  const objects = FIXTURE_NAMES.map((n) => fixture(n));
  const outcomes = new Map<string, number>();
  fc.assert(fc.property(
    fc.nat(objects.length - 1),
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    // One run in eight also truncates the file.
    fc.tuple(fc.nat(7), fc.nat()),
    (which, edits, [truncate, cut]) => {
      const original = objects[which]!;
      const ranges = hotRanges(original);
      let bytes = original.slice();
      for (const [r, pos, value] of edits) {
        const [a, b] = ranges[r % ranges.length]!;
        bytes[a + (pos % Math.max(1, b - a))] = value;
      }
      if (truncate === 0) bytes = bytes.subarray(0, cut % bytes.length);
      try {
        load(bytes);
        outcomes.set('ok', (outcomes.get('ok') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof EbpfError)) throw e;
        outcomes.set(e.name, (outcomes.get(e.name) ?? 0) + 1);
      }
    },
  ), { numRuns: 1500, seed: 7 });
  // Both outcomes occur: damage the loader ignores, and damage it reports.
  expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0);
  expect(outcomes.get('ElfError') ?? 0).toBeGreaterThan(0);
});
