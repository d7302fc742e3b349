// The interpreter's slow paths: everything that leaves the int32 world of
// the main loop (lib/interpreter.ts) to work with BigInt register values:
// bpf-to-bpf calls, helper calls, tail calls, atomics, legacy packet loads,
// and the exact error of a faulting memory access. Registers are passed as the run's
// workspace and the index `base` where r0..r10 start (see interp-decode.ts).
//
// What it does not do: run instructions or decide anything about control
// flow beyond what each function's result says.

import { EbpfError, ExecutionError, HelperError, MemoryAccessError } from './errors.js';
import { regIndex } from './interp-decode.js';
import { lddwValue, type Instruction } from './isa.js';
import type { Memory } from './memory.js';
import { BYTE_ORDER, atomicOp, cmpxchgMatches, u64 } from './ops.js';
import { atomicUpdate } from './atomics.js';
import { ChainStatus, RunEnded, runChain, type CallbackHost, type RunState } from './run-state.js';
import { FRAME_SIZE, type HelperContext, type RunEnv } from './runtime.js';
import { tailCall } from './tail-call.js';

/** A register pair as a u64 BigInt (the same assembly of halves as an lddw's value). */
export const toU64 = lddwValue;

/** The low and high int32 halves of a u64 BigInt. */
export function halves(v: bigint): [low: number, high: number] {
  return [Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n))];
}

/** Register n as a u64 (`base`: where the registers start in the workspace). */
export function getReg(reg: Int32Array, base: number, n: number): bigint {
  const at = regIndex(base, n);
  return toU64(reg[at]!, reg[at + 1]!);
}

/** Register n = v, a u64. */
export function setReg(reg: Int32Array, base: number, n: number, v: bigint): void {
  const at = regIndex(base, n);
  [reg[at], reg[at + 1]] = halves(v);
}

/**
 * The MemoryAccessError of the access at u64(base register + off), worded by
 * Memory.resolve, which throws it. Callers write `throw fault(...)`, so the
 * path visibly ends there.
 */
export function fault(memory: Memory, pc: number, low: number, high: number, off: number, size: number, kind: 'load' | 'store'): MemoryAccessError {
  const address = u64(toU64(low, high) + BigInt(off));
  memory.resolve(address, size, kind, pc);
  // Unreachable while the slot tables and resolve agree; a fault must never go unreported.
  return new MemoryAccessError(pc, address, size, kind);
}

/**
 * A store the slot tables refused: throws Memory.resolve's MemoryAccessError,
 * or returns when the store lies inside a writable range of a read-only
 * region (the tables know regions, not ranges), for the caller to perform.
 */
export function storeFault(memory: Memory, pc: number, low: number, high: number, off: number, size: number): void {
  // The common case (a context's writable field), without BigInt.
  if (high === 0 && memory.mayStoreAt((low >>> 0) + off, size)) return;
  const address = u64(toU64(low, high) + BigInt(off));
  const region = memory.resolve(address, size, 'store', pc);
  // Only a writable range gets here; anything else would be the tables and resolve disagreeing.
  if (!region.readonly || !region.mayStore(Number(address) - region.base, size)) throw new MemoryAccessError(pc, address, size, 'store');
}

// ---------------------------------------------------------------------------
// Calls

/** The registers a callee starts with at 0. */
const CALLEE_ZEROED = [0, 6, 7, 8, 9] as const;

/**
 * The call stack of one execution: per active bpf-to-bpf call, the caller's
 * r1..r10 and the pc to return to. Frames are numbered from 1 (the run's main
 * frame); an execution may start deeper (a tail call made in a subprogram, a
 * bpf_loop callback), at frame `first`, and the depth limit counts every
 * frame of the run.
 */
export class CallStack {
  /** Local calls active in this execution. */
  depth = 0;
  /** Frame number of this execution's first frame. */
  first = 1;
  readonly maxCallDepth: number;
  /** Per frame: r1..r10 as 20 int32s, then the return pc. */
  private readonly saved: Int32Array;
  constructor(maxCallDepth: number) {
    this.maxCallDepth = maxCallDepth;
    this.saved = new Int32Array(Math.max(0, maxCallDepth - 1) * 21);
  }

  /** Frame number of the running function. */
  get frame(): number {
    return this.first + this.depth;
  }

  /**
   * bpf-to-bpf call from `pc` to `target`; returns the pc to go on at. The
   * callee gets r1..r5 as arguments, r0 and r6..r9 at 0 and the next stack
   * frame down in r10. On return the caller keeps all of r1..r9 and receives
   * r0. (Linux forbids reading r1-r5 after a call and r6-r9 before writing
   * them, so verified programs cannot tell; fixing one rule lets the JIT keep
   * registers in JS locals and both engines agree.)
   */
  call(reg: Int32Array, base: number, pc: number, target: number): number {
    if (this.first + this.depth + 1 > this.maxCallDepth) throw depthExceeded(this.maxCallDepth, pc);
    // r1..r10 are the 20 int32s from regIndex(base, 1) on (copied one by one: a subarray would allocate).
    const from = regIndex(base, 1);
    const frame = this.depth * 21;
    for (let k = 0; k < 20; k++) this.saved[frame + k] = reg[from + k]!;
    this.saved[frame + 20] = pc + 1;
    this.depth++;
    for (const n of CALLEE_ZEROED) reg[regIndex(base, n)] = reg[regIndex(base, n) + 1] = 0;
    // r10 is a stack address, at least a frame above the stack's base: its low half does not borrow.
    reg[regIndex(base, 10)] -= FRAME_SIZE;
    return target;
  }

  /** exit from a local call: restores the caller's r1..r10 (r0 is the result); returns the pc to go on at. */
  exit(reg: Int32Array, base: number): number {
    this.depth--;
    const to = regIndex(base, 1);
    const frame = this.depth * 21;
    for (let k = 0; k < 20; k++) reg[to + k] = this.saved[frame + k]!;
    return this.saved[frame + 20]!;
  }

  /** The pc the k-th active local call returns to (k = 0: the call made by this execution's first frame), for backtraces. */
  returnPc(k: number): number {
    return this.saved[k * 21 + 20]!;
  }
}

/** The error of a call that would make more than maxCallDepth frames (the JIT's DEPTHFAIL says the same). */
export function depthExceeded(maxCallDepth: number, pc: number): ExecutionError {
  return new ExecutionError('CALL_DEPTH_EXCEEDED', `call depth limit of ${maxCallDepth} frames exceeded`, pc);
}

/**
 * Calls helper `id` with r1..r5; r0 gets the normalized result. r1-r5 are
 * left unchanged (Linux clobbers them, so programs cannot tell; the JIT
 * matches this). Returns true when the run must end now with r0 = 0
 * (unwind-on-success). While the helper runs, `state` names this program,
 * the call's pc and frame, for a callback the helper may ask for
 * (ctx.run.callFunction); they are restored afterwards, so a helper called by
 * that callback does not change what the outer helper sees.
 */
export function callHelper(
  env: RunEnv, state: RunState, host: CallbackHost, reg: Int32Array, base: number, id: number, pc: number, frame: number,
): boolean {
  const fn = env.helpers.get(id);
  if (fn === undefined) throw new ExecutionError('UNKNOWN_HELPER', `unknown helper ${id}`, pc);
  const ctx: HelperContext = { memory: env.memory, pc, id, run: state.services };
  const arg = (n: number) => getReg(reg, base, n);
  const outerHost = state.host, outerPc = state.helperPc, outerFrame = state.helperFrame;
  state.host = host;
  state.helperPc = pc;
  state.helperFrame = frame;
  let result: unknown;
  try {
    result = fn(arg(1), arg(2), arg(3), arg(4), arg(5), ctx);
  } catch (e) {
    // Our own errors (a helper's bad memory access, say) keep their class and
    // position; a run that ended inside a callback keeps unwinding.
    if (e instanceof EbpfError || e instanceof RunEnded) throw e;
    throw new HelperError(describeThrown(e), pc, id);
  }
  state.host = outerHost;
  state.helperPc = outerPc;
  state.helperFrame = outerFrame;
  const r0 = normalizeHelperResult(result, pc, id);
  setReg(reg, base, 0, r0);
  // Unwind-on-success: the marked helper returning 0 ends the whole run, whatever the depth.
  return id === env.unwindHelper && r0 === 0n;
}

/**
 * A helper's return value as a u64: bigint wraps, a safe integer wraps (two's
 * complement), void (undefined) is 0; anything else is a HelperError.
 */
export function normalizeHelperResult(result: unknown, pc: number, id: number): bigint {
  if (typeof result === 'bigint') return u64(result);
  if (typeof result === 'number') {
    if (!Number.isSafeInteger(result)) throw new HelperError(`returned ${result}, not a safe integer`, pc, id);
    return u64(BigInt(result));
  }
  if (result === undefined) return 0n;
  // Anything else (null, a string, an object, a boolean...) is the helper's bug, never a silent 0.
  throw new HelperError(`returned ${describeKind(result)}, not a number or bigint`, pc, id);
}

/** `null`, `an array`, `an object`, `a string`...: what a helper returned, for its error. */
function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const kind = typeof value;
  return kind === 'object' ? 'an object' : `a ${kind}`;
}

/** The message of a non-EbpfError a helper threw (shared with the JIT's runtime). */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return 'threw a value that cannot be printed';
  }
}

// ---------------------------------------------------------------------------
// Tail calls and early ends

/** tailCallAt's result when the execution ends (no pc is negative). */
export const END = -1;

/**
 * bpf_tail_call at `pc`; returns the pc to go on at. A failure leaves the
 * negative errno in r0 and goes on at pc + 1. A success in the main frame
 * ends this execution (END, status TailCall):
 * the dispatch loop that ran it starts the target. A success inside a local
 * call runs the chain now, in the subprogram's frame, and returns from the
 * subprogram with the chain's r0: the pc to go on at in its caller (or END
 * when the chain ended the run).
 */
export function tailCallAt(state: RunState, frames: CallStack, reg: Int32Array, base: number, pc: number): number {
  const r = (n: number) => regIndex(base, n);
  const err = tailCall(state, pc, reg[r(1)]!, reg[r(1) + 1]!, reg[r(2)]!, reg[r(2) + 1]!, reg[r(3)]!, reg[r(10)]!, frames.frame);
  if (err !== 0) {
    // A small negative number: its high half is all ones.
    reg[base] = err;
    reg[base + 1] = -1;
    // A failed tail call writes r0; a successful one writes nothing (trace/effects.ts).
    state.tracer?.wrote(BigInt(err) & 0xffff_ffff_ffff_ffffn);
    return pc + 1;
  }
  if (frames.depth === 0) return END;
  const r0 = runChain(state);
  if (state.status === ChainStatus.Unwound) return END;
  reg[base] = r0;
  reg[base + 1] = state.r0h;
  return frames.exit(reg, base);
}

/** The run ends now with r0 = 0 (unwind-on-success, a packet load out of bounds). */
export function ended(state: RunState): number {
  state.status = ChainStatus.Unwound;
  return 0;
}

// ---------------------------------------------------------------------------
// Rare instructions, in BigInt with lib/ops.ts

const BYTES = { 8: 1, 16: 2, 32: 4, 64: 8 } as const;

/** Atomic read-modify-write (W or DW) on *(dst + off); Atomics on a shared region (lib/atomics.ts). */
export function atomic(env: RunEnv, reg: Int32Array, base: number, insn: Instruction): void {
  const { memory } = env;
  const { spec, pc, dst, src, off } = insn;
  const width = spec.width === 32 ? 32 : 64;
  const size = BYTES[width];
  const address = u64(getReg(reg, base, dst) + BigInt(off));
  // An atomic op is a write: check for a store first, so a read-only or
  // missing target faults as a store before anything is read or changed
  // (a context's writable fields included: Linux refuses atomics there).
  const region = memory.resolve(address, size, 'store', pc, true);
  if (region.shared) {
    // Another thread may use these bytes: Atomics (lib/atomics.ts).
    const r0 = spec.atomic === 'cmpxchg' ? getReg(reg, base, 0) : 0n;
    const old = atomicUpdate(memory, region, address, width, spec.atomic!, getReg(reg, base, src), r0, pc);
    if (spec.atomic === 'cmpxchg') setReg(reg, base, 0, old);
    else if (spec.fetch === true) setReg(reg, base, src, old);
    return;
  }
  const old = memory.load(address, size, pc);
  if (spec.atomic === 'cmpxchg') {
    // Stores src only when memory equals r0 (low 32 bits for W); r0 always gets the old value.
    if (cmpxchgMatches(old, getReg(reg, base, 0), width)) memory.store(address, size, getReg(reg, base, src), pc);
    setReg(reg, base, 0, old);
    return;
  }
  memory.store(address, size, atomicOp(spec.atomic!, old, getReg(reg, base, src), width), pc);
  // Fetch forms hand the old value (zero-extended for W) to src.
  if (spec.fetch === true) setReg(reg, base, src, old);
}

/**
 * LD_ABS / LD_IND: r0 = big-endian load from the packet at imm (+ src for
 * IND). The offset is computed without wrapping, so anything outside the
 * packet ends the program with r0 = 0 (returns false), as Linux does for
 * socket filters. Unlike Linux, r1-r5 are left untouched (programs must not
 * rely on either).
 */
export function packetLoad(env: RunEnv, reg: Int32Array, base: number, insn: Instruction): boolean {
  const size = BYTES[insn.spec.width];
  const offset = (insn.spec.kind === 'ldind' ? getReg(reg, base, insn.src) : 0n) + BigInt(insn.imm);
  if (offset < 0n || offset + BigInt(size) > BigInt(env.packet.length)) return false;
  const raw = env.memory.load(BigInt(env.packet.address) + offset, size, insn.pc);
  // Network byte order: the memory model is little-endian, so swap.
  setReg(reg, base, 0, size === 1 ? raw : BYTE_ORDER.be(raw, (size * 8) as 16 | 32));
  return true;
}
