// The eBPF instruction set, defined once (RFC 9669 plus the v4 additions and
// callx). One OpSpec per (opcode, discriminator) drives decoding, encoding,
// validation, assembly, disassembly, the interpreter and the JIT: adding an
// opcode means adding an entry here and its semantics in the engines.

/** Instruction classes: the low 3 bits of the opcode. */
export const CLS = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;

/** The source bit of ALU/JMP opcodes: K (immediate) or X (register). */
export const SRC_K = 0x00;
export const SRC_X = 0x08;

export const SLOT_SIZE = 8;
export const MAX_REG = 10;
/** r10 is the read-only frame pointer. */
export const FP_REG = 10;

/** One 8-byte instruction slot, fields as decoded (off and imm signed). */
export interface Slot {
  opcode: number;
  dst: number;
  src: number;
  /** signed 16-bit */
  off: number;
  /** signed 32-bit */
  imm: number;
}

export type AluOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'or' | 'and' | 'lsh' | 'rsh'
  | 'mod' | 'smod' | 'xor' | 'mov' | 'arsh';
export type JmpCond =
  | 'jeq' | 'jgt' | 'jge' | 'jset' | 'jne' | 'jsgt' | 'jsge' | 'jlt' | 'jle' | 'jslt' | 'jsle';
export type AtomicOp = 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg';

/** How an instruction uses its fields; the engines switch on this. */
export type Kind =
  | 'alu'        // dst = dst OP (src | imm)
  | 'movsx'      // dst = sign-extend(src, off bits)
  | 'neg'        // dst = -dst
  | 'end'        // le/be: byte-order conversion to imm bits
  | 'bswap'      // unconditional byte swap of imm bits
  | 'ja'         // pc += off (JMP) or imm (JMP32, gotol)
  | 'jcond'      // if (dst COND (src | imm)) pc += off
  | 'call'       // helper call, id in imm
  | 'call_local' // bpf-to-bpf call, target = pc + 1 + imm
  | 'call_kfunc' // kernel function by BTF id: decoded, rejected at load
  | 'callx'      // call through the register in dst
  | 'exit'
  | 'lddw'       // 64-bit immediate load, two slots, src selects the form
  | 'ldabs'      // legacy packet load at imm
  | 'ldind'      // legacy packet load at src + imm
  | 'ldx'        // dst = *(uN *)(src + off)
  | 'ldsx'       // dst = *(sN *)(src + off)
  | 'st'         // *(uN *)(dst + off) = imm
  | 'stx'        // *(uN *)(dst + off) = src
  | 'atomic';    // atomic read-modify-write on *(uN *)(dst + off)

/**
 * A field rule: 'reg' = a register number 0..10; 'any' = every value of the
 * field is meaningful; a number = the field must hold exactly that value
 * (0 for reserved fields, which is the default).
 */
export type FieldRule = 'reg' | 'any' | number;

export type Field = 'dst' | 'src' | 'off' | 'imm';

export interface OpSpec {
  opcode: number;
  /** Mnemonic in the conformance-suite / uBPF assembly syntax. */
  mnemonic: string;
  kind: Kind;
  /** ALU/JMP operand width (32 or 64); memory access size in bits; END size. */
  width: 8 | 16 | 32 | 64;
  /** For alu/jcond: whether the second operand is a register. */
  source: 'imm' | 'reg' | 'none';
  alu?: AluOp;
  jmp?: JmpCond;
  atomic?: AtomicOp;
  /** Atomic ops: whether the old value is written back (to src, or r0 for cmpxchg). */
  fetch?: boolean;
  /** For lddw: the pseudo source (0 plain, 1 map fd, 2 map value, 3 BTF var, 4 code, 5 map idx, 6 map idx value). */
  lddwSrc?: number;
  fields: Record<Field, FieldRule>;
  /**
   * Set when several specs share the opcode: the field that tells them apart.
   * Decoding picks the spec whose rule for this field matches.
   */
  discriminator?: Field;
}

// ---------------------------------------------------------------------------
// Table construction. Builders keep each family to a few lines; the result is
// a flat, frozen list.

const ALU_OPS: ReadonlyArray<readonly [AluOp, number]> = [
  ['add', 0x00], ['sub', 0x10], ['mul', 0x20], ['div', 0x30], ['or', 0x40],
  ['and', 0x50], ['lsh', 0x60], ['rsh', 0x70], ['mod', 0x90], ['xor', 0xa0],
  ['mov', 0xb0], ['arsh', 0xc0],
];

const JMP_CONDS: ReadonlyArray<readonly [JmpCond, number]> = [
  ['jeq', 0x10], ['jgt', 0x20], ['jge', 0x30], ['jset', 0x40], ['jne', 0x50],
  ['jsgt', 0x60], ['jsge', 0x70], ['jlt', 0xa0], ['jle', 0xb0], ['jslt', 0xc0],
  ['jsle', 0xd0],
];

/** Memory access sizes: the size bits of LD/LDX/ST/STX opcodes. */
export const SIZE_BITS = { 8: 0x10, 16: 0x08, 32: 0x00, 64: 0x18 } as const;
const SIZE_SUFFIX = { 8: 'b', 16: 'h', 32: 'w', 64: 'dw' } as const;
type MemWidth = keyof typeof SIZE_BITS;
const MEM_WIDTHS: MemWidth[] = [8, 16, 32, 64];

/** lddw: class LD, mode IMM, size DW. */
export const LDDW_OPCODE = 0x18;
const MODE_ABS = 0x20;
const MODE_IND = 0x40;
const MODE_MEM = 0x60;
const MODE_MEMSX = 0x80;
const MODE_ATOMIC = 0xc0;

/** Atomic imm values (RFC 9669 section 5.3). */
export const ATOMIC_FETCH = 0x01;
const ATOMIC_OPS: ReadonlyArray<readonly [AtomicOp, number, boolean]> = [
  ['add', 0x00, false], ['or', 0x40, false], ['and', 0x50, false], ['xor', 0xa0, false],
  ['add', 0x01, true], ['or', 0x41, true], ['and', 0x51, true], ['xor', 0xa1, true],
  ['xchg', 0xe1, true], ['cmpxchg', 0xf1, true],
];

/** lddw pseudo sources (Linux's BPF_PSEUDO_*), by src value. */
export const LDDW_FORMS = [
  'imm64',         // 0: plain 64-bit immediate
  'map_fd',        // 1: BPF_PSEUDO_MAP_FD
  'map_value',     // 2: BPF_PSEUDO_MAP_VALUE (imm = fd, next imm = offset)
  'btf_var',       // 3: BPF_PSEUDO_BTF_ID
  'func',          // 4: BPF_PSEUDO_FUNC (imm = pc-relative code address)
  'map_idx',       // 5: BPF_PSEUDO_MAP_IDX
  'map_idx_value', // 6: BPF_PSEUDO_MAP_IDX_VALUE
] as const;
export type LddwForm = (typeof LDDW_FORMS)[number];

function spec(
  opcode: number,
  mnemonic: string,
  kind: Kind,
  width: OpSpec['width'],
  fields: Partial<Record<Field, FieldRule>>,
  extra: Partial<OpSpec> = {},
): OpSpec {
  return {
    opcode,
    mnemonic,
    kind,
    width,
    source: 'none',
    fields: { dst: 0, src: 0, off: 0, imm: 0, ...fields },
    ...extra,
  };
}

function buildTable(): OpSpec[] {
  const t: OpSpec[] = [];
  for (const [cls, width, suffix] of [[CLS.ALU64, 64, ''], [CLS.ALU, 32, '32']] as const) {
    for (const [op, code] of ALU_OPS) {
      const disc: Partial<OpSpec> = op === 'div' || op === 'mod' || op === 'mov' ? { discriminator: 'off' } : {};
      t.push(spec(cls | SRC_K | code, op + suffix, 'alu', width, { dst: 'reg', imm: 'any' }, { alu: op, source: 'imm', ...disc }));
      t.push(spec(cls | SRC_X | code, op + suffix, 'alu', width, { dst: 'reg', src: 'reg' }, { alu: op, source: 'reg', ...disc }));
    }
    // v4 signed division and modulo: same opcode as div/mod, off = 1.
    for (const [op, code] of [['sdiv', 0x30], ['smod', 0x90]] as const) {
      t.push(spec(cls | SRC_K | code, op + suffix, 'alu', width, { dst: 'reg', imm: 'any', off: 1 }, { alu: op, source: 'imm', discriminator: 'off' }));
      t.push(spec(cls | SRC_X | code, op + suffix, 'alu', width, { dst: 'reg', src: 'reg', off: 1 }, { alu: op, source: 'reg', discriminator: 'off' }));
    }
    // v4 sign-extending moves: mov with off = 8/16 (and 32 for 64-bit).
    for (const bits of width === 64 ? [8, 16, 32] : [8, 16]) {
      t.push(spec(cls | SRC_X | 0xb0, `movsx${bits}${width}`, 'movsx', width, { dst: 'reg', src: 'reg', off: bits }, { source: 'reg', discriminator: 'off' }));
    }
    t.push(spec(cls | SRC_K | 0x80, 'neg' + suffix, 'neg', width, { dst: 'reg' }));
  }
  // Byte order: le/be in class ALU (source bit picks the target order),
  // bswap in class ALU64. imm is the size in bits.
  for (const [opcode, name, kind] of [[0xd4, 'le', 'end'], [0xdc, 'be', 'end'], [0xd7, 'bswap', 'bswap']] as const) {
    for (const bits of [16, 32, 64] as const) {
      t.push(spec(opcode, name + bits, kind, bits, { dst: 'reg', imm: bits }, { discriminator: 'imm' }));
    }
  }
  for (const [cls, width, suffix] of [[CLS.JMP, 64, ''], [CLS.JMP32, 32, '32']] as const) {
    for (const [cond, code] of JMP_CONDS) {
      t.push(spec(cls | SRC_K | code, cond + suffix, 'jcond', width, { dst: 'reg', off: 'any', imm: 'any' }, { jmp: cond, source: 'imm' }));
      t.push(spec(cls | SRC_X | code, cond + suffix, 'jcond', width, { dst: 'reg', src: 'reg', off: 'any' }, { jmp: cond, source: 'reg' }));
    }
  }
  t.push(spec(0x05, 'ja', 'ja', 64, { off: 'any' }));
  t.push(spec(0x06, 'ja32', 'ja', 32, { imm: 'any' }));
  t.push(spec(0x85, 'call', 'call', 64, { imm: 'any', src: 0 }, { discriminator: 'src' }));
  t.push(spec(0x85, 'call', 'call_local', 64, { imm: 'any', src: 1 }, { discriminator: 'src' }));
  t.push(spec(0x85, 'call', 'call_kfunc', 64, { imm: 'any', src: 2 }, { discriminator: 'src' }));
  t.push(spec(0x8d, 'callx', 'callx', 64, { dst: 'reg' }));
  t.push(spec(0x95, 'exit', 'exit', 64, {}));
  LDDW_FORMS.forEach((_, src) => {
    t.push(spec(LDDW_OPCODE, 'lddw', 'lddw', 64, { dst: 'reg', src, imm: 'any' }, { lddwSrc: src, discriminator: 'src' }));
  });
  for (const w of [8, 16, 32] as const) {
    const s = SIZE_SUFFIX[w];
    t.push(spec(CLS.LD | MODE_ABS | SIZE_BITS[w], 'ldabs' + s, 'ldabs', w, { imm: 'any' }));
    t.push(spec(CLS.LD | MODE_IND | SIZE_BITS[w], 'ldind' + s, 'ldind', w, { src: 'reg', imm: 'any' }));
    t.push(spec(CLS.LDX | MODE_MEMSX | SIZE_BITS[w], 'ldxs' + s, 'ldsx', w, { dst: 'reg', src: 'reg', off: 'any' }));
  }
  for (const w of MEM_WIDTHS) {
    const s = SIZE_SUFFIX[w];
    t.push(spec(CLS.LDX | MODE_MEM | SIZE_BITS[w], 'ldx' + s, 'ldx', w, { dst: 'reg', src: 'reg', off: 'any' }));
    t.push(spec(CLS.ST | MODE_MEM | SIZE_BITS[w], 'st' + s, 'st', w, { dst: 'reg', off: 'any', imm: 'any' }));
    t.push(spec(CLS.STX | MODE_MEM | SIZE_BITS[w], 'stx' + s, 'stx', w, { dst: 'reg', src: 'reg', off: 'any' }));
  }
  for (const w of [32, 64] as const) {
    for (const [op, imm, fetch] of ATOMIC_OPS) {
      const mnemonic = (fetch && op !== 'xchg' && op !== 'cmpxchg' ? 'fetch ' : '') + op + (w === 32 ? '32' : '');
      t.push(spec(CLS.STX | MODE_ATOMIC | SIZE_BITS[w], mnemonic, 'atomic', w, { dst: 'reg', src: 'reg', off: 'any', imm }, { atomic: op, fetch, discriminator: 'imm' }));
    }
  }
  return t;
}

/** Every instruction form, in a stable order. */
export const OPCODES: readonly OpSpec[] = Object.freeze(buildTable().map((s) => Object.freeze(s)));

/** Specs by opcode byte (most opcodes have one; some are told apart by a field). */
export const SPECS_BY_OPCODE: ReadonlyMap<number, readonly OpSpec[]> = (() => {
  const m = new Map<number, OpSpec[]>();
  for (const s of OPCODES) {
    const list = m.get(s.opcode) ?? [];
    list.push(s);
    m.set(s.opcode, list);
  }
  return m;
})();

/** Does a field value satisfy a rule? */
export function fieldMatches(rule: FieldRule, value: number): boolean {
  if (rule === 'any') return true;
  if (rule === 'reg') return value >= 0 && value <= MAX_REG;
  return value === rule;
}

/**
 * The spec a slot encodes, chosen by opcode and then by the discriminating
 * field; undefined when no spec's discriminator matches (or the opcode is
 * unknown). Other fields are not checked here: see `checkFields`.
 */
export function lookupSpec(slot: Slot): OpSpec | undefined {
  const list = SPECS_BY_OPCODE.get(slot.opcode);
  if (list === undefined) return undefined;
  // The discriminator is checked even for a single spec (mov imm with off 8
  // is no instruction, not a mov with a bad reserved field).
  for (const s of list) {
    if (s.discriminator === undefined || fieldMatches(s.fields[s.discriminator], slot[s.discriminator])) return s;
  }
  return undefined;
}

export const FIELDS: readonly Field[] = ['dst', 'src', 'off', 'imm'];

/** The first field of `slot` that breaks its spec's rules, if any. */
export function checkFields(spec: OpSpec, slot: Slot): Field | undefined {
  for (const f of FIELDS) {
    if (!fieldMatches(spec.fields[f], slot[f])) return f;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Byte encoding. Little-endian: opcode, dst (low nibble) | src (high nibble),
// off (s16), imm (s32).

/** Splits bytes into slots. The caller checks the length is a multiple of 8. */
export function decodeSlots(bytes: Uint8Array): Slot[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Math.floor(bytes.byteLength / SLOT_SIZE);
  const slots: Slot[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * SLOT_SIZE;
    const regs = view.getUint8(o + 1);
    slots[i] = {
      opcode: view.getUint8(o),
      dst: regs & 0x0f,
      src: regs >> 4,
      off: view.getInt16(o + 2, true),
      imm: view.getInt32(o + 4, true),
    };
  }
  return slots;
}

/** Encodes slots to bytes. Fields are truncated to their widths. */
export function encodeSlots(slots: readonly Slot[]): Uint8Array {
  const out = new Uint8Array(slots.length * SLOT_SIZE);
  const view = new DataView(out.buffer);
  slots.forEach((s, i) => {
    const o = i * SLOT_SIZE;
    view.setUint8(o, s.opcode & 0xff);
    view.setUint8(o + 1, ((s.src & 0x0f) << 4) | (s.dst & 0x0f));
    view.setInt16(o + 2, (s.off << 16) >> 16, true);
    view.setInt32(o + 4, s.imm | 0, true);
  });
  return out;
}

/** The 64-bit value of an lddw from its two imm halves (low first). */
export function lddwValue(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * A validated instruction: its slot fields, its spec, its pc (slot index) and,
 * for lddw, the second slot's imm. Engines read only these.
 */
export interface Instruction extends Slot {
  pc: number;
  spec: OpSpec;
  /** lddw only: imm of the second slot (the high 32 bits, or the map-value offset). */
  imm2: number;
}

/** Number of slots an instruction occupies. */
export function slotCount(spec: OpSpec): 1 | 2 {
  return spec.kind === 'lddw' ? 2 : 1;
}

/** Jump target of a ja/jcond/call_local instruction: pc + 1 + offset. */
export function branchTarget(insn: Instruction): number {
  const offset = insn.spec.kind === 'call_local' || (insn.spec.kind === 'ja' && insn.spec.width === 32) ? insn.imm : insn.off;
  return insn.pc + 1 + offset;
}

/** Does the instruction write its dst register? (r10 may never be written.) */
export function writesDst(spec: OpSpec): boolean {
  switch (spec.kind) {
    case 'alu': case 'movsx': case 'neg': case 'end': case 'bswap':
    case 'lddw': case 'ldx': case 'ldsx':
      return true;
    default:
      return false;
  }
}

/** Does the instruction write its src register? (atomic fetch forms) */
export function writesSrc(spec: OpSpec): boolean {
  return spec.kind === 'atomic' && spec.fetch === true && spec.atomic !== 'cmpxchg';
}
