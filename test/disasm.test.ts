import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assemble, assembleSlots, syntaxOf } from '../lib/asm.js';
import { disassemble, formatInstruction } from '../lib/disasm.js';
import { OPCODES, encodeSlots, type Field, type OpSpec, type Slot } from '../lib/isa.js';

const S = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): Slot => ({ opcode, dst, src, off, imm });

describe('formatInstruction', () => {
  const cases: Array<[Slot, string, number?]> = [
    [S(0xb7, 0, 0, 0, 1), 'mov %r0, 1'],
    [S(0xbf, 0, 1), 'mov %r0, %r1'],
    [S(0x0c, 1, 2), 'add32 %r1, %r2'],
    [S(0x07, 1, 0, 0, -65535), 'add %r1, -65535'],
    [S(0x07, 1, 0, 0, -65536), 'add %r1, 0xffff0000'],
    [S(0x57, 1, 0, 0, 65536), 'and %r1, 0x10000'],
    [S(0x37, 1, 0, 1, -3), 'sdiv %r1, -3'],
    [S(0x9c, 1, 2, 1), 'smod32 %r1, %r2'],
    [S(0x87, 4), 'neg %r4'],
    [S(0xbf, 0, 1, 8), 'movsx864 %r0, %r1'],
    [S(0xbc, 0, 1, 16), 'movsx1632 %r0, %r1'],
    [S(0xd4, 1, 0, 0, 16), 'le16 %r1'],
    [S(0xdc, 1, 0, 0, 32), 'be32 %r1'],
    [S(0xd7, 1, 0, 0, 64), 'bswap64 %r1'],
    [S(0x05, 0, 0, 3), 'ja +3'],
    [S(0x05, 0, 0, -2), 'ja -2'],
    [S(0x05), 'ja +0'],
    [S(0x06, 0, 0, 0, -70000), 'ja32 -70000'],
    [S(0x15, 1, 0, 2, 5), 'jeq %r1, 5, +2'],
    [S(0x5e, 1, 2, -1), 'jne32 %r1, %r2, -1'],
    [S(0x85, 0, 0, 0, 5), 'call 5'],
    [S(0x85, 0, 1, 0, 3), 'call local +3'],
    [S(0x85, 0, 1, 0, -4), 'call local -4'],
    [S(0x85, 0, 2, 0, 7), 'call kfunc 7'],
    [S(0x8d, 2), 'callx %r2'],
    [S(0x95), 'exit'],
    [S(0x18, 0, 0, 0, 0x55667788), 'lddw %r0, 0x1122334455667788', 0x11223344],
    [S(0x18, 0, 0, 0, -1), 'lddw %r0, -1', -1],
    [S(0x18, 0, 0, 0, 0x10000), 'lddw %r0, 0x10000', 0],
    [S(0x18, 0, 0, 0, 0), 'lddw %r0, 0x100000000', 1],
    [S(0x18, 0, 0, 0, -65536), 'lddw %r0, 0xffffffffffff0000', -1],
    [S(0x18, 1, 1, 0, 3), 'lddw %r1, map_fd 3', 0],
    [S(0x18, 1, 2, 0, 3), 'lddw %r1, map_value 3, 16', 16],
    [S(0x18, 1, 2, 0, 3), 'lddw %r1, map_value 3, 0', 0],
    [S(0x18, 1, 3, 0, 7), 'lddw %r1, btf_var 7', 0],
    [S(0x18, 1, 4, 0, 5), 'lddw %r1, func +5', 0],
    [S(0x18, 1, 5, 0, 0), 'lddw %r1, map_idx 0', 0],
    [S(0x18, 1, 6, 0, 1), 'lddw %r1, map_idx_value 1, 8', 8],
    [S(0x18, 1, 1, 0, 3), 'lddw %r1, map_fd 3, 9', 9],
    [S(0x71, 0, 1, 2), 'ldxb %r0, [%r1+2]'],
    [S(0x79, 0, 10, -8), 'ldxdw %r0, [%r10-8]'],
    [S(0x69, 0, 1), 'ldxh %r0, [%r1]'],
    [S(0x91, 0, 10, -1), 'ldxsb %r0, [%r10-1]'],
    [S(0x72, 1, 0, 2, 0x11), 'stb [%r1+2], 17'],
    [S(0x63, 1, 3, 2), 'stxw [%r1+2], %r3'],
    [S(0xdb, 10, 1, -8, 0x00), 'lock add [%r10-8], %r1'],
    [S(0xc3, 10, 1, -8, 0x51), 'lock fetch and32 [%r10-8], %r1'],
    [S(0xdb, 10, 1, -8, 0xe1), 'lock xchg [%r10-8], %r1'],
    [S(0xc3, 10, 1, -8, 0xf1), 'lock cmpxchg32 [%r10-8], %r1'],
    [S(0x30, 0, 0, 0, 12), 'ldabsb 12'],
    [S(0x48, 0, 1, 0, 4), 'ldindh %r1, 4'],
  ];
  it.each(cases)('%j prints %s', (slot, text, imm2) => {
    expect(formatInstruction(slot, 0, imm2)).toBe(text);
  });

  it.each([
    [S(0xff, 1, 0, 0, 0), '.insn opcode=0xff dst=1 src=0 off=0 imm=0'],
    [S(0x07, 1, 0, 1, 5), '.insn opcode=0x7 dst=1 src=0 off=1 imm=5'], // add with off set
    [S(0x0f, 1, 2, 0, 1), '.insn opcode=0xf dst=1 src=2 off=0 imm=1'], // reg add with imm set
    [S(0xbf, 11, 1), '.insn opcode=0xbf dst=11 src=1 off=0 imm=0'], // no r11
    [S(0xd4, 1, 0, 0, 8), '.insn opcode=0xd4 dst=1 src=0 off=0 imm=8'], // le8 does not exist
    [S(0xdb, 10, 1, -8, 0x02), '.insn opcode=0xdb dst=10 src=1 off=-8 imm=2'], // bad atomic op
    [S(0x18, 1, 7, 0, 0), '.insn opcode=0x18 dst=1 src=7 off=0 imm=0'], // no lddw form 7
    [S(0x85, 0, 3, 0, 1), '.insn opcode=0x85 dst=0 src=3 off=0 imm=1'],
    [S(0x00, 0, 0, 0, 0x12345678), '.insn opcode=0x0 dst=0 src=0 off=0 imm=0x12345678'],
  ])('prints %j, which matches no spec, as .insn', (slot, text) => {
    expect(formatInstruction(slot, 0)).toBe(text);
    expect(assembleSlots(text)).toEqual([slot]);
  });

  it('prints an lddw without its second imm as .insn (its value is unknown)', () => {
    expect(formatInstruction(S(0x18, 1, 0, 0, 5), 3)).toBe('.insn opcode=0x18 dst=1 src=0 off=0 imm=5');
  });

  it('does not depend on pc (offsets are relative)', () => {
    expect(formatInstruction(S(0x05, 0, 0, 4), 100)).toBe(formatInstruction(S(0x05, 0, 0, 4), 0));
  });
});

describe('disassemble', () => {
  const program = assemble('mov %r0, 0\nlddw %r1, 0x1122334455667788\njeq %r1, 0, +1\nexit\nexit');

  it('prints one line per instruction, lddw on one line', () => {
    expect(disassemble(program)).toBe(
      'mov %r0, 0\nlddw %r1, 0x1122334455667788\njeq %r1, 0, +1\nexit\nexit\n',
    );
  });

  it('prefixes pcs on request (lddw takes two)', () => {
    expect(disassemble(program, { pcs: true })).toBe(
      '    0: mov %r0, 0\n    1: lddw %r1, 0x1122334455667788\n    3: jeq %r1, 0, +1\n    4: exit\n    5: exit\n',
    );
  });

  it('accepts slots as well as bytes', () => {
    expect(disassemble(assembleSlots('exit\nlddw %r2, map_fd 4'))).toBe('exit\nlddw %r2, map_fd 4\n');
  });

  it('prints nothing for an empty program', () => {
    expect(disassemble(new Uint8Array(0))).toBe('');
    expect(disassemble([])).toBe('');
  });

  it('notes trailing bytes that do not make a slot, as a comment', () => {
    const bytes = new Uint8Array([...assemble('exit'), 1, 2, 3]);
    const text = disassemble(bytes);
    expect(text).toBe('exit\n# 3 trailing byte(s) do not make a whole instruction\n');
    expect([...assemble(text)]).toEqual([...bytes.subarray(0, 8)]);
    expect(disassemble(new Uint8Array(5))).toBe('# 5 trailing byte(s) do not make a whole instruction\n');
  });

  it('prints an lddw with a malformed second slot as two raw slots', () => {
    const slots = [S(0x18, 1, 0, 0, 1), S(0x00, 2, 0, 0, 3), S(0x95)];
    const text = disassemble(slots);
    expect(text).toBe(
      '.insn opcode=0x18 dst=1 src=0 off=0 imm=1\n.insn opcode=0x0 dst=2 src=0 off=0 imm=3\nexit\n',
    );
    expect(assembleSlots(text)).toEqual(slots);
  });

  it('prints a truncated lddw (last slot) as raw', () => {
    expect(disassemble([S(0x95), S(0x18, 1, 0, 0, 1)], { pcs: true })).toBe(
      '    0: exit\n    1: .insn opcode=0x18 dst=1 src=0 off=0 imm=1\n',
    );
  });

  it('normalises out-of-range slot fields to the bytes they encode', () => {
    expect(disassemble([S(0xb7, 0, 0, 0, 2 ** 32 + 5)])).toBe('mov %r0, 5\n');
  });
});

// ---------------------------------------------------------------------------
// Every OpSpec, generated from the table: text out, same bytes back.

const REG_VALUES = [0, 1, 5, 9, 10];
const OFF_VALUES = [-32768, -1, 0, 1, 4, 32767];
const IMM_VALUES = [-(2 ** 31), -65536, -65535, -1, 0, 1, 65535, 65536, 2 ** 31 - 1];
const IMM2_VALUES = [0, 1, -1, 0x11223344];

/** The n-th value of a field's rule (fixed fields keep their value). */
function fieldValue(spec: OpSpec, f: Field, n: number): number {
  const rule = spec.fields[f];
  if (typeof rule === 'number') return rule;
  if (rule === 'reg') return REG_VALUES[n % REG_VALUES.length]!;
  const values = f === 'off' ? OFF_VALUES : IMM_VALUES;
  return values[n % values.length]!;
}

/** Instances of a spec as slot lists (two slots for lddw). */
function instances(spec: OpSpec): Slot[][] {
  const out: Slot[][] = [];
  for (let n = 0; n < 12; n++) {
    const slot = S(spec.opcode, fieldValue(spec, 'dst', n), fieldValue(spec, 'src', n + 2), fieldValue(spec, 'off', n), fieldValue(spec, 'imm', n + 1));
    out.push(spec.kind === 'lddw' ? [slot, S(0, 0, 0, 0, IMM2_VALUES[n % IMM2_VALUES.length]!)] : [slot]);
  }
  return out;
}

describe('every OpSpec round-trips through text', () => {
  it.each(OPCODES.map((s) => [`${s.mnemonic} (0x${s.opcode.toString(16)}, ${s.kind}${s.lddwSrc ? ` src ${s.lddwSrc}` : ''})`, s] as const))('%s', (_, spec) => {
    for (const slots of instances(spec)) {
      const text = formatInstruction(slots[0]!, 0, slots[1]?.imm);
      expect(text.startsWith('.insn'), text).toBe(false);
      expect(text.startsWith(syntaxOf(spec).mnemonic), text).toBe(true);
      expect(assembleSlots(text), text).toEqual(slots);
    }
  });

  it('covers the whole table', () => {
    expect(OPCODES.length).toBeGreaterThan(160);
    const seen = new Set(OPCODES.map((s) => `${s.opcode}/${s.fields.src}/${s.fields.off}/${s.fields.imm}/${s.source}`));
    expect(seen.size).toBe(OPCODES.length);
  });

  it('a whole program of every OpSpec survives assemble(disassemble(bytes))', () => {
    const bytes = encodeSlots(OPCODES.flatMap((s) => instances(s).flat()));
    expect([...assemble(disassemble(bytes))]).toEqual([...bytes]);
  });
});

describe('arbitrary bytes', () => {
  const slot = fc.record({
    opcode: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...OPCODES.map((s) => s.opcode))),
    dst: fc.integer({ min: 0, max: 15 }),
    src: fc.integer({ min: 0, max: 15 }),
    off: fc.oneof(fc.integer({ min: -32768, max: 32767 }), fc.constantFrom(0, 1, 8, 16, 32)),
    imm: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(0, 1, 16, 32, 64, 0x01, 0x41, 0xe1, 0xf1)),
  });
  const program = fc.array(fc.oneof(slot, slot.map((s) => ({ ...s, opcode: 0, dst: 0, src: 0, off: 0 }))), { maxLength: 12 });

  it('disassemble never throws and its text reassembles to the same bytes', () => {
    fc.assert(fc.property(program, (slots) => {
      const bytes = encodeSlots(slots);
      expect([...assemble(disassemble(bytes))]).toEqual([...bytes]);
    }), { numRuns: 3000 });
  });

  it('disassemble never throws on any byte string', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 70 }), fc.boolean(), (bytes, pcs) => {
      expect(typeof disassemble(bytes, { pcs })).toBe('string');
    }), { numRuns: 1000 });
  });
});

// The external conformance suite is optional: our tests must pass without it.
const SUITE = '/work/shared/conformance/tests';
const haveSuite = existsSync(SUITE);
if (!haveSuite) console.warn(`skipping conformance round-trip test: ${SUITE} not found`);

describe.skipIf(!haveSuite)('conformance suite round trip', () => {
  it('assemble(disassemble(assemble(x))) equals assemble(x) for every -- asm program', () => {
    let count = 0;
    for (const f of readdirSync(SUITE).filter((n) => n.endsWith('.data'))) {
      const lines = readFileSync(join(SUITE, f), 'utf8').split('\n');
      const start = lines.indexOf('-- asm');
      if (start < 0) continue;
      const end = lines.findIndex((l, i) => i > start && l.startsWith('-- '));
      const bytes = assemble(lines.slice(start + 1, end < 0 ? undefined : end).join('\n'));
      expect([...assemble(disassemble(bytes))], f).toEqual([...bytes]);
      count++;
    }
    expect(count).toBeGreaterThan(300);
  });
});
