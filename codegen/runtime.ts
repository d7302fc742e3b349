// The runtime object a compiled module is instantiated with: the only thing
// generated code can reach. Its keys are the RT binding names of context.ts
// (plus MAXDEPTH, which the module binds once); every slow or rare path
// (faults, helper calls, callx resolution, budget and depth errors, packet
// loads, 64-bit division) lives here, behind a plain function call, so the
// generated code stays small and monomorphic.
//
// Every error thrown here is the one the interpreter throws for the same
// situation (same class, code, message and fields): the JIT is checked
// against it. Where the interpreter exports the logic (helper result
// normalization) it is reused, not copied.
//
// Tail calls and callbacks: TAIL and CHAIN go through the Vm's RunState
// (lib/run-state.ts), shared by every module the Vm runs, so a chain can pass
// from one program's module to another's; `callFunction` (a CallbackHost)
// enters this module again through its callback function (entry.ts).
//
// Traced code (trace.ts) reports to the run state's tracer through TI, TB,
// TW, TE and TL, bound only by traced modules.
//
// What it does not do: keep any module-level state. Everything per instance
// lives in the closure of createRuntime or in the RunState it is given.

import { EbpfError, BudgetExceededError, ExecutionError, HelperError, MemoryAccessError } from '../lib/errors.js';
import { normalizeHelperResult } from '../lib/interpreter.js';
import { depthExceeded, describeThrown } from '../lib/interp-slow.js';
import { codeTarget } from '../lib/code-address.js';
import { SLOT_SHIFT, type Memory, type Region } from '../lib/memory.js';
import type { Program } from '../lib/program.js';
import { ChainStatus, RunEnded, RunState, callbackTarget, runChain, type CallbackHost } from '../lib/run-state.js';
import { FRAME_SIZE, type HelperContext, type HelperFn } from '../lib/runtime.js';
import { DEFAULT_MAX_TAIL_CALLS, TAIL_CALL_HELPER, tailCall } from '../lib/tail-call.js';
import { atomicUpdate, sharedAtomic32 } from '../lib/atomics.js';
import { div64, mod64, sdiv64, smod64 } from './arith64.js';
import type { RT } from './context.js';
import type { ModuleExports } from './entry.js';

/** Fails to compile unless T has every RT binding name as a key. */
type HasEveryBinding<T extends Record<(typeof RT)[keyof typeof RT], unknown>> = T;

/** 64-bit slow path: (alo, ahi, blo, bhi) -> low half, high half in RET[1]. */
export type Arith64 = (alo: number, ahi: number, blo: number, bhi: number) => number;

/**
 * The runtime object. A type alias (not an interface) so it is assignable to
 * Record<string, unknown>, what the emitter and the test harness take.
 */
export type JitRuntime = HasEveryBinding<{
  /** Memory.tables, shared (not copied): map/unmap update them in place. */
  readonly V: DataView[];
  readonly O: Uint32Array;
  readonly L: Int32Array;
  readonly WL: Int32Array;
  readonly SH: Uint8Array;
  /** An atomic instruction on a shared region (see RT.atomic): the old value's low half, high half in RET[1]. */
  readonly ATOMIC: (pc: number, slot: number, at: number, src: number, srch: number, r0: number, r0h: number) => number;
  /** The stack region's view and base address (frame accesses proven in bounds at compile time). */
  readonly S: DataView;
  readonly SB: number;
  /** Int32Array(3): RET[0] low half, RET[1] high half of a returned 64-bit value, RET[2] how a call ended (context.ts). */
  readonly RET: Int32Array;
  /**
   * Throws the MemoryAccessError of the access at u64(hi:lo + off), except
   * for a store inside a writable range of a read-only region: it returns,
   * and the generated store that follows performs it. `'atomic'`: an atomic
   * instruction's check, which never returns.
   */
  readonly FAULT: (pc: number, lo: number, hi: number, off: number, size: number, isStore: boolean | 'atomic') => void;
  /** Calls helper `id`; returns r0's low half, high half in RET[1] (and low in RET[0]). */
  readonly CALL: (
    id: number, pc: number,
    r1: number, r1h: number, r2: number, r2h: number, r3: number, r3h: number,
    r4: number, r4h: number, r5: number, r5h: number,
  ) => number;
  /** A callx value: a function entry pc (>= 0), -1 for a helper (id = lo), else throws. */
  readonly CALLX: (pc: number, lo: number, hi: number) => number;
  /** Throws BudgetExceededError(pc, budget). */
  readonly BUDGETFAIL: (pc: number, budget: number) => never;
  /** Throws ExecutionError CALL_DEPTH_EXCEEDED. */
  readonly DEPTHFAIL: (pc: number) => never;
  /**
   * LD_ABS/LD_IND: the big-endian value (unsigned, as a number) of `size`
   * bytes at packet offset u64(hi:lo) + imm, or -1 when outside the packet.
   */
  readonly PKT: (pc: number, lo: number, hi: number, imm: number, size: number) => number;
  readonly DIV64: Arith64;
  readonly MOD64: Arith64;
  readonly SDIV64: Arith64;
  readonly SMOD64: Arith64;
  /** bpf_tail_call: 0 on success (RET[2] = 1), else the negative errno. */
  readonly TAIL: (pc: number, r1: number, r1h: number, r2: number, r2h: number, r3: number, frame: number, r10: number) => number;
  /** Runs the pending chain with the count so far: its r0 (high half in RET[1], count in CNT[0], RET[2] 2 if the run ended). */
  readonly CHAIN: (count: number) => number;
  readonly CNT: Float64Array;
  readonly TOP: number;
  /** Maximum number of frames (main + nested local calls); bound once as MAXDEPTH. */
  readonly MAXDEPTH: number;
  /** The run state tail calls and helpers go through (the Vm's, or this runtime's own). */
  readonly state: RunState;
  /** Sets the packet LD_ABS/LD_IND read to a fixed one (tests; a Vm sets the run state's packet per run). */
  readonly setPacket: (address: number, length: number) => void;
  /** Gives the runtime its module's exports, for callbacks (compile.ts, once instantiated). */
  readonly attach: (exports: ModuleExports) => void;
  /** A callback into this module (CallbackHost). */
  readonly callFunction: CallbackHost['callFunction'];
  /** Traced code's reports to the run's tracer (trace.ts TRACE_RT): insn, insn with a base, wrote, callback enter and leave. */
  readonly TI: (pc: number) => void;
  readonly TB: (pc: number, lo: number, hi: number) => void;
  readonly TW: (lo: number, hi: number) => void;
  readonly TE: (frame: number) => void;
  readonly TL: (aborted: boolean) => void;
}>;

const TWO32 = 4294967296;

/** u64 BigInt from int32 halves (either sign: only the bits count). */
function toU64(lo: number, hi: number): bigint {
  // Most helper arguments are small: skip the shift when the high half is 0.
  return hi === 0 ? BigInt(lo >>> 0) : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** A run state for a runtime used outside a Vm (tests): no maps, no chains. */
function standaloneState(): RunState {
  return new RunState(DEFAULT_MAX_TAIL_CALLS, () => {
    throw new Error('internal: a runtime outside a Vm cannot run a tail-call chain');
  });
}

export function createRuntime(
  memory: Memory,
  helpers: ReadonlyMap<number, HelperFn>,
  program: Program,
  maxCallDepth: number,
  stack: Region,
  state: RunState = standaloneState(),
): JitRuntime {
  // Frame accesses skip the run-time check because every frame lies inside
  // this region: it must have room for maxCallDepth frames.
  if (stack.size < maxCallDepth * FRAME_SIZE) {
    throw new Error(`internal: stack of ${stack.size} bytes cannot hold ${maxCallDepth} frames`);
  }
  const { views, bases, ends } = memory.tables;
  const ret = new Int32Array(3);
  const cnt = new Float64Array(1);
  const functions = new Set(program.functions);
  let exports: ModuleExports | undefined;

  function FAULT(pc: number, lo: number, hi: number, off: number, size: number, isStore: boolean | 'atomic'): void {
    // A context's writable field (a tc program setting skb->mark per packet): no BigInt on the way.
    if (isStore === true && hi === 0 && memory.mayStoreAt((lo >>> 0) + off, size)) return;
    const address = BigInt.asUintN(64, toU64(lo, hi) + BigInt(off));
    const kind = isStore === false ? 'load' : 'store';
    // Memory.resolve words the reason (NULL, unmapped, past the end, read-only)
    // exactly as the interpreter's access would.
    const region = memory.resolve(address, size, kind, pc, isStore === 'atomic');
    // A store in a writable range of a read-only region (the slot tables know
    // regions, not ranges): the check that called this left the slot cache
    // on that region's view and `a` at the offset, so the store after it
    // lands where it should (the interpreter's storeFault does the same).
    if (isStore === true && region.readonly && region.mayStore(Number(address) - region.base, size)) return;
    // Unreachable while the slot tables and resolve agree; any other fault must never return.
    throw new MemoryAccessError(pc, address, size, kind);
  }

  function ATOMIC(pc: number, slot: number, at: number, src: number, srch: number, r0: number, r0h: number): number {
    const insn = program.byPc[pc];
    const region = memory.regionAt(slot << SLOT_SHIFT);
    if (insn?.spec.atomic === undefined || region === undefined) throw new Error(`internal: ATOMIC at pc ${pc}`);
    const op = insn.spec.atomic;
    if (insn.spec.width === 32) {
      // The common case (counters) without BigInt.
      const old = sharedAtomic32(region, at, op, src, r0);
      if (old !== undefined) {
        ret[1] = 0;
        return old;
      }
    }
    const old = atomicUpdate(memory, region, BigInt(region.base + at), insn.spec.width === 32 ? 32 : 64, op, toU64(src, srch), toU64(r0, r0h), pc);
    ret[1] = Number(BigInt.asIntN(32, old >> 32n));
    return Number(BigInt.asIntN(32, old));
  }

  function CALL(
    id: number, pc: number,
    r1: number, r1h: number, r2: number, r2h: number, r3: number, r3h: number,
    r4: number, r4h: number, r5: number, r5h: number,
  ): number {
    // Looked up per call, as the interpreter does: the helper map is live.
    const fn = helpers.get(id);
    if (fn === undefined) throw new ExecutionError('UNKNOWN_HELPER', `unknown helper ${id}`, pc);
    const ctx: HelperContext = { memory, pc, id, run: state.services };
    // A callback the helper asks for comes back to this module, one frame
    // below the caller (entry.ts works out the frame); restored afterwards,
    // as the interpreter does.
    const outerHost = state.host, outerPc = state.helperPc;
    state.host = runtime;
    state.helperPc = pc;
    let result: unknown;
    try {
      result = fn(toU64(r1, r1h), toU64(r2, r2h), toU64(r3, r3h), toU64(r4, r4h), toU64(r5, r5h), ctx);
    } catch (e) {
      // Our own errors (a helper's bad memory access, say) keep their class
      // and position; a run that ended inside a callback keeps unwinding.
      if (e instanceof EbpfError || e instanceof RunEnded) throw e;
      throw new HelperError(describeThrown(e), pc, id);
    }
    state.host = outerHost;
    state.helperPc = outerPc;
    let lo: number;
    let hi: number;
    if (typeof result === 'number' && Number.isSafeInteger(result)) {
      // Fast path, same value as normalizeHelperResult: a safe integer wraps
      // to u64 in two's complement; floor keeps the borrow of negatives.
      lo = result | 0;
      hi = Math.floor(result / TWO32) | 0;
    } else {
      const v = normalizeHelperResult(result, pc, id);
      lo = Number(BigInt.asIntN(32, v));
      hi = Number(BigInt.asIntN(32, v >> 32n));
    }
    ret[0] = lo;
    ret[1] = hi;
    return lo;
  }

  function CALLX(pc: number, lo: number, hi: number): number {
    // Same order as the interpreter: a function's code address first, then a helper id.
    if (hi === 0) {
      const target = codeTarget(lo >>> 0);
      if (target !== undefined && functions.has(target)) return target;
      // Helper 12 is the engine's tail call, registered or not.
      if (helpers.has(lo >>> 0) || lo === TAIL_CALL_HELPER) return -1;
    }
    const value = toU64(lo, hi);
    throw new ExecutionError('BAD_CALLX_TARGET', `callx target 0x${value.toString(16)} is neither a function nor a helper`, pc);
  }

  function BUDGETFAIL(pc: number, budget: number): never {
    throw new BudgetExceededError(pc, budget);
  }

  function DEPTHFAIL(pc: number): never {
    throw depthExceeded(maxCallDepth, pc);
  }

  function TAIL(pc: number, r1: number, r1h: number, r2: number, r2h: number, r3: number, frame: number, r10: number): number {
    const err = tailCall(state, pc, r1, r1h, r2, r2h, r3, r10, frame);
    if (err === 0) ret[2] = 1;
    return err;
  }

  function CHAIN(count: number): number {
    state.executed = count;
    const r0 = runChain(state);
    ret[1] = state.r0h;
    ret[2] = state.status === ChainStatus.Unwound ? 2 : 0;
    cnt[0] = state.executed;
    return r0;
  }

  function callFunction(address: bigint, args: readonly bigint[], st: RunState): bigint {
    const pc = st.helperPc;
    const target = callbackTarget(address, functions, pc);
    // Emitted whenever the program has subprograms, the only functions called back.
    const call = exports?.call;
    if (call === undefined) throw new Error('internal: a callback into a module without one');
    const a = (n: number): bigint => args[n] ?? 0n;
    const half = (v: bigint, high: boolean): number => Number(BigInt.asIntN(32, high ? v >> 32n : v));
    const r0 = call(
      target, half(a(0), false), half(a(0), true), half(a(1), false), half(a(1), true), half(a(2), false), half(a(2), true),
      half(a(3), false), half(a(3), true), half(a(4), false), half(a(4), true), pc,
    );
    if (ret[2] === 2) throw new RunEnded();
    return toU64(r0, ret[1]!);
  }

  function PKT(pc: number, lo: number, hi: number, imm: number, size: number): number {
    // The interpreter adds the full u64 register and imm without wrapping.
    // A high half above 1 puts the offset at >= 2^33 - 2^31, past any packet
    // (regions are < 2^32 bytes); otherwise the sum is exact in a double.
    const h = hi >>> 0;
    if (h > 1) return -1;
    const offset = h * TWO32 + (lo >>> 0) + imm;
    // The context's packet, read at each load: XDP adjustments move it.
    const { packet } = state;
    if (offset < 0 || offset + size > packet.length) return -1;
    const address = packet.address + offset;
    const s = address >>> SLOT_SHIFT;
    if (address >= TWO32 || address + size > ends[s]!) {
      // Not mapped as the runner promised: take the interpreter's own path,
      // which faults exactly as it would (or reads, little-endian, then swaps).
      const raw = Number(memory.load(BigInt(address), size as 1 | 2 | 4, pc));
      if (size === 1) return raw;
      if (size === 2) return ((raw & 0xff) << 8) | (raw >>> 8);
      return (((raw & 0xff) << 24) | ((raw & 0xff00) << 8) | ((raw >>> 8) & 0xff00) | (raw >>> 24)) >>> 0;
    }
    const view = views[s]!;
    const at = address - bases[s]!;
    // Network byte order: DataView's default (big-endian) reads it directly.
    switch (size) {
      case 1: return view.getUint8(at);
      case 2: return view.getUint16(at);
      default: return view.getUint32(at);
    }
  }

  const runtime: JitRuntime = {
    V: views,
    O: memory.tables.offsets,
    L: memory.tables.limits,
    WL: memory.tables.writeLimits,
    SH: memory.tables.shared,
    ATOMIC,
    S: stack.view,
    SB: stack.base,
    RET: ret,
    FAULT,
    CALL,
    CALLX,
    BUDGETFAIL,
    DEPTHFAIL,
    PKT,
    // Bound to this instance's RET, where the slow paths leave the high half.
    DIV64: (alo, ahi, blo, bhi) => div64(alo, ahi, blo, bhi, ret),
    MOD64: (alo, ahi, blo, bhi) => mod64(alo, ahi, blo, bhi, ret),
    SDIV64: (alo, ahi, blo, bhi) => sdiv64(alo, ahi, blo, bhi, ret),
    SMOD64: (alo, ahi, blo, bhi) => smod64(alo, ahi, blo, bhi, ret),
    TAIL,
    CHAIN,
    CNT: cnt,
    TOP: stack.end,
    MAXDEPTH: maxCallDepth,
    state,
    setPacket(address: number, length: number): void {
      state.packet = { address, length };
    },
    attach(e: ModuleExports): void {
      exports = e;
    },
    callFunction,
    // Traced code runs only in a traced run, which has a tracer; a runtime
    // used outside a Vm (tests) may have none, and then reports nowhere.
    TI: (pc) => state.tracer?.insn(pc),
    TB: (pc, lo, hi) => state.tracer?.insn(pc, toU64(lo, hi)),
    TW: (lo, hi) => state.tracer?.wrote(toU64(lo, hi)),
    TE: (frame) => state.tracer?.enter(program, frame),
    TL: (aborted) => state.tracer?.leave(aborted),
  };
  return runtime;
}
