// The checks Linux makes before it accepts a classic program
// (net/core/filter.c: bpf_check_basics_ok, bpf_check_classic,
// chk_code_allowed, check_load_and_stores), in the kernel's order, so a
// program we accept is one a socket would accept, and the first error found
// is the one Linux would have hit.
//
// One deviation: Linux accepts LD_ABS at offsets in the network-header range
// [SKF_NET_OFF, SKF_AD_OFF); cbpfToEbpf refuses them (no network-header
// offset is known for a bare packet), and says so itself.

import { CbpfError } from './error.js';
import {
  ALLOWED_CODES, ancillaryName, BPF_ABS, BPF_ALU, BPF_B, BPF_DIV, BPF_H, BPF_JA, BPF_JMP, BPF_K, BPF_LD, BPF_LDX,
  BPF_LSH, BPF_MEM, BPF_MOD, BPF_RET, BPF_RSH, BPF_A, BPF_ST, BPF_STX, BPF_W, CBPF_MAX_INSNS, CBPF_MEMWORDS,
  formatCbpfInsn, isConditionalJump, SKF_AD_MAX, SKF_AD_OFF, type CbpfInsn,
} from './opcodes.js';

/** Throws CbpfError (naming the pc) unless Linux would accept `insns` as a socket filter. */
export function checkCbpf(insns: readonly CbpfInsn[]): void {
  if (!Array.isArray(insns)) throw new CbpfError('a classic program must be an array of instructions');
  const flen = insns.length;
  if (flen === 0 || flen > CBPF_MAX_INSNS) {
    throw new CbpfError(`a classic program has 1 to ${CBPF_MAX_INSNS} instructions, this one ${flen}`);
  }
  insns.forEach((insn, pc) => checkInsn(insn, pc, flen));
  const last = insns[flen - 1]!;
  if (last.code !== (BPF_RET | BPF_K) && last.code !== (BPF_RET | BPF_A)) {
    throw fail('the last instruction must be a return', flen - 1, last);
  }
  checkLoadAndStores(insns);
}

function fail(message: string, pc: number, insn: CbpfInsn): CbpfError {
  return new CbpfError(message, { pc, insn: formatCbpfInsn(insn) });
}

function checkFields(insn: unknown, pc: number): asserts insn is CbpfInsn {
  const o = insn as Record<string, unknown> | null;
  const ok = (v: unknown, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
  if (typeof o !== 'object' || o === null || !ok(o.code, 0xffff) || !ok(o.jt, 0xff) || !ok(o.jf, 0xff) || !ok(o.k, 0xffffffff)) {
    throw new CbpfError('an instruction must be { code: u16, jt: u8, jf: u8, k: u32 }', { pc });
  }
}

/** bpf_check_classic's per-instruction checks. */
function checkInsn(insn: CbpfInsn, pc: number, flen: number): void {
  checkFields(insn, pc);
  const { code, k } = insn;
  if (!ALLOWED_CODES.has(code)) throw fail(`unknown opcode 0x${code.toString(16)}`, pc, insn);
  switch (code) {
    case BPF_ALU | BPF_DIV | BPF_K:
    case BPF_ALU | BPF_MOD | BPF_K:
      if (k === 0) throw fail('division by constant 0', pc, insn);
      break;
    case BPF_ALU | BPF_LSH | BPF_K:
    case BPF_ALU | BPF_RSH | BPF_K:
      if (k >= 32) throw fail(`shift by ${k} (at most 31)`, pc, insn);
      break;
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
      if (k >= CBPF_MEMWORDS) throw fail(`scratch memory index ${k} (M[0..${CBPF_MEMWORDS - 1}])`, pc, insn);
      break;
    case BPF_JMP | BPF_JA:
      // Offsets are unsigned: a jump can only go forward, so programs end.
      if (k >= flen - pc - 1) throw fail(`jump past the end (target ${pc + 1 + k}, ${flen} instructions)`, pc, insn);
      break;
    case BPF_LD | BPF_W | BPF_ABS:
    case BPF_LD | BPF_H | BPF_ABS:
    case BPF_LD | BPF_B | BPF_ABS:
      if (k >= SKF_AD_OFF && (k - SKF_AD_OFF >= SKF_AD_MAX || ancillaryName(k - SKF_AD_OFF) === undefined)) {
        throw fail(`unknown ancillary load SKF_AD_OFF + ${k - SKF_AD_OFF}`, pc, insn);
      }
      break;
    default:
      if (isConditionalJump(code) && (pc + insn.jt + 1 >= flen || pc + insn.jf + 1 >= flen)) {
        throw fail(`jump past the end (targets ${pc + 1 + insn.jt} and ${pc + 1 + insn.jf}, ${flen} instructions)`, pc, insn);
      }
  }
}

/**
 * check_load_and_stores: every M[k] read must follow a write of M[k] on
 * every path. One bit per word; a jump narrows its targets' masks to what
 * is valid at the jump; after a jump, straight-line validity restarts from
 * "all valid" and is narrowed at the next instruction by its mask. This is
 * Linux's algorithm exactly (including its leniency after a ret, whose
 * successor is only reachable through jumps).
 */
function checkLoadAndStores(insns: readonly CbpfInsn[]): void {
  const masks = new Uint16Array(insns.length).fill(0xffff);
  let valid = 0;
  insns.forEach((insn, pc) => {
    valid &= masks[pc]!;
    const { code, k } = insn;
    if (code === BPF_ST || code === BPF_STX) valid |= 1 << k;
    else if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM)) {
      if ((valid & (1 << k)) === 0) throw fail(`M[${k}] read before it is written`, pc, insn);
    } else if (code === (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + k]! &= valid;
      valid = 0xffff;
    } else if (isConditionalJump(code)) {
      masks[pc + 1 + insn.jt]! &= valid;
      masks[pc + 1 + insn.jf]! &= valid;
      valid = 0xffff;
    }
  });
}
