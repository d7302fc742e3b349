// Classic BPF (struct sock_filter, <linux/filter.h> and <linux/bpf_common.h>):
// the instruction, its opcode fields, the ancillary-load offsets, and the
// exact set of opcodes Linux accepts (chk_code_allowed in net/core/filter.c).
//
// A classic instruction is { code: u16, jt: u8, jf: u8, k: u32 }. There are
// two 32-bit registers, A and X, and sixteen 32-bit scratch words M[0..15].

export interface CbpfInsn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

/** BPF_MAXINSNS: the longest classic program Linux accepts. */
export const CBPF_MAX_INSNS = 4096;
/** BPF_MEMWORDS: the scratch words M[0..15]. */
export const CBPF_MEMWORDS = 16;

// Classes (low 3 bits).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;

// Sizes (ld/ldx).
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;

// Modes (ld/ldx).
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;

// ALU operations.
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;

// Jump conditions.
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

// Operand source (alu/jmp) and return value (ret).
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_A = 0x10;

// Misc.
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

export const bpfClass = (code: number): number => code & 0x07;
export const bpfSize = (code: number): number => code & 0x18;
export const bpfMode = (code: number): number => code & 0xe0;
export const bpfOp = (code: number): number => code & 0xf0;
export const bpfSrc = (code: number): number => code & 0x08;

/**
 * Offsets of LD_ABS loads that are not packet bytes (uapi <linux/filter.h>):
 * k >= SKF_AD_OFF selects an ancillary value, k in [SKF_NET_OFF, SKF_AD_OFF)
 * is relative to the network header, k in [SKF_LL_OFF, SKF_NET_OFF) to the
 * link-layer (MAC) header. As u32, since k is unsigned.
 */
export const SKF_AD_OFF = 0xfffff000;
export const SKF_NET_OFF = 0xfff00000;
export const SKF_LL_OFF = 0xffe00000;

/** Ancillary values: k - SKF_AD_OFF. */
export const SKF_AD = Object.freeze({
  PROTOCOL: 0, PKTTYPE: 4, IFINDEX: 8, NLATTR: 12, NLATTR_NEST: 16, MARK: 20, QUEUE: 24, HATYPE: 28,
  RXHASH: 32, CPU: 36, ALU_XOR_X: 40, VLAN_TAG: 44, VLAN_TAG_PRESENT: 48, PAY_OFFSET: 52, RANDOM: 56,
  VLAN_TPID: 60,
});
/** SKF_AD_MAX: ancillary offsets at or above it are unknown. */
export const SKF_AD_MAX = 64;

/** The name of ancillary offset `k - SKF_AD_OFF`, or undefined when Linux knows none there. */
export function ancillaryName(offset: number): string | undefined {
  for (const [name, value] of Object.entries(SKF_AD)) if (value === offset) return `SKF_AD_${name}`;
  return undefined;
}

/** chk_code_allowed: every opcode Linux accepts in a classic program. */
export const ALLOWED_CODES: ReadonlySet<number> = new Set([
  // 32-bit ALU, K and X forms, and NEG.
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH].flatMap(
    (op) => [BPF_ALU | op | BPF_K, BPF_ALU | op | BPF_X],
  ),
  BPF_ALU | BPF_NEG,
  // Loads.
  BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
  BPF_LD | BPF_IMM, BPF_LD | BPF_MEM,
  BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_B | BPF_MSH, BPF_LDX | BPF_IMM, BPF_LDX | BPF_MEM,
  // Stores, misc, returns.
  BPF_ST, BPF_STX,
  BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  BPF_RET | BPF_K, BPF_RET | BPF_A,
  // Jumps.
  BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

/** Whether `code` is a conditional jump (jt and jf both used). */
export function isConditionalJump(code: number): boolean {
  return bpfClass(code) === BPF_JMP && bpfOp(code) !== BPF_JA;
}

/** The instruction as `tcpdump -dd` prints it, for error messages. */
export function formatCbpfInsn(insn: CbpfInsn): string {
  return `{ 0x${insn.code.toString(16)}, ${insn.jt}, ${insn.jf}, 0x${insn.k.toString(16).padStart(8, '0')} }`;
}
