import { describe, expect, it } from 'vitest';
import { DataFileError, errorMatches, parseDataFile, parseHexBytes } from '../lib/datafile.js';

describe('parseDataFile', () => {
  it('reads asm, mem, result and ignores comments before the first section', () => {
    const c = parseDataFile('# header\n-- asm\nmov %r0, 1\nexit\n-- mem\n00 01\nff\n-- result\n0x1\n-- no register offset\n');
    expect(c.asm).toBe('mov %r0, 1\nexit');
    expect(c.asmLine).toBe(3);
    expect([...c.mem!]).toEqual([0, 1, 255]);
    expect(c.result).toBe(1n);
    expect(c.sections.has('no register offset')).toBe(true);
  });

  it('reads raw sections as 64-bit words (little-endian instruction bytes) or byte lists', () => {
    const words = parseDataFile('-- raw\n0x5566778800000018\n0x1122334400000000\n0x0000000000000095\n-- result\n0x1\n');
    expect([...words.raw!.subarray(0, 8)]).toEqual([0x18, 0, 0, 0, 0x88, 0x77, 0x66, 0x55]);
    expect(words.raw!.length).toBe(24);
    const bytes = parseDataFile('-- raw\n07 00 01 00 01 00 00 00\n95 00 00 00 00 00 00 00\n-- error\n');
    expect([...bytes.raw!.subarray(0, 4)]).toEqual([7, 0, 1, 0]);
    expect(bytes.error).toBe('');
  });

  it('keeps full 64-bit results and CRLF files', () => {
    const c = parseDataFile('-- asm\r\nexit\r\n-- result\r\n0xffffffffffffffff\r\n');
    expect(c.result).toBe(0xffffffffffffffffn);
    expect(c.asm).toBe('exit');
  });

  it('reports bad hex with its line', () => {
    expect(() => parseDataFile('-- asm\nexit\n-- mem\n00 zz\n')).toThrow(DataFileError);
    expect(() => parseDataFile('-- asm\nexit\n-- mem\n00 zz\n')).toThrow(/line 4/);
    expect(() => parseDataFile('-- result\n0xnothex\n')).toThrow(/bad result/);
    expect(() => parseHexBytes('123')).toThrow(/bad hex byte/);
  });

  it('matches error patterns as case-insensitive substrings or regexes', () => {
    expect(errorMatches('', 'anything')).toBe(true);
    expect(errorMatches('Invalid register', 'invalid register r11 at pc 0')).toBe(true);
    expect(errorMatches('out of bounds.*pc 3', 'jump out of bounds at pc 3: ja +5')).toBe(true);
    expect(errorMatches('division', 'invalid memory load')).toBe(false);
    expect(errorMatches('(', 'x')).toBe(false);
  });
});
