// decodeValue and encodeValue: map values of the clang fixtures, every decoded kind from
// hand-built BTF (with the documented choices: bigint for 8 bytes, char
// arrays as strings only when lossless), undefined for undecodable types,
// errors for malformed layouts, and encodeValue as decodeValue's inverse.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.js';
import { btfMaps, decodeValue, encodeValue, parseBtf } from '../lib/btf/index.js';
import { BtfBuilder, btfError, fixture, info, KIND, symbolOffsets } from './btf-builder.js';

const le = (...words: [number, number][]): Uint8Array => {
  const out: number[] = [];
  for (const [value, size] of words) for (let i = 0; i < size; i++) out.push(Number((BigInt(value) >> BigInt(8 * i)) & 0xffn));
  return new Uint8Array(out);
};

describe('clang objects', () => {
  it('decodes a struct counters value and a __u32 key (xdp_firewall.o)', () => {
    const btf = parseBtf(fixture('xdp_firewall.o').find((s) => s.name === '.BTF')!.data);
    const stats = btfMaps(btf).find((m) => m.name === 'stats')!;
    expect(decodeValue(btf, stats.valueType!, le([3, 8], [2 ** 40, 8]))).toEqual({ packets: 3n, bytes: 2n ** 40n });
    expect(decodeValue(btf, stats.keyType!, le([0xfffffffe, 4]))).toBe(0xfffffffe);
  });

  it('decodes .rodata variables one by one at their symbol offsets (config_counters.o)', () => {
    const sections = fixture('config_counters.o');
    const btf = parseBtf(sections.find((s) => s.name === '.BTF')!.data);
    const rodata = sections.find((s) => s.name === '.rodata')!.data;
    const sec = btf.datasec('.rodata', symbolOffsets(sections, '.rodata'))!;
    const values = Object.fromEntries(sec.vars.filter((v) => !v.name.includes('fmt')).map((v) =>
      [v.name, decodeValue(btf, v.type, rodata.subarray(v.offset, v.offset + v.size))]));
    expect(Object.keys(values)).toEqual(['max_len', 'verbose', 'iface']);
    expect(typeof values.max_len).toBe('number');
  });
});

describe('hand-built types', () => {
  it('decodes ints, bools, enums, floats, pointers, arrays, bitfields and nested structs', () => {
    const b = new BtfBuilder();
    const s8 = b.int('signed char', 1, true);                 // 1
    const u16 = b.int('unsigned short', 2);                   // 2
    const s32 = b.int('int', 4, true);                        // 3
    const u64 = b.int('unsigned long long', 8);               // 4
    const s64 = b.int('long long', 8, true);                  // 5
    const bool = b.int('_Bool', 1, false, 8, 4);              // 6
    const en = b.raw(b.str('e'), info(KIND.enum, 0, true), 4); // 7
    const fl = b.raw(b.str('double'), info(KIND.float), 8);   // 8
    const ptr = b.ref('ptr', s32);                            // 9
    const arr = b.array(u16, 2);                              // 10
    const inner = b.struct('in', 4, [['lo', u16, 0, 4], ['hi', u16, 4, 12], ['neg', s32, 16, 3]]); // 11
    const s128 = b.int('__int128', 16, true);                 // 12
    const top = b.struct('top', 72, [['a', s8, 0], ['b', u16, 16], ['c', s32, 32], ['d', u64, 64], ['e', s64, 128], ['f', bool, 192],
      ['g', en, 224], ['h', fl, 256], ['i', ptr, 320], ['j', arr, 384], ['k', inner, 416], ['l', s128, 448]]);
    const btf = parseBtf(b.build());
    const bytes = new Uint8Array(72);
    const v = new DataView(bytes.buffer);
    v.setInt8(0, -2); v.setUint16(2, 0xbeef, true); v.setInt32(4, -5, true); v.setBigUint64(8, 2n ** 63n, true);
    v.setBigInt64(16, -7n, true); v.setUint8(24, 2); v.setInt32(28, -1, true); v.setFloat64(32, 1.5, true);
    v.setBigUint64(40, 0x1000n, true); v.setUint16(48, 1, true); v.setUint16(50, 2, true);
    v.setUint32(52, 0xa | (0x123 << 4) | (0b101 << 16), true);
    v.setBigInt64(56, -1n, true); v.setBigInt64(64, -1n, true);
    const value = {
      a: -2, b: 0xbeef, c: -5, d: 2n ** 63n, e: -7n, f: true, g: -1, h: 1.5, i: 0x1000n, j: [1, 2],
      k: { lo: 0xa, hi: 0x123, neg: -3 }, l: -1n,
    };
    expect(decodeValue(btf, top, bytes)).toEqual(value);
    bytes[24] = 1; // encodeValue writes true as 1
    expect(encodeValue(btf, top, value)).toEqual(bytes);
    expect(encodeValue(btf, top, { c: 7, k: { hi: 1 } })).toEqual(le([0, 4], [7, 4], [0, 44], [1 << 4, 4], [0, 16]));
    expect(() => encodeValue(btf, top, { a: 128 })).toThrow(/value.a: 128 does not fit a signed 8-bit/);
    expect(() => encodeValue(btf, top, { k: { lo: 16 } })).toThrow(/value.k.lo: 16 does not fit an? unsigned 4-bit/);
    expect(() => encodeValue(btf, top, { zz: 1 })).toThrow(/has no member zz/);
    expect(() => encodeValue(btf, top, { j: [1, 2, 3] })).toThrow(/at most 2 elements/);
    expect(() => encodeValue(btf, top, { c: 1.5 })).toThrow(UsageError);
    expect(() => encodeValue(btf, top, 3)).toThrow(/expected an object/);
  });

  it('decodes char arrays as strings only when that loses nothing', () => {
    const b = new BtfBuilder();
    const char = b.int('char', 1, true);
    const arr = b.array(char, 6);
    const btf = parseBtf(b.build());
    const text = (s: number[]) => decodeValue(btf, arr, new Uint8Array(s));
    expect(text([104, 105, 0, 0, 0, 0])).toBe('hi');
    expect(text([104, 105, 106, 107, 108, 109])).toBe('hijklm');
    expect(text([0, 0, 0, 0, 0, 0])).toBe('');
    expect(text([104, 105, 0, 1, 0, 0])).toEqual([104, 105, 0, 1, 0, 0]);
    expect(text([104, 10, 0, 0, 0, 0])).toEqual([104, 10, 0, 0, 0, 0]);
    expect(text([200, 0, 0, 0, 0, 0])).toEqual([-56, 0, 0, 0, 0, 0]);
    expect(encodeValue(btf, arr, 'hi')).toEqual(new Uint8Array([104, 105, 0, 0, 0, 0]));
    expect(encodeValue(btf, arr, [104, 105, 0, 1])).toEqual(new Uint8Array([104, 105, 0, 1, 0, 0]));
    expect(() => encodeValue(btf, arr, 'toolong')).toThrow(/does not fit char\[6\]/);
  });

  it('flattens anonymous struct/union members, reads unions from the same bytes, keeps __proto__ an own property', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const u8 = b.int('unsigned char', 1);
    const un = b.struct('', 4, [['word', u32, 0], ['byte', u8, 0]], 'union');
    const top = b.struct('t', 8, [['', un, 0], ['__proto__', u32, 32]]);
    const btf = parseBtf(b.build());
    const out = decodeValue(btf, top, le([0x01020304, 4], [9, 4])) as Record<string, unknown>;
    expect(out).toEqual({ word: 0x01020304, byte: 4, ['__proto__']: 9 });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toContain('__proto__');
    expect(encodeValue(btf, top, out)).toEqual(le([0x01020304, 4], [9, 4]));
    expect(encodeValue(btf, top, { byte: 5 })).toEqual(le([5, 4], [0, 4]));
  });

  it('decodes a DATASEC by its variable offsets', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const x = b.var('x', u32);
    const y = b.var('y', u32);
    const ds = b.datasec('.data', 8, [[x, 0, 4], [y, 4, 4]]);
    const btf = parseBtf(b.build());
    expect(decodeValue(btf, ds, le([1, 4], [2, 4]))).toEqual({ x: 1, y: 2 });
    expect(btfError(() => decodeValue(btf, ds, new Uint8Array(6))).message).toMatch(/variable 'y'/);
  });

  it('returns undefined when any part has no JS form, [] for zero-sized elements', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const fwdPtr = b.ref('ptr', b.raw(b.str('f'), info(KIND.fwd), 0));
    const half = b.raw(b.str('_Float16'), info(KIND.float), 2);
    const withHalf = b.struct('h', 8, [['a', u32, 0], ['b', half, 32]]);
    const empty = b.struct('e', 0, []);
    const many = b.array(empty, 1000000);
    const btf = parseBtf(b.build());
    expect(decodeValue(btf, withHalf, new Uint8Array(8))).toBeUndefined();
    expect(decodeValue(btf, fwdPtr, new Uint8Array(8))).toBe(0n);
    expect(decodeValue(btf, many, new Uint8Array(0))).toEqual([]);
  });

  it('rejects a wrong byte length (UsageError) and malformed layouts (BtfError)', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const past = b.struct('p', 4, [['a', u32, 32]]);
    const odd = b.struct('o', 8, [['a', u32, 3]]);
    const bits = b.struct('b', 4, [['a', u32, 30, 4]]);
    const self = b.struct('self', 4, [['me', 4 + 1, 0]]); // id 5 refers to itself by value
    const btf = parseBtf(b.build());
    expect(() => decodeValue(btf, u32, new Uint8Array(3))).toThrow(UsageError);
    expect(btfError(() => decodeValue(btf, past, new Uint8Array(4))).message).toMatch(/lies past/);
    expect(btfError(() => decodeValue(btf, odd, new Uint8Array(8))).message).toMatch(/not byte aligned/);
    expect(btfError(() => decodeValue(btf, bits, new Uint8Array(4))).message).toMatch(/lies past/);
    expect(btfError(() => decodeValue(btf, self, new Uint8Array(4))).message).toMatch(/nested more than 64|more members/);
  });

  it('stops on width explosions (structs of many zero-sized members, nested)', () => {
    const b = new BtfBuilder();
    const empty = b.struct('e', 0, []);
    const wide = b.struct('w', 0, Array.from({ length: 1000 }, (_, i): [string, number, number] => [`m${i}`, empty, 0]));
    const wider = b.struct('w2', 0, Array.from({ length: 1000 }, (_, i): [string, number, number] => [`n${i}`, wide, 0]));
    const btf = parseBtf(b.build());
    expect(btfError(() => decodeValue(btf, wider, new Uint8Array(0))).message).toMatch(/more members/);
  });
});
