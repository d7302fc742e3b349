import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BudgetExceededError, EbpfError, ExecutionError, HelperError, MemoryAccessError,
} from '../lib/errors.js';
import { OPCODES, lookupSpec, type AluOp, type AtomicOp, type Instruction, type JmpCond, type OpSpec, type Slot } from '../lib/isa.js';
import { PreparedProgram, interpret, prepare } from '../lib/interpreter.js';
import { ALU, BYTE_ORDER, JMP, evalAlu, immOperand, movsx, neg, signExtend, testJmp, type ByteOrderOp } from '../lib/ops.js';
import { CODE_ADDRESS_BASE, codeAddress } from '../lib/code-address.js';
import { Memory, type Region } from '../lib/memory.js';
import type { Program } from '../lib/program.js';
import { FRAME_SIZE, type HelperFn, type RunEnv } from '../lib/runtime.js';

// ---------------------------------------------------------------------------
// A tiny test-local program builder: picks the spec from OPCODES by predicate,
// fills fixed fields from the spec's rules, and checks lookupSpec agrees.

interface Raw extends Slot {
  imm2: number;
}

function make(pred: (s: OpSpec) => boolean, f: Partial<Raw>): Raw {
  const matches = OPCODES.filter(pred);
  if (matches.length !== 1) throw new Error(`builder: ${matches.length} specs match`);
  const spec = matches[0];
  const field = (k: 'dst' | 'src' | 'off' | 'imm'): number => {
    const rule = spec.fields[k];
    return typeof rule === 'number' ? rule : (f[k] ?? 0);
  };
  return { opcode: spec.opcode, dst: field('dst'), src: field('src'), off: field('off'), imm: field('imm'), imm2: f.imm2 ?? 0 };
}

type W = 32 | 64;
type MW = 8 | 16 | 32 | 64;
const I = {
  aluI: (op: AluOp, w: W, dst: number, imm: number) =>
    make((s) => s.kind === 'alu' && s.alu === op && s.width === w && s.source === 'imm', { dst, imm }),
  aluR: (op: AluOp, w: W, dst: number, src: number) =>
    make((s) => s.kind === 'alu' && s.alu === op && s.width === w && s.source === 'reg', { dst, src }),
  mov: (dst: number, imm: number) => I.aluI('mov', 64, dst, imm),
  movR: (dst: number, src: number) => I.aluR('mov', 64, dst, src),
  movsx: (w: W, bits: number, dst: number, src: number) =>
    make((s) => s.kind === 'movsx' && s.width === w && s.fields.off === bits, { dst, src }),
  neg: (w: W, dst: number) => make((s) => s.kind === 'neg' && s.width === w, { dst }),
  end: (name: 'le' | 'be' | 'bswap', bits: 16 | 32 | 64, dst: number) =>
    make((s) => s.mnemonic === `${name}${bits}`, { dst }),
  ja: (off: number) => make((s) => s.mnemonic === 'ja', { off }),
  ja32: (imm: number) => make((s) => s.mnemonic === 'ja32', { imm }),
  jI: (cond: JmpCond, w: W, dst: number, imm: number, off: number) =>
    make((s) => s.kind === 'jcond' && s.jmp === cond && s.width === w && s.source === 'imm', { dst, imm, off }),
  jR: (cond: JmpCond, w: W, dst: number, src: number, off: number) =>
    make((s) => s.kind === 'jcond' && s.jmp === cond && s.width === w && s.source === 'reg', { dst, src, off }),
  call: (id: number) => make((s) => s.kind === 'call', { imm: id }),
  callLocal: (imm: number) => make((s) => s.kind === 'call_local', { imm }),
  kfunc: (imm: number) => make((s) => s.kind === 'call_kfunc', { imm }),
  callx: (dst: number) => make((s) => s.kind === 'callx', { dst }),
  exit: () => make((s) => s.kind === 'exit', {}),
  lddw: (dst: number, value: bigint) =>
    make((s) => s.kind === 'lddw' && s.lddwSrc === 0, {
      dst,
      imm: Number(BigInt.asIntN(32, value)),
      imm2: Number(BigInt.asIntN(32, value >> 32n)),
    }),
  lddwSrc: (src: number, dst: number, imm: number, imm2 = 0) =>
    make((s) => s.kind === 'lddw' && s.lddwSrc === src, { dst, imm, imm2 }),
  ldx: (w: MW, dst: number, src: number, off: number) => make((s) => s.kind === 'ldx' && s.width === w, { dst, src, off }),
  ldsx: (w: MW, dst: number, src: number, off: number) => make((s) => s.kind === 'ldsx' && s.width === w, { dst, src, off }),
  st: (w: MW, dst: number, off: number, imm: number) => make((s) => s.kind === 'st' && s.width === w, { dst, off, imm }),
  stx: (w: MW, dst: number, src: number, off: number) => make((s) => s.kind === 'stx' && s.width === w, { dst, src, off }),
  atomic: (op: AtomicOp, fetch: boolean, w: W, dst: number, src: number, off: number) =>
    make((s) => s.kind === 'atomic' && s.atomic === op && s.fetch === fetch && s.width === w, { dst, src, off }),
  ldabs: (w: MW, imm: number) => make((s) => s.kind === 'ldabs' && s.width === w, { imm }),
  ldind: (w: MW, src: number, imm: number) => make((s) => s.kind === 'ldind' && s.width === w, { src, imm }),
};

function program(raws: readonly Raw[]): Program {
  const insns: Instruction[] = [];
  const byPc: (Instruction | undefined)[] = [];
  const functions = new Set<number>([0]);
  const helpersUsed = new Set<number>();
  for (const raw of raws) {
    const spec = lookupSpec(raw);
    if (spec === undefined) throw new Error(`builder: no spec for opcode 0x${raw.opcode.toString(16)}`);
    const insn: Instruction = { ...raw, pc: byPc.length, spec };
    insns.push(insn);
    byPc.push(insn);
    if (spec.kind === 'lddw') byPc.push(undefined);
    if (spec.kind === 'call_local') functions.add(insn.pc + 1 + insn.imm);
    if (spec.kind === 'lddw' && spec.lddwSrc === 4) functions.add(insn.pc + 1 + insn.imm);
    if (spec.kind === 'call') helpersUsed.add(insn.imm);
  }
  return { insns, byPc, slotCount: byPc.length, functions: [...functions].sort((a, b) => a - b), helpersUsed };
}

interface World {
  readonly mem: Memory;
  readonly stack: Region;
  readonly data: Region;
  readonly rodata: Region;
  readonly packet: Region;
  readonly env: RunEnv;
}

const DEPTH = 8;

function world(options: Partial<RunEnv> = {}, packetBytes: number[] = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]): World {
  const mem = new Memory();
  const stack = mem.map(new Uint8Array(FRAME_SIZE * DEPTH), { name: 'stack' });
  const data = mem.map(new Uint8Array(64), { name: 'data' });
  const rodata = mem.map(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), { name: 'rodata', readonly: true });
  const packet = mem.map(new Uint8Array(packetBytes), { name: 'packet' });
  const env: RunEnv = {
    memory: mem,
    helpers: new Map(),
    unwindHelper: undefined,
    budget: undefined,
    maxCallDepth: DEPTH,
    stackTop: stack.end,
    r1: BigInt(data.base),
    r2: BigInt(data.size),
    packet: { address: packet.base, length: packet.size },
    ...options,
  };
  return { mem, stack, data, rodata, packet, env };
}

function run(raws: readonly Raw[], options: Partial<RunEnv> = {}, w: World = world(options)): bigint {
  return interpret(program(raws), { ...w.env, ...options });
}

/** Runs and returns the thrown error (failing the test if nothing is thrown). */
function fails(raws: readonly Raw[], options: Partial<RunEnv> = {}, w?: World): unknown {
  try {
    run(raws, options, w);
  } catch (e) {
    return e;
  }
  throw new Error('expected the run to throw');
}

const M64 = (1n << 64n) - 1n;
const helpers = (entries: Record<number, HelperFn>): ReadonlyMap<number, HelperFn> =>
  new Map(Object.entries(entries).map(([k, f]) => [Number(k), f]));

// ---------------------------------------------------------------------------

describe('initial state', () => {
  it('r1, r2, r10 from the env, others 0', () => {
    const w = world();
    expect(run([I.movR(0, 1), I.exit()], {}, w)).toBe(BigInt(w.data.base));
    expect(run([I.movR(0, 2), I.exit()], {}, w)).toBe(64n);
    expect(run([I.movR(0, 10), I.exit()], {}, w)).toBe(BigInt(w.stack.end));
    for (const r of [3, 4, 5, 6, 7, 8, 9]) expect(run([I.mov(0, 7), I.movR(0, r), I.exit()], {}, w)).toBe(0n);
    expect(run([I.exit()], {}, w)).toBe(0n);
  });
});

describe('alu', () => {
  it('64-bit imm is sign-extended for every op', () => {
    expect(run([I.mov(0, -1), I.exit()])).toBe(M64);
    expect(run([I.mov(0, 0), I.aluI('or', 64, 0, -2), I.exit()])).toBe(M64 - 1n);
    expect(run([I.lddw(0, 0x1234_5678_9abc_def0n), I.aluI('and', 64, 0, -1), I.exit()])).toBe(0x1234_5678_9abc_def0n);
    expect(run([I.mov(0, 5), I.aluI('xor', 64, 0, -1), I.exit()])).toBe(M64 - 5n);
    // Unsigned div by imm -1 divides by 2^64 - 1.
    expect(run([I.mov(0, -1), I.aluI('div', 64, 0, -1), I.exit()])).toBe(1n);
    expect(run([I.mov(0, 7), I.aluI('mod', 64, 0, -1), I.exit()])).toBe(7n);
  });
  it('32-bit ops zero-extend, including mov32 wX, wX', () => {
    expect(run([I.mov(0, -1), I.aluR('mov', 32, 0, 0), I.exit()])).toBe(0xffff_ffffn);
    expect(run([I.mov(0, -1), I.aluI('add', 32, 0, 1), I.exit()])).toBe(0n);
    expect(run([I.aluI('mov', 32, 0, -1), I.exit()])).toBe(0xffff_ffffn);
  });
  it('register operands, division and modulo by zero', () => {
    expect(run([I.mov(0, 10), I.mov(1, 0), I.aluR('div', 64, 0, 1), I.exit()])).toBe(0n);
    expect(run([I.mov(0, 10), I.mov(1, 0), I.aluR('mod', 64, 0, 1), I.exit()])).toBe(10n);
    expect(run([I.lddw(0, 0x1_0000_000an), I.lddw(1, 1n << 32n), I.aluR('mod', 32, 0, 1), I.exit()])).toBe(10n);
    expect(run([I.lddw(0, 0x1_0000_000an), I.lddw(1, 1n << 32n), I.aluR('div', 32, 0, 1), I.exit()])).toBe(0n);
    expect(run([I.mov(0, -13), I.aluI('smod', 64, 0, 3), I.exit()])).toBe(M64);
    expect(run([I.mov(0, -13), I.aluI('sdiv', 64, 0, 3), I.exit()])).toBe(M64 - 3n);
  });
  it('shifts mask the amount', () => {
    expect(run([I.mov(0, 1), I.aluI('lsh', 32, 0, 60), I.exit()])).toBe(1n << 28n);
    expect(run([I.mov(0, -1), I.aluI('rsh', 32, 0, -4), I.exit()])).toBe(0xfn);
    expect(run([I.mov(0, 1), I.mov(1, 64), I.aluR('lsh', 64, 0, 1), I.exit()])).toBe(1n);
    expect(run([I.mov(0, -16), I.aluI('arsh', 64, 0, 2), I.exit()])).toBe(M64 - 3n);
    expect(run([I.aluI('mov', 32, 0, -16), I.aluI('arsh', 32, 0, 2), I.exit()])).toBe(0xffff_fffcn);
  });
  it('movsx and neg', () => {
    expect(run([I.mov(1, 0x80), I.movsx(64, 8, 0, 1), I.exit()])).toBe(M64 - 0x7fn);
    expect(run([I.mov(1, 0x80), I.movsx(32, 8, 0, 1), I.exit()])).toBe(0xffff_ff80n);
    expect(run([I.mov(1, 0x8000), I.movsx(32, 16, 0, 1), I.exit()])).toBe(0xffff_8000n);
    expect(run([I.aluI('mov', 32, 1, -1), I.movsx(64, 32, 0, 1), I.exit()])).toBe(M64);
    expect(run([I.mov(0, 1), I.neg(64, 0), I.exit()])).toBe(M64);
    expect(run([I.mov(0, 1), I.neg(32, 0), I.exit()])).toBe(0xffff_ffffn);
  });
  it('le, be, bswap', () => {
    const v = 0x1122_3344_5566_7788n;
    const go = (name: 'le' | 'be' | 'bswap', bits: 16 | 32 | 64) => run([I.lddw(0, v), I.end(name, bits, 0), I.exit()]);
    expect(go('le', 16)).toBe(0x7788n);
    expect(go('le', 32)).toBe(0x5566_7788n);
    expect(go('le', 64)).toBe(v);
    expect(go('be', 16)).toBe(0x8877n);
    expect(go('be', 32)).toBe(0x8877_6655n);
    expect(go('be', 64)).toBe(0x8877_6655_4433_2211n);
    expect(go('bswap', 16)).toBe(0x8877n);
    expect(go('bswap', 32)).toBe(0x8877_6655n);
    expect(go('bswap', 64)).toBe(0x8877_6655_4433_2211n);
  });
});

describe('jumps', () => {
  it('ja uses off, ja32 uses imm', () => {
    expect(run([I.mov(0, 1), I.ja(1), I.mov(0, 2), I.exit()])).toBe(1n);
    expect(run([I.mov(0, 1), I.ja32(1), I.mov(0, 2), I.exit()])).toBe(1n);
    // Backward jump: count down from 3.
    expect(run([I.mov(0, 0), I.mov(1, 3), I.aluI('add', 64, 0, 2), I.aluI('sub', 64, 1, 1), I.jI('jne', 64, 1, 0, -3), I.exit()])).toBe(6n);
  });
  it('jcond: JMP sign-extends imm, JMP32 compares low 32 bits as s32', () => {
    const taken = (j: Raw, setup: Raw[]) => run([I.mov(0, 0), ...setup, j, I.exit(), I.mov(0, 1), I.exit()]);
    expect(taken(I.jI('jeq', 64, 1, -1, 1), [I.mov(1, -1)])).toBe(1n);
    expect(taken(I.jI('jeq', 64, 1, -1, 1), [I.aluI('mov', 32, 1, -1)])).toBe(0n);
    expect(taken(I.jI('jeq', 32, 1, -1, 1), [I.aluI('mov', 32, 1, -1)])).toBe(1n);
    expect(taken(I.jI('jsgt', 32, 1, 0, 1), [I.lddw(1, 0x1_8000_0000n)])).toBe(0n);
    expect(taken(I.jI('jsgt', 64, 1, 0, 1), [I.lddw(1, 0x1_8000_0000n)])).toBe(1n);
    expect(taken(I.jI('jgt', 32, 1, 0, 1), [I.lddw(1, 1n << 32n)])).toBe(0n);
    expect(taken(I.jR('jset', 64, 1, 2, 1), [I.mov(1, 6), I.mov(2, 4)])).toBe(1n);
    expect(taken(I.jR('jset', 64, 1, 2, 1), [I.mov(1, 6), I.mov(2, 1)])).toBe(0n);
    expect(taken(I.jR('jslt', 64, 1, 2, 1), [I.mov(1, -1), I.mov(2, 0)])).toBe(1n);
    expect(taken(I.jR('jlt', 64, 1, 2, 1), [I.mov(1, -1), I.mov(2, 0)])).toBe(0n);
  });
});

describe('lddw', () => {
  it('src 0: 64-bit immediate, two slots', () => {
    expect(run([I.lddw(0, 0xdead_beef_0000_0001n), I.exit()])).toBe(0xdead_beef_0000_0001n);
    expect(run([I.lddw(0, M64), I.exit()])).toBe(M64);
    expect(run([I.lddw(0, 0x8000_0000n), I.exit()])).toBe(0x8000_0000n);
  });
  it('src 4: code address of pc + 1 + imm', () => {
    // pc 0: lddw (2 slots), pc 2: exit, pc 3: the function. imm = 3 - 0 - 1 = 2.
    expect(run([I.lddwSrc(4, 0, 2), I.exit(), I.exit()])).toBe(BigInt(codeAddress(3)));
  });
  it('other srcs never reach the engine', () => {
    const e = fails([I.lddwSrc(1, 0, 3), I.exit()]);
    expect(e).toBeInstanceOf(ExecutionError);
    expect((e as ExecutionError).code).toBe('UNSUPPORTED_INSTRUCTION');
    expect((e as ExecutionError).pc).toBe(0);
  });
});

describe('memory', () => {
  it('stx/ldx of every width, little-endian, zero-extended', () => {
    const w = world();
    const val = 0x8182_8384_8586_8788n;
    const prog = (mw: MW) => [I.lddw(1, val), I.stx(64, 10, 1, -8), I.ldx(mw, 0, 10, -8), I.exit()];
    expect(run(prog(8), {}, w)).toBe(0x88n);
    expect(run(prog(16), {}, w)).toBe(0x8788n);
    expect(run(prog(32), {}, w)).toBe(0x8586_8788n);
    expect(run(prog(64), {}, w)).toBe(val);
    expect([...w.stack.bytes.subarray(w.stack.size - 8)]).toEqual([0x88, 0x87, 0x86, 0x85, 0x84, 0x83, 0x82, 0x81]);
  });
  it('ldsx sign-extends to 64 bits', () => {
    const prog = (mw: MW) => [I.lddw(1, 0x8182_8384_8586_8788n), I.stx(64, 10, 1, -8), I.ldsx(mw, 0, 10, -8), I.exit()];
    expect(run(prog(8))).toBe(M64 - 0x77n);
    expect(run(prog(16))).toBe(0xffff_ffff_ffff_8788n);
    expect(run(prog(32))).toBe(0xffff_ffff_8586_8788n);
    expect(run([I.st(8, 10, -1, 0x7f), I.ldsx(8, 0, 10, -1), I.exit()])).toBe(0x7fn);
  });
  it('st truncates imm; DW sign-extends it', () => {
    const w = world();
    expect(run([I.st(64, 10, -8, -2), I.ldx(64, 0, 10, -8), I.exit()], {}, w)).toBe(M64 - 1n);
    expect(run([I.st(64, 10, -8, 0), I.st(32, 10, -8, -2), I.ldx(64, 0, 10, -8), I.exit()], {}, w)).toBe(0xffff_fffen);
    expect(run([I.st(64, 10, -8, 0), I.st(16, 10, -8, 0x12345), I.ldx(64, 0, 10, -8), I.exit()], {}, w)).toBe(0x2345n);
    expect(run([I.st(64, 10, -8, 0), I.st(8, 10, -8, -1), I.ldx(64, 0, 10, -8), I.exit()], {}, w)).toBe(0xffn);
  });
  it('r1 points at the data region', () => {
    const w = world();
    w.data.bytes.set([5, 6], 10);
    expect(run([I.ldx(16, 0, 1, 10), I.exit()], {}, w)).toBe(0x0605n);
    run([I.st(32, 1, 20, 0x01020304), I.exit()], {}, w);
    expect([...w.data.bytes.subarray(20, 24)]).toEqual([4, 3, 2, 1]);
  });
  it('faults: NULL, out of bounds, read-only, negative pointer', () => {
    const w = world();
    const check = (raws: Raw[], pc: number, address: bigint, size: number, kind: 'load' | 'store') => {
      const e = fails(raws, {}, w) as MemoryAccessError;
      expect(e).toBeInstanceOf(MemoryAccessError);
      expect({ pc: e.pc, address: e.address, size: e.size, kind: e.kind }).toEqual({ pc, address, size, kind });
      expect(e.message).toContain(`at pc ${pc}`);
    };
    check([I.mov(1, 0), I.ldx(32, 0, 1, 16), I.exit()], 1, 16n, 4, 'load');
    check([I.st(64, 10, 0, 1), I.exit()], 0, BigInt(w.stack.end), 8, 'store');
    check([I.ldx(64, 0, 1, 60), I.exit()], 0, BigInt(w.data.base + 60), 8, 'load');
    check([I.lddw(1, BigInt(w.rodata.base)), I.st(8, 1, 0, 9), I.exit()], 2, BigInt(w.rodata.base), 1, 'store');
    // A negative pointer wraps to a 64-bit address far above 2^32.
    check([I.mov(1, -8), I.ldx(64, 0, 1, 0), I.exit()], 1, M64 - 7n, 8, 'load');
    // reg + off wraps as u64: 0 - 1.
    check([I.mov(1, 0), I.ldx(8, 0, 1, -1), I.exit()], 1, M64, 1, 'load');
    // Reads from read-only memory are fine.
    expect(run([I.lddw(1, BigInt(w.rodata.base)), I.ldx(8, 0, 1, 7), I.exit()], {}, w)).toBe(8n);
    // A faulting store touches nothing.
    expect([...w.rodata.bytes]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('atomics', () => {
  const setup = (v: bigint): Raw[] => [I.lddw(1, v), I.stx(64, 10, 1, -8)];
  const read = I.ldx(64, 0, 10, -8);
  it('add/or/and/xor without fetch leave src alone', () => {
    expect(run([...setup(10n), I.mov(2, 5), I.atomic('add', false, 64, 10, 2, -8), read, I.exit()])).toBe(15n);
    expect(run([...setup(10n), I.mov(2, 5), I.atomic('add', false, 64, 10, 2, -8), I.movR(0, 2), I.exit()])).toBe(5n);
    expect(run([...setup(0xf0n), I.mov(2, 0x0f), I.atomic('or', false, 64, 10, 2, -8), read, I.exit()])).toBe(0xffn);
    expect(run([...setup(0xf0n), I.mov(2, 0x3c), I.atomic('and', false, 64, 10, 2, -8), read, I.exit()])).toBe(0x30n);
    expect(run([...setup(0xffn), I.mov(2, 0x0f), I.atomic('xor', false, 64, 10, 2, -8), read, I.exit()])).toBe(0xf0n);
  });
  it('W ops touch 4 bytes only', () => {
    expect(run([...setup(0x1_ffff_ffffn), I.mov(2, 1), I.atomic('add', false, 32, 10, 2, -8), read, I.exit()])).toBe(1n << 32n);
  });
  it('fetch forms give the old value to src, zero-extended for W', () => {
    expect(run([...setup(0x8000_0000_0000_0007n), I.mov(2, 1), I.atomic('add', true, 64, 10, 2, -8), I.movR(0, 2), I.exit()])).toBe(0x8000_0000_0000_0007n);
    expect(run([...setup(0xffff_ffff_ffff_fff0n), I.mov(2, -1), I.atomic('or', true, 32, 10, 2, -8), I.movR(0, 2), I.exit()])).toBe(0xffff_fff0n);
    expect(run([...setup(0xffff_ffff_ffff_fff0n), I.mov(2, -1), I.atomic('or', true, 32, 10, 2, -8), read, I.exit()])).toBe(M64);
    expect(run([...setup(6n), I.mov(2, 3), I.atomic('and', true, 64, 10, 2, -8), read, I.exit()])).toBe(2n);
    expect(run([...setup(6n), I.mov(2, 3), I.atomic('xor', true, 64, 10, 2, -8), I.movR(0, 2), I.exit()])).toBe(6n);
  });
  it('xchg', () => {
    expect(run([...setup(6n), I.mov(2, 9), I.atomic('xchg', true, 64, 10, 2, -8), I.movR(0, 2), I.exit()])).toBe(6n);
    expect(run([...setup(6n), I.mov(2, 9), I.atomic('xchg', true, 64, 10, 2, -8), read, I.exit()])).toBe(9n);
    expect(run([...setup(M64), I.mov(2, 9), I.atomic('xchg', true, 32, 10, 2, -8), I.movR(0, 2), I.exit()])).toBe(0xffff_ffffn);
    expect(run([...setup(M64), I.mov(2, 9), I.atomic('xchg', true, 32, 10, 2, -8), read, I.exit()])).toBe(0xffff_ffff_0000_0009n);
  });
  it('cmpxchg: r0 gets the old value; src is stored only on equality', () => {
    const cx = (mem: bigint, r0: bigint, w: W, result: Raw) =>
      run([...setup(mem), I.lddw(0, r0), I.mov(2, 42), I.atomic('cmpxchg', true, w, 10, 2, -8), result, I.exit()]);
    const r0 = I.aluI('add', 64, 0, 0);
    expect(cx(7n, 7n, 64, r0)).toBe(7n);
    expect(cx(7n, 7n, 64, read)).toBe(42n);
    expect(cx(7n, 8n, 64, r0)).toBe(7n);
    expect(cx(7n, 8n, 64, read)).toBe(7n);
    // W: the low 32 bits of r0 are compared, r0 gets the old value zero-extended.
    expect(cx(0xaaaa_aaaa_ffff_fff7n, 0x1_ffff_fff7n, 32, read)).toBe(0xaaaa_aaaa_0000_002an);
    expect(cx(0xaaaa_aaaa_ffff_fff7n, 0x1_ffff_fff7n, 32, r0)).toBe(0xffff_fff7n);
    expect(cx(0xaaaa_aaaa_ffff_fff7n, 5n, 32, read)).toBe(0xaaaa_aaaa_ffff_fff7n);
  });
  it('atomics on read-only or unmapped memory fault as stores', () => {
    const w = world();
    const e = fails([I.lddw(1, BigInt(w.rodata.base)), I.mov(2, 1), I.atomic('add', true, 64, 1, 2, 0), I.exit()], {}, w) as MemoryAccessError;
    expect(e).toBeInstanceOf(MemoryAccessError);
    expect([e.pc, e.kind, e.size, e.address]).toEqual([3, 'store', 8, BigInt(w.rodata.base)]);
    expect([...w.rodata.bytes]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const n = fails([I.mov(1, 0), I.atomic('xchg', true, 32, 1, 2, 4), I.exit()], {}, w) as MemoryAccessError;
    expect([n.pc, n.kind, n.size, n.address]).toEqual([1, 'store', 4, 4n]);
  });
});

describe('ldabs / ldind', () => {
  it('big-endian loads of B/H/W into r0', () => {
    expect(run([I.ldabs(8, 1), I.exit()])).toBe(0x34n);
    expect(run([I.ldabs(16, 1), I.exit()])).toBe(0x3456n);
    expect(run([I.ldabs(32, 2), I.exit()])).toBe(0x5678_9abcn);
    expect(run([I.mov(3, 2), I.ldind(16, 3, 2), I.exit()])).toBe(0x9abcn);
    expect(run([I.mov(3, 6), I.ldind(8, 3, -1), I.exit()])).toBe(0xbcn);
  });
  it('out of bounds ends the program with r0 = 0', () => {
    const tail = [I.mov(0, 99), I.exit()];
    expect(run([I.ldabs(32, 3), ...tail])).toBe(0n);
    expect(run([I.ldabs(8, 6), ...tail])).toBe(0n);
    expect(run([I.ldabs(8, -1), ...tail])).toBe(0n);
    expect(run([I.mov(3, -1), I.ldind(8, 3, 1), ...tail])).toBe(0n);
    expect(run([I.lddw(3, 1n << 32n), I.ldind(8, 3, 0), ...tail])).toBe(0n);
    expect(run([I.ldabs(8, 5), ...tail])).toBe(99n);
    // Inside a local call, too: the whole run ends.
    expect(run([I.callLocal(2), I.mov(0, 99), I.exit(), I.ldabs(8, 100), I.mov(0, 98), I.exit()])).toBe(0n);
  });
  it('leaves r1-r5 alone', () => {
    const w = world();
    expect(run([I.mov(5, 55), I.ldabs(8, 0), I.aluR('add', 64, 0, 5), I.exit()], {}, w)).toBe(0x12n + 55n);
  });
});

describe('helper calls', () => {
  it('passes r1..r5 and a context; r1-r5 survive the call', () => {
    const seen: unknown[] = [];
    const w = world({
      helpers: helpers({
        7: (a, b, c, d, e, ctx) => {
          seen.push([a, b, c, d, e], ctx.pc, ctx.id, ctx.memory);
          return a + b + c + d + e;
        },
      }),
    });
    const regs = [1, 2, 3, 4, 5].map((r) => I.mov(r, r * 10));
    expect(run([...regs, I.call(7), I.exit()], {}, w)).toBe(150n);
    expect(seen).toEqual([[10n, 20n, 30n, 40n, 50n], 5, 7, w.mem]);
    expect(run([...regs, I.call(7), I.aluR('add', 64, 0, 1), I.aluR('add', 64, 0, 5), I.exit()], {}, w)).toBe(210n);
  });
  it('normalizes results: bigint wraps, numbers wrap, void is 0', () => {
    const go = (f: HelperFn) => run([I.call(1), I.exit()], { helpers: helpers({ 1: f }) });
    expect(go(() => -1n)).toBe(M64);
    expect(go(() => 1n << 64n)).toBe(0n);
    expect(go(() => (1n << 70n) + 5n)).toBe(5n);
    expect(go(() => -1)).toBe(M64);
    expect(go(() => 42)).toBe(42n);
    expect(go(() => Number.MAX_SAFE_INTEGER)).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(go(() => Number.MIN_SAFE_INTEGER)).toBe(BigInt.asUintN(64, BigInt(Number.MIN_SAFE_INTEGER)));
    expect(go(() => undefined)).toBe(0n);
    for (const bad of [1.5, NaN, Infinity, 2 ** 60]) {
      const e = fails([I.mov(0, 0), I.call(1), I.exit()], { helpers: helpers({ 1: () => bad }) });
      expect(e).toBeInstanceOf(HelperError);
      expect([(e as HelperError).pc, (e as HelperError).helper]).toEqual([1, 1]);
    }
    const e = fails([I.call(1), I.exit()], { helpers: helpers({ 1: (() => 'x') as unknown as HelperFn }) });
    expect(e).toBeInstanceOf(HelperError);
  });
  it('wraps foreign throws in HelperError; EbpfErrors propagate unchanged', () => {
    const e = fails([I.mov(0, 0), I.call(3), I.exit()], { helpers: helpers({ 3: () => { throw new TypeError('boom'); } }) });
    expect(e).toBeInstanceOf(HelperError);
    expect((e as HelperError).message).toBe('helper 3: boom at pc 1');
    expect([(e as HelperError).pc, (e as HelperError).helper, (e as HelperError).code]).toEqual([1, 3, 'HELPER']);
    const s = fails([I.call(3), I.exit()], { helpers: helpers({ 3: () => { throw 'plain string'; } }) });
    expect((s as HelperError).message).toContain('plain string');
    // A helper touching bad memory: the MemoryAccessError surfaces as is.
    const m = fails([I.mov(1, 0), I.call(4), I.exit()], {
      helpers: helpers({ 4: (r1, _b, _c, _d, _e, ctx) => ctx.memory.load(r1, 8, ctx.pc) }),
    });
    expect(m).toBeInstanceOf(MemoryAccessError);
    expect((m as MemoryAccessError).pc).toBe(1);
    const mine = new ExecutionError('CUSTOM', 'mine', 0);
    expect(fails([I.call(3), I.exit()], { helpers: helpers({ 3: () => { throw mine; } }) })).toBe(mine);
  });
  it('unknown helper at run time', () => {
    const e = fails([I.mov(0, 0), I.call(99), I.exit()]);
    expect(e).toBeInstanceOf(ExecutionError);
    expect([(e as ExecutionError).code, (e as ExecutionError).pc]).toEqual(['UNKNOWN_HELPER', 1]);
  });
  it('unwind: the marked helper returning 0 ends the run at depth 0', () => {
    let ret = 0n;
    const opts = { helpers: helpers({ 5: () => ret, 6: () => 0n }), unwindHelper: 5 };
    const prog = [I.mov(0, 1), I.call(5), I.mov(0, 77), I.exit()];
    expect(run(prog, opts)).toBe(0n);
    ret = 3n;
    expect(run(prog, opts)).toBe(77n);
    // Another helper returning 0 does not unwind.
    expect(run([I.call(6), I.mov(0, 77), I.exit()], opts)).toBe(77n);
  });
  it('unwind inside a local call ends the whole run', () => {
    const opts = { helpers: helpers({ 5: () => 0 }), unwindHelper: 5 };
    // main: call f; r0 = 77; exit.  f: call g; exit.  g: call 5; r0 = 66; exit.
    const prog = [I.callLocal(2), I.mov(0, 77), I.exit(), I.callLocal(1), I.exit(), I.call(5), I.mov(0, 66), I.exit()];
    expect(run(prog, opts)).toBe(0n);
    expect(run(prog, { ...opts, unwindHelper: undefined })).toBe(77n);
  });
});

describe('local calls', () => {
  it('r1-r9 and r10 are the caller\'s again after the call; r0 is the result', () => {
    // f (pc 8): clobbers r6..r9, sets r1 = 100 and r0 = its own r10, then exits.
    const f = [I.mov(6, 0), I.mov(7, 0), I.mov(8, 0), I.mov(9, 0), I.mov(1, 100), I.movR(0, 10), I.exit()];
    // main (pc 0..7): r6..r9 = 6..9; call f; then one of the checks below; exit.
    const main = (check: Raw[]) => {
      const head = [I.mov(6, 6), I.mov(7, 7), I.mov(8, 8), I.mov(9, 9), I.callLocal(3), ...check];
      if (head.length !== 7) throw new Error('check must be 2 instructions');
      return [...head, I.exit(), ...f];
    };
    const w = world();
    const ret = (check: Raw[]) => run(main(check), {}, w);
    // The callee's frame pointer is one frame down; its r0 comes back.
    expect(ret([I.aluI('add', 64, 0, 0), I.aluI('add', 64, 0, 0)])).toBe(BigInt(w.stack.end - FRAME_SIZE));
    // r6..r9 are the caller's again.
    expect(ret([I.movR(0, 6), I.aluR('add', 64, 0, 9)])).toBe(15n);
    expect(ret([I.movR(0, 7), I.aluR('add', 64, 0, 8)])).toBe(15n);
    // r10 is the caller's again.
    expect(ret([I.movR(0, 10), I.aluI('add', 64, 0, 0)])).toBe(BigInt(w.stack.end));
    // r1 is the caller's again, although the callee set it.
    expect(ret([I.movR(0, 1), I.aluI('add', 64, 0, 0)])).toBe(w.env.r1);
  });
  it('the callee starts with r0 and r6-r9 at 0 and gets r1-r5', () => {
    const prog = (reg: number) => [
      I.mov(0, 5), I.mov(1, 11), I.mov(5, 15), I.mov(6, 6), I.mov(9, 9), I.callLocal(1), I.exit(),
      I.movR(0, reg), I.exit(),
    ];
    expect(run(prog(0))).toBe(0n);
    expect(run(prog(6))).toBe(0n);
    expect(run(prog(9))).toBe(0n);
    expect(run(prog(1))).toBe(11n);
    expect(run(prog(5))).toBe(15n);
  });
  it('each frame has its own stack slice', () => {
    // main stores 1 at r10-8, f stores 2 at its r10-8; main then reads back 1.
    const prog = [
      I.st(64, 10, -8, 1), I.callLocal(2), I.ldx(64, 0, 10, -8), I.exit(),
      I.st(64, 10, -8, 2), I.exit(),
    ];
    const w = world();
    expect(run(prog, {}, w)).toBe(1n);
    expect(w.stack.view.getBigUint64(w.stack.size - FRAME_SIZE - 8, true)).toBe(2n);
  });
  it('depth: maxCallDepth frames are allowed, one more throws at the call', () => {
    // A recursive function: its argument r1 counts down; recurse while r1 != 0.
    // main: r1 = N; call f; exit.  f: if r1 == 0 goto out; r1 -= 1; call f; out: r0 += 1; exit.
    const prog = (n: number) => [
      I.mov(1, n), I.mov(0, 0), I.callLocal(1), I.exit(),
      I.jI('jeq', 64, 1, 0, 2), I.aluI('sub', 64, 1, 1), I.callLocal(-3), I.aluI('add', 64, 0, 1), I.exit(),
    ];
    // N = DEPTH - 2 -> main + (DEPTH - 1) frames of f = DEPTH frames.
    expect(run(prog(DEPTH - 2))).toBe(BigInt(DEPTH - 1));
    const e = fails(prog(DEPTH - 1));
    expect(e).toBeInstanceOf(ExecutionError);
    expect([(e as ExecutionError).code, (e as ExecutionError).pc]).toEqual(['CALL_DEPTH_EXCEEDED', 6]);
    const one = fails([I.callLocal(1), I.exit(), I.exit()], { maxCallDepth: 1 });
    expect([(one as ExecutionError).code, (one as ExecutionError).pc]).toEqual(['CALL_DEPTH_EXCEEDED', 0]);
  });
});

describe('callx', () => {
  it('to a code address calls the function', () => {
    // pc 0-1: lddw r1 = &f (pc 5); pc 2: callx r1; pc 3: r0 += 1; pc 4: exit; pc 5: f: r0 = 40; exit
    const prog = [I.lddwSrc(4, 1, 4), I.callx(1), I.aluI('add', 64, 0, 1), I.exit(), I.mov(0, 40), I.exit()];
    expect(run(prog)).toBe(41n);
  });
  it('to a helper id calls the helper, unwind included', () => {
    const opts = { helpers: helpers({ 9: (a) => a * 2n }), unwindHelper: undefined };
    expect(run([I.mov(1, 21), I.mov(2, 9), I.callx(2), I.exit()], opts)).toBe(42n);
    const unwind = { helpers: helpers({ 9: () => 0 }), unwindHelper: 9 };
    expect(run([I.mov(2, 9), I.callx(2), I.mov(0, 5), I.exit()], unwind)).toBe(0n);
  });
  it('to anything else throws BAD_CALLX_TARGET', () => {
    const bad = (setup: Raw) => {
      const e = fails([setup, I.callx(2), I.exit()], { helpers: helpers({ 9: () => 1 }) });
      expect(e).toBeInstanceOf(ExecutionError);
      expect((e as ExecutionError).code).toBe('BAD_CALLX_TARGET');
      expect((e as ExecutionError).pc).toBe(setup.opcode === 0x18 ? 2 : 1);
    };
    bad(I.mov(2, 10));
    bad(I.mov(2, -1));
    bad(I.lddw(2, (1n << 32n) + 9n));
    // A code address that is not a function entry.
    bad(I.lddw(2, BigInt(CODE_ADDRESS_BASE + 3)));
    bad(I.lddw(2, BigInt(CODE_ADDRESS_BASE + 1000)));
  });
});

describe('budget', () => {
  const prog = [I.mov(0, 0), I.mov(1, 2), I.aluI('add', 64, 0, 1), I.aluI('sub', 64, 1, 1), I.jI('jne', 64, 1, 0, -3), I.exit()];
  // mov, mov, (add, sub, jne) x 2, exit = 9 instructions; the only check is
  // at the first jne (taken backwards), when 5 have run.
  it('is only checked at backward jumps: a count equal to the budget passes', () => {
    expect(run(prog, { budget: 5 })).toBe(2n);
  });
  it('throws at the backward jump where the count exceeds it', () => {
    const e = fails(prog, { budget: 4 });
    expect(e).toBeInstanceOf(BudgetExceededError);
    expect([(e as BudgetExceededError).pc, (e as BudgetExceededError).budget]).toEqual([4, 4]);
    expect((fails(prog, { budget: 0 }) as BudgetExceededError).pc).toBe(4);
  });
  it('never stops straight-line code, even with budget 0', () => {
    expect(run([I.mov(0, 1), I.mov(0, 2), I.exit()], { budget: 0 })).toBe(2n);
  });
  it('is checked before calls, so the call does not happen', () => {
    const calls: number[] = [];
    const helpers = new Map([[1, () => { calls.push(1); return 0; }]]);
    const e = fails([I.mov(0, 0), I.call(1), I.exit()], { budget: 1, helpers });
    expect((e as BudgetExceededError).pc).toBe(1);
    expect(calls).toEqual([]);
    expect(run([I.mov(0, 0), I.call(1), I.exit()], { budget: 2, helpers })).toBe(0n);
    expect(calls).toEqual([1]);
  });
  it('an infinite loop is stopped at its backward jump', () => {
    const e = fails([I.mov(0, 0), I.ja(-2)], { budget: 1000 });
    expect(e).toBeInstanceOf(BudgetExceededError);
    expect((e as BudgetExceededError).pc).toBe(1);
    expect(e).toBeInstanceOf(EbpfError);
  });
  it('lddw counts as one instruction', () => {
    // lddw, jne back to it while r1 != 0: counted 2 per iteration.
    const loop = [I.mov(1, 1), I.lddw(0, 5n), I.aluI('sub', 64, 1, 1), I.jI('jne', 64, 1, -1, -4), I.exit()];
    expect(run(loop, { budget: 4 })).toBe(5n);
    expect((fails(loop, { budget: 3 }) as BudgetExceededError).pc).toBe(4);
  });
});

describe('forms the validator keeps out', () => {
  it('kfunc calls throw', () => {
    const e = fails([I.kfunc(5), I.exit()]);
    expect([(e as ExecutionError).code, (e as ExecutionError).pc]).toEqual(['UNSUPPORTED_INSTRUCTION', 0]);
  });
  it('running off the end throws', () => {
    const e = fails([I.mov(0, 1)]);
    expect([(e as ExecutionError).code, (e as ExecutionError).pc]).toEqual(['BAD_PC', 1]);
  });
});

// ---------------------------------------------------------------------------
// The interpreter computes on int32 halves; lib/ops.ts's BigInt tables are
// the reference. Every op, both widths and both operand forms, on values
// biased toward the edges, including an operand that is the destination.

const EDGES = [
  0n, 1n, 2n, M64, M64 - 1n, 1n << 63n, (1n << 63n) - 1n, 0x8000_0000n, 0x7fff_ffffn, 0xffff_ffffn,
  1n << 32n, (1n << 32n) + 1n, 0xffff_ffff_0000_0000n, 0x1_7fff_ffffn, 31n, 32n, 33n, 63n, 64n,
];
const edgy = fc.oneof(fc.bigInt({ min: 0n, max: M64 }), fc.constantFrom(...EDGES));
const imm32 = fc.oneof(
  fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
  fc.constantFrom(0, 1, -1, 2, 31, 32, 33, 63, 64, -4, 60, -0x8000_0000, 0x7fff_ffff),
);
const width = fc.constantFrom<W>(32, 64);
const RUNS = { numRuns: 2000 };

/** r1 = a, r2 = b, then `ops`, and r1 in r0. */
const withOperands = (a: bigint, b: bigint, ...ops: Raw[]): bigint =>
  run([I.lddw(1, a), I.lddw(2, b), ...ops, I.movR(0, 1), I.exit()]);

describe('every op agrees with lib/ops.ts', () => {
  const ALU_OPS = Object.keys(ALU) as AluOp[];
  const JMP_CONDS = Object.keys(JMP) as JmpCond[];

  it('alu with a register source, the destination itself included', () => {
    fc.assert(fc.property(fc.constantFrom(...ALU_OPS), width, edgy, edgy, (op, w, a, b) => {
      expect(withOperands(a, b, I.aluR(op, w, 1, 2))).toBe(evalAlu(op, w, a, b));
      expect(withOperands(a, b, I.aluR(op, w, 1, 1))).toBe(evalAlu(op, w, a, a));
    }), RUNS);
  });
  it('alu with an immediate', () => {
    fc.assert(fc.property(fc.constantFrom(...ALU_OPS), width, edgy, imm32, (op, w, a, imm) => {
      expect(withOperands(a, 0n, I.aluI(op, w, 1, imm))).toBe(evalAlu(op, w, a, immOperand(imm)));
    }), RUNS);
  });
  it('conditional jumps with a register or an immediate', () => {
    // r0 = 1 when the jump is taken, else 0.
    const taken = (a: bigint, b: bigint, j: Raw) =>
      run([I.lddw(1, a), I.lddw(2, b), I.mov(0, 0), j, I.exit(), I.mov(0, 1), I.exit()]) === 1n;
    fc.assert(fc.property(fc.constantFrom(...JMP_CONDS), width, edgy, edgy, imm32, (cond, w, a, b, imm) => {
      expect(taken(a, b, I.jR(cond, w, 1, 2, 1))).toBe(testJmp(cond, w, a, b));
      expect(taken(a, b, I.jR(cond, w, 1, 1, 1))).toBe(testJmp(cond, w, a, a));
      expect(taken(a, b, I.jI(cond, w, 1, imm, 1))).toBe(testJmp(cond, w, a, immOperand(imm)));
    }), RUNS);
  });
  it('movsx, neg, le, be, bswap', () => {
    const orders: ByteOrderOp[] = ['le', 'be', 'bswap'];
    fc.assert(fc.property(edgy, (a) => {
      for (const w of [32, 64] as const) {
        for (const bits of w === 64 ? [8, 16, 32] : [8, 16]) {
          expect(withOperands(0n, a, I.movsx(w, bits, 1, 2))).toBe(movsx(a, bits, w));
        }
        expect(withOperands(a, 0n, I.neg(w, 1))).toBe(neg(a, w));
      }
      for (const op of orders) {
        for (const bits of [16, 32, 64] as const) {
          expect(withOperands(a, 0n, I.end(op, bits, 1))).toBe(BYTE_ORDER[op](a, bits));
        }
      }
    }), { numRuns: 500 });
  });
  it('loads and stores of every width at every offset of a stack word', () => {
    const le64 = (v: bigint) => Array.from({ length: 8 }, (_, k) => Number((v >> BigInt(8 * k)) & 0xffn));
    fc.assert(fc.property(edgy, edgy, fc.integer({ min: 0, max: 7 }), imm32, (a, v, at, imm) => {
      for (const mw of [8, 16, 32, 64] as const) {
        const size = mw / 8;
        if (at + size > 8) continue;
        // Memory holds a; a load of mw bits at -16 + at reads its bytes little-endian.
        const bytes = le64(a).slice(at, at + size);
        const loaded = bytes.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
        const load = (ld: Raw) => run([I.lddw(1, a), I.stx(64, 10, 1, -16), ld, I.exit()]);
        expect(load(I.ldx(mw, 0, 10, -16 + at))).toBe(loaded);
        if (mw !== 64) expect(load(I.ldsx(mw, 0, 10, -16 + at))).toBe(signExtend(loaded, mw));
        // A store of mw bits replaces just those bytes; st stores imm sign-extended first.
        const mask = ((1n << BigInt(mw)) - 1n) << BigInt(8 * at);
        const stored = (x: bigint) => (a & ~mask) | ((x << BigInt(8 * at)) & mask);
        const store = (st: Raw) => run([I.lddw(1, a), I.stx(64, 10, 1, -16), I.lddw(2, v), st, I.ldx(64, 0, 10, -16), I.exit()]);
        expect(store(I.stx(mw, 10, 2, -16 + at))).toBe(stored(v));
        expect(store(I.st(mw, 10, -16 + at, imm))).toBe(stored(immOperand(imm)));
      }
    }), { numRuns: 300 });
  });
});

describe('addresses at the edges of the 32-bit space', () => {
  it('regions above 2^31 (a negative low half) load and store', () => {
    // Fill slots 1..0x85 with one-byte regions, so the next region sits above 2^31.
    const w = world();
    for (let k = 0; w.mem.regions().length < 0x85; k++) w.mem.map(new Uint8Array(1), { name: `filler ${k}` });
    const high = w.mem.map(new Uint8Array(16), { name: 'high' });
    expect(high.base).toBeGreaterThan(0x8000_0000);
    const at = BigInt(high.base);
    expect(run([I.lddw(1, at), I.lddw(2, 0x1122_3344_5566_7788n), I.stx(64, 1, 2, 8), I.ldx(64, 0, 1, 8), I.exit()], {}, w))
      .toBe(0x1122_3344_5566_7788n);
    expect(run([I.lddw(1, at + 16n), I.ldx(8, 0, 1, -1), I.exit()], {}, w)).toBe(0x11n);
    const e = fails([I.lddw(1, at), I.ldx(32, 0, 1, 13), I.exit()], {}, w) as MemoryAccessError;
    expect([e.pc, e.address, e.size, e.kind]).toEqual([2, at + 13n, 4, 'load']);
  });
  it('an address past 2^32 faults with the full u64 address', () => {
    const check = (raws: Raw[], pc: number, address: bigint, size: number) => {
      const e = fails(raws) as MemoryAccessError;
      expect(e).toBeInstanceOf(MemoryAccessError);
      expect([e.pc, e.address, e.size, e.kind]).toEqual([pc, address, size, 'load']);
      expect(e.message).toContain('outside the 32-bit address space');
    };
    // A low half near 2^32 plus a positive offset, and a high half that is not 0.
    check([I.lddw(1, 0xffff_fffcn), I.ldx(64, 0, 1, 8), I.exit()], 2, 0x1_0000_0004n, 8);
    check([I.lddw(1, 0xffff_ffffn), I.ldx(8, 0, 1, 1), I.exit()], 2, 0x1_0000_0000n, 1);
    check([I.lddw(1, 1n << 32n), I.ldx(32, 0, 1, 0), I.exit()], 2, 1n << 32n, 4);
  });
  it('every load and store faults when the base\'s high half is not 0, even if its low half is mapped', () => {
    const w = world();
    const base = (1n << 32n) + BigInt(w.data.base);
    for (const mw of [8, 16, 32, 64] as const) {
      const accesses: [Raw, 'load' | 'store'][] = [
        [I.ldx(mw, 0, 1, 4), 'load'], [I.st(mw, 1, 4, 7), 'store'], [I.stx(mw, 1, 2, 4), 'store'],
        ...(mw === 64 ? [] : [[I.ldsx(mw, 0, 1, 4), 'load'] as [Raw, 'load']]),
      ];
      for (const [access, kind] of accesses) {
        const e = fails([I.lddw(1, base), access, I.exit()], {}, w) as MemoryAccessError;
        expect(e).toBeInstanceOf(MemoryAccessError);
        expect([e.pc, e.address, e.size, e.kind]).toEqual([2, base + 4n, mw / 8, kind]);
      }
    }
  });
  it('every load and store faults when base + off goes below 0 (a huge u64 address)', () => {
    for (const mw of [8, 16, 32, 64] as const) {
      const accesses: [Raw, 'load' | 'store'][] = [
        [I.ldx(mw, 0, 1, -8), 'load'], [I.st(mw, 1, -8, 7), 'store'], [I.stx(mw, 1, 2, -8), 'store'],
        ...(mw === 64 ? [] : [[I.ldsx(mw, 0, 1, -8), 'load'] as [Raw, 'load']]),
      ];
      for (const [access, kind] of accesses) {
        const e = fails([I.mov(1, 0), access, I.exit()]) as MemoryAccessError;
        expect(e).toBeInstanceOf(MemoryAccessError);
        expect([e.pc, e.address, e.size, e.kind]).toEqual([1, M64 - 7n, mw / 8, kind]);
      }
    }
  });
  it('every store to a read-only region faults and changes nothing; every load from it works', () => {
    const w = world();
    const ro = BigInt(w.rodata.base);
    for (const mw of [8, 16, 32, 64] as const) {
      for (const store of [I.st(mw, 1, 0, 7), I.stx(mw, 1, 2, 0)]) {
        const e = fails([I.lddw(1, ro), store, I.exit()], {}, w) as MemoryAccessError;
        expect([e.pc, e.address, e.size, e.kind]).toEqual([2, ro, mw / 8, 'store']);
        expect(e.message).toContain('rodata is read-only');
      }
      expect(run([I.lddw(1, ro), I.ldx(mw, 0, 1, 0), I.exit()], {}, w)).toBe(0x0807_0605_0403_0201n & ((1n << BigInt(mw)) - 1n));
    }
    expect([...w.rodata.bytes]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
  it('an access that ends exactly at a region\'s end is fine, one byte more faults', () => {
    const w = world();
    expect(run([I.ldx(64, 0, 1, 56), I.exit()], {}, w)).toBe(0n);
    expect((fails([I.ldx(64, 0, 1, 57), I.exit()], {}, w) as MemoryAccessError).message).toContain('past the end of data');
    const e = fails([I.st(16, 1, 63, 1), I.exit()], {}, w) as MemoryAccessError;
    expect([e.address, e.size, e.kind]).toEqual([BigInt(w.data.base + 63), 2, 'store']);
    expect(e.message).toContain('past the end of data');
  });
});

describe('prepare', () => {
  const prog = program([I.mov(6, 0), I.aluR('add', 64, 6, 1), I.aluI('add', 64, 6, 5), I.movR(0, 6), I.exit()]);
  it('a prepared program runs again and again, each run from fresh registers', () => {
    const prepared = prepare(prog);
    expect(prepared).toBeInstanceOf(PreparedProgram);
    expect(prepared.program).toBe(prog);
    const w = world();
    for (const r1 of [1n, 10n, 100n]) expect(interpret(prepared, { ...w.env, r1 })).toBe(r1 + 5n);
  });
  it('a helper may run the same prepared program again: runs share no registers', () => {
    // r6 = r1; call helper 1; r0 += r6. The helper runs the program once more with r1 = 100.
    const nested = program([I.movR(6, 1), I.call(1), I.aluR('add', 64, 0, 6), I.exit()]);
    const prepared = prepare(nested);
    let depth = 0;
    const w = world({
      helpers: helpers({
        1: () => (depth++ === 0 ? interpret(prepared, { ...w.env, r1: 100n }) : 5n),
      }),
    });
    // Inner run: 5 + 100. Outer run: 105 + its own r1.
    expect(interpret(prepared, w.env)).toBe(105n + w.env.r1);
  });
});
