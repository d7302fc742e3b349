// Classic BPF to eBPF, with the semantics of Linux's bpf_convert_filter
// (net/core/filter.c), for a socket filter run on an SkbContext:
//
//   A = r0, X = r7 (32-bit values, upper halves always zero: every ALU op is
//   ALU32), ctx = r6 (r1 saved at entry), r8 a temporary, M[k] the u32 at
//   r10 - 4 * (16 - k). A and X start at 0.
//
//   ld [k] / ldh / ldb      ldabs{w,h,b} k: big-endian; out of bounds ends the
//                           program with 0 (the engines' LD_ABS rule = Linux's)
//   ld [x + k]              ldind with r8 = (u32)(X + k): the offset wraps at
//                           32 bits as in Linux, where it is an int
//   ldx 4*([k]&0xf)         A saved in r8, ldabsb k, & 0xf, << 2, to X
//   ld/ldx len              skb->len, u32 at ctx + 0
//   ld [SKF_AD_OFF + n]     the __sk_buff field (protocol and vlan_tpid
//                           converted to host order as Linux does), or a
//                           helper call: cpu = get_smp_processor_id (8),
//                           random = get_prandom_u32 (7)
//   div/mod x               X == 0 ends the program with 0 (Linux emits the
//                           same check; eBPF alone would set A = 0 for div
//                           and keep A for mod, and go on)
//   jumps                   JMP32 on A (k compared as u32), to jt and jf
//   ret k / ret a           r0 = bytes of the packet to keep, 0 drops
//
// Ancillary loads without an __sk_buff field (HATYPE, NLATTR, NLATTR_NEST,
// PAY_OFFSET) and LD_ABS relative to the network header (SKF_NET_OFF) are
// refused with a CbpfError naming the pc; loads relative to the link-layer
// header (SKF_LL_OFF) read the packet from its first byte, the MAC header.
// An ld [x + k] whose 32-bit sum lands in those negative ranges simply fails
// (returns 0) here, where Linux would read through them.

import { encodeSlots, type Slot } from '../isa.js';
import { SKB } from '../skb.js';
import { checkCbpf } from './check.js';
import { CbpfError } from './error.js';
import {
  ancillaryName, BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MOD, BPF_MSH, BPF_NEG, BPF_RET,
  BPF_ST, BPF_STX, BPF_TAX, BPF_X, BPF_XOR, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc, CBPF_MEMWORDS,
  formatCbpfInsn, SKF_AD, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF, type CbpfInsn,
} from './opcodes.js';

const A = 0;
const CTX = 6;
const X = 7;
const TMP = 8;
const FP = 10;

// eBPF opcodes used here (lib/isa.ts has the same numbers; these name only
// what the translation emits). Classic ALU and jump operation bits (ADD ..
// XOR, JEQ .. JSET) and the ldabs/ldind size bits are eBPF's, so they are
// or-ed in unchanged.
const ALU32_K = 0x04;
const ALU32_X = 0x0c;
const MOV32_K = 0xb4;
const MOV32_X = 0xbc;
const MOV64_X = 0xbf;
const NEG32 = 0x84;
const BE = 0xdc;
const JA = 0x05;
const JMP32_K = 0x06;
const JMP32_X = 0x0e;
const JNE = 0x50;
const JLT = 0xa0;
const JLE = 0xb0;
const LDXW = 0x61;
const LDXH = 0x69;
const STXW = 0x63;
const LDABS = 0x20;
const LDIND = 0x40;
const CALL = 0x85;
const EXIT = 0x95;
const HELPER_PRANDOM_U32 = 7;
const HELPER_SMP_PROCESSOR_ID = 8;

/** An eBPF slot whose jump offset is still a classic pc (resolved once every insn's size is known). */
interface Pending extends Slot {
  readonly target?: number;
}

const slot = (opcode: number, dst: number, src: number, imm: number, off = 0): Pending => ({ opcode, dst, src, off, imm: imm | 0 });
const jumpTo = (opcode: number, dst: number, src: number, imm: number, target: number): Pending => ({ ...slot(opcode, dst, src, imm), target });
const EXIT_SLOT = slot(EXIT, 0, 0, 0);

/** M[k]'s stack offset. */
const memOff = (k: number): number => -4 * (CBPF_MEMWORDS - k);

/** __sk_buff fields of the ancillary loads we support, and whether Linux converts them from network order. */
const ANCILLARY_FIELDS: ReadonlyMap<number, { readonly offset: number; readonly be16?: true }> = new Map([
  [SKF_AD.PROTOCOL, { offset: SKB.protocol, be16: true }],
  [SKF_AD.PKTTYPE, { offset: SKB.pktType }],
  [SKF_AD.IFINDEX, { offset: SKB.ifindex }],
  [SKF_AD.MARK, { offset: SKB.mark }],
  [SKF_AD.QUEUE, { offset: SKB.queueMapping }],
  [SKF_AD.RXHASH, { offset: SKB.hash }],
  [SKF_AD.VLAN_TAG, { offset: SKB.vlanTci }],
  [SKF_AD.VLAN_TAG_PRESENT, { offset: SKB.vlanPresent }],
  [SKF_AD.VLAN_TPID, { offset: SKB.vlanProto, be16: true }],
]);

/**
 * Checks `insns` (checkCbpf) and translates them to eBPF bytecode for
 * Vm.load. Run it with an SkbContext (kind 'socket'); r0 is the number of
 * bytes to keep (0: drop).
 */
export function cbpfToEbpf(insns: readonly CbpfInsn[]): Uint8Array {
  checkCbpf(insns);
  const prologue = [slot(MOV64_X, CTX, 1, 0), slot(MOV32_K, A, 0, 0), slot(MOV32_K, X, 0, 0)];
  const bodies = insns.map((insn, pc) => translate(insn, pc));
  // starts[pc] = index of classic pc's first eBPF slot.
  const starts: number[] = [];
  let at = prologue.length;
  for (const body of bodies) {
    starts.push(at);
    at += body.length;
  }
  const out: Slot[] = [...prologue];
  bodies.forEach((body, pc) => {
    for (const s of body) {
      const { target, ...plain } = s;
      if (target !== undefined) {
        const off = starts[target]! - (out.length + 1);
        // Linux refuses a jump that does not fit eBPF's 16-bit offset. It cannot
        // happen here (at most 6 slots per classic instruction, 4096 of them),
        // but an offset must never be silently truncated.
        if (off > 0x7fff) throw new CbpfError('jump too far after translation (more than 32767 eBPF instructions)', { pc, insn: formatCbpfInsn(insns[pc]!) });
        plain.off = off;
      }
      out.push(plain);
    }
  });
  return encodeSlots(out);
}

/** The eBPF slots of one checked classic instruction. */
function translate(insn: CbpfInsn, pc: number): Pending[] {
  const { code, k } = insn;
  const refuse = (message: string) => new CbpfError(message, { pc, insn: formatCbpfInsn(insn) });
  switch (bpfClass(code)) {
    case BPF_ALU:
      return alu(insn);
    case BPF_JMP:
      return jump(insn, pc);
    case BPF_RET:
      return code === (BPF_RET | BPF_A) ? [EXIT_SLOT] : [slot(MOV32_K, A, 0, k), EXIT_SLOT];
    case BPF_MISC:
      return code === (BPF_MISC | BPF_TAX) ? [slot(MOV32_X, X, A, 0)] : [slot(MOV32_X, A, X, 0)];
    case BPF_ST:
      return [slot(STXW, FP, A, 0, memOff(k))];
    case BPF_STX:
      return [slot(STXW, FP, X, 0, memOff(k))];
    case BPF_LD:
    case BPF_LDX: {
      const dst = bpfClass(code) === BPF_LD ? A : X;
      switch (bpfMode(code)) {
        case BPF_IMM:
          return [slot(MOV32_K, dst, 0, k)];
        case BPF_MEM:
          return [slot(LDXW, dst, FP, 0, memOff(k))];
        case BPF_LEN:
          return [slot(LDXW, dst, CTX, 0, SKB.len)];
        case BPF_ABS:
          return k >= SKF_AD_OFF ? ancillary(k - SKF_AD_OFF, refuse) : [slot(LDABS | bpfSize(code), 0, 0, packetOffset(k, refuse))];
        case BPF_IND:
          // ldind adds the full 64-bit register; Linux adds in 32 bits.
          return k === 0
            ? [slot(LDIND | bpfSize(code), 0, X, 0)]
            : [slot(MOV32_X, TMP, X, 0), slot(ALU32_K | BPF_ADD, TMP, 0, k), slot(LDIND | bpfSize(code), 0, TMP, 0)];
        case BPF_MSH:
          return [
            slot(MOV64_X, TMP, A, 0),
            slot(LDABS | BPF_B, 0, 0, packetOffset(k, refuse)),
            slot(ALU32_K | BPF_AND, A, 0, 0xf),
            slot(ALU32_K | BPF_LSH, A, 0, 2),
            slot(MOV64_X, X, A, 0),
            slot(MOV64_X, A, TMP, 0),
          ];
      }
    }
  }
  // checkCbpf admits no other opcode.
  throw refuse(`unknown opcode 0x${code.toString(16)}`);
}

/**
 * The ldabs imm for a packet offset k: itself below 2^31; link-layer
 * relative ones rebased to the packet start; other negative ones kept
 * (they always fail, ending the program with 0, as in Linux).
 */
function packetOffset(k: number, refuse: (m: string) => CbpfError): number {
  if (k >= SKF_NET_OFF && k < SKF_AD_OFF) throw refuse('network-header-relative load (SKF_NET_OFF) not supported');
  if (k >= SKF_LL_OFF && k < SKF_NET_OFF) return k - SKF_LL_OFF;
  return k | 0;
}

function ancillary(n: number, refuse: (m: string) => CbpfError): Pending[] {
  const field = ANCILLARY_FIELDS.get(n);
  if (field !== undefined) {
    if (field.be16 === true) return [slot(LDXH, A, CTX, 0, field.offset), slot(BE, A, 0, 16)];
    return [slot(LDXW, A, CTX, 0, field.offset)];
  }
  switch (n) {
    case SKF_AD.CPU:
      return [slot(CALL, 0, 0, HELPER_SMP_PROCESSOR_ID)];
    case SKF_AD.RANDOM:
      return [slot(CALL, 0, 0, HELPER_PRANDOM_U32)];
    case SKF_AD.ALU_XOR_X:
      return [slot(ALU32_X | BPF_XOR, A, X, 0)];
  }
  throw refuse(`ancillary load ${ancillaryName(n) ?? `SKF_AD_OFF + ${n}`} not supported (no __sk_buff field holds it)`);
}

function alu(insn: CbpfInsn): Pending[] {
  const { code, k } = insn;
  const op = bpfOp(code);
  if (op === BPF_NEG) return [slot(NEG32, A, 0, 0)];
  if (bpfSrc(code) === BPF_K) return [slot(ALU32_K | op, A, 0, k)];
  const body = [slot(ALU32_X | op, A, X, 0)];
  if (op !== BPF_DIV && op !== BPF_MOD) return body;
  // if (X != 0) skip; else return 0.
  return [slot(JMP32_K | JNE, X, 0, 0, 2), slot(MOV32_K, A, 0, 0), EXIT_SLOT, ...body];
}

/** Conditions whose negation eBPF has, so a jump with jt = 0 is one slot. */
const NEGATED: ReadonlyMap<number, number> = new Map([[BPF_JEQ, JNE], [BPF_JGT, JLE], [BPF_JGE, JLT]]);

function jump(insn: CbpfInsn, pc: number): Pending[] {
  const { code, k, jt, jf } = insn;
  const op = bpfOp(code);
  if (op === BPF_JA) return [jumpTo(JA, 0, 0, 0, pc + 1 + k)];
  const cls = bpfSrc(code) === BPF_X ? JMP32_X : JMP32_K;
  const src = bpfSrc(code) === BPF_X ? X : 0;
  const imm = bpfSrc(code) === BPF_X ? 0 : k;
  // Both ways lead to the next instruction: the comparison has no effect.
  if (jt === 0 && jf === 0) return [];
  if (jf === 0) return [jumpTo(cls | op, A, src, imm, pc + 1 + jt)];
  const negated = NEGATED.get(op);
  if (jt === 0 && negated !== undefined) return [jumpTo(cls | negated, A, src, imm, pc + 1 + jf)];
  return [jumpTo(cls | op, A, src, imm, pc + 1 + jt), jumpTo(JA, 0, 0, 0, pc + 1 + jf)];
}
