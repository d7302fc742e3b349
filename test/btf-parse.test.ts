// BTF parsing: the committed clang objects (fixtures/elf), every kind from a
// hand-built blob, and one test per malformed-input error (each a BtfError,
// an ElfError naming '.BTF' and the byte offset of the bad field).

import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBtf, type Btf } from '../lib/btf/index.js';
import { BtfBuilder, btfError, FIXTURES, fixture, info, KIND, symbolOffsets } from './btf-builder.js';

const btfOf = (name: string): Btf => parseBtf(fixture(name).find((s) => s.name === '.BTF')!.data);

describe('clang objects', () => {
  it('parses the .BTF of every fixture', () => {
    const objects = readdirSync(FIXTURES).filter((f) => f.endsWith('.o'));
    expect(objects.length).toBeGreaterThan(0);
    for (const f of objects) {
      const btf = btfOf(f);
      expect(btf.types[0]!.kind).toBe('void');
      expect(btf.types.length).toBeGreaterThan(5);
    }
  });

  it('answers sizes, names and datasecs (xdp_firewall.o)', () => {
    const btf = btfOf('xdp_firewall.o');
    const counters = btf.find('counters', 'struct')!;
    expect(btf.sizeOf(counters.id)).toBe(16);
    expect(btf.typeName(counters.id)).toBe('struct counters');
    const u32 = btf.find('__u32', 'typedef')!;
    expect(btf.sizeOf(u32.id)).toBe(4);
    expect(btf.typeById(btf.resolve(u32.id)).kind).toBe('int');
    expect(btf.nameOf(btf.resolve(u32.id))).toBe('unsigned int');
    const maps = btf.datasec('.maps')!;
    expect(maps.vars.map((v) => v.name)).toEqual(['blocked', 'stats']);
    expect(btf.datasec('.nope')).toBeUndefined();
  });

  it('takes DATASEC offsets from the symbol table when given (clang leaves them 0)', () => {
    const sections = fixture('config_counters.o');
    const btf = parseBtf(sections.find((s) => s.name === '.BTF')!.data);
    const bss = btf.datasec('.bss', symbolOffsets(sections, '.bss'))!;
    expect(bss.vars.map((v) => [v.name, v.offset, v.size])).toEqual([['packets', 0, 8], ['total_bytes', 8, 8], ['oversized', 16, 8]]);
    expect(btf.datasec('.bss')!.vars.map((v) => v.offset)).toEqual([0, 0, 0]);
  });
});

describe('every kind', () => {
  it('parses each record and its fields', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, true);                                    // 1
    const ptr = b.ref('ptr', int);                                        // 2
    const arr = b.array(int, 3);                                          // 3
    const st = b.struct('s', 8, [['a', int, 0], ['f', int, 32, 3]]);      // 4
    const un = b.struct('u', 4, [['x', int, 0]], 'union');                // 5
    const en = b.raw(b.str('e'), info(KIND.enum, 2, true), 4, b.str('A'), 0xffffffff, b.str('B'), 7); // 6
    const fwd = b.raw(b.str('fu'), info(KIND.fwd, 0, true), 0);           // 7
    const td = b.ref('typedef', st, 'td');                                // 8
    const vol = b.ref('volatile', td);                                    // 9
    const cst = b.ref('const', vol);                                      // 10
    const rst = b.ref('restrict', ptr);                                   // 11
    const proto = b.raw(0, info(KIND.func_proto, 2), int, b.str('p'), ptr, 0, 0); // 12
    const fn = b.raw(b.str('f'), info(KIND.func, 1), proto);              // 13
    const v = b.var('g', cst, 0);                                         // 14
    const ds = b.datasec('.data', 8, [[v, 0, 8]]);                        // 15
    const fl = b.raw(b.str('double'), info(KIND.float), 8);               // 16
    const tag = b.raw(b.str('tag'), info(KIND.decl_tag), st, 1);          // 17
    const tt = b.ref('type_tag', int, 'user');                            // 18
    const e64 = b.raw(b.str('e64'), info(KIND.enum64, 1), 8, b.str('BIG'), 1, 0x80000000); // 19
    const btf = parseBtf(b.build());
    expect(btf.types.map((t) => t.kind)).toEqual(['void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef',
      'volatile', 'const', 'restrict', 'func_proto', 'func', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64']);
    expect(btf.typeById(int)).toMatchObject({ size: 4, bits: 32, signed: true, bitOffset: 0 });
    expect(btf.typeById(st)).toMatchObject({ members: [{ name: 'a', bitOffset: 0, bitfieldSize: 0 }, { name: 'f', bitOffset: 32, bitfieldSize: 3 }] });
    expect(btf.typeById(en)).toMatchObject({ signed: true, values: [{ name: 'A', value: -1 }, { name: 'B', value: 7 }] });
    expect(btf.typeById(e64)).toMatchObject({ signed: false, values: [{ name: 'BIG', value: 0x8000000000000001n }] });
    expect(btf.typeById(fwd)).toMatchObject({ union: true, name: 'fu' });
    expect(btf.typeById(fn)).toMatchObject({ linkage: 1, type: proto });
    expect(btf.typeById(proto)).toMatchObject({ returnType: int, params: [{ name: 'p', type: ptr }, { name: '', type: 0 }] });
    expect(btf.typeById(tag)).toMatchObject({ componentIdx: 1, type: st });
    expect(btf.resolve(cst)).toBe(st);
    expect(btf.resolve(tt)).toBe(int);
    expect(btf.resolve(rst)).toBe(ptr);
    expect([btf.sizeOf(arr), btf.sizeOf(un), btf.sizeOf(v), btf.sizeOf(ds), btf.sizeOf(fl), btf.sizeOf(rst), btf.sizeOf(e64)]).toEqual([12, 4, 8, 8, 8, 8, 8]);
    expect(btf.typeName(proto)).toBe('int (int *, ...)');
    expect(btf.typeName(cst)).toBe('const volatile td');
    expect(btf.datasec('.data')!.vars).toEqual([{ name: 'g', type: v, offset: 0, size: 8 }]);
  });

  it('accepts a longer header whose extra bytes are zero', () => {
    const b = new BtfBuilder();
    b.int('int', 4);
    expect(parseBtf(b.build({ hdrLen: 32 })).types).toHaveLength(2);
  });
});

describe('malformed .BTF', () => {
  const one = (): BtfBuilder => { const b = new BtfBuilder(); b.int('int', 4); return b; };
  const cases: [string, () => Uint8Array, RegExp, number][] = [
    ['empty', () => new Uint8Array(0), /truncated: magic/, 0],
    ['bad magic', () => one().build({ magic: 0x1234 }), /bad magic/, 0],
    ['big-endian', () => one().build({ magic: 0x9feb }), /big-endian/, 0],
    ['version', () => one().build({ version: 2 }), /version 2/, 2],
    ['short hdr_len', () => one().build({ hdrLen: 16 }), /hdr_len 16/, 4],
    ['hdr_len past the end', () => { const x = one().build(); new DataView(x.buffer).setUint32(4, 4096, true); return x; }, /truncated: header/, 0],
    ['non-zero extra header', () => { const x = one().build({ hdrLen: 28 }); x[25] = 1; return x; }, /non-zero header/, 25],
    ['type_off misaligned', () => one().build({ typeOff: 2 }), /not 4-byte aligned/, 8],
    ['type_len not a multiple of 4', () => one().build({ typeLen: 6 }), /multiple of 4/, 12],
    ['type section outside', () => one().build({ typeLen: 0xfffffff0 }), /type section/, 8],
    ['string section outside', () => one().build({ strLen: 0x7fffffff }), /string section \[/, 16],
    ['overlap', () => one().build({ strOff: 0 }), /overlap/, 16],
    ['string section not starting with NUL', () => { const x = one().build(); x[24 + 16] = 65; return x; }, /start with an empty string/, 40],
    ['string section not ending with NUL', () => { const x = one().build(); x[x.length - 1] = 65; return x; }, /end with NUL/, 44],
    ['truncated record', () => one().build({ typeLen: 8, strOff: 16 }), /truncated record/, 24],
    ['unknown kind', () => { const b = new BtfBuilder(); b.raw(0, info(25), 0); return b.build(); }, /unknown kind 25/, 28],
    ['kind 0', () => { const b = new BtfBuilder(); b.raw(0, 0, 0); return b.build(); }, /unknown kind 0/, 28],
    ['reserved bits', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.ptr) | 0x10000, 0); return b.build(); }, /reserved info bits/, 28],
    ['name outside strings', () => { const b = new BtfBuilder(); b.raw(999, info(KIND.ptr), 0); return b.build(); }, /name offset 999/, 24],
    ['member name outside strings', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.struct, 1), 4, 999, 0, 0); return b.build(); }, /member name offset 999/, 36],
    ['members past the section', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.struct, 100), 4); return b.build(); }, /100 records of 12 bytes/, 24],
    ['int size', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.int), 3, 24); return b.build(); }, /size 3/, 32],
    ['int bits past size', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.int), 1, 9); return b.build(); }, /bad encoding/, 36],
    ['int zero bits', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.int), 4, 0); return b.build(); }, /bad encoding/, 36],
    ['int extra missing', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.int), 4); return b.build(); }, /1 records of 4 bytes/, 24],
    ['type id out of range', () => { const b = new BtfBuilder(); b.ref('ptr', 7); return b.build(); }, /refers to type 7, but there are 2/, 24],
    ['member type out of range', () => { const b = new BtfBuilder(); b.struct('s', 4, [['a', 9, 0]]); return b.build(); }, /refers to type 9/, 24],
    ['vlen on a pointer', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.ptr, 1), 0); return b.build(); }, /vlen 1 must be 0/, 28],
    ['func linkage', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.func, 3), 0); return b.build(); }, /linkage 3/, 28],
    ['var linkage', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.var), 0, 5); return b.build(); }, /linkage 5/, 36],
    ['float size', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.float), 3); return b.build(); }, /float\): size 3/, 32],
    ['enum size', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.enum), 3); return b.build(); }, /enum\): size 3/, 32],
    ['decl_tag component', () => { const b = new BtfBuilder(); b.raw(0, info(KIND.decl_tag), 0, -2); return b.build(); }, /component_idx -2/, 36],
  ];
  it.each(cases)('%s', (_name, make, message, offset) => {
    const e = btfError(() => parseBtf(make()));
    expect(e.message).toMatch(message);
    expect(e.section).toBe('.BTF');
    expect(e.offset).toBe(offset);
    expect(e.code).toBe('ELF');
  });

  it('rejects a non-Uint8Array with a UsageError', () => {
    expect(() => parseBtf('x' as unknown as Uint8Array)).toThrow(/Uint8Array/);
  });
});

describe('following types', () => {
  it('guards typedef and modifier cycles', () => {
    const b = new BtfBuilder();
    b.ref('typedef', 2, 'a');
    b.ref('const', 1);
    const btf = parseBtf(b.build());
    expect(btfError(() => btf.resolve(1)).message).toMatch(/cycle/);
    expect(btfError(() => btf.sizeOf(2)).message).toMatch(/cycle/);
    expect(btf.typeName(2)).toBe('const a');
  });

  it('spells huge or cyclic prototypes in bounded time', () => {
    const b = new BtfBuilder();
    const ptr = b.ref('ptr', 2);
    const words = [0, info(KIND.func_proto, 65535), ptr];
    for (let i = 0; i < 65535; i++) words.push(0, ptr);
    b.types.push(words);
    const btf = parseBtf(b.build());
    expect(btf.typeName(2).length).toBeLessThan(10000);
  });

  it('guards array cycles and sizes past 2^32', () => {
    const b = new BtfBuilder();
    b.array(1, 2);
    const big = b.int('long', 8);
    const huge = b.array(big, 0x80000000);
    const btf = parseBtf(b.build());
    expect(btfError(() => btf.sizeOf(1)).message).toMatch(/cycle/);
    expect(btfError(() => btf.sizeOf(huge)).message).toMatch(/exceeds 2\^32/);
  });

  it('has no size for void, functions and forward declarations', () => {
    const b = new BtfBuilder();
    const proto = b.raw(0, info(KIND.func_proto), 0);
    const fn = b.raw(b.str('f'), info(KIND.func), proto);
    const fwd = b.raw(b.str('s'), info(KIND.fwd), 0);
    const btf = parseBtf(b.build());
    for (const id of [0, proto, fn, fwd]) expect(btfError(() => btf.sizeOf(id)).message).toMatch(/has no size/);
  });

  it('rejects unknown type ids and DATASEC entries that are not variables', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4);
    b.datasec('.bad', 4, [[int, 0, 4]]);
    const btf = parseBtf(b.build());
    expect(btfError(() => btf.typeById(3)).message).toMatch(/no type 3/);
    expect(btfError(() => btf.typeById(-1)).message).toMatch(/no type -1/);
    expect(btfError(() => btf.datasec('.bad')).message).toMatch(/not a var/);
  });
});
