// .BTF.ext: line and function info of the committed clang objects, CO-RE
// relocations from a snippet compiled with clang-19 (skipped with a reason
// when clang is absent), and one test per malformed-input error (a BtfError
// naming '.BTF.ext' and the byte offset of the bad field).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readElfSections } from '../lib/elf-sections.js';
import { coreReloKindName, lineAt, parseBtf, parseBtfExt, type Btf } from '../lib/btf/index.js';
import { BtfBuilder, btfError, buildExt, fixture } from './btf-builder.js';

function extOf(sections: ReturnType<typeof fixture>) {
  const btf = parseBtf(sections.find((s) => s.name === '.BTF')!.data);
  return { btf, ext: parseBtfExt(sections.find((s) => s.name === '.BTF.ext')!.data, btf) };
}

const CLANG = (() => {
  try {
    execFileSync('clang-19', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!CLANG) console.log('btf-ext: clang-19 not found, skipping the CO-RE test that compiles C');

describe('clang objects', () => {
  it('maps instructions to source lines (tail_dispatch.o)', () => {
    const { ext } = extOf(fixture('tail_dispatch.o'));
    const lines = ext.lineInfo.get('xdp')!;
    expect(lines[0]).toEqual({ insnOff: 0, file: './tail_dispatch.c', line: '\treturn XDP_DROP;', lineNum: 9, col: 2 });
    expect(lines.every((l, i) => i === 0 || l.insnOff >= lines[i - 1]!.insnOff)).toBe(true);
    expect(lineAt(lines, 8)!.line).toBe('\treturn XDP_DROP;');
    expect(lineAt(lines, 16)!.line).toBe('\treturn XDP_TX;');
    expect(lineAt([], 0)).toBeUndefined();
    expect(ext.coreRelos.size).toBe(0);
  });

  it('lists functions by section with their BTF FUNC (calls.o: .text subprograms)', () => {
    const { btf, ext } = extOf(fixture('calls.o'));
    const text = ext.funcInfo.get('.text')!;
    expect(text.map((f) => btf.typeById(f.typeId).kind)).toEqual(['func', 'func']);
    expect(btf.nameOf(text[0]!.typeId)).toBe('mix');
    expect([...ext.lineInfo.keys()].sort()).toEqual(['.text', 'socket', 'xdp']);
  });

  it.skipIf(!CLANG)('reads CO-RE relocations from a preserve_access_index struct', () => {
    const dir = mkdtempSync(join(tmpdir(), 'btf-ext-'));
    try {
      writeFileSync(join(dir, 'core.c'), [
        'struct task { int pid; int tgid; } __attribute__((preserve_access_index));',
        '__attribute__((section("kprobe/x"), used)) int probe(struct task *t) { return t->tgid; }',
      ].join('\n'));
      execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', '-c', join(dir, 'core.c'), '-o', join(dir, 'core.o')]);
      const { btf, ext } = extOf(readElfSections(new Uint8Array(readFileSync(join(dir, 'core.o')))));
      const relos = ext.coreRelos.get('kprobe/x')!;
      expect(relos).toHaveLength(1);
      expect(relos[0]).toMatchObject({ accessStr: '0:1', kind: 0 });
      expect(btf.typeName(relos[0]!.typeId)).toBe('struct task');
      expect(coreReloKindName(relos[0]!.kind)).toBe('field_byte_offset');
      expect(coreReloKindName(99)).toBe('kind 99');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hand-built', () => {
  const b = new BtfBuilder();
  b.int('int', 4);
  const sec = b.str('xdp');
  const file = b.str('a.c');
  const text = b.str('return 0;');
  const access = b.str('0:1');
  const btf: Btf = parseBtf(b.build());

  it('reads every block, skipping the tail of longer records', () => {
    const ext = parseBtfExt(buildExt({
      func: [12, sec, 1, 8, 1, 0xdead],
      line: [16, sec, 2, 0, file, text, (7 << 10) | 3, 16, file, text, 8 << 10],
      core: [16, sec, 1, 8, 1, access, 2],
    }), btf);
    expect([...ext.funcInfo]).toEqual([['xdp', [{ insnOff: 8, typeId: 1 }]]]);
    expect(ext.lineInfo.get('xdp')).toEqual([
      { insnOff: 0, file: 'a.c', line: 'return 0;', lineNum: 7, col: 3 },
      { insnOff: 16, file: 'a.c', line: 'return 0;', lineNum: 8, col: 0 },
    ]);
    expect(ext.coreRelos.get('xdp')).toEqual([{ insnOff: 8, typeId: 1, accessStr: '0:1', kind: 2 }]);
  });

  it('reads a 24-byte header without CO-RE relocations', () => {
    const ext = parseBtfExt(buildExt({ func: [8, sec, 1, 0, 1] }, { hdrLen: 24 }), btf);
    expect(ext.funcInfo.get('xdp')).toHaveLength(1);
    expect(ext.coreRelos.size).toBe(0);
  });

  const cases: [string, () => Uint8Array, RegExp, number][] = [
    ['empty', () => new Uint8Array(0), /truncated: magic/, 0],
    ['bad magic', () => buildExt({}, { magic: 1 }), /bad magic/, 0],
    ['version', () => buildExt({}, { version: 3 }), /version 3/, 2],
    ['short hdr_len', () => buildExt({}, { hdrLen: 8 }), /hdr_len 8/, 4],
    ['hdr_len past the end', () => { const x = buildExt({}); new DataView(x.buffer).setUint32(4, 99, true); return x; }, /truncated: header/, 0],
    ['block outside', () => { const x = buildExt({}); new DataView(x.buffer).setUint32(12, 0xffffffff, true); return x; }, /func_info \[0, 4294967295\)/, 8],
    ['block too short for a record size', () => { const x = buildExt({ func: [8] }); new DataView(x.buffer).setUint32(12, 2, true); return x; },
      /has no record size/, 32],
    ['record size too small', () => buildExt({ line: [8, sec, 1, 0, 0] }), /record size 8/, 32],
    ['record size unaligned', () => buildExt({ func: [10, sec, 1, 0, 0, 0] }), /record size 10/, 32],
    ['truncated section header', () => buildExt({ func: [8, sec] }), /truncated section header/, 36],
    ['no records', () => buildExt({ func: [8, sec, 0] }), /has no records/, 40],
    ['records past the block', () => buildExt({ func: [8, sec, 1000, 0, 1] }), /1000 records/, 40],
    ['section name outside the strings', () => buildExt({ func: [8, 9999, 1, 0, 1] }), /section name offset 9999/, 36],
    ['insn_off not a multiple of 8', () => buildExt({ func: [8, sec, 1, 4, 1] }), /insn_off 4/, 44],
    ['type_id out of range', () => buildExt({ func: [8, sec, 1, 0, 7] }), /type_id 7/, 48],
    ['file name outside the strings', () => buildExt({ line: [16, sec, 1, 0, 9999, text, 0] }), /file name offset 9999/, 48],
    ['access string outside the strings', () => buildExt({ core: [16, sec, 1, 0, 1, 9999, 0] }), /access string offset 9999/, 52],
  ];
  it.each(cases)('rejects %s', (_name, make, message, offset) => {
    const e = btfError(() => parseBtfExt(make(), btf));
    expect(e.message).toMatch(message);
    expect(e.section).toBe('.BTF.ext');
    expect(e.offset).toBe(offset);
  });
});
