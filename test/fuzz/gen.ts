// Random valid eBPF programs for the differential fuzzer (fast-check
// arbitraries).
//
// A program is generated as structured data (functions made of items:
// straight-line instructions, forward jumps, loops, calls) and only then laid
// out into slots, so that every shrink of the data still lays out into a
// program the validator accepts: a jump says "skip the next k items" and
// becomes an offset at layout; a call names a subprogram by index; a memory
// offset says "inside / past the end of / before" a region and is resolved
// against the input's length. Nothing here depends on randomness of its own:
// the same data always lays out to the same bytes.
//
// Register conventions, so that most memory accesses hit real memory:
//   r0-r7  free: any generated instruction may write them;
//   r8     loop counter: written only by a counted loop's own instructions;
//   r9     the input memory pointer: main starts with `mov r9, r1`, a call
//          site passes it in r5 and every subprogram starts with `mov r9, r5`;
//   r10    the frame pointer (read-only).
// Any register may be read, so pointers, lengths and garbage all reach
// arithmetic, comparisons, helpers and callx.
//
// What it does not generate: call_kfunc and the lddw forms that need a
// loader (maps, BTF), which the validator rejects; nested loops; jumps out of
// a loop body other than its own back edge.

import fc from 'fast-check';
import { disassemble } from '../../lib/disasm.js';
import { CODE_ADDRESS_BASE } from '../../lib/code-address.js';
import { encodeSlots, OPCODES, type Kind, type OpSpec, type Slot } from '../../lib/isa.js';
import { DEFAULT_MAX_CALL_DEPTH, FRAME_SIZE } from '../../lib/runtime.js';

/** Longest generated program, in slots (an lddw counts 2). */
export const MAX_SLOTS = 80;
/** Helper ids the conformance Vm provides (5 is the unwind helper). */
export const HELPER_IDS: readonly number[] = [0, 1, 2, 3, 4, 5];
/** Budget given to programs that may not terminate on their own (infinite loops, recursion) when none was drawn. */
export const FALLBACK_BUDGET = 5_000;

const LOOP_COUNTER = 8;
const MEM_REG = 9;
const FP = 10;
/** Registers generated instructions may write. */
const FREE_REGS = 8;
/** The whole stack region: every frame the default call depth allows. */
const STACK_BYTES = DEFAULT_MAX_CALL_DEPTH * FRAME_SIZE;
const BYTES = { 8: 1, 16: 2, 32: 4, 64: 8 } as const;

// ---------------------------------------------------------------------------
// The data a program is generated as.

/** Where a memory offset lands relative to its region. */
export type Where = 'in' | 'past' | 'before';

/** A pointer put in a register before a helper call. */
export interface PointerSetup {
  readonly region: 'mem' | 'stack' | 'asis';
  readonly where: Where;
  readonly pick: number;
}

export type Item =
  /** One ALU-family instruction (alu, movsx, neg, end, bswap). */
  | { readonly t: 'op'; readonly spec: OpSpec; readonly dst: number; readonly src: number; readonly imm: number }
  | { readonly t: 'lddw'; readonly dst: number; readonly value: bigint }
  /**
   * ldx/ldsx/st/stx/atomic: `base` is the address register's role (r10, r9,
   * any register as it is, or a free register first set to a small number,
   * a NULL pointer); `other` the value register.
   */
  | {
      readonly t: 'mem'; readonly spec: OpSpec; readonly base: 'stack' | 'mem' | 'reg' | 'null'; readonly baseReg: number;
      readonly other: number; readonly imm: number; readonly where: Where; readonly pick: number;
    }
  /** LD_ABS / LD_IND. */
  | { readonly t: 'packet'; readonly spec: OpSpec; readonly src: number; readonly where: Where; readonly pick: number }
  /** ja / jcond forward over the next `skip` items of the same block (clamped to its end). */
  | { readonly t: 'jump'; readonly spec: OpSpec; readonly dst: number; readonly src: number; readonly imm: number; readonly skip: number }
  | { readonly t: 'exit' }
  | {
      readonly t: 'helper'; readonly id: number; readonly a: PointerSetup; readonly b: PointerSetup;
      readonly lenPick: number; readonly value: bigint; readonly set: boolean;
    }
  /**
   * `mov r5, r9`, then a local call, direct or through `lddw rX, func` +
   * `callx rX`, to subprogram 1 + fn % count (no call when there is none).
   */
  | { readonly t: 'call'; readonly fn: number; readonly via: 'call' | 'callx'; readonly reg: number }
  /** callx on a helper id, a value that is no target, or a raw code address. */
  | { readonly t: 'callx'; readonly reg: number; readonly target: 'helper' | 'bad' | 'code'; readonly value: number }
  | Loop;

export type Loop =
  /** mov r8, count; L: body; r8 -= 1; if r8 (cond) goto L: always terminates. */
  | { readonly t: 'loop'; readonly loop: 'counted'; readonly count: number; readonly w32: boolean; readonly back: OpSpec; readonly body: readonly Item[] }
  /** L: body; filler; ja L (or ja32): never ends by itself. */
  | { readonly t: 'loop'; readonly loop: 'forever'; readonly back: OpSpec; readonly filler: number; readonly body: readonly Item[] }
  /** L: body; dst += filler; if (random condition) goto L: may or may not end. */
  | {
      readonly t: 'loop'; readonly loop: 'random'; readonly back: OpSpec; readonly dst: number; readonly src: number;
      readonly imm: number; readonly filler: number; readonly body: readonly Item[];
    };

export interface ProgramData {
  /** Main's items, then each subprogram's. */
  readonly main: readonly Item[];
  readonly subs: readonly (readonly Item[])[];
  /** Fold r1-r8 into r0 before main's exit, so a wrong register shows in the result. */
  readonly fold: boolean;
  readonly mem: Uint8Array;
  readonly budget: number | undefined;
}

/** One generated test case: valid bytecode, its input memory and budget. */
export interface FuzzCase {
  readonly slots: readonly Slot[];
  readonly bytes: Uint8Array;
  /** Never written: run a copy. */
  readonly mem: Uint8Array;
  readonly budget: number | undefined;
}

// ---------------------------------------------------------------------------
// Spec families, straight from the ISA table: a new opcode of one of these
// kinds is generated without touching this file.

function specsOf(...kinds: Kind[]): OpSpec[] {
  return OPCODES.filter((s) => kinds.includes(s.kind));
}

const OP_SPECS = specsOf('alu', 'movsx', 'neg', 'end', 'bswap');
/** One list per kind: a kind is drawn first, so the 20 atomic forms do not crowd out the 3 ldsx. */
const MEM_SPECS: readonly OpSpec[][] = (['ldx', 'ldsx', 'st', 'stx', 'atomic'] as const).map((k) => specsOf(k));
const PACKET_SPECS = specsOf('ldabs', 'ldind');
const JCOND_SPECS = specsOf('jcond');
const JA_SPECS = specsOf('ja');
const JUMP_SPECS = [...JCOND_SPECS, ...JA_SPECS];

function only(pred: (s: OpSpec) => boolean): OpSpec {
  const found = OPCODES.filter(pred);
  if (found.length !== 1) throw new Error(`gen: ${found.length} specs match`);
  return found[0]!;
}

const MOV64_IMM = only((s) => s.kind === 'alu' && s.alu === 'mov' && s.width === 64 && s.source === 'imm');
const MOV32_IMM = only((s) => s.kind === 'alu' && s.alu === 'mov' && s.width === 32 && s.source === 'imm');
const MOV64_REG = only((s) => s.kind === 'alu' && s.alu === 'mov' && s.width === 64 && s.source === 'reg');
const ADD64_IMM = only((s) => s.kind === 'alu' && s.alu === 'add' && s.width === 64 && s.source === 'imm');
const ADD32_IMM = only((s) => s.kind === 'alu' && s.alu === 'add' && s.width === 32 && s.source === 'imm');
const SUB64_IMM = only((s) => s.kind === 'alu' && s.alu === 'sub' && s.width === 64 && s.source === 'imm');
const SUB32_IMM = only((s) => s.kind === 'alu' && s.alu === 'sub' && s.width === 32 && s.source === 'imm');
const XOR64_REG = only((s) => s.kind === 'alu' && s.alu === 'xor' && s.width === 64 && s.source === 'reg');
const LDDW = only((s) => s.kind === 'lddw' && s.lddwSrc === 0);
const LDDW_FUNC = only((s) => s.kind === 'lddw' && s.lddwSrc === 4);
const CALL = only((s) => s.kind === 'call');
const CALL_LOCAL = only((s) => s.kind === 'call_local');
const CALLX = only((s) => s.kind === 'callx');
const EXIT = only((s) => s.kind === 'exit');

/**
 * Back edges of counted loops: conditions on the counter that hold while it
 * is positive and fail at 0 (with imm 1 for the "greater or equal" forms).
 */
const COUNTED_BACK: readonly OpSpec[] = JCOND_SPECS.filter(
  (s) => s.source === 'imm' && (s.jmp === 'jne' || s.jmp === 'jsgt' || s.jmp === 'jgt' || s.jmp === 'jge' || s.jmp === 'jsge'),
);

// ---------------------------------------------------------------------------
// Arbitraries.

const anyReg = fc.integer({ min: 0, max: FP });
const freeReg = fc.integer({ min: 0, max: FREE_REGS - 1 });
/** A free register other than r5, which carries the memory pointer into a callee. */
const callReg = fc.constantFrom(0, 1, 2, 3, 4, 6, 7);

/** 32-bit immediates: the edges of every signed and unsigned range, shift amounts, and anything. */
export const imm32 = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      0, 1, -1, 2, 0x7fffffff, -0x80000000, 31, 32, 33, 63, 64, 60, -4, 7, 8, 16, 0xff, 0x80, 0xffff, 0x8000, -2, 3, -13,
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: -0x80000000, max: 0x7fffffff }) },
);

const U64_MAX = (1n << 64n) - 1n;
/** 64-bit constants for lddw (as u64). */
export const imm64 = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      0n, 1n, U64_MAX, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 32n) + 1n, 1n << 63n,
      (1n << 63n) - 1n, (1n << 63n) + 1n, 0xffffffff80000000n, 0xffffffff00000000n, 1n << 53n, BigInt(CODE_ADDRESS_BASE),
    ),
  },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: U64_MAX }) },
);

const where = fc.oneof(
  { withCrossShrink: true },
  { weight: 24, arbitrary: fc.constant<Where>('in') },
  { weight: 1, arbitrary: fc.constant<Where>('past') },
  { weight: 1, arbitrary: fc.constant<Where>('before') },
);
const pick = fc.nat({ max: 0xffff });

const opItem: fc.Arbitrary<Item> = fc.record({
  t: fc.constant('op' as const),
  spec: fc.constantFrom(...OP_SPECS),
  dst: freeReg,
  src: anyReg,
  imm: imm32,
});

const lddwItem: fc.Arbitrary<Item> = fc.record({ t: fc.constant('lddw' as const), dst: freeReg, value: imm64 });

const memItem: fc.Arbitrary<Item> = fc.record({
  t: fc.constant('mem' as const),
  spec: fc.oneof(...MEM_SPECS.map((specs) => fc.constantFrom(...specs))),
  base: fc.oneof(
    { weight: 7, arbitrary: fc.constant('stack' as const) },
    { weight: 7, arbitrary: fc.constant('mem' as const) },
    { weight: 1, arbitrary: fc.constant('reg' as const) },
    { weight: 1, arbitrary: fc.constant('null' as const) },
  ),
  baseReg: anyReg,
  other: anyReg,
  imm: imm32,
  where,
  pick,
});

const packetItem: fc.Arbitrary<Item> = fc.record({
  t: fc.constant('packet' as const),
  spec: fc.constantFrom(...PACKET_SPECS),
  src: anyReg,
  where,
  pick,
});

const jumpItem: fc.Arbitrary<Item> = fc.record({
  t: fc.constant('jump' as const),
  spec: fc.constantFrom(...JUMP_SPECS),
  dst: anyReg,
  src: anyReg,
  imm: imm32,
  skip: fc.nat({ max: 6 }),
});

const pointer: fc.Arbitrary<PointerSetup> = fc.record({
  region: fc.oneof(
    { weight: 3, arbitrary: fc.constant('mem' as const) },
    { weight: 2, arbitrary: fc.constant('stack' as const) },
    { weight: 1, arbitrary: fc.constant('asis' as const) },
  ),
  where,
  pick,
});

const helperItem: fc.Arbitrary<Item> = fc.record({
  t: fc.constant('helper' as const),
  id: fc.constantFrom(...HELPER_IDS),
  a: pointer,
  b: pointer,
  lenPick: pick,
  value: imm64,
  set: fc.boolean(),
});

const callItem: fc.Arbitrary<Item> = fc.record({
  t: fc.constant('call' as const),
  fn: fc.nat({ max: 7 }),
  via: fc.constantFrom('call' as const, 'callx' as const),
  reg: callReg,
});

const callxItem: fc.Arbitrary<Item> = fc.record({
  t: fc.constant('callx' as const),
  reg: freeReg,
  target: fc.oneof(
    { weight: 3, arbitrary: fc.constant('helper' as const) },
    { weight: 1, arbitrary: fc.constant('bad' as const) },
    { weight: 1, arbitrary: fc.constant('code' as const) },
  ),
  value: pick,
});

/** Items allowed anywhere, loop bodies included. */
const simpleItem: fc.Arbitrary<Item> = fc.oneof(
  { withCrossShrink: true },
  { weight: 14, arbitrary: opItem },
  { weight: 2, arbitrary: lddwItem },
  { weight: 9, arbitrary: memItem },
  { weight: 1, arbitrary: packetItem },
  { weight: 6, arbitrary: jumpItem },
  { weight: 1, arbitrary: fc.constant<Item>({ t: 'exit' }) },
  { weight: 2, arbitrary: helperItem },
  { weight: 2, arbitrary: callItem },
  { weight: 1, arbitrary: callxItem },
);

const body = fc.array(simpleItem, { maxLength: 5 });

const loopItem: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('loop' as const),
      loop: fc.constant('counted' as const),
      count: fc.integer({ min: 1, max: 4 }),
      w32: fc.boolean(),
      back: fc.constantFrom(...COUNTED_BACK),
      body,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('loop' as const),
      loop: fc.constant('forever' as const),
      back: fc.constantFrom(...JA_SPECS),
      filler: imm32,
      body,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('loop' as const),
      loop: fc.constant('random' as const),
      back: fc.constantFrom(...JCOND_SPECS),
      dst: anyReg,
      src: anyReg,
      imm: imm32,
      filler: imm32,
      body,
    }),
  },
);

const item: fc.Arbitrary<Item> = fc.oneof(
  { withCrossShrink: true },
  { weight: 12, arbitrary: simpleItem },
  { weight: 1, arbitrary: loopItem },
);

/** Input bytes: edges (NULs for strcmp, sign bits for ldsx) and anything. */
const memByte = fc.oneof(fc.constantFrom(0, 0, 0xff, 0x80, 0x7f, 1), fc.nat({ max: 0xff }));
/** Input memory: mostly room for every access width, sometimes tiny or empty. */
const memBytes = fc
  .oneof(
    { withCrossShrink: true },
    { weight: 1, arbitrary: fc.array(memByte, { maxLength: 8 }) },
    { weight: 5, arbitrary: fc.array(memByte, { minLength: 16, maxLength: 64 }) },
  )
  .map((a) => Uint8Array.from(a));

const budget = fc.oneof(
  { withCrossShrink: true },
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 5_000 }) },
);

export const programData: fc.Arbitrary<ProgramData> = fc.record({
  main: fc.array(item, { minLength: 3, maxLength: 20 }),
  subs: fc.array(fc.array(item, { maxLength: 8 }), { maxLength: 3 }),
  // Mostly true; shrinks to false.
  fold: fc.nat({ max: 3 }).map((n) => n > 0),
  mem: memBytes,
  budget,
});

/** Random valid programs with their input and budget; shrinks to smaller programs, still valid. */
export function fuzzCase(): fc.Arbitrary<FuzzCase> {
  return programData.map(layout);
}

// ---------------------------------------------------------------------------
// Layout: data to slots.

/** A mutable slot under construction. */
type MSlot = { opcode: number; dst: number; src: number; off: number; imm: number };

/** Fills a spec's fixed fields from its rules; the rest come from `f`. */
function insn(spec: OpSpec, f: Partial<MSlot> = {}): MSlot {
  const field = (k: 'dst' | 'src' | 'off' | 'imm'): number => {
    const rule = spec.fields[k];
    return typeof rule === 'number' ? rule : (f[k] ?? 0);
  };
  return { opcode: spec.opcode, dst: field('dst'), src: field('src'), off: field('off'), imm: field('imm') };
}

function lddw(dst: number, value: bigint): MSlot[] {
  const v = BigInt.asUintN(64, value);
  return [
    insn(LDDW, { dst, imm: Number(BigInt.asIntN(32, v)) }),
    { opcode: 0, dst: 0, src: 0, off: 0, imm: Number(BigInt.asIntN(32, v >> 32n)) },
  ];
}

/** Code laid out without knowing where it goes: jumps are relative; calls are patched later. */
interface Chunk {
  readonly slots: MSlot[];
  /** Slots whose imm must become (entry of subprogram fn) - (own pc + 1). */
  readonly calls: { at: number; fn: number }[];
}

interface LayoutContext {
  readonly memLength: number;
  /** Number of subprograms (calls resolve to 1 + fn % subs). */
  readonly subs: number;
  /** Index of the function being laid out (0 = main). */
  readonly self: number;
  /** Set when the program may run forever: a loop without a counter, or a call cycle. */
  unbounded: boolean;
}

/** Offset of an access of `size` bytes from the input memory pointer. */
function memOffset(w: Where, p: number, size: number, len: number): number {
  switch (w) {
    case 'in': return len >= size ? p % (len - size + 1) : 0;
    case 'past': return Math.max(0, len - size + 1) + (p % 8);
    case 'before': return -1 - (p % 8);
  }
}

/**
 * Offset of an access from r10. 'in' stays within the current frame; 'past'
 * crosses r10 (out of bounds in main, the caller's frame in a subprogram);
 * 'before' is below every frame.
 */
function stackOffset(w: Where, p: number, size: number): number {
  switch (w) {
    case 'in': return -size - (p % (FRAME_SIZE - size + 1));
    case 'past': return -size + 1 + (p % 8);
    case 'before': return -STACK_BYTES - 1 - (p % 64);
  }
}

/** `mov reg, base; add reg, off` for a helper's pointer argument; returns the bytes known to follow it. */
function pointerSetup(reg: number, ptr: PointerSetup, ctx: LayoutContext, out: MSlot[]): number {
  if (ptr.region === 'asis') return 0;
  const mem = ptr.region === 'mem';
  const off = mem ? memOffset(ptr.where, ptr.pick, 1, ctx.memLength) : stackOffset(ptr.where, ptr.pick, 1);
  out.push(insn(MOV64_REG, { dst: reg, src: mem ? MEM_REG : FP }));
  if (off !== 0) out.push(insn(ADD64_IMM, { dst: reg, imm: off }));
  if (ptr.where !== 'in') return 0;
  return mem ? ctx.memLength - off : -off;
}

function helperCall(item: Extract<Item, { t: 'helper' }>, ctx: LayoutContext): MSlot[] {
  const out: MSlot[] = [];
  switch (item.id) {
    case 1: {
      // memfrob(ptr, len): a length that fits when the pointer is valid.
      const room = pointerSetup(1, item.a, ctx, out);
      out.push(insn(MOV64_IMM, { dst: 2, imm: item.lenPick % (room > 0 ? room + 1 : 16) }));
      break;
    }
    case 4:
      // strcmp(p1, p2): strings in the input memory or on the stack.
      pointerSetup(1, item.a, ctx, out);
      pointerSetup(2, item.b, ctx, out);
      break;
    case 3:
    case 0:
      // isqrt(r1) / gather_bytes(r1..r5): an edge value, or whatever r1 holds.
      if (item.set) out.push(...lddw(1, item.value));
      break;
    case 5:
      // unwind(r1): ends the program when r1 is 0.
      if (item.set) out.push(insn(MOV64_IMM, { dst: 1, imm: 0 }));
      break;
    default:
      break;
  }
  out.push(insn(CALL, { imm: item.id }));
  return out;
}

/** Subprogram index a call resolves to, or undefined when there are none. */
function callee(fn: number, ctx: LayoutContext): number | undefined {
  if (ctx.subs === 0) return undefined;
  const target = 1 + (fn % ctx.subs);
  // A call to itself or an earlier function may recurse until the depth limit.
  if (target <= ctx.self) ctx.unbounded = true;
  return target;
}

function emitItem(item: Item, ctx: LayoutContext): Chunk {
  const slots: MSlot[] = [];
  const calls: { at: number; fn: number }[] = [];
  switch (item.t) {
    case 'op':
      slots.push(insn(item.spec, { dst: item.dst, src: item.src, imm: item.imm }));
      break;
    case 'lddw':
      slots.push(...lddw(item.dst, item.value));
      break;
    case 'mem':
      if (item.base === 'null') slots.push(insn(MOV64_IMM, { dst: item.baseReg % FREE_REGS, imm: item.pick % 4 === 0 ? 0 : item.pick % 4096 }));
      slots.push(memAccess(item, ctx));
      break;
    case 'packet': {
      const size = BYTES[item.spec.width];
      // ldabs: an offset into the packet; ldind: a small offset from any register.
      const imm = item.spec.kind === 'ldabs' ? memOffset(item.where, item.pick, size, ctx.memLength) : (item.pick % 64) - 16;
      slots.push(insn(item.spec, { src: item.src, imm }));
      break;
    }
    case 'jump':
      // The offset is set by emitBlock, which knows where the items start.
      slots.push(insn(item.spec, { dst: item.dst, src: item.src, imm: item.imm }));
      break;
    case 'exit':
      slots.push(insn(EXIT));
      break;
    case 'helper':
      slots.push(...helperCall(item, ctx));
      break;
    case 'call': {
      slots.push(insn(MOV64_REG, { dst: 5, src: MEM_REG }));
      const target = callee(item.fn, ctx);
      if (target === undefined) break;
      if (item.via === 'callx') {
        calls.push({ at: slots.length, fn: target });
        slots.push(...lddwFunc(item.reg));
      }
      if (item.via === 'call') {
        calls.push({ at: slots.length, fn: target });
        slots.push(insn(CALL_LOCAL));
      } else {
        slots.push(insn(CALLX, { dst: item.reg }));
      }
      break;
    }
    case 'callx':
      switch (item.target) {
        case 'helper':
          slots.push(insn(MOV64_IMM, { dst: item.reg, imm: HELPER_IDS[item.value % HELPER_IDS.length]! }));
          break;
        case 'bad':
          slots.push(insn(MOV64_IMM, { dst: item.reg, imm: item.value % 2 === 0 ? HELPER_IDS.length + (item.value % 50) : -1 - (item.value % 4) }));
          break;
        case 'code':
          // A code address that may or may not be a function entry (pc 0 is main's).
          slots.push(...lddw(item.reg, BigInt(CODE_ADDRESS_BASE + (item.value % 48))));
          // Calling main again would lose the input pointer; recursion may follow.
          ctx.unbounded = true;
          break;
      }
      slots.push(insn(CALLX, { dst: item.reg }));
      break;
    case 'loop':
      return emitLoop(item, ctx);
  }
  return { slots, calls };
}

function lddwFunc(dst: number): MSlot[] {
  return [insn(LDDW_FUNC, { dst }), { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 }];
}

function memAccess(item: Extract<Item, { t: 'mem' }>, ctx: LayoutContext): MSlot {
  const { spec } = item;
  const size = BYTES[spec.width];
  const base = item.base === 'stack' ? FP : item.base === 'mem' ? MEM_REG : item.base === 'null' ? item.baseReg % FREE_REGS : item.baseReg;
  const off =
    item.base === 'stack' ? stackOffset(item.where, item.pick, size) :
    item.base === 'mem' ? memOffset(item.where, item.pick, size, ctx.memLength) :
    ((item.pick >> 4) % 33) - 16;
  // The value register must be a free one whenever the instruction writes it.
  const writesOther = spec.kind === 'ldx' || spec.kind === 'ldsx' || (spec.kind === 'atomic' && spec.fetch === true && spec.atomic !== 'cmpxchg');
  const other = writesOther ? item.other % FREE_REGS : item.other;
  if (spec.kind === 'ldx' || spec.kind === 'ldsx') return insn(spec, { dst: other, src: base, off });
  return insn(spec, { dst: base, src: other, off, imm: item.imm });
}

function emitLoop(loop: Loop, ctx: LayoutContext): Chunk {
  const inner = emitBlock(loop.body, ctx);
  const slots: MSlot[] = [];
  const calls: { at: number; fn: number }[] = [];
  if (loop.loop === 'counted') {
    slots.push(insn(loop.w32 ? MOV32_IMM : MOV64_IMM, { dst: LOOP_COUNTER, imm: loop.count }));
  }
  const head = slots.length;
  for (const c of inner.calls) calls.push({ at: c.at + head, fn: c.fn });
  slots.push(...inner.slots);
  let back: MSlot;
  switch (loop.loop) {
    case 'counted': {
      // Decrement as add -1 or sub 1, at the width of the initial mov.
      const dec = loop.count % 2 === 0 ? insn(loop.w32 ? ADD32_IMM : ADD64_IMM, { dst: LOOP_COUNTER, imm: -1 })
        : insn(loop.w32 ? SUB32_IMM : SUB64_IMM, { dst: LOOP_COUNTER, imm: 1 });
      slots.push(dec);
      const geForm = loop.back.jmp === 'jge' || loop.back.jmp === 'jsge';
      back = insn(loop.back, { dst: LOOP_COUNTER, imm: geForm ? 1 : 0 });
      break;
    }
    case 'forever':
      ctx.unbounded = true;
      // The filler keeps the body non-empty (a jump to itself is rejected) and changes state.
      slots.push(insn(ADD64_IMM, { dst: 0, imm: loop.filler }));
      back = insn(loop.back);
      break;
    case 'random': {
      ctx.unbounded = true;
      const dst = loop.dst < FREE_REGS ? loop.dst : 0;
      slots.push(insn(ADD64_IMM, { dst, imm: loop.filler }));
      back = insn(loop.back, { dst: loop.dst, src: loop.src, imm: loop.imm });
      break;
    }
  }
  setJumpOffset(back, head - (slots.length + 1));
  slots.push(back);
  return { slots, calls };
}

/** ja32 (gotol) carries its offset in imm; every other jump in off. */
function setJumpOffset(slot: MSlot, offset: number): void {
  const spec = JUMP_SPECS.find((s) => s.opcode === slot.opcode);
  if (spec?.kind === 'ja' && spec.width === 32) slot.imm = offset;
  else slot.off = offset;
}

/** Items in order; a jump lands on the start of the item `skip` items later, or on the block's end. */
function emitBlock(items: readonly Item[], ctx: LayoutContext): Chunk {
  const chunks = items.map((it) => emitItem(it, ctx));
  const starts: number[] = [];
  let total = 0;
  for (const c of chunks) {
    starts.push(total);
    total += c.slots.length;
  }
  starts.push(total);
  const slots: MSlot[] = [];
  const calls: { at: number; fn: number }[] = [];
  items.forEach((it, i) => {
    const chunk = chunks[i]!;
    if (it.t === 'jump') {
      const target = starts[Math.min(i + 1 + it.skip, items.length)]!;
      setJumpOffset(chunk.slots[0]!, target - (starts[i]! + 1));
    }
    for (const c of chunk.calls) calls.push({ at: c.at + starts[i]!, fn: c.fn });
    slots.push(...chunk.slots);
  });
  return { slots, calls };
}

/** A whole function: prologue (r9 = input pointer), items, optional fold into r0, exit. */
function emitFunction(items: readonly Item[], ctx: LayoutContext, fold: boolean): Chunk {
  const block = emitBlock(items, ctx);
  const slots = [insn(MOV64_REG, { dst: MEM_REG, src: ctx.self === 0 ? 1 : 5 }), ...block.slots];
  if (fold) for (let r = 1; r <= LOOP_COUNTER; r++) slots.push(insn(XOR64_REG, { dst: 0, src: r }));
  slots.push(insn(EXIT));
  return { slots, calls: block.calls.map((c) => ({ at: c.at + 1, fn: c.fn })) };
}

/** Lays out every function; returns the slots and whether the program may run forever. */
function emitProgram(data: ProgramData): { slots: MSlot[]; unbounded: boolean } {
  const functions = [data.main, ...data.subs];
  let unbounded = false;
  const chunks = functions.map((items, self) => {
    const ctx: LayoutContext = { memLength: data.mem.length, subs: data.subs.length, self, unbounded: false };
    const chunk = emitFunction(items, ctx, self === 0 && data.fold);
    unbounded ||= ctx.unbounded;
    return chunk;
  });
  const entries: number[] = [];
  const slots: MSlot[] = [];
  for (const c of chunks) {
    entries.push(slots.length);
    slots.push(...c.slots);
  }
  chunks.forEach((c, i) => {
    for (const call of c.calls) {
      const pc = entries[i]! + call.at;
      slots[pc]!.imm = entries[call.fn]! - (pc + 1);
    }
  });
  return { slots, unbounded };
}

/** Drops trailing items of the longest function until the program fits MAX_SLOTS. */
function fit(data: ProgramData): ProgramData {
  let main = [...data.main];
  let subs = data.subs.map((s) => [...s]);
  for (;;) {
    const current = { ...data, main, subs };
    if (emitProgram(current).slots.length <= MAX_SLOTS) return current;
    const sizes = [main, ...subs].map((items, self) =>
      emitFunction(items, { memLength: data.mem.length, subs: subs.length, self, unbounded: false }, false).slots.length);
    const longest = sizes.indexOf(Math.max(...sizes));
    if (longest === 0) main = main.slice(0, -1);
    else subs = subs.map((s, i) => (i === longest - 1 ? s.slice(0, -1) : s));
  }
}

/** Turns generated data into a case: slots, bytes, input and a budget when the program needs one. */
export function layout(data: ProgramData): FuzzCase {
  const fitted = fit(data);
  const { slots, unbounded } = emitProgram(fitted);
  const bytes = encodeSlots(slots);
  const budget = data.budget ?? (unbounded ? FALLBACK_BUDGET : undefined);
  const c: FuzzCase = { slots, bytes, mem: data.mem, budget };
  // fast-check prints counterexamples with this: the disassembly, not the data.
  Object.defineProperty(c, fc.toStringMethod, { value: () => describeCase(c), enumerable: false });
  return c;
}

/** A case as text: disassembly with pcs, the input memory in hex and the budget. */
export function describeCase(c: FuzzCase): string {
  const mem = Array.from(c.mem, (b) => b.toString(16).padStart(2, '0')).join(' ');
  return [
    `program (${c.slots.length} slots):`,
    disassemble(c.slots, { pcs: true }).trimEnd(),
    `memory (${c.mem.length} bytes): ${mem === '' ? '(empty)' : mem}`,
    `budget: ${c.budget === undefined ? 'none' : String(c.budget)}`,
  ].join('\n');
}
