// Our disassembly against LLVM's, instruction by instruction, in meaning.
// LLVM prints a C-like syntax (`r0 = *(u32 *)(r1 + 0x4)`, `if w1 > 0x2a goto
// +0x2`); both sides are translated to one normalised tuple (operation,
// width, registers, immediate, offset) and compared. Our side goes through
// the text: bytes -> decodeSlots -> formatInstruction -> assembleSlots, so
// the printed line itself is what gets checked.
//
// Two sources of LLVM output:
// - llvm-objdump-19 -d on the clang-compiled objects in fixtures/objdump/
//   (rebuilt with fixtures/objdump/build.sh; committed so clang is not needed);
// - llvm-mc-19 --disassemble on one instance of every OpSpec in our table,
//   including forms clang never emits (ldabs, gotol, lddw pseudo sources).
// Both tools come with llvm-19; without them these tests are skipped.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { assembleSlots } from '../lib/asm.js';
import { formatInstruction } from '../lib/disasm.js';
import { OPCODES, decodeSlots, encodeSlots, lddwValue, lookupSpec, type Field, type OpSpec, type Slot } from '../lib/isa.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/objdump/', import.meta.url));

/** Does `tool --version` run? */
function available(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}

const OBJDUMP = 'llvm-objdump-19';
const MC = 'llvm-mc-19';
const haveObjdump = available(OBJDUMP);
const haveMc = available(MC);
// LLVM 19 is a system package (apt-get install llvm-19), not an npm
// dependency; machines without it skip the comparison rather than fail.
if (!haveObjdump) console.warn(`skipping objdump comparison: ${OBJDUMP} not found (apt-get install llvm-19)`);
if (!haveMc) console.warn(`skipping llvm-mc comparison: ${MC} not found (apt-get install llvm-19)`);

// ---------------------------------------------------------------------------
// The normalised meaning of one instruction.

interface Meaning {
  op: string;
  /** ALU/JMP operand width, memory access size, or ja (64) vs gotol (32). */
  w?: number;
  dst?: number;
  src?: number;
  imm?: bigint;
  /** Memory offset or jump offset (for gotol, the imm). */
  off?: number;
}

function show(m: Meaning | undefined): string {
  if (m === undefined) return '(untranslated)';
  const parts = [m.op];
  for (const k of ['w', 'dst', 'src', 'imm', 'off'] as const) if (m[k] !== undefined) parts.push(`${k}=${m[k]}`);
  return parts.join(' ');
}

/** Our meaning, from the spec and fields of assembled slots. */
function ours(spec: OpSpec, slot: Slot, imm2: number): Meaning {
  const { dst, src, off } = slot;
  const imm = BigInt(slot.imm);
  const w = spec.width;
  switch (spec.kind) {
    case 'alu': return spec.source === 'reg' ? { op: spec.alu!, w, dst, src } : { op: spec.alu!, w, dst, imm };
    case 'movsx': return { op: `movsx${off}`, w, dst, src };
    case 'neg': return { op: 'neg', w, dst };
    case 'end': case 'bswap': return { op: spec.mnemonic, dst };
    case 'ja': return { op: 'ja', w, off: w === 32 ? slot.imm : off };
    case 'jcond': return spec.source === 'reg' ? { op: spec.jmp!, w, dst, src, off } : { op: spec.jmp!, w, dst, imm, off };
    // LLVM prints helper, local and kfunc calls alike as `call N`.
    case 'call': case 'call_local': case 'call_kfunc': return { op: 'call', imm };
    case 'callx': return { op: 'callx', dst };
    case 'exit': return { op: 'exit' };
    case 'lddw':
      // LLVM prints pseudo loads without the second imm.
      return spec.lddwSrc === 0
        ? { op: 'lddw', dst, imm: lddwValue(slot.imm, imm2) }
        : { op: 'ld_pseudo', dst, src: spec.lddwSrc!, imm };
    case 'ldabs': return { op: 'ldabs', w, imm };
    // LLVM prints `skb[rN]` and leaves out ldind's imm.
    case 'ldind': return { op: 'ldind', w, src };
    case 'ldx': case 'ldsx': return { op: spec.kind, w, dst, src, off };
    case 'st': return { op: 'st', w, dst, imm, off };
    case 'stx': return { op: 'stx', w, dst, src, off };
    case 'atomic': {
      const fetch = spec.fetch === true && spec.atomic !== 'xchg' && spec.atomic !== 'cmpxchg' ? 'fetch_' : '';
      return { op: `lock_${fetch}${spec.atomic!}`, w, dst, src, off };
    }
  }
}

// LLVM's syntax, piece by piece.
const R = '([rw])(\\d+)';
const NUM = '([+-]?(?:0x[0-9a-f]+|\\d+))';
const MEM = 'r(\\d+) ([+-]) (0x[0-9a-f]+|\\d+)';

function num(text: string): bigint {
  const neg = text.startsWith('-');
  const mag = BigInt(text.replace(/^[+-]/, ''));
  return neg ? -mag : mag;
}
const n32 = (text: string): bigint => BigInt.asIntN(32, num(text));
const memOff = (sign: string, text: string): number => Number(sign === '-' ? -num(text) : num(text));
const width = (prefix: string): number => (prefix === 'w' ? 32 : 64);

const ALU_OPS: Record<string, string> = {
  '': 'mov', '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', 's/': 'sdiv', '%': 'mod', 's%': 'smod',
  '|': 'or', '&': 'and', '^': 'xor', '<<': 'lsh', '>>': 'rsh', 's>>': 'arsh',
};
const CONDS: Record<string, string> = {
  '==': 'jeq', '!=': 'jne', '>': 'jgt', '>=': 'jge', '<': 'jlt', '<=': 'jle',
  's>': 'jsgt', 's>=': 'jsge', 's<': 'jslt', 's<=': 'jsle', '&': 'jset',
};
const LOCK_OPS: Record<string, string> = { '+': 'add', '|': 'or', '&': 'and', '^': 'xor' };

type Rule = readonly [RegExp, (m: string[]) => Meaning | undefined];
const at = (m: string[], i: number): string => m[i] ?? '';
const reg = (m: string[], i: number): number => Number(at(m, i));

/** Patterns tried in order: memory forms before the plain assignments. */
const RULES: readonly Rule[] = [
  [/^exit$/, () => ({ op: 'exit' })],
  [new RegExp(`^call ${NUM}$`), (m) => ({ op: 'call', imm: n32(at(m, 1)) })],
  [/^callx r(\d+)$/, (m) => ({ op: 'callx', dst: reg(m, 1) })],
  [new RegExp(`^(goto|gotol) ${NUM}$`), (m) => ({ op: 'ja', w: at(m, 1) === 'gotol' ? 32 : 64, off: Number(num(at(m, 2))) })],
  [new RegExp(`^if ${R} (==|!=|s?[<>]=?|&) (?:${R}|${NUM}) goto ${NUM}$`), (m) => {
    const op = CONDS[at(m, 3)];
    if (op === undefined) return undefined;
    const base = { op, w: width(at(m, 1)), dst: reg(m, 2), off: Number(num(at(m, 7))) };
    return m[5] !== undefined ? { ...base, src: reg(m, 5) } : { ...base, imm: n32(at(m, 6)) };
  }],
  [new RegExp(`^lock \\*\\(u(\\d+) \\*\\)\\(${MEM}\\) ([-+|&^])= ${R}$`), (m) => {
    const op = LOCK_OPS[at(m, 5)];
    return op === undefined ? undefined : { op: `lock_${op}`, w: reg(m, 1), dst: reg(m, 2), src: reg(m, 7), off: memOff(at(m, 3), at(m, 4)) };
  }],
  [new RegExp(`^${R} = atomic_fetch_(add|or|and|xor)\\(\\(u(\\d+) \\*\\)\\(${MEM}\\), ${R}\\)$`), (m) =>
    at(m, 2) !== at(m, 9) ? undefined
      : { op: `lock_fetch_${at(m, 3)}`, w: reg(m, 4), dst: reg(m, 5), src: reg(m, 9), off: memOff(at(m, 6), at(m, 7)) }],
  [new RegExp(`^${R} = xchg(?:32)?_(\\d+)\\(${MEM}, ${R}\\)$`), (m) =>
    at(m, 2) !== at(m, 8) ? undefined
      : { op: 'lock_xchg', w: reg(m, 3), dst: reg(m, 4), src: reg(m, 8), off: memOff(at(m, 5), at(m, 6)) }],
  [new RegExp(`^[rw]0 = cmpxchg(?:32)?_(\\d+)\\(${MEM}, [rw]0, ${R}\\)$`), (m) =>
    ({ op: 'lock_cmpxchg', w: reg(m, 1), dst: reg(m, 2), src: reg(m, 6), off: memOff(at(m, 3), at(m, 4)) })],
  [new RegExp(`^\\*\\(u(\\d+) \\*\\)\\(${MEM}\\) = (?:${R}|${NUM})$`), (m) => {
    const base = { w: reg(m, 1), dst: reg(m, 2), off: memOff(at(m, 3), at(m, 4)) };
    return m[6] !== undefined ? { op: 'stx', ...base, src: reg(m, 6) } : { op: 'st', ...base, imm: n32(at(m, 7)) };
  }],
  [new RegExp(`^${R} = \\*\\(([us])(\\d+) \\*\\)\\(${MEM}\\)$`), (m) =>
    ({ op: at(m, 3) === 's' ? 'ldsx' : 'ldx', w: reg(m, 4), dst: reg(m, 2), src: reg(m, 5), off: memOff(at(m, 6), at(m, 7)) })],
  [new RegExp(`^r0 = \\*\\(u(\\d+) \\*\\)skb\\[(?:r(\\d+)|${NUM})\\]$`), (m) =>
    m[2] !== undefined ? { op: 'ldind', w: reg(m, 1), src: reg(m, 2) } : { op: 'ldabs', w: reg(m, 1), imm: n32(at(m, 3)) }],
  [new RegExp(`^r(\\d+) = ${NUM} ll$`), (m) => ({ op: 'lddw', dst: reg(m, 1), imm: BigInt.asUintN(64, num(at(m, 2))) })],
  [/^ld_pseudo r(\d+), (\d+), (\d+)$/, (m) => ({ op: 'ld_pseudo', dst: reg(m, 1), src: reg(m, 2), imm: n32(at(m, 3)) })],
  [new RegExp(`^${R} = \\(s(\\d+)\\)${R}$`), (m) =>
    at(m, 1) !== at(m, 4) ? undefined : { op: `movsx${at(m, 3)}`, w: width(at(m, 1)), dst: reg(m, 2), src: reg(m, 5) }],
  [new RegExp(`^${R} = -${R}$`), (m) =>
    at(m, 2) !== at(m, 4) ? undefined : { op: 'neg', w: width(at(m, 1)), dst: reg(m, 2) }],
  [/^r(\d+) = (le|be|bswap)(\d+) r(\d+)$/, (m) =>
    at(m, 1) !== at(m, 4) ? undefined : { op: `${at(m, 2)}${at(m, 3)}`, dst: reg(m, 1) }],
  [new RegExp(`^${R} (\\S*)= (?:${R}|${NUM})$`), (m) => {
    const op = ALU_OPS[at(m, 3)];
    if (op === undefined) return undefined;
    const base = { op, w: width(at(m, 1)), dst: reg(m, 2) };
    return m[5] !== undefined ? { ...base, src: reg(m, 5) } : { ...base, imm: n32(at(m, 6)) };
  }],
];

/** LLVM's instruction text as a meaning; undefined when no rule fits. */
function theirs(text: string): Meaning | undefined {
  // `goto +0x2 <f+0x20>`: the symbolic target is a comment (and `<` may
  // also be the comparison, so the pattern excludes spaces and `<`).
  const t = text.trim().replace(/\s+<[^<>\s]*>$/, '').replace(/\s+/g, ' ').trim();
  for (const [re, make] of RULES) {
    const m = re.exec(t);
    if (m !== null) return make([...m].map((x) => x ?? undefined) as string[]);
  }
  return undefined;
}

/** Our side for one instruction's bytes: the text we print and what it means. */
function ourSide(bytes: Uint8Array, pc: number): { text: string; meaning: Meaning | undefined; reassembled: Uint8Array } {
  const slots = decodeSlots(bytes);
  const text = formatInstruction(slots[0]!, pc, slots[1]?.imm);
  const back = assembleSlots(text);
  const spec = lookupSpec(back[0]!);
  return { text, meaning: spec === undefined ? undefined : ours(spec, back[0]!, back[1]?.imm ?? 0), reassembled: encodeSlots(back) };
}

interface Compared {
  /** Object, section and pc, or the spec's mnemonic. */
  where: string;
  llvm: string;
  text: string;
  llvmMeaning: string;
  ourMeaning: string;
  op: string;
  roundTrip: boolean;
}

function compare(where: string, bytes: Uint8Array, llvmText: string, pc: number): Compared {
  const { text, meaning, reassembled } = ourSide(bytes, pc);
  return {
    where, llvm: llvmText, text,
    llvmMeaning: show(theirs(llvmText)),
    ourMeaning: show(meaning),
    op: meaning?.op ?? '?',
    roundTrip: Buffer.from(reassembled).equals(Buffer.from(bytes)),
  };
}

/** One readable line per disagreement (an empty list is a pass). */
function mismatches(rows: readonly Compared[]): string[] {
  return rows
    .filter((r) => r.ourMeaning !== r.llvmMeaning || r.ourMeaning === show(undefined) || !r.roundTrip)
    .map((r) => `${r.where}: llvm '${r.llvm}' = ${r.llvmMeaning}; ours '${r.text}' = ${r.ourMeaning}`
      + (r.roundTrip ? '' : ' (bytes differ after reassembly)'));
}

// ---------------------------------------------------------------------------

describe('the llvm syntax translation', () => {
  // Checked without llvm: a broken translator would otherwise only show up
  // as mismatches on machines that have it.
  it.each([
    ['r0 = *(u32 *)(r1 + 0x4)', 'ldx w=32 dst=0 src=1 off=4'],
    ['if r1 > 0x2a goto +0x2 <L0>', 'jgt w=64 dst=1 imm=42 off=2'],
    ['if w1 s< w2 goto -0x3', 'jslt w=32 dst=1 src=2 off=-3'],
    ['w0 += w1', 'add w=32 dst=0 src=1'],
    ['r3 &= -0xff01', 'and w=64 dst=3 imm=-65281'],
    ['r1 = be16 r1', 'be16 dst=1'],
    ['lock *(u64 *)(r10 - 0x8) += r1', 'lock_add w=64 dst=10 src=1 off=-8'],
    ['r0 = atomic_fetch_add((u64 *)(r1 + 0x0), r0)', 'lock_fetch_add w=64 dst=1 src=0 off=0'],
    ['w0 = cmpxchg32_32(r1 + 0x1c, w0, w2)', 'lock_cmpxchg w=32 dst=1 src=2 off=28'],
    ['call 0x5', 'call imm=5'],
    ['callx r1', 'callx dst=1'],
    ['r1 = 0x1122 ll', 'lddw dst=1 imm=4386'],
    ['r1 = -0x1 ll', 'lddw dst=1 imm=18446744073709551615'],
    ['r0 = (s8)r1', 'movsx8 w=64 dst=0 src=1'],
    ['gotol -300', 'ja w=32 off=-300'],
    ['*(u16 *)(r10 - 0x52) = 0x1234', 'st w=16 dst=10 imm=4660 off=-82'],
    ['r0 = *(u8 *)skb[4]', 'ldabs w=8 imm=4'],
    ['r1 = -r2', '(untranslated)'],
  ])('%s', (llvm, meaning) => {
    expect(show(theirs(llvm))).toBe(meaning);
  });
});

/** `   12:\t<hex bytes>\t<text>` lines of llvm-objdump -d. */
const OBJDUMP_LINE = /^\s*(\d+):\t((?:[0-9a-f]{2} )*[0-9a-f]{2})\s*\t(.*)$/;

describe.skipIf(!haveObjdump)('llvm-objdump-19 on clang-compiled objects', () => {
  const objects = readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort();
  const rows: Compared[] = [];
  // In a hook, not the describe body: the body runs even when skipped.
  beforeAll(() => {
    for (const obj of objects) {
      // --mcpu=v4: without it llvm-objdump prints 32-bit fetch atomics as <unknown>.
      const r = spawnSync(OBJDUMP, ['-d', '--mcpu=v4', join(FIXTURES, obj)], { encoding: 'utf8' });
      let section = '';
      for (const line of r.stdout.split('\n')) {
        const sec = /^Disassembly of section (\S+):/.exec(line);
        if (sec !== null) section = sec[1]!;
        const m = OBJDUMP_LINE.exec(line);
        if (m === null) continue;
        const bytes = Buffer.from(m[2]!.replace(/ /g, ''), 'hex');
        rows.push(compare(`${obj} ${section} ${m[1]}`, bytes, m[3]!, Number(m[1])));
      }
    }
  });

  it('finds the fixture objects and their instructions', () => {
    expect(objects).toEqual(['alu-v3.o', 'alu.o', 'atomics.o', 'calls.o', 'mem.o']);
    expect(rows.length).toBeGreaterThan(250);
  });

  it('every instruction means what llvm-objdump says, and reassembles to its bytes', () => {
    expect(mismatches(rows)).toEqual([]);
  });

  it('the fixtures exercise the interesting families', () => {
    const ops = new Set(rows.map((r) => r.op));
    for (const op of [
      'add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh', 'mov',
      'movsx8', 'movsx16', 'movsx32', 'be16', 'be32', 'be64', 'bswap16', 'bswap32', 'bswap64',
      'jeq', 'jne', 'jgt', 'jge', 'jlt', 'jsgt', 'jslt', 'ja', 'call', 'callx', 'exit', 'lddw',
      'ldx', 'ldsx', 'st', 'stx', 'lock_add', 'lock_or', 'lock_and', 'lock_xor', 'lock_fetch_add',
      'lock_fetch_or', 'lock_fetch_and', 'lock_fetch_xor', 'lock_xchg', 'lock_cmpxchg',
    ]) {
      expect(ops, op).toContain(op);
    }
    const widths = new Set(rows.filter((r) => r.op === 'add' || r.op === 'jslt').map((r) => r.text.split(' ')[0]));
    expect([...widths].sort()).toEqual(['add', 'add32', 'jslt', 'jslt32']);
  });
});

// One instance of every OpSpec, twice: small values and edge values, with
// distinct registers so a swapped dst/src shows.
const VARIANTS: ReadonlyArray<Record<Field, number> & { imm2: number }> = [
  { dst: 1, src: 2, off: -8, imm: -300, imm2: 0x1234 },
  { dst: 9, src: 3, off: 32767, imm: -(2 ** 31), imm2: -1 },
];

function instance(spec: OpSpec, v: (typeof VARIANTS)[number]): Uint8Array {
  const value = (f: Field): number => {
    const rule = spec.fields[f];
    return typeof rule === 'number' ? rule : v[f];
  };
  const slot: Slot = { opcode: spec.opcode, dst: value('dst'), src: value('src'), off: value('off'), imm: value('imm') };
  return encodeSlots(spec.kind === 'lddw' ? [slot, { opcode: 0, dst: 0, src: 0, off: 0, imm: v.imm2 }] : [slot]);
}

describe.skipIf(!haveMc)('llvm-mc-19 on every OpSpec', () => {
  const programs = VARIANTS.map((v) => OPCODES.map((spec) => ({ spec, bytes: instance(spec, v) })));

  it.each(programs.map((p, i) => [i, p] as const))('variant %i', (_, program) => {
    const input = program.map(({ bytes }) => [...bytes].map((b) => `0x${b.toString(16)}`).join(' ')).join('\n');
    const r = spawnSync(MC, ['--disassemble', '-triple=bpfel', '-mcpu=v4'], { input, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== '.text');
    expect(lines).toHaveLength(program.length);
    const rows = program.map(({ spec, bytes }, i) =>
      compare(`${spec.mnemonic} (${Buffer.from(bytes).toString('hex')})`, bytes, lines[i]!, 0));
    expect(mismatches(rows)).toEqual([]);
  });
});
