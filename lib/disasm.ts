// The disassembler: slots to text in the syntax `assemble` reads, using the
// same per-spec syntax (`syntaxOf`), so that assemble(disassemble(bytes))
// gives back the same bytes. Jumps print relative offsets (+3 / -2), never
// labels, so each line stands alone. Slots that match no spec print as a raw
// `.insn` line, which the assembler also reads. Nothing here throws.

import { LDDW_FORMS_WITH_OFFSET, syntaxOf, type Role } from './asm.js';
import { SLOT_SIZE, checkFields, decodeSlots, encodeSlots, lddwValue, lookupSpec, type Slot } from './isa.js';

export interface DisassembleOptions {
  /** Prefix each line with its pc (slot index), e.g. `   12: `. */
  pcs?: boolean;
}

/**
 * Immediates: signed decimal when small, else the hex of the raw 32 bits
 * (what a reader compares with a dump; the assembler reads both back).
 */
function imm(v: number): string {
  return Math.abs(v) < 65536 ? String(v) : `0x${(v >>> 0).toString(16)}`;
}

function imm64(lo: number, hi: number): string {
  const u = lddwValue(lo, hi);
  const s = BigInt.asIntN(64, u);
  return s > -65536n && s < 65536n ? s.toString() : `0x${u.toString(16)}`;
}

/** A relative jump offset, always signed so it cannot be read as a label. */
function rel(v: number): string {
  return v < 0 ? String(v) : `+${v}`;
}

function mem(reg: number, off: number): string {
  return off === 0 ? `[%r${reg}]` : `[%r${reg}${rel(off)}]`;
}

/** The raw form, for slots that match no instruction. */
function raw(slot: Slot): string {
  return `.insn opcode=0x${(slot.opcode & 0xff).toString(16)} dst=${slot.dst} src=${slot.src} off=${slot.off} imm=${imm(slot.imm)}`;
}

/**
 * One instruction. `imm2` is the imm of the next slot, required for lddw
 * (without it an lddw prints as `.insn`, since its value is unknown). `pc`
 * does not change the text: offsets are relative, so the line reassembles
 * at any position.
 */
export function formatInstruction(slot: Slot, pc: number, imm2?: number): string {
  const spec = lookupSpec(slot);
  if (spec === undefined || checkFields(spec, slot) !== undefined) return raw(slot);
  if (spec.kind === 'lddw' && imm2 === undefined) return raw(slot);
  const syntax = syntaxOf(spec);
  const hi = imm2 ?? 0;
  const operand = (role: Role): string | undefined => {
    switch (role) {
      case 'dst': return `%r${slot.dst}`;
      case 'src': return `%r${slot.src}`;
      case 'imm': return imm(slot.imm);
      case 'memDst': return mem(slot.dst, slot.off);
      case 'memSrc': return mem(slot.src, slot.off);
      case 'offTarget': return rel(slot.off);
      case 'immTarget': return rel(slot.imm);
      case 'imm64': return imm64(slot.imm, hi);
      case 'pseudo': return spec.lddwSrc === 4 ? rel(slot.imm) : imm(slot.imm);
      case 'imm2':
        // Only map-value forms use the second imm; elsewhere print it when set
        // so that the bytes survive a round trip.
        return LDDW_FORMS_WITH_OFFSET.has(spec.lddwSrc ?? 0) || hi !== 0 ? imm(hi) : undefined;
    }
  };
  const ops: string[] = [];
  syntax.roles.forEach((role, i) => {
    const text = operand(role);
    if (text === undefined) return;
    const kw = syntax.keywords?.[0];
    const printKw = i === syntax.keywordAt && kw !== undefined && syntax.keywordOptional !== true;
    ops.push(printKw ? `${kw} ${text}` : text);
  });
  return ops.length === 0 ? syntax.mnemonic : `${syntax.mnemonic} ${ops.join(', ')}`;
}

/**
 * A whole program, one line per instruction (an lddw is one line). Bytes
 * that do not make a whole slot are reported in a trailing comment line.
 */
export function disassemble(input: Uint8Array | readonly Slot[], options: DisassembleOptions = {}): string {
  // Slots given directly are normalised through the encoding so that
  // out-of-range field values print as the bytes they would become.
  const slots = input instanceof Uint8Array ? decodeSlots(input) : decodeSlots(encodeSlots(input));
  const lines: string[] = [];
  const prefix = (pc: number): string => (options.pcs === true ? `${String(pc).padStart(5)}: ` : '');
  for (let pc = 0; pc < slots.length; pc++) {
    const slot = slots[pc]!;
    const next = slots[pc + 1];
    // An lddw is printed as one line only when its second slot is well formed;
    // otherwise each slot prints on its own (as .insn) and nothing is lost.
    const pair = lookupSpec(slot)?.kind === 'lddw' && next !== undefined
      && next.opcode === 0 && next.dst === 0 && next.src === 0 && next.off === 0;
    const text = formatInstruction(slot, pc, pair ? next.imm : undefined);
    lines.push(prefix(pc) + text);
    if (pair && !text.startsWith('.insn')) pc++;
  }
  if (input instanceof Uint8Array && input.byteLength % SLOT_SIZE !== 0) {
    lines.push(`# ${input.byteLength % SLOT_SIZE} trailing byte(s) do not make a whole instruction`);
  }
  return lines.map((l) => l + '\n').join('');
}
