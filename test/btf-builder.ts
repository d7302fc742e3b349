// Hand-built BTF and .BTF.ext blobs for the BTF tests: types as raw u32 words
// (so malformed records are as easy to write as good ones), a string table,
// and a header whose every field can be overridden.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { readElfSections } from '../lib/elf-sections.js';
import { ElfError } from '../lib/errors.js';
import { BtfError } from '../lib/btf/index.js';

/** The committed clang objects (fixtures/elf/*.o, built by fixtures/elf/build.sh). */
export const FIXTURES = fileURLToPath(new URL('../fixtures/elf/', import.meta.url));
export const fixture = (name: string) => readElfSections(new Uint8Array(readFileSync(FIXTURES + name)));

/** The BtfError `fn` throws (fails the test when it throws something else or nothing). */
export function btfError(fn: () => unknown): BtfError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BtfError);
    expect(e).toBeInstanceOf(ElfError);
    return e as BtfError;
  }
  throw new Error('expected a BtfError');
}

export const KIND = {
  int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8, volatile: 9, const: 10,
  restrict: 11, func: 12, func_proto: 13, var: 14, datasec: 15, float: 16, decl_tag: 17, type_tag: 18, enum64: 19,
} as const;

export const info = (kind: number, vlen = 0, kflag = false): number => ((kflag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0;

export interface HeaderOverrides {
  magic?: number; version?: number; flags?: number; hdrLen?: number; typeOff?: number; typeLen?: number; strOff?: number; strLen?: number;
}

export class BtfBuilder {
  private strs: number[] = [0];
  private readonly names = new Map<string, number>();
  /** One entry per type (ids from 1). */
  readonly types: number[][] = [];

  str(s: string): number {
    if (s === '') return 0;
    const known = this.names.get(s);
    if (known !== undefined) return known;
    const off = this.strs.length;
    this.strs.push(...new TextEncoder().encode(s), 0);
    this.names.set(s, off);
    return off;
  }
  /** Adds a raw record; returns its id. */
  raw(...words: number[]): number {
    this.types.push(words);
    return this.types.length;
  }
  int(name: string, size: number, signed = false, bits = size * 8, encodingExtra = 0): number {
    return this.raw(this.str(name), info(KIND.int), size, (((signed ? 1 : 0) | encodingExtra) << 24) | bits);
  }
  ref(kind: 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag', type: number, name = ''): number {
    return this.raw(this.str(name), info(KIND[kind]), type);
  }
  array(type: number, nelems: number, indexType = type): number {
    return this.raw(0, info(KIND.array), 0, type, indexType, nelems);
  }
  /** members: [name, type, bitOffset, bitfieldSize?]; kflag set when any has a bitfield size. */
  struct(name: string, size: number, members: [string, number, number, number?][], kind: 'struct' | 'union' = 'struct'): number {
    const kflag = members.some((m) => (m[3] ?? 0) > 0);
    const words = [this.str(name), info(KIND[kind], members.length, kflag), size];
    for (const [n, t, off, bits] of members) words.push(this.str(n), t, kflag ? ((bits ?? 0) << 24) | off : off);
    return this.raw(...words);
  }
  var(name: string, type: number, linkage = 1): number {
    return this.raw(this.str(name), info(KIND.var), type, linkage);
  }
  datasec(name: string, size: number, vars: [number, number, number][]): number {
    return this.raw(this.str(name), info(KIND.datasec, vars.length), size, ...vars.flat());
  }
  /** The string table's bytes. */
  strings(): number[] {
    return this.strs;
  }

  build(h: HeaderOverrides = {}): Uint8Array {
    const typeWords = this.types.flat();
    const typeLen = typeWords.length * 4;
    const strLen = this.strs.length;
    const hdrLen = h.hdrLen ?? 24;
    const out = new Uint8Array(Math.max(hdrLen, 24) + typeLen + strLen);
    const v = new DataView(out.buffer);
    v.setUint16(0, h.magic ?? 0xeb9f, true);
    v.setUint8(2, h.version ?? 1);
    v.setUint8(3, h.flags ?? 0);
    v.setUint32(4, hdrLen, true);
    v.setUint32(8, h.typeOff ?? 0, true);
    v.setUint32(12, h.typeLen ?? typeLen, true);
    v.setUint32(16, h.strOff ?? typeLen, true);
    v.setUint32(20, h.strLen ?? strLen, true);
    const base = Math.max(hdrLen, 24);
    typeWords.forEach((w, i) => v.setUint32(base + i * 4, w >>> 0, true));
    out.set(this.strs, base + typeLen);
    return out;
  }
}

/** A .BTF.ext blob: blocks given as u32 words (record size first), header fields overridable. */
export function buildExt(blocks: { func?: number[]; line?: number[]; core?: number[] }, h: { magic?: number; version?: number; hdrLen?: number } = {}): Uint8Array {
  const hdrLen = h.hdrLen ?? 32;
  const parts = [blocks.func ?? [], blocks.line ?? [], blocks.core ?? []];
  const total = parts.reduce((n, p) => n + p.length * 4, 0);
  const out = new Uint8Array(Math.max(hdrLen, 24) + total);
  const v = new DataView(out.buffer);
  v.setUint16(0, h.magic ?? 0xeb9f, true);
  v.setUint8(2, h.version ?? 1);
  v.setUint32(4, hdrLen, true);
  let off = 0;
  parts.forEach((p, i) => {
    if (8 + i * 8 + 8 <= Math.max(hdrLen, 24)) {
      v.setUint32(8 + i * 8, off, true);
      v.setUint32(12 + i * 8, p.length * 4, true);
    }
    p.forEach((w, j) => v.setUint32(Math.max(hdrLen, 24) + off + j * 4, w >>> 0, true));
    off += p.length * 4;
  });
  return out;
}

/** ELF64 symbols defined in section `sectionName`: name -> st_value (for DATASEC offsets, as libbpf does). */
export function symbolOffsets(sections: readonly { name: string; type: number; data: Uint8Array }[], sectionName: string): Map<string, number> {
  const out = new Map<string, number>();
  const symtab = sections.find((s) => s.type === 2);
  const strtab = sections.find((s) => s.name === '.strtab');
  const index = sections.findIndex((s) => s.name === sectionName);
  if (symtab === undefined || strtab === undefined || index < 0) return out;
  const v = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
  for (let at = 0; at + 24 <= symtab.data.byteLength; at += 24) {
    if (v.getUint16(at + 6, true) !== index) continue;
    const nameOff = v.getUint32(at, true);
    const end = strtab.data.indexOf(0, nameOff);
    const name = new TextDecoder().decode(strtab.data.subarray(nameOff, end));
    if (name !== '' && (v.getUint8(at + 4) & 0xf) === 1) out.set(name, Number(v.getBigUint64(at + 8, true)));
  }
  return out;
}
