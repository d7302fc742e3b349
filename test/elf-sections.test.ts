// The ELF section reader: the clang-compiled bench objects (sections, the
// code of their entry function, and what that code computes on the
// interpreter, checked against small JS models), hand-built objects for the
// entry-not-at-zero cases, one test per malformed-input error, and a
// mutation fuzz of the bench objects (byte flips and truncations throw
// ElfError or nothing, and return quickly).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EM_BPF, programBytes, readElfSections, SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS, SHT_REL, SHT_STRTAB, SHT_SYMTAB,
} from '../lib/elf-sections.js';
import { ElfError, UsageError, ValidationError } from '../lib/errors.js';
import { AVAILABLE_ENGINES, Vm, type EngineName } from '../lib/vm.js';
import { elfError } from './elf-helpers.js';

const BENCH = fileURLToPath(new URL('../fixtures/bench/', import.meta.url));
const OBJECTS = readdirSync(BENCH).filter((f) => f.endsWith('.o')).sort();
const object = (name: string): Uint8Array => new Uint8Array(readFileSync(join(BENCH, `${name}.o`)));

/** Runs bench program `name` (entry function of the same name) on `engine`. */
function runOn(engine: EngineName, name: string, input: Uint8Array): bigint {
  return new Vm().load(programBytes(object(name), name)).run(input, { engine });
}

// ---------------------------------------------------------------------------
// A minimal ELF64 writer for hand-built objects.

interface SectionSpec {
  name: string;
  type?: number;
  flags?: number;
  data: Uint8Array;
  link?: number;
  info?: number;
  entsize?: number;
}

interface SymbolSpec {
  name: string;
  /** Index among the user sections (1-based, as in the file). */
  section: number;
  value: number;
  type?: number;
}

/**
 * Sections [1..k] are `sections`, then .strtab (section and symbol names,
 * also e_shstrndx), then .symtab when there are symbols.
 */
function buildElf(sections: SectionSpec[], symbols: SymbolSpec[] = []): Uint8Array {
  const strings: number[] = [0];
  const intern = (s: string): number => {
    const at = strings.length;
    strings.push(...new TextEncoder().encode(s), 0);
    return at;
  };
  const k = sections.length;
  const all: (SectionSpec & { nameIndex: number })[] = sections.map((s) => ({ ...s, nameIndex: intern(s.name) }));
  const strtabName = intern('.strtab');
  const symtabName = intern('.symtab');
  const symData = new Uint8Array(24 * (symbols.length + 1));
  const sv = new DataView(symData.buffer);
  symbols.forEach((sym, i) => {
    const at = 24 * (i + 1);
    sv.setUint32(at, intern(sym.name), true);
    sv.setUint8(at + 4, 0x10 | (sym.type ?? 2)); // GLOBAL FUNC
    sv.setUint16(at + 6, sym.section, true);
    sv.setBigUint64(at + 8, BigInt(sym.value), true);
  });
  all.push({ name: '.strtab', type: SHT_STRTAB, data: Uint8Array.from(strings), nameIndex: strtabName });
  if (symbols.length > 0) {
    all.push({ name: '.symtab', type: SHT_SYMTAB, data: symData, link: k + 1, entsize: 24, nameIndex: symtabName });
  }
  const offsets: number[] = [];
  let pos = 64;
  for (const s of all) {
    pos = (pos + 7) & ~7;
    offsets.push(pos);
    pos += s.data.length;
  }
  const shoff = (pos + 7) & ~7;
  const out = new Uint8Array(shoff + 64 * (all.length + 1));
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 1, true); // ET_REL
  v.setUint16(18, EM_BPF, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, all.length + 1, true);
  v.setUint16(62, k + 1, true);
  all.forEach((s, i) => {
    out.set(s.data, offsets[i]!);
    const at = shoff + 64 * (i + 1);
    v.setUint32(at, s.nameIndex, true);
    v.setUint32(at + 4, s.type ?? SHT_PROGBITS, true);
    v.setBigUint64(at + 8, BigInt(s.flags ?? 0), true);
    v.setBigUint64(at + 24, BigInt(offsets[i]!), true);
    v.setBigUint64(at + 32, BigInt(s.data.length), true);
    v.setUint32(at + 40, s.link ?? 0, true);
    v.setUint32(at + 44, s.info ?? 0, true);
    v.setBigUint64(at + 56, BigInt(s.entsize ?? 0), true);
  });
  return out;
}

/** Raw instruction slots, as 8 bytes each. */
function code(...slots: [opcode: number, regs: number, off: number, imm: number][]): Uint8Array {
  const out = new Uint8Array(8 * slots.length);
  const v = new DataView(out.buffer);
  slots.forEach(([opcode, regs, off, imm], i) => {
    v.setUint8(8 * i, opcode);
    v.setUint8(8 * i + 1, regs);
    v.setInt16(8 * i + 2, off, true);
    v.setInt32(8 * i + 4, imm, true);
  });
  return out;
}

const EXEC = SHF_EXECINSTR | 2;
const MOV_R0 = (imm: number): [number, number, number, number] => [0xb7, 0x00, 0, imm];
const EXIT: [number, number, number, number] = [0x95, 0, 0, 0];
const CALL_LOCAL = (imm: number): [number, number, number, number] => [0x85, 0x10, 0, imm];

/** Section header `i` of a built object (after .strtab/.symtab are appended, indexes are as in the file). */
function shdr(bytes: Uint8Array, i: number): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true)) + 64 * i;
}
function patch(bytes: Uint8Array, at: number, width: 1 | 2 | 4 | 8, value: number | bigint): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  if (width === 1) v.setUint8(at, Number(value));
  else if (width === 2) v.setUint16(at, Number(value), true);
  else if (width === 4) v.setUint32(at, Number(value), true);
  else v.setBigUint64(at, BigInt(value), true);
  return out;
}

// ---------------------------------------------------------------------------

describe('bench objects', () => {
  it('are all here', () => {
    expect(OBJECTS.map((f) => f.replace(/\.o$/, ''))).toEqual(
      ['crc32', 'csum', 'divmod', 'fnv1a', 'pktparse', 'prng', 'scan', 'sort', 'xxmix']);
  });

  it.each(OBJECTS)('%s: sections read, and the entry is the whole .text, by any name', (file) => {
    const name = file.replace(/\.o$/, '');
    const bytes = object(name);
    const sections = readElfSections(bytes);
    expect(sections[0]).toMatchObject({ name: '', type: 0, size: 0 });
    const text = sections.find((s) => s.name === '.text')!;
    expect(text).toMatchObject({ type: SHT_PROGBITS });
    expect(text.flags & SHF_EXECINSTR).toBe(SHF_EXECINSTR);
    expect(text.data.length).toBe(text.size);
    expect([...text.data]).toEqual([...bytes.subarray(text.offset, text.offset + text.size)]);
    expect(sections.map((s) => s.name)).toEqual(expect.arrayContaining(['.symtab', '.strtab', '.BTF']));
    const prog = programBytes(bytes);
    expect([...prog]).toEqual([...text.data]);
    expect([...programBytes(bytes, '.text')]).toEqual([...prog]);
    expect([...programBytes(bytes, name)]).toEqual([...prog]);
    // No helpers, maps or relocations: it loads as it is.
    expect(new Vm().load(prog).program.helpersUsed.size).toBe(0);
  });

  it('pktparse calls a separate BPF function (a local call)', () => {
    const prog = new Vm().load(programBytes(object('pktparse'), 'pktparse')).program;
    expect(prog.functions.length).toBe(2);
  });
});

// Small JS models of the bench programs, to check that the objects compute
// what their C says (the bench then checks them against the native build).
const M64 = (1n << 64n) - 1n;
const u64 = (x: bigint): bigint => x & M64;
const rotl = (x: bigint, r: bigint): bigint => u64((x << r) | (x >> (64n - r)));
function words64(bytes: Uint8Array): bigint[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length >> 3 }, (_, i) => v.getBigUint64(8 * i, true));
}
function pseudoRandom(length: number, seed: number): Uint8Array {
  let x = seed >>> 0 || 1;
  return Uint8Array.from({ length }, () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x & 0xff;
  });
}
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function fnv1aModel(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = u64((h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}
function crc32Model(bytes: Uint8Array): bigint {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return BigInt((~crc) >>> 0);
}
function csumModel(bytes: Uint8Array): bigint {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += bytes[i]! | (bytes[i + 1]! << 8);
  if (bytes.length & 1) sum += bytes[bytes.length - 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return BigInt(~sum & 0xffff);
}
function scanModel(bytes: Uint8Array): bigint {
  if (bytes.length < 8) return 0n;
  let count = 0n;
  let offsets = 0;
  for (let i = 0; i + 8 <= bytes.length; i++) {
    if ([0, 1, 2, 3].every((j) => bytes[4 + i + j] === bytes[j])) {
      count++;
      offsets = (offsets + i) >>> 0;
    }
  }
  return (count << 32n) | BigInt(offsets);
}
function prngModel(seed: bigint, n: number): bigint {
  let x = seed | 1n;
  let acc = 0n;
  for (let i = 0; i < n; i++) {
    x ^= x >> 12n; x = u64(x ^ (x << 25n)); x ^= x >> 27n;
    let z = u64(x * 0x2545f4914f6cdd1dn);
    z = u64((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = u64((z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    acc = u64(acc + (z ^ (z >> 31n)));
  }
  return acc ^ x;
}
function divmodModel(bytes: Uint8Array): bigint {
  const w = words64(bytes);
  let acc = 0n;
  for (let i = 0; 2 * i + 1 < w.length; i++) {
    let a = w[2 * i]!, b = w[2 * i + 1]!;
    const q = a / ((b >> 40n) | 1n);
    let x = Number((a ^ b) & 0xffffffffn);
    const base = 2 + Number(a & 15n);
    let d = 0;
    while (x !== 0) { d += x % base; x = Math.floor(x / base); }
    for (let k = 0; k < 128 && b !== 0n; k++) [a, b] = [b, a % b];
    acc = u64(acc * 31n + a + q + BigInt(d));
  }
  return acc;
}
function sortModel(bytes: Uint8Array): bigint {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const all = Array.from({ length: bytes.length >> 2 }, (_, i) => v.getUint32(4 * i, true));
  let h = 0xcbf29ce484222325n;
  for (let start = 0; start < all.length; start += 64) {
    for (const x of all.slice(start, start + 64).sort((p, q) => p - q)) h = u64((h ^ BigInt(x)) * 0x100000001b3n);
  }
  return h;
}
function xxmixModel(bytes: Uint8Array): bigint {
  const P1 = 0x9e3779b185ebca87n, P2 = 0xc2b2ae3d27d4eb4fn, P3 = 0x165667b19e3779f9n;
  const P4 = 0x85ebca77c2b2ae63n, P5 = 0x27d4eb2f165667c5n;
  const round = (acc: bigint, input: bigint): bigint => u64(rotl(u64(acc + input * P2), 31n) * P1);
  const w = words64(bytes);
  const len = bytes.length;
  const v = [u64(P1 + P2), P2, 0n, u64(-P1)];
  const stripes = Math.floor(len / 32);
  for (let i = 0; i < stripes; i++) for (let l = 0; l < 4; l++) v[l] = round(v[l]!, w[4 * i + l]!);
  let h = u64(rotl(v[0]!, 1n) + rotl(v[1]!, 7n) + rotl(v[2]!, 12n) + rotl(v[3]!, 18n) + BigInt(len));
  for (let i = stripes * 4; i < w.length; i++) h = u64(rotl(h ^ round(0n, w[i]!), 27n) * P1 + P4);
  for (let i = len & ~7; i < len; i++) h = u64(rotl(h ^ u64(BigInt(bytes[i]!) * P5), 11n) * P1);
  h ^= h >> 33n; h = u64(h * P2); h ^= h >> 29n; h = u64(h * P3); h ^= h >> 32n;
  return h;
}

describe.each(AVAILABLE_ENGINES)('bench programs compute what their C says on %s', (engine) => {
  const runBench = (name: string, input: Uint8Array): bigint => runOn(engine, name, input);

  it('crc32: the standard check value and random inputs', () => {
    expect(runBench('crc32', ascii('123456789'))).toBe(0xcbf43926n);
    expect(runBench('crc32', new Uint8Array(0))).toBe(0n);
    const r = pseudoRandom(301, 7);
    expect(runBench('crc32', r)).toBe(crc32Model(r));
  });

  it('fnv1a: published test vectors and random inputs', () => {
    expect(runBench('fnv1a', new Uint8Array(0))).toBe(0xcbf29ce484222325n);
    expect(runBench('fnv1a', ascii('a'))).toBe(0xaf63dc4c8601ec8cn);
    expect(runBench('fnv1a', ascii('foobar'))).toBe(0x85944171f73967e8n);
    const r = pseudoRandom(257, 3);
    expect(runBench('fnv1a', r)).toBe(fnv1aModel(r));
  });

  it('csum: the RFC 1071 example (byte-swapped, summed in host order) and odd lengths', () => {
    expect(runBench('csum', Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7))).toBe(0x0d22n);
    for (const n of [0, 1, 2, 3, 999, 4096]) {
      const r = pseudoRandom(n, n + 11);
      expect(runBench('csum', r)).toBe(csumModel(r));
    }
    expect(runBench('csum', new Uint8Array(4000).fill(0xff))).toBe(0n);
  });

  it('scan: overlapping matches, and inputs too short', () => {
    // Pattern "abab" in "ababab": at offsets 0 and 2.
    expect(runBench('scan', ascii('ababababab'))).toBe((2n << 32n) | 2n);
    expect(runBench('scan', ascii('abababab'))).toBe(1n << 32n);
    expect(runBench('scan', ascii('abcd'))).toBe(0n);
    const r = pseudoRandom(2000, 5).map((b) => 0x61 + (b & 1));
    expect(runBench('scan', r)).toBe(scanModel(r));
  });

  it('prng: short inputs give 0, and N iterations from the input', () => {
    expect(runBench('prng', new Uint8Array(11))).toBe(0n);
    const input = new Uint8Array(12);
    const v = new DataView(input.buffer);
    v.setBigUint64(0, 0x0123456789abcdefn, true);
    v.setUint32(8, 300, true);
    expect(runBench('prng', input)).toBe(prngModel(0x0123456789abcdefn, 300));
  });

  it('divmod, sort and xxmix match their models on random inputs', () => {
    for (const n of [0, 16, 40, 160]) {
      const r = pseudoRandom(n, n + 1);
      expect(runBench('divmod', r)).toBe(divmodModel(r));
    }
    for (const n of [0, 4, 260, 1024]) {
      const r = pseudoRandom(n, n + 2);
      expect(runBench('sort', r)).toBe(sortModel(r));
    }
    for (const n of [0, 7, 31, 32, 100, 1000]) {
      const r = pseudoRandom(n, n + 3);
      expect(runBench('xxmix', r)).toBe(xxmixModel(r));
    }
  });

  it('pktparse: counters of a three-record capture', () => {
    // Record 1: IPv4 TCP SYN 1234 -> 80. Record 2: VLAN-tagged IPv6 UDP
    // 5353 -> 53. Record 3: a 10-byte runt.
    const frames: number[][] = [];
    const eth = (type: number): number[] => [...Array(12).fill(0x11), type >> 8, type & 0xff];
    const be16 = (x: number): number[] => [x >> 8, x & 0xff];
    const tcp = [...be16(1234), ...be16(80), 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0];
    const ipv4 = [0x45, 0, ...be16(40), 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    frames.push([...eth(0x0800), ...ipv4, ...tcp]);
    const udp = [...be16(5353), ...be16(53), ...be16(8), 0, 0];
    const ipv6 = [0x60, 0, 0, 0, ...be16(8), 17, 64, ...Array(32).fill(0)];
    frames.push([...Array(12).fill(0x22), 0x81, 0x00, 0x00, 0x05, 0x86, 0xdd, ...ipv6, ...udp]);
    frames.push(Array(10).fill(0));
    const bytes: number[] = [];
    for (const f of frames) {
      bytes.push(f.length & 0xff, f.length >> 8, ...f);
      while (bytes.length % 4 !== 0) bytes.push(0);
    }
    // records, vlan, arp, ipv4, ipv6, other, frag, trunc, tcp, syn, udp, dns, icmp, icmp_types
    const counters = [3, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0];
    const ports = 1234n + 80n + 5353n + 53n;
    const h = counters.slice(1).reduce((acc, c) => u64(acc * 1000003n + BigInt(c)), BigInt(counters[0]!));
    expect(runBench('pktparse', Uint8Array.from(bytes))).toBe(h ^ u64(ports << 40n));
  });
});

describe('programBytes on hand-built objects', () => {
  // .text: helper at pc 0-1, entry at pc 2 calling pc 5; callee at pc 5-6.
  const text = code(MOV_R0(7), EXIT, CALL_LOCAL(2), [0x07, 0, 0, 1], EXIT, MOV_R0(40), EXIT);
  const elf = buildElf(
    [{ name: '.text', flags: EXEC, data: text }, { name: 'prog', flags: EXEC, data: code(MOV_R0(3), EXIT) }],
    [{ name: 'helper', section: 1, value: 0 }, { name: 'entry', section: 1, value: 16 }, { name: 'main', section: 2, value: 0 }],
  );

  it('finds a function in the middle of its section and keeps its callees', () => {
    const prog = programBytes(elf, 'entry');
    expect([...prog]).toEqual([...text.subarray(16)]);
    expect(new Vm().load(prog).run()).toBe(41n);
    expect(new Vm().load(programBytes(elf, 'helper')).run()).toBe(7n);
  });

  it('takes the first code section by default, and sections by name', () => {
    expect([...programBytes(elf)]).toEqual([...text]);
    expect(new Vm().load(programBytes(elf, 'prog')).run()).toBe(3n);
    expect(new Vm().load(programBytes(elf, 'main')).run()).toBe(3n);
  });

  it('returns a copy, not a view of the input', () => {
    const prog = programBytes(elf, 'prog');
    prog[4] = 99;
    expect(new Vm().load(programBytes(elf, 'prog')).run()).toBe(3n);
  });

  it('rejects a call before the entry', () => {
    const back = buildElf([{ name: '.text', flags: EXEC, data: code(MOV_R0(7), EXIT, CALL_LOCAL(-3), EXIT) }],
      [{ name: 'entry', section: 1, value: 16 }]);
    const e = elfError(() => programBytes(back, 'entry'));
    expect(e.message).toMatch(/function entry: the instruction at pc 0 refers to pc -2/);
    expect(e.section).toBe('.text (#1)');
    expect(e.offset).toBe(64 + 16);
    // The whole section is fine (its entry is the helper at pc 0).
    expect(new Vm().load(programBytes(back)).run()).toBe(7n);
  });

  it('rejects relocations against the code, but not elsewhere in the section', () => {
    const rel = new Uint8Array(16);
    new DataView(rel.buffer).setBigUint64(0, 8n, true); // at pc 1
    const withRel = buildElf([
      { name: '.text', flags: EXEC, data: code(MOV_R0(1), EXIT, MOV_R0(2), EXIT) },
      { name: '.rel.text', type: SHT_REL, data: rel, info: 1, entsize: 16 },
    ], [{ name: 'a', section: 1, value: 0 }, { name: 'b', section: 1, value: 16 }]);
    expect(elfError(() => programBytes(withRel, 'a')).message).toMatch(/function a has a relocation at offset 8/);
    expect(elfError(() => programBytes(withRel, 'a')).section).toBe('.rel.text (#2)');
    expect(new Vm().load(programBytes(withRel, 'b')).run()).toBe(2n);
  });

  it('errors: unknown names, no code, bad code size, duplicate functions', () => {
    expect(elfError(() => programBytes(elf, 'nope')).message).toMatch(/no code section or function named nope/);
    expect(elfError(() => programBytes(elf, '\u0000\n'.repeat(100))).message).toMatch(/named \?\?\?\?/);
    const noCode = buildElf([{ name: '.data', data: new Uint8Array(8) }]);
    expect(elfError(() => programBytes(noCode)).message).toMatch(/no executable section with code/);
    const odd = buildElf([{ name: '.text', flags: EXEC, data: new Uint8Array(12) }]);
    expect(elfError(() => programBytes(odd)).message).toMatch(/code size 12 is not a multiple of 8/);
    const dup = buildElf([{ name: 'a', flags: EXEC, data: code(EXIT) }, { name: 'b', flags: EXEC, data: code(EXIT) }],
      [{ name: 'f', section: 1, value: 0 }, { name: 'f', section: 2, value: 0 }]);
    expect(elfError(() => programBytes(dup, 'f'))).toMatchObject({
      message: expect.stringMatching(/2 functions are named f; name their section instead/),
      section: '.symtab (#4)',
    });
    expect(new Vm().load(programBytes(dup, 'b')).program.slotCount).toBe(1);
  });

  it('errors: symbols pointing at no code, misaligned or past the end', () => {
    const bad = (section: number, value: number): ElfError => elfError(() => programBytes(
      buildElf([{ name: '.text', flags: EXEC, data: code(EXIT) }, { name: '.data', data: new Uint8Array(8) }],
        [{ name: 'f', section, value }]), 'f'));
    expect(bad(2, 0).message).toMatch(/function f is in section \.data \(#2\), which holds no code/);
    expect(bad(0, 0).message).toMatch(/function f has section index 0/);
    expect(bad(0xfff1, 0).message).toMatch(/section index 65521/);
    expect(bad(9, 0).message).toMatch(/section index 9/);
    expect(bad(1, 4).message).toMatch(/starts at 4, not an instruction/);
    expect(bad(1, 8).message).toMatch(/starts at 8, not an instruction/);
    expect(bad(1, 8).section).toBe('.symtab (#4)');
  });

  it('ignores NOBITS sizes (no bytes in the file) and reads no data for them', () => {
    const base = buildElf([{ name: '.bss', type: SHT_NOBITS, data: new Uint8Array(0) }]);
    const bss = readElfSections(patch(base, shdr(base, 1) + 32, 8, 2n ** 40n));
    expect(bss[1]).toMatchObject({ name: '.bss', size: 2 ** 40 });
    expect(bss[1]!.data.length).toBe(0);
  });

  it('takes API misuse as UsageError', () => {
    expect(() => readElfSections([1, 2] as unknown as Uint8Array)).toThrow(UsageError);
    expect(() => programBytes(elf, 5 as unknown as string)).toThrow(UsageError);
  });
});

describe('malformed headers and tables throw ElfError naming section and offset', () => {
  const good = buildElf([{ name: '.text', flags: EXEC, data: code(MOV_R0(1), EXIT) }], [{ name: 'f', section: 1, value: 0 }]);
  const text = shdr(good, 1);
  const strtab = shdr(good, 2);
  const symtab = shdr(good, 3);
  const cases: [string, Uint8Array, RegExp, string, number][] = [
    ['empty input', new Uint8Array(0), /truncated: 0 bytes/, 'ELF header', 0],
    ['truncated header', good.subarray(0, 63), /truncated: 63 bytes/, 'ELF header', 63],
    ['bad magic', patch(good, 1, 1, 0x46), /bad magic/, 'ELF header', 0],
    ['ELF32', patch(good, 4, 1, 1), /class 1 is not ELF64/, 'ELF header', 4],
    ['big-endian', patch(good, 5, 1, 2), /big-endian object \(clang -target bpfeb\): only little-endian/, 'ELF header', 5],
    ['ident version', patch(good, 6, 1, 0), /ident version 0/, 'ELF header', 6],
    ['x86-64 machine', patch(good, 18, 2, 62), /machine 62 \(x86-64\) is not BPF \(247\): compile with clang -target bpf/, 'ELF header', 18],
    ['shentsize', patch(good, 58, 2, 40), /e_shentsize 40 is not 64/, 'ELF header', 58],
    ['shoff past the end', patch(good, 40, 8, good.length), /section header table .* outside the file/, 'ELF header', 40],
    ['shoff near 2^32', patch(good, 40, 8, 0xffffffc0), /section header table \(4 entries\) \[4294967232, 4294967488\) lies outside/, 'ELF header', 40],
    ['shoff near 2^64', patch(good, 40, 8, 0xffffffffffffffc0n), /e_shoff 0xffffffffffffffc0 is out of range/, 'ELF header', 40],
    ['shnum too large', patch(good, 60, 2, 0xffff), /section header table \(65535 entries\)/, 'ELF header', 40],
    ['extended numbering', patch(good, 60, 2, 0), /extended section numbering/, 'ELF header', 60],
    ['shstrndx out of range', patch(good, 62, 2, 9), /e_shstrndx 9 is not a section/, 'ELF header', 62],
    ['name table past the end', patch(good, strtab + 24, 8, 0x7ffffff0), /contents \[2147483632, /, '#2', strtab + 24],
    ['names not a STRTAB', patch(good, strtab + 4, 4, SHT_PROGBITS), /section-name table has type 1/, '#2', strtab + 4],
    ['name index out of range', patch(good, text, 4, 0x7fffffff), /section name index 2147483647 is outside/, '#1', text],
    ['section past the end', patch(good, text + 32, 8, 0x10000), /contents \[64, 65600\) lies outside/, '.text (#1)', text + 24],
    ['offset + size wraps 2^32', patch(patch(good, text + 24, 8, 0xfffffff0), text + 32, 8, 0x20),
      /contents \[4294967280, 4294967312\)/, '.text (#1)', text + 24],
    ['size near 2^64', patch(good, text + 32, 8, 0xfffffffffffffff8n), /sh_size 0xfffffffffffffff8 is out of range/, '#1', text + 32],
    ['symtab entsize', patch(good, symtab + 56, 8, 16), /symbol entry size 16 is not 24/, '.symtab (#3)', symtab + 56],
    ['symtab link', patch(good, symtab + 40, 4, 1), /sh_link 1 is not a string table/, '.symtab (#3)', symtab + 40],
    ['symtab link past the table', patch(good, symtab + 40, 4, 77), /sh_link 77/, '.symtab (#3)', symtab + 40],
  ];

  it.each(cases)('%s', (_title, bytes, message, section, offset) => {
    const e = elfError(() => programBytes(bytes, 'f'));
    expect(e.message).toMatch(message);
    expect(e).toMatchObject({ code: 'ELF', section, offset });
    expect(e.message).toContain(`(section ${section}, offset ${offset})`);
  });

  it('unterminated names', () => {
    // Make the last name of .strtab run to the end of the table.
    const s = readElfSections(good)[2]!;
    const bytes = patch(good, s.offset + s.size - 1, 1, 0x41);
    const e = elfError(() => programBytes(bytes, 'f'));
    expect(e.message).toMatch(/is not NUL-terminated/);
  });

  it('a file with no sections has only an empty table', () => {
    const bare = patch(patch(good, 60, 2, 0), 40, 8, 0);
    expect(readElfSections(bare)).toEqual([]);
    expect(elfError(() => programBytes(bare)).message).toMatch(/no executable section/);
  });
});

describe('mutation fuzz of the bench objects', () => {
  const inputs = OBJECTS.map((f) => ({ name: f.replace(/\.o$/, ''), bytes: object(f.replace(/\.o$/, '')) }));

  /** Every outcome but a result or an ElfError fails (a hang fails by the test timeout). */
  function check(bytes: Uint8Array, name: string): void {
    for (const pick of [undefined, name, '.text']) {
      try {
        readElfSections(bytes);
        const prog = programBytes(bytes, pick);
        // What comes out is bytecode the validator judges, never a crash.
        try {
          new Vm().load(prog);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
        }
      } catch (e) {
        if (!(e instanceof ElfError)) throw e;
      }
    }
  }

  const mutation = fc.record({
    object: fc.nat({ max: inputs.length - 1 }),
    // Flips anywhere, and flips in the header and section table, where they matter most.
    flips: fc.array(fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 255 })),
      { maxLength: 12 }),
    tableFlips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
    truncate: fc.option(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { freq: 4 }),
  });

  it('flips and truncations throw ElfError or nothing, quickly', () => {
    fc.assert(fc.property(mutation, ({ object: o, flips, tableFlips, truncate }) => {
      const { name, bytes: original } = inputs[o]!;
      const bytes = original.slice();
      for (const [where, xor] of flips) bytes[Math.floor(where * bytes.length)]! ^= xor;
      const shoff = Number(new DataView(original.buffer, original.byteOffset).getBigUint64(40, true));
      const hot = [...Array(64).keys(), ...Array.from({ length: original.length - shoff }, (_, i) => shoff + i)];
      for (const [where, xor] of tableFlips) bytes[hot[where % hot.length]!]! ^= xor;
      check(truncate === null ? bytes : bytes.subarray(0, Math.floor(truncate * bytes.length)), name);
    }), { numRuns: 3000, seed: 0x5eed });
  });

  it('every truncation of one object throws ElfError or nothing', () => {
    const { name, bytes } = inputs.find((i) => i.name === 'fnv1a')!;
    for (let n = 0; n <= bytes.length; n++) check(bytes.subarray(0, n), name);
  });
});
