// parseCbpf (tcpdump -ddd and -dd text) and checkCbpf (Linux's
// bpf_check_classic rules): accepted forms, and errors naming the line or pc.

import { describe, expect, it } from 'vitest';
import { checkCbpf, CbpfError, parseCbpf, type CbpfInsn } from '../lib/cbpf/index.js';
import { EbpfError } from '../lib/errors.js';

// tcpdump -ddd -y EN10MB ip / tcpdump -dd -y EN10MB ip
const DDD = '4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n';
const DD = '{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n';
const IP: CbpfInsn[] = [
  { code: 0x28, jt: 0, jf: 0, k: 12 },
  { code: 0x15, jt: 0, jf: 1, k: 0x800 },
  { code: 0x6, jt: 0, jf: 0, k: 0x40000 },
  { code: 0x6, jt: 0, jf: 0, k: 0 },
];

function parseError(text: string): CbpfError {
  try {
    parseCbpf(text);
  } catch (e) {
    expect(e).toBeInstanceOf(CbpfError);
    expect(e).toBeInstanceOf(EbpfError);
    expect((e as CbpfError).code).toBe('CBPF');
    return e as CbpfError;
  }
  throw new Error(`parsed: ${JSON.stringify(text)}`);
}

function checkError(insns: CbpfInsn[]): CbpfError {
  try {
    checkCbpf(insns);
  } catch (e) {
    expect(e).toBeInstanceOf(CbpfError);
    return e as CbpfError;
  }
  throw new Error('accepted');
}

const ret = (k = 0): CbpfInsn => ({ code: 0x06, jt: 0, jf: 0, k });
const insn = (code: number, k = 0, jt = 0, jf = 0): CbpfInsn => ({ code, jt, jf, k });

describe('parseCbpf', () => {
  it('reads tcpdump -ddd and -dd output to the same instructions', () => {
    expect(parseCbpf(DDD)).toEqual(IP);
    expect(parseCbpf(DD)).toEqual(IP);
  });

  it('tolerates blank lines, CRLF, surrounding whitespace, no trailing comma, decimal in -dd', () => {
    expect(parseCbpf(`\n\n  4 \r\n40   0 0 12\r\n\n 21 0 1 2048\n6 0 0 262144\n\t6 0 0 0`)).toEqual(IP);
    expect(parseCbpf('  {0x28,0,0,12},\n\n{ 21, 0, 1, 0x800 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x0 }\n')).toEqual(IP);
  });

  it('reads the largest field values', () => {
    expect(parseCbpf('1\n65535 255 255 4294967295')).toEqual([{ code: 0xffff, jt: 255, jf: 255, k: 0xffffffff }]);
    expect(parseCbpf('{ 0xffff, 0xff, 255, 0xFFFFFFFF }')).toEqual([{ code: 0xffff, jt: 255, jf: 255, k: 0xffffffff }]);
  });

  it('names the line of a bad instruction', () => {
    const e = parseError('4\n40 0 0 12\n\n21 0 1\n6 0 0 262144\n6 0 0 0\n');
    expect(e.line).toBe(4);
    expect(e.message).toBe(`expected "code jt jf k" (four decimal numbers), got '21 0 1' at line 4`);
    expect(parseError('{ 0x28, 0, 0, 0x0c },\n{ 0x15, 0, 1 },').line).toBe(2);
    expect(parseError('{ 0x28, 0, 0, 0x0c }\n{ 0x6, 0, 0, 0 },').message).toBe('missing "," after the instruction at line 1');
    expect(parseError('1\n6 0 0 -1').line).toBe(2);
  });

  it('refuses values that do not fit their field', () => {
    expect(parseError('1\n65536 0 0 0').message).toBe('code 65536 does not fit (largest 65535) at line 2');
    expect(parseError('1\n6 256 0 0').message).toMatch(/^jt 256 does not fit/);
    expect(parseError('2\n6 0 0 0\n6 0 0 4294967296').line).toBe(3);
    expect(parseError('{ 0x6, 0, 0x100, 0 }').message).toMatch(/^jf 0x100 does not fit/);
    expect(parseError('1\n6 0 0 99999999999999999999999').message).toMatch(/^k 9+ does not fit/);
  });

  it('checks the -ddd count', () => {
    const e = parseError('3\n40 0 0 12\n6 0 0 0\n');
    expect(e.message).toBe('the count line says 3 instructions but 2 follow at line 3');
    expect(parseError('1\n6 0 0 0\n6 0 0 0').line).toBe(3);
    expect(parseError('  \n\n').line).toBe(1);
    expect(parseError('ld [12]\nret #0').message).toMatch(/^expected the instruction count .* got 'ld \[12\]' at line 1$/);
    // A missing count line: the first instruction is not a count.
    expect(parseError('40 0 0 12\n6 0 0 0').line).toBe(1);
  });

  it('stops at Linux\'s 4096 instructions', () => {
    const ddd = (n: number, count = n) => [String(count), ...Array<string>(n).fill('6 0 0 0')].join('\n');
    expect(parseCbpf(ddd(4096))).toHaveLength(4096);
    expect(parseError(ddd(4097)).message).toBe("more than 4096 instructions (Linux's BPF_MAXINSNS) at line 4098");
    expect(parseError(ddd(1, 4097)).message).toBe('the count line says 4097 instructions (at most 4096) at line 1');
    expect(parseError(ddd(1, 1e30)).line).toBe(1);
    const dd = (n: number) => Array<string>(n).fill('{ 0x6, 0, 0, 0 },').join('\n');
    expect(parseCbpf(dd(4096))).toHaveLength(4096);
    expect(parseError(dd(4097)).line).toBe(4097);
  });

  it('clips long input in messages', () => {
    const e = parseError(`1\n${'9'.repeat(500)}`);
    expect(e.message.length).toBeLessThan(150);
  });
});

describe('checkCbpf', () => {
  it('accepts a tcpdump program and every allowed opcode in a valid position', () => {
    expect(() => checkCbpf(IP)).not.toThrow();
    expect(() => checkCbpf([insn(0x02, 3), insn(0x60, 3), insn(0x61, 3), insn(0x07), insn(0x87), insn(0x84), insn(0x16)])).not.toThrow();
  });

  it('refuses empty and too long programs', () => {
    expect(checkError([]).message).toBe('a classic program has 1 to 4096 instructions, this one 0');
    expect(() => checkCbpf(Array.from({ length: 4096 }, () => ret()))).not.toThrow();
    expect(checkError(Array.from({ length: 4097 }, () => ret())).message).toMatch(/this one 4097$/);
  });

  it('refuses unknown opcodes, naming the pc and instruction', () => {
    // ld #k with a size (0x10), ret x (0x0e), alu arsh (0xc4), jmp jne (0x55), ldx abs (0x21), misc 0x17.
    for (const code of [0x10, 0x0e, 0xc4, 0x55, 0x21, 0x17, 0x100, 0x8c]) {
      const e = checkError([insn(0x00), insn(code), ret()]);
      expect(e.pc).toBe(1);
      expect(e.message).toBe(`unknown opcode 0x${code.toString(16)} at pc 1: { 0x${code.toString(16)}, 0, 0, 0x00000000 }`);
    }
  });

  it('refuses division by constant 0, shifts by 32 or more, scratch index 16', () => {
    expect(checkError([insn(0x34, 0), ret()]).message).toMatch(/^division by constant 0 at pc 0/);
    expect(checkError([insn(0x94, 0), ret()]).pc).toBe(0);
    expect(() => checkCbpf([insn(0x3c), insn(0x9c), insn(0x64, 31), insn(0x74, 31), ret()])).not.toThrow();
    expect(checkError([insn(0x64, 32), ret()]).message).toMatch(/^shift by 32/);
    expect(checkError([insn(0x74, 0xffffffff), ret()]).pc).toBe(0);
    for (const code of [0x60, 0x61, 0x02, 0x03]) expect(checkError([insn(0x02, 0), insn(code, 16), ret()]).message).toMatch(/^scratch memory index 16 \(M\[0\.\.15\]\) at pc 1/);
  });

  it('refuses jumps past the end, accepts jumps to the last instruction', () => {
    expect(() => checkCbpf([insn(0x05, 1), ret(), ret()])).not.toThrow();
    expect(checkError([insn(0x05, 2), ret(), ret()]).message).toMatch(/^jump past the end \(target 3, 3 instructions\) at pc 0/);
    // ja k is unsigned: a "backward" k is a huge forward one.
    expect(checkError([ret(), insn(0x05, 0xffffffff), ret()]).pc).toBe(1);
    expect(() => checkCbpf([insn(0x15, 0, 1, 0), ret(), ret()])).not.toThrow();
    expect(checkError([insn(0x15, 0, 2, 0), ret(), ret()]).pc).toBe(0);
    expect(checkError([insn(0x45, 0, 0, 2), ret(), ret()]).pc).toBe(0);
    expect(checkError([insn(0x00), insn(0x1d, 0, 255, 0), ret()]).pc).toBe(1);
  });

  it('requires a return last', () => {
    expect(checkError([ret(), insn(0x00)]).message).toMatch(/^the last instruction must be a return at pc 1/);
    expect(() => checkCbpf([insn(0x16)])).not.toThrow();
  });

  it('knows the ancillary offsets Linux knows', () => {
    const anc = (n: number) => [insn(0x20, 0xfffff000 + n), ret()];
    for (const n of [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]) expect(() => checkCbpf(anc(n))).not.toThrow();
    for (const n of [2, 64, 0xffc]) expect(checkError(anc(n)).message).toMatch(new RegExp(`^unknown ancillary load SKF_AD_OFF \\+ ${n} at pc 0`));
    // Below SKF_AD_OFF (link-layer, network and plain negative offsets) is not ancillary.
    expect(() => checkCbpf([insn(0x30, 0xffe00000), insn(0x28, 0xfff00000), insn(0x20, 0x80000000), ret()])).not.toThrow();
  });

  it('requires scratch words written before they are read, on every path (check_load_and_stores)', () => {
    expect(checkError([insn(0x60, 0), ret()]).message).toMatch(/^M\[0\] read before it is written at pc 0/);
    expect(() => checkCbpf([insn(0x02, 5), insn(0x61, 5), ret()])).not.toThrow();
    // Written on the taken path only.
    const onePath = [insn(0x15, 0, 0, 1), insn(0x02, 2), insn(0x60, 2), ret()];
    expect(checkError(onePath).pc).toBe(2);
    // Written before the branch: valid on both paths.
    expect(() => checkCbpf([insn(0x02, 2), insn(0x15, 0, 0, 1), insn(0x00), insn(0x60, 2), ret()])).not.toThrow();
    // Written on both paths.
    expect(() => checkCbpf([insn(0x15, 0, 0, 2), insn(0x02, 2), insn(0x05, 1), insn(0x03, 2), insn(0x60, 2), ret()])).not.toThrow();
    // Written on one path, the other jumps over with ja.
    expect(checkError([insn(0x15, 0, 0, 2), insn(0x02, 2), insn(0x05, 1), insn(0x00), insn(0x60, 2), ret()]).pc).toBe(4);
  });

  it('refuses malformed instruction objects', () => {
    expect(checkError([{ code: 6, jt: 0, jf: 0, k: -1 }]).message).toMatch(/^an instruction must be/);
    expect(checkError([ret(), { code: 6, jt: 256, jf: 0, k: 0 }]).pc).toBe(1);
    expect(checkError([null as unknown as CbpfInsn]).pc).toBe(0);
    expect(checkError('6 0 0 0' as unknown as CbpfInsn[]).message).toMatch(/array/);
  });
});
