// The reference engine: executes a validated Program one instruction at a
// time with canonical u64 BigInt registers. Written to be obviously right, not
// fast; the JIT is checked against it.
//
// What it does not do: validation (it trusts the Program, and throws an
// ExecutionError on the few forms the validator is meant to keep out), tail
// calls (helper 12 is not special-cased yet), or any state beyond one run.

import { EbpfError, BudgetExceededError, ExecutionError, HelperError } from './errors.js';
import { branchTarget, lddwValue, type Instruction } from './isa.js';
import type { Program } from './program.js';
import { FRAME_SIZE, type HelperContext, type RunEnv } from './runtime.js';
import { codeAddress, codeTarget } from './code-address.js';
import {
  BYTE_ORDER, atomicOp, byteOrderOf, cmpxchgMatches, evalAlu, immOperand, movsx, neg, signExtend, testJmp, u64,
} from './ops.js';

/** What a bpf-to-bpf call saves: where to return and the caller's registers. */
interface Frame {
  readonly returnPc: number;
  /** r1..r9 of the caller: all of them survive the call (see callLocal). */
  readonly saved: readonly bigint[];
  readonly r10: bigint;
}

/** Mutable state of one run; lives only inside `interpret`. */
interface State {
  readonly program: Program;
  readonly env: RunEnv;
  readonly functions: ReadonlySet<number>;
  /** r0..r10, canonical u64. */
  readonly regs: bigint[];
  readonly frames: Frame[];
}

/** A step's effect on control: next pc, or the run's end with r0. */
type Next = { readonly pc: number } | { readonly exit: bigint };

const BYTES = { 8: 1, 16: 2, 32: 4, 64: 8 } as const;

/** Runs `program` to completion and returns r0 as a u64. */
export function interpret(program: Program, env: RunEnv): bigint {
  const regs: bigint[] = new Array<bigint>(11).fill(0n);
  regs[1] = u64(env.r1);
  regs[2] = u64(env.r2);
  regs[10] = BigInt(env.stackTop);
  const state: State = { program, env, functions: new Set(program.functions), regs, frames: [] };
  // Budget: instructions executed are counted, and checked only where the
  // JIT checks them too (calls, and jumps taken backwards), so both engines
  // stop at the same pc. See BUDGET_RULE in runtime.ts.
  const budget = env.budget ?? Infinity;
  let executed = 0;
  let pc = 0;
  for (;;) {
    const insn = program.byPc[pc];
    if (insn === undefined) {
      throw new ExecutionError('BAD_PC', 'execution reached a pc that starts no instruction', pc);
    }
    executed++;
    const kind = insn.spec.kind;
    if (executed > budget && (kind === 'call' || kind === 'call_local' || kind === 'callx')) {
      throw new BudgetExceededError(pc, env.budget!);
    }
    const next = step(state, insn);
    if ('exit' in next) return next.exit;
    // A jump taken backwards (returns from calls do not count: they are not jumps).
    if (next.pc <= pc && executed > budget && (kind === 'ja' || kind === 'jcond')) {
      throw new BudgetExceededError(pc, env.budget!);
    }
    pc = next.pc;
  }
}

/** Executes one instruction. */
function step(state: State, insn: Instruction): Next {
  const { regs, env } = state;
  const { spec, pc, dst, src, off, imm } = insn;
  const fallthrough = { pc: pc + 1 };
  switch (spec.kind) {
    case 'alu': {
      // imm is sign-extended to 64 bits for every 64-bit op; 32-bit ops read its low 32 bits.
      const b = spec.source === 'reg' ? regs[src] : immOperand(imm);
      regs[dst] = evalAlu(spec.alu!, width32or64(spec.width), regs[dst], b);
      return fallthrough;
    }
    case 'movsx':
      regs[dst] = movsx(regs[src], off, width32or64(spec.width));
      return fallthrough;
    case 'neg':
      regs[dst] = neg(regs[dst], width32or64(spec.width));
      return fallthrough;
    case 'end':
    case 'bswap':
      regs[dst] = BYTE_ORDER[byteOrderOf(spec)!](regs[dst], spec.width as 16 | 32 | 64);
      return fallthrough;
    case 'ja':
      // JMP ja takes off, JMP32 ja32 (gotol) takes imm: branchTarget knows which.
      return { pc: branchTarget(insn) };
    case 'jcond': {
      // JMP sign-extends imm to 64 bits; JMP32 compares the low 32 bits only.
      const b = spec.source === 'reg' ? regs[src] : immOperand(imm);
      return testJmp(spec.jmp!, width32or64(spec.width), regs[dst], b) ? { pc: branchTarget(insn) } : fallthrough;
    }
    case 'lddw':
      regs[dst] = lddw(insn);
      // lddw occupies two slots.
      return { pc: pc + 2 };
    case 'ldx':
      regs[dst] = env.memory.load(effectiveAddress(regs[src], off), BYTES[spec.width], pc);
      return fallthrough;
    case 'ldsx':
      regs[dst] = signExtend(env.memory.load(effectiveAddress(regs[src], off), BYTES[spec.width], pc), spec.width);
      return fallthrough;
    case 'st':
      // The store truncates imm to the width; for DW, imm is sign-extended to 64 bits first.
      env.memory.store(effectiveAddress(regs[dst], off), BYTES[spec.width], immOperand(imm), pc);
      return fallthrough;
    case 'stx':
      env.memory.store(effectiveAddress(regs[dst], off), BYTES[spec.width], regs[src], pc);
      return fallthrough;
    case 'atomic':
      atomic(state, insn);
      return fallthrough;
    case 'ldabs':
    case 'ldind':
      return packetLoad(state, insn);
    case 'call':
      return callHelper(state, imm, pc);
    case 'call_local':
      return callLocal(state, branchTarget(insn), pc);
    case 'callx':
      return callx(state, regs[dst], pc);
    case 'exit':
      return exit(state);
    case 'call_kfunc':
      throw new ExecutionError('UNSUPPORTED_INSTRUCTION', `kfunc calls are not supported (BTF id ${imm})`, pc);
  }
}

function width32or64(width: number): 32 | 64 {
  return width === 32 ? 32 : 64;
}

/** reg + off as a u64: a negative result wraps to a huge address, which faults. */
function effectiveAddress(base: bigint, off: number): bigint {
  return u64(base + BigInt(off));
}

function lddw(insn: Instruction): bigint {
  switch (insn.spec.lddwSrc) {
    case 0:
      return lddwValue(insn.imm, insn.imm2);
    case 4:
      // A function pointer: the code address of the subprogram at pc + 1 + imm.
      return BigInt(codeAddress(insn.pc + 1 + insn.imm));
    default:
      throw new ExecutionError(
        'UNSUPPORTED_INSTRUCTION',
        `lddw with src ${insn.src} needs a loader to resolve it`,
        insn.pc,
      );
  }
}

/** Atomic read-modify-write (W or DW) on *(dst + off). */
function atomic(state: State, insn: Instruction): void {
  const { regs, env } = state;
  const { spec, pc, dst, src, off } = insn;
  const width = width32or64(spec.width);
  const size = BYTES[width];
  const address = effectiveAddress(regs[dst], off);
  // An atomic op is a write: check for a store first, so a read-only or
  // missing target faults as a store before anything is read or changed.
  env.memory.resolve(address, size, 'store', pc);
  const old = env.memory.load(address, size, pc);
  if (spec.atomic === 'cmpxchg') {
    // Stores src only when memory equals r0 (low 32 bits for W); r0 always gets the old value.
    if (cmpxchgMatches(old, regs[0], width)) env.memory.store(address, size, regs[src], pc);
    regs[0] = old;
    return;
  }
  env.memory.store(address, size, atomicOp(spec.atomic!, old, regs[src], width), pc);
  // Fetch forms hand the old value (zero-extended for W) to src.
  if (spec.fetch === true) regs[src] = old;
}

/**
 * LD_ABS / LD_IND: r0 = big-endian load from the packet at imm (+ src for
 * IND). The offset is computed without wrapping, so anything outside the
 * packet ends the program with r0 = 0, as Linux does for socket filters.
 * Unlike Linux, r1-r5 are left untouched (programs must not rely on either).
 */
function packetLoad(state: State, insn: Instruction): Next {
  const { regs, env } = state;
  const size = BYTES[insn.spec.width];
  const offset = (insn.spec.kind === 'ldind' ? regs[insn.src] : 0n) + BigInt(insn.imm);
  if (offset < 0n || offset + BigInt(size) > BigInt(env.packet.length)) return { exit: 0n };
  const raw = env.memory.load(BigInt(env.packet.address) + offset, size, insn.pc);
  // Network byte order: the memory model is little-endian, so swap.
  regs[0] = size === 1 ? raw : BYTE_ORDER.be(raw, (size * 8) as 16 | 32);
  return { pc: insn.pc + 1 };
}

/**
 * Calls helper `id` with r1..r5; r0 gets the normalized result. r1-r5 are
 * left unchanged (Linux clobbers them, so programs cannot tell; the JIT
 * matches this).
 */
function callHelper(state: State, id: number, pc: number): Next {
  const { regs, env } = state;
  const fn = env.helpers.get(id);
  if (fn === undefined) throw new ExecutionError('UNKNOWN_HELPER', `unknown helper ${id}`, pc);
  const ctx: HelperContext = { memory: env.memory, pc, id };
  let result: unknown;
  try {
    result = fn(regs[1], regs[2], regs[3], regs[4], regs[5], ctx);
  } catch (e) {
    // Our own errors (a helper's bad memory access, say) keep their class and position.
    if (e instanceof EbpfError) throw e;
    throw new HelperError(describeThrown(e), pc, id);
  }
  regs[0] = normalizeHelperResult(result, pc, id);
  // Unwind-on-success: the marked helper returning 0 ends the whole run, whatever the depth.
  if (id === env.unwindHelper && regs[0] === 0n) return { exit: 0n };
  return { pc: pc + 1 };
}

/** A helper's return value as a u64: bigint wraps, a safe integer wraps (two's complement), void is 0. */
export function normalizeHelperResult(result: unknown, pc: number, id: number): bigint {
  if (typeof result === 'bigint') return u64(result);
  if (typeof result === 'number') {
    if (!Number.isSafeInteger(result)) throw new HelperError(`returned ${result}, not a safe integer`, pc, id);
    return u64(BigInt(result));
  }
  if (result === undefined) return 0n;
  throw new HelperError(`returned a ${result === null ? 'null' : typeof result}, not a number or bigint`, pc, id);
}

function describeThrown(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return 'threw a value that cannot be printed';
  }
}

/**
 * bpf-to-bpf call. The callee gets r1..r5 as arguments, r0 and r6..r9 at 0
 * and the next stack frame down in r10. On return the caller keeps all of
 * r1..r9 and receives r0. (Linux forbids reading r1-r5 after a call and r6-r9
 * before writing them, so verified programs cannot tell; fixing one rule lets
 * the JIT keep registers in JS locals and both engines agree.)
 */
function callLocal(state: State, target: number, pc: number): Next {
  const { regs, frames, env } = state;
  // The main function is frame 1, so this call makes frames.length + 2 frames.
  if (frames.length + 2 > env.maxCallDepth) {
    throw new ExecutionError('CALL_DEPTH_EXCEEDED', `call depth limit of ${env.maxCallDepth} frames exceeded`, pc);
  }
  frames.push({ returnPc: pc + 1, saved: regs.slice(1, 10), r10: regs[10] });
  regs[0] = regs[6] = regs[7] = regs[8] = regs[9] = 0n;
  regs[10] = regs[10] - BigInt(FRAME_SIZE);
  return { pc: target };
}

/**
 * callx: the register holds a code address of a function (a local call) or a
 * helper id (a helper call, unwind included); anything else is a run-time error.
 */
function callx(state: State, value: bigint, pc: number): Next {
  const target = codeTarget(value);
  if (target !== undefined && state.functions.has(target)) return callLocal(state, target, pc);
  if (value < 0x1_0000_0000n && state.env.helpers.has(Number(value))) return callHelper(state, Number(value), pc);
  throw new ExecutionError('BAD_CALLX_TARGET', `callx target 0x${value.toString(16)} is neither a function nor a helper`, pc);
}

/** exit: returns from a local call (r0 is the result, r1..r9 the caller's), or ends the run. */
function exit(state: State): Next {
  const { regs, frames } = state;
  const frame = frames.pop();
  if (frame === undefined) return { exit: regs[0] };
  for (let r = 1; r <= 9; r++) regs[r] = frame.saved[r - 1]!;
  regs[10] = frame.r10;
  return { pc: frame.returnPc };
}
