import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assemble, assembleSlots } from '../lib/asm.js';
import { AssemblerError } from '../lib/errors.js';
import { decodeSlots, type Slot } from '../lib/isa.js';

const S = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): Slot => ({ opcode, dst, src, off, imm });

/** The AssemblerError thrown by assembling `text` (fails the test if none). */
function asmError(text: string): AssemblerError {
  try {
    assembleSlots(text);
  } catch (e) {
    if (e instanceof AssemblerError) return e;
    throw e;
  }
  throw new Error(`assembled without error: ${JSON.stringify(text)}`);
}

describe('encoding of each instruction family', () => {
  const cases: Array<[string, Slot[]]> = [
    ['mov %r0, 1', [S(0xb7, 0, 0, 0, 1)]],
    ['mov r0, r1', [S(0xbf, 0, 1)]],
    ['add32 %r1, %r2', [S(0x0c, 1, 2)]],
    ['add %r1, -3', [S(0x07, 1, 0, 0, -3)]],
    ['and %r1, 0xffffffff', [S(0x57, 1, 0, 0, -1)]],
    ['or32 %r9, 0x80000000', [S(0x44, 9, 0, 0, -0x80000000)]],
    ['xor %r1, -0x10', [S(0xa7, 1, 0, 0, -16)]],
    ['sdiv %r1, 3', [S(0x37, 1, 0, 1, 3)]],
    ['smod32 %r1, %r2', [S(0x9c, 1, 2, 1)]],
    ['div %r1, %r2', [S(0x3f, 1, 2)]],
    ['neg %r1', [S(0x87, 1)]],
    ['neg32 %r2', [S(0x84, 2)]],
    ['movsx864 %r0, %r1', [S(0xbf, 0, 1, 8)]],
    ['movsx3264 %r0, %r1', [S(0xbf, 0, 1, 32)]],
    ['movsx1632 %r3, %r4', [S(0xbc, 3, 4, 16)]],
    ['le16 %r1', [S(0xd4, 1, 0, 0, 16)]],
    ['be64 %r2', [S(0xdc, 2, 0, 0, 64)]],
    ['bswap32 %r3', [S(0xd7, 3, 0, 0, 32)]],
    ['swap16 %r3', [S(0xd7, 3, 0, 0, 16)]],
    ['ja +3', [S(0x05, 0, 0, 3)]],
    ['ja -2', [S(0x05, 0, 0, -2)]],
    ['ja32 +70000', [S(0x06, 0, 0, 0, 70000)]],
    ['jeq %r1, 5, +1', [S(0x15, 1, 0, 1, 5)]],
    ['jne32 %r1, %r2, -1', [S(0x5e, 1, 2, -1)]],
    ['jsle %r1, 0xfffffffd, +0', [S(0xd5, 1, 0, 0, -3)]],
    ['call 5', [S(0x85, 0, 0, 0, 5)]],
    ['call helper 5', [S(0x85, 0, 0, 0, 5)]],
    ['call kfunc 7', [S(0x85, 0, 2, 0, 7)]],
    ['call runtime 7', [S(0x85, 0, 2, 0, 7)]],
    ['call local +3', [S(0x85, 0, 1, 0, 3)]],
    ['call %r2', [S(0x8d, 2)]],
    ['callx %r7', [S(0x8d, 7)]],
    ['exit', [S(0x95)]],
    ['lddw %r0, 0x1122334455667788', [S(0x18, 0, 0, 0, 0x55667788), S(0, 0, 0, 0, 0x11223344)]],
    ['lddw %r1, -1', [S(0x18, 1, 0, 0, -1), S(0, 0, 0, 0, -1)]],
    ['lddw %r1, 18446744073709551615', [S(0x18, 1, 0, 0, -1), S(0, 0, 0, 0, -1)]],
    ['lddw %r1, -9223372036854775808', [S(0x18, 1, 0, 0, 0), S(0, 0, 0, 0, -0x80000000)]],
    ['lddw %r1, map_fd 3', [S(0x18, 1, 1, 0, 3), S(0)]],
    ['lddw %r1, map_value 3, 16', [S(0x18, 1, 2, 0, 3), S(0, 0, 0, 0, 16)]],
    ['lddw %r1, btf_var 7', [S(0x18, 1, 3, 0, 7), S(0)]],
    ['lddw %r1, func +4', [S(0x18, 1, 4, 0, 4), S(0)]],
    ['lddw %r1, map_idx 0', [S(0x18, 1, 5, 0, 0), S(0)]],
    ['lddw %r1, map_idx_value 1, 8', [S(0x18, 1, 6, 0, 1), S(0, 0, 0, 0, 8)]],
    ['lddw %r1, map_fd 3, 9', [S(0x18, 1, 1, 0, 3), S(0, 0, 0, 0, 9)]],
    ['ldxb %r0, [%r1+2]', [S(0x71, 0, 1, 2)]],
    ['ldxh %r0, [%r1]', [S(0x69, 0, 1)]],
    ['ldxw %r0, [%r10-4]', [S(0x61, 0, 10, -4)]],
    ['ldxdw %r0, [%r1+0x10]', [S(0x79, 0, 1, 16)]],
    ['ldxdw %r0, [ %r1 + 8 ]', [S(0x79, 0, 1, 8)]],
    ['ldxdw %r0, [%r1+0xfff8]', [S(0x79, 0, 1, -8)]],
    ['ldxsb %r0, [%r10-1]', [S(0x91, 0, 10, -1)]],
    ['ldxsh %r0, [%r10-2]', [S(0x89, 0, 10, -2)]],
    ['ldxsw %r0, [%r10-4]', [S(0x81, 0, 10, -4)]],
    ['stb [%r1+2], 0x11', [S(0x72, 1, 0, 2, 0x11)]],
    ['stdw [%r10-8], -1', [S(0x7a, 10, 0, -8, -1)]],
    ['stxw [%r1+2], %r3', [S(0x63, 1, 3, 2)]],
    ['stxdw [%r10-8], %r0', [S(0x7b, 10, 0, -8)]],
    ['lock add [%r10-8], %r1', [S(0xdb, 10, 1, -8, 0x00)]],
    ['lock add32 [%r10-8], %r1', [S(0xc3, 10, 1, -8, 0x00)]],
    ['lock or [%r10-8], %r1', [S(0xdb, 10, 1, -8, 0x40)]],
    ['lock fetch and32 [%r10-4], %r3', [S(0xc3, 10, 3, -4, 0x51)]],
    ['lock fetch xor [%r10-8], %r3', [S(0xdb, 10, 3, -8, 0xa1)]],
    ['lock xchg [%r10-8], %r1', [S(0xdb, 10, 1, -8, 0xe1)]],
    ['lock cmpxchg32 [%r10-8], %r1', [S(0xc3, 10, 1, -8, 0xf1)]],
    ['ldabsb 12', [S(0x30, 0, 0, 0, 12)]],
    ['ldabsw 0x10', [S(0x20, 0, 0, 0, 16)]],
    ['ldindh %r1, 4', [S(0x48, 0, 1, 0, 4)]],
    ['.insn opcode=0xff dst=1 src=15 off=-1 imm=7', [S(0xff, 1, 15, -1, 7)]],
    ['.insn imm=0xffffffff opcode=0', [S(0, 0, 0, 0, -1)]],
  ];
  it.each(cases)('%s', (text, slots) => {
    expect(assembleSlots(text)).toEqual(slots);
  });

  it('assemble gives the little-endian bytes of the slots', () => {
    expect([...assemble('lddw %r0, 0x1122334455667788\nexit')]).toEqual([
      0x18, 0x00, 0x00, 0x00, 0x88, 0x77, 0x66, 0x55,
      0x00, 0x00, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11,
      0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    expect([...assemble('stxh [%r10-2], %r1')]).toEqual([0x6b, 0x1a, 0xfe, 0xff, 0, 0, 0, 0]);
  });

  it('slots come out as decodeSlots would read them back', () => {
    const text = 'and %r1, 0xffffffff\nldxdw %r0, [%r1+0xffff]\nlddw %r2, 0xffffffffffffffff\nja32 -5';
    const slots = assembleSlots(text);
    expect(decodeSlots(assemble(text))).toEqual(slots);
  });
});

describe('labels, comments and layout', () => {
  it('resolves forward and backward labels to pc-relative offsets', () => {
    const slots = assembleSlots(['start:', 'mov %r0, 0', 'jeq %r0, 0, done', 'ja start', 'done:', 'exit'].join('\n'));
    expect(slots.map((s) => s.off)).toEqual([0, 1, -3, 0]);
  });

  it('counts lddw as two slots when resolving labels', () => {
    const slots = assembleSlots('ja end\nlddw %r0, 1\nend: exit');
    expect(slots[0]!.off).toBe(2);
  });

  it('accepts a label and an instruction on one line, and several labels', () => {
    const slots = assembleSlots('a: b: mov %r0, 1\nja a\nja b\nc:exit');
    expect(slots[1]!.off).toBe(-2);
    expect(slots[2]!.off).toBe(-3);
    expect(slots[3]).toEqual(S(0x95));
  });

  it('puts local call and ja32 offsets in imm', () => {
    const slots = assembleSlots('call local f\nja32 f\nexit\nf:\nexit');
    expect(slots[0]).toEqual(S(0x85, 0, 1, 0, 2));
    expect(slots[1]).toEqual(S(0x06, 0, 0, 0, 1));
  });

  it('takes a standard helper by name, with or without bpf_', () => {
    expect(assembleSlots('call map_lookup_elem\ncall bpf_tail_call\ncall loop')).toEqual([
      S(0x85, 0, 0, 0, 1), S(0x85, 0, 0, 0, 12), S(0x85, 0, 0, 0, 181),
    ]);
    const e = asmError('mov %r0, 0\ncall map_lookup');
    expect([e.line, e.column, e.message]).toEqual([2, 6, expect.stringContaining("unknown helper name 'map_lookup'")]);
  });

  it('takes helper names from a resolver when given one; assemble() keeps the standard names', () => {
    const own = new Map([['add_two', 0x10000], ['lookup', 77]]);
    const resolveHelper = (name: string): number | undefined => own.get(name);
    expect(assembleSlots('call add_two\ncall lookup\ncall 5', { resolveHelper })).toEqual([
      S(0x85, 0, 0, 0, 0x10000), S(0x85, 0, 0, 0, 77), S(0x85, 0, 0, 0, 5),
    ]);
    // The resolver replaces the standard names: a caller that wants both asks both.
    expect(() => assembleSlots('call map_lookup_elem', { resolveHelper })).toThrow(/unknown helper name 'map_lookup_elem'/);
    expect(() => assembleSlots('call add_two')).toThrow(/unknown helper name 'add_two'/);
    expect(assemble('call map_lookup_elem')).toEqual(assemble('call 1'));
    // Whatever the resolver returns must be a helper id: anything else is an AssemblerError at the name.
    for (const bad of [-1, 1.5, 2 ** 31, NaN]) {
      let e: unknown;
      try {
        assembleSlots('exit\ncall odd', { resolveHelper: () => bad });
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(AssemblerError);
      expect(e).toMatchObject({ line: 2, column: 6, message: expect.stringContaining('not a helper id') });
    }
  });

  it('lddw func takes a label as a pc-relative code address', () => {
    const slots = assembleSlots('lddw %r1, func cb\ncallx %r1\nexit\ncb:\nexit');
    expect(slots[0]).toEqual(S(0x18, 1, 4, 0, 3));
  });

  it('`exit` names the first exit instruction unless defined', () => {
    const implicit = assembleSlots('jeq %r1, 0xb, exit\nmov %r0, 1\nexit\nmov %r0, 2\nexit');
    expect(implicit[0]!.off).toBe(1);
    const backward = assembleSlots('exit\nja exit');
    expect(backward[1]!.off).toBe(-2);
    const explicit = assembleSlots('ja exit\nexit\nexit:\nexit');
    expect(explicit[0]!.off).toBe(1);
  });

  it('a label after the last instruction points past the end', () => {
    expect(assembleSlots('ja end\nend:')[0]!.off).toBe(0);
  });

  it('ignores comments, blank lines, tabs and CRLF line ends', () => {
    const text = '# header\r\n\r\n\tmov %r0, 1 # trailing\r\n   # indented comment\r\nexit\r\n';
    expect(assembleSlots(text)).toEqual([S(0xb7, 0, 0, 0, 1), S(0x95)]);
  });

  it('assembles an empty program to no slots', () => {
    expect(assembleSlots('')).toEqual([]);
    expect(assembleSlots('# nothing\n\n')).toEqual([]);
  });
});

describe('number ranges', () => {
  it.each([
    ['mov32 %r0, 2147483647', 2147483647],
    ['mov32 %r0, -2147483648', -2147483648],
    ['mov32 %r0, 0xffffffff', -1],
    ['mov32 %r0, 0x80000000', -2147483648],
    ['mov32 %r0, -0x80000000', -2147483648],
    ['mov32 %r0, +7', 7],
    ['mov32 %r0, 0XAbC', 0xabc],
  ])('accepts %s', (text, imm) => {
    expect(assembleSlots(text)[0]!.imm).toBe(imm);
  });

  it.each([
    ['mov32 %r0, 2147483648', 'immediate 2147483648 out of range for a 32-bit field', 12],
    ['mov32 %r0, -2147483649', 'immediate -2147483649 out of range for a 32-bit field', 12],
    ['mov32 %r0, 0x100000000', 'immediate 0x100000000 out of range for a 32-bit field', 12],
    ['mov32 %r0, -0x80000001', 'immediate -0x80000001 out of range for a 32-bit field', 12],
    ['ldxb %r0, [%r1+0x10000]', 'offset +0x10000 out of range for a 16-bit field', 15],
    ['ldxb %r0, [%r1+32768]', 'offset +32768 out of range for a 16-bit field', 15],
    ['ldxb %r0, [%r1-32769]', 'offset -32769 out of range for a 16-bit field', 15],
    ['ja +32768', 'jump offset +32768 out of range for a 16-bit field', 4],
    ['lddw %r0, 0x10000000000000000', 'immediate 0x10000000000000000 out of range for a 64-bit field', 11],
    ['lddw %r0, -9223372036854775809', 'immediate -9223372036854775809 out of range for a 64-bit field', 11],
    ['lddw %r0, 18446744073709551616', 'immediate 18446744073709551616 out of range for a 64-bit field', 11],
  ])('rejects %s', (text, message, column) => {
    const e = asmError(text);
    expect(e.message).toBe(`${message} at line 1, column ${column}`);
    expect(e.column).toBe(column);
  });

  it('accepts the offset limits', () => {
    expect(assembleSlots('ldxb %r0, [%r1-32768]')[0]!.off).toBe(-32768);
    expect(assembleSlots('ldxb %r0, [%r1+32767]')[0]!.off).toBe(32767);
    expect(assembleSlots('ldxb %r0, [%r1-0x8000]')[0]!.off).toBe(-32768);
    expect(assembleSlots('ja -32768')[0]!.off).toBe(-32768);
  });
});

describe('errors name the problem and point at the token', () => {
  const cases: Array<[string, string, number, number]> = [
    ['ldxq %r0, %r1', "unknown mnemonic 'ldxq'", 1, 1],
    ['mov %r0, 1\n  foo', "unknown mnemonic 'foo'", 2, 3],
    ['or %r0, %r50', "invalid register '%r50'", 1, 9],
    ['mov %r11, 1', "invalid register '%r11'", 1, 5],
    ['mov %r01, 1', "invalid register '%r01'", 1, 5],
    ['mov %rx, 1', "invalid register '%rx'", 1, 5],
    ['mov foo, 1', "expected a register, got 'foo'", 1, 5],
    ['neg 5', "expected a register, got '5'", 1, 5],
    ['ldxb %r0, %r1', "expected a memory operand like [%r1+4], got '%r1'", 1, 11],
    ['stb %r1, 4', "expected a memory operand like [%r1+4], got '%r1'", 1, 5],
    ['ldxb %r0, [%r1+2', "missing ']' in '[%r1+2'", 1, 17],
    ['ldxb %r0, [+2]', "missing register in '[+2]'", 1, 11],
    ['ldxb %r0, [%r1+x]', "invalid offset '+x'", 1, 15],
    ['ldxb %r0, [%r12]', "invalid register '%r12'", 1, 12],
    ['ja NOT_A_LABEL\nexit', "undefined label 'NOT_A_LABEL'", 1, 4],
    ['mov %r0, 0\njeq %r0, 1, nowhere', "undefined label 'nowhere'", 2, 13],
    ['ja exit', "undefined label 'exit'", 1, 4],
    ['ja 3', "jump target '3' needs a sign (+3 or -3) or a label", 1, 4],
    ['ja a-b', "invalid jump target 'a-b'", 1, 4],
    ['ja +x', "invalid jump offset '+x'", 1, 4],
    ['x:\nexit\nx: exit', "duplicate label 'x' (first defined at line 1)", 3, 1],
    ['1x: exit', "invalid label name '1x'", 1, 1],
    ['lddw %r0', "'lddw' expects 2 operands, got 1", 1, 1],
    ['mov %r0', "'mov' expects 2 operands, got 1", 1, 1],
    ['exit %r0', "'exit' expects 0 operands, got 1", 1, 1],
    ['jeq %r1, 1', "'jeq' expects 3 operands, got 2", 1, 1],
    ['neg %r1, 2', "'neg' expects 1 operand, got 2", 1, 1],
    ['lddw %r1, map_value 1, 2, 3', "'lddw' expects 2 or 3 operands, got 4", 1, 1],
    ['call', "'call' expects 1 operand, got 0", 1, 1],
    ['add %r1,, 2', 'missing operand', 1, 9],
    ['add %r1, 2,', 'missing operand', 1, 12],
    ['add %r1, foo', "invalid immediate 'foo'", 1, 10],
    ['stw [%r1], %r2', "expected an immediate, got register '%r2'", 1, 12],
    ['lock or [%r10-8]\nexit', "'lock or' expects 2 operands, got 1", 1, 1],
    ['lock\nexit', "missing atomic operation after 'lock'", 1, 1],
    ['lock fetch', "missing atomic operation after 'lock'", 1, 1],
    ['lock sub [%r10-8], %r1', "unknown atomic operation 'sub'", 1, 6],
    ['lock fetch xchg [%r10-8], %r1', "unknown atomic operation 'fetch xchg'", 1, 6],
    ['call foo 5', "unknown operand keyword 'foo' for 'call'", 1, 6],
    ['lddw %r1, map 5', "unknown operand keyword 'map' for 'lddw'", 1, 11],
    ['lddw %r1, %r2', "expected an immediate, got register '%r2'", 1, 11],
    ['.insn dst=1', "'.insn' needs opcode=N", 1, 7],
    ['.insn opcode=256', "opcode must be a number from 0 to 255, got '256'", 1, 14],
    ['.insn opcode=1 dst=16', "dst must be a number from 0 to 15, got '16'", 1, 20],
    ['.insn opcode=1 opcode=2', "field 'opcode' given twice", 1, 16],
    ['.insn opcode=1 foo=2', "expected field=value (opcode, dst, src, off, imm), got 'foo=2'", 1, 16],
  ];
  it.each(cases)('%j', (text, message, line, column) => {
    const e = asmError(text);
    expect(e).toBeInstanceOf(AssemblerError);
    expect(e.code).toBe('ASSEMBLER');
    expect(e.message).toBe(`${message} at line ${line}, column ${column}`);
    expect([e.line, e.column]).toEqual([line, column]);
  });

  it('rejects a jump whose label is too far for the 16-bit offset', () => {
    const text = ['ja far', ...Array<string>(40000).fill('mov %r0, 0'), 'far: exit'].join('\n');
    const e = asmError(text);
    expect(e.message).toBe("jump offset 40000 to label 'far' does not fit in 16 bits at line 1, column 4");
  });

  it('reaches far labels with ja32 (offset in imm)', () => {
    const text = ['ja32 far', ...Array<string>(40000).fill('mov %r0, 0'), 'far: exit'].join('\n');
    expect(assembleSlots(text)[0]!.imm).toBe(40000);
  });
});

describe('never throws anything but AssemblerError', () => {
  const valid = [
    'mov %r0, 1', 'add32 %r1, %r2', 'lddw %r1, 0x1122334455667788', 'ldxw %r0, [%r1+4]',
    'stxdw [%r10-8], %r1', 'lock fetch add [%r10-8], %r1', 'jeq %r1, 5, +1', 'call local f',
    'lddw %r1, map_value 3, 16', 'ja32 f', 'f:', 'exit', '.insn opcode=0x95',
  ];
  const outcome = (text: string): 'ok' | 'error' => {
    try {
      assembleSlots(text);
      return 'ok';
    } catch (e) {
      if (e instanceof AssemblerError && e.line >= 1 && e.column >= 1) return 'error';
      throw e;
    }
  };

  it('on random strings', () => {
    const alphabet = fc.constantFrom(...'%r0123456789abx[]+-,: #\n\t.=lockfetchddwjeqmvsxi'.split(''));
    fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 60 })), (text) => {
      expect(['ok', 'error']).toContain(outcome(text));
    }), { numRuns: 2000 });
  });

  it('on mutations of valid programs', () => {
    const program = fc.array(fc.constantFrom(...valid), { minLength: 1, maxLength: 8 }).map((l) => l.join('\n'));
    const mutated = fc.tuple(program, fc.nat(), fc.nat(), fc.string({ maxLength: 4 })).map(([p, a, b, ins]) => {
      const i = a % (p.length + 1);
      return p.slice(0, i) + ins + p.slice(i + (b % 4));
    });
    fc.assert(fc.property(mutated, (text) => {
      expect(['ok', 'error']).toContain(outcome(text));
    }), { numRuns: 3000 });
  });

  it('valid programs assemble', () => {
    expect(outcome(valid.join('\n'))).toBe('ok');
  });
});

// The external conformance suite is optional: our tests must pass without it.
const SUITE = '/work/shared/conformance';
const haveSuite = existsSync(join(SUITE, 'tests'));
if (!haveSuite) console.warn(`skipping conformance assembly tests: ${SUITE} not found`);

/** The text of section `name` of a `.data` file, if present. */
function section(text: string, name: string): string | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `-- ${name}`);
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && l.startsWith('-- '));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

describe.skipIf(!haveSuite)('conformance suite sources', () => {
  it('every -- asm section assembles', () => {
    const files = readdirSync(join(SUITE, 'tests')).filter((f) => f.endsWith('.data'));
    let count = 0;
    for (const f of files) {
      const asm = section(readFileSync(join(SUITE, 'tests', f), 'utf8'), 'asm');
      if (asm === undefined) continue;
      expect(() => assembleSlots(asm), f).not.toThrow();
      count++;
    }
    expect(count).toBeGreaterThan(300);
  });

  it('matches the -- raw section where a case has both', () => {
    const text = readFileSync(join(SUITE, 'tests', 'lddw.data'), 'utf8');
    const words = section(text, 'raw')!.split('\n').filter((l) => l.trim() !== '').map((l) => BigInt(l.trim()));
    const bytes = assemble(section(text, 'asm')!);
    const view = new DataView(bytes.buffer);
    expect(words.map((_, i) => view.getBigUint64(i * 8, true))).toEqual(words);
  });

  it('rejects the negative cases meant for the assembler', () => {
    // Only the invalid_* cases are assembler errors; error.data and friends
    // assemble fine and fail later (validation, result mismatch), and
    // invalid_unknown_directive has an empty asm section.
    const dir = join(SUITE, 'negative');
    const files = readdirSync(dir).filter((f) => f.startsWith('invalid_') && f !== 'invalid_unknown_directive.data');
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const asm = section(readFileSync(join(dir, f), 'utf8'), 'asm');
      if (asm === undefined) continue;
      expect(() => assembleSlots(asm), f).toThrow(AssemblerError);
    }
  });
});
