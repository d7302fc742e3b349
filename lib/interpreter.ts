// The reference engine: executes a validated Program one instruction at a
// time. The JIT is checked against it, so every rule is one plain line here,
// with a comment where eBPF is surprising. It is also built to be quick.
//
// How it runs: `prepare` (interp-decode.ts) turns each instruction into a
// small-integer opcode and three int32 operands; the loop below switches on
// the opcode. A register is a pair of int32 halves: JS int32 arithmetic
// gives the 32-bit ops directly, and the 64-bit ops (bottom of this file)
// combine the halves; 64-bit division goes through codegen/arith64.ts,
// shared with the JIT. Each execution has one Int32Array, its workspace,
// holding a copy of the decoded code followed by the registers: V8 checks a
// typed array's shape once per instruction rather than once per array
// touched, and no two executions share registers (a finished workspace is
// kept for the program's next execution). Memory accesses check the Memory slot
// tables inline (the JIT's rule, see lib/memory.ts) and let Memory.resolve
// throw the exact error on a miss. Everything rare (calls, helpers, atomics,
// packet loads, faults) is in interp-slow.ts, in BigInt with lib/ops.ts.
//
// Tail calls (helper 12, decoded to its own op) follow lib/tail-call.ts: a
// success in the main frame ends the execution and the dispatch loop
// (run-state.ts) starts the target; inside a local call the chain runs at
// once in that frame and its r0 is the subprogram's result. Helpers reach
// the program again through callFunction (bpf_loop's callback), which runs a
// function in a new execution, one frame down.
//
// What it does not do: validation (it trusts the Program, and throws an
// ExecutionError on the few forms the validator is meant to keep out), or
// keep any state beyond the run state it is given.

import { div64, mod64, sdiv64, smod64 } from '../codegen/arith64.js';
import { codeTarget } from './code-address.js';
import { BudgetExceededError, ExecutionError } from './errors.js';
import { Op, PreparedProgram, REGISTER_INTS, prepare, regIndex } from './interp-decode.js';
import {
  CallStack, END, atomic, callHelper, depthExceeded, ended, fault, packetLoad, setReg, storeFault, tailCallAt, toU64,
} from './interp-slow.js';
import type { Program } from './program.js';
import { ChainStatus, RunEnded, RunState, callbackTarget, runChain, type CallbackHost } from './run-state.js';
import { FRAME_SIZE, type RunEnv } from './runtime.js';
import { DEFAULT_MAX_TAIL_CALLS, TAIL_CALL_HELPER } from './tail-call.js';

export { PreparedProgram, prepare } from './interp-decode.js';
// The JIT's runtime normalizes helper results exactly as the interpreter does.
export { normalizeHelperResult } from './interp-slow.js';

/**
 * Runs a program to completion and returns r0 as a u64, outside any Vm: no
 * maps, so no tail calls or callbacks (a Vm runs programs through `runMain`).
 * Pass what `prepare` returned to skip decoding; a bare Program is decoded
 * for this run only.
 */
export function interpret(program: Program | PreparedProgram, env: RunEnv): bigint {
  const prepared = program instanceof PreparedProgram ? program : prepare(program);
  const state = new RunState(DEFAULT_MAX_TAIL_CALLS, (target, st) => runMain(target as PreparedProgram, env, st));
  state.begin(prepared, env.r1, env.r2, env.stackTop, env.budget);
  state.packet = env.packet;
  return toU64(runChain(state), state.r0h);
}

/**
 * The interpreter's ChainStep: runs `prepared`'s main function with r1, r2,
 * r10 and the frame number from the run state (a run's program, or a tail
 * call's target). Returns r0's low half, the high half in state.r0h.
 */
export function runMain(prepared: PreparedProgram, env: RunEnv, state: RunState): number {
  const ws = workspace(prepared, env.maxCallDepth);
  const reg = ws.code, base = prepared.code.length;
  // Everything starts at 0 but r1, r2 and r10.
  reg.fill(0, base);
  reg[regIndex(base, 1)] = state.r1;
  reg[regIndex(base, 1) + 1] = state.r1h;
  reg[regIndex(base, 2)] = state.r2;
  reg[regIndex(base, 2) + 1] = state.r2h;
  reg[regIndex(base, 10)] = state.r10 | 0;
  const r0 = state.hook === undefined ? execute(prepared, env, state, ws, 0, state.depth) : hooked(prepared, env, state, ws, 0, state.depth);
  (prepared.spares as Workspace[]).push(ws);
  return r0;
}

/** An execution's workspace: a copy of the decoded code followed by r0..r10, and its call stack. */
interface Workspace {
  readonly code: Int32Array;
  readonly frames: CallStack;
}

/** A workspace for a new execution of `prepared`: a spare one, or a new copy of the code. */
function workspace(prepared: PreparedProgram, maxCallDepth: number): Workspace {
  const spare = (prepared.spares as Workspace[]).pop();
  if (spare !== undefined && spare.frames.maxCallDepth === maxCallDepth) return spare;
  const code = new Int32Array(prepared.code.length + REGISTER_INTS);
  code.set(prepared.code);
  return { code, frames: new CallStack(maxCallDepth) };
}

/**
 * What a helper's ctx.run.callFunction reaches while this program runs: the
 * function at a code address, run in a new frame below the helper's caller
 * (the depth limit and the budget apply: the budget is checked before each
 * callback, as at any call), its r0 returned. A tail call in the
 * callback replaces the callback, as in a subprogram.
 */
class Callbacks implements CallbackHost {
  constructor(readonly prepared: PreparedProgram, readonly env: RunEnv) {}

  callFunction(address: bigint, args: readonly bigint[], state: RunState): bigint {
    const { prepared, env } = this;
    const pc = state.helperPc;
    const target = callbackTarget(address, prepared.functions, pc);
    // A callback is a call: the budget is checked before it, at the helper
    // call's pc, so a helper calling back a straight-line function in a loop
    // (bpf_loop) still stops (the JIT's callback function does the same).
    if (state.executed > state.budget) throw new BudgetExceededError(pc, state.budget);
    const frame = state.helperFrame + 1;
    if (frame > env.maxCallDepth) throw depthExceeded(env.maxCallDepth, pc);
    const ws = workspace(prepared, env.maxCallDepth);
    const reg = ws.code, base = prepared.code.length;
    reg.fill(0, base);
    for (let n = 1; n <= 5; n++) setReg(reg, base, n, args[n - 1] ?? 0n);
    reg[regIndex(base, 10)] = (env.stackTop - (frame - 1) * FRAME_SIZE) | 0;
    state.status = ChainStatus.Returned;
    let r0 = state.hook === undefined ? execute(prepared, env, state, ws, target, frame) : hooked(prepared, env, state, ws, target, frame);
    (prepared.spares as Workspace[]).push(ws);
    if ((state.status as ChainStatus) === ChainStatus.TailCall) r0 = runChain(state);
    if ((state.status as ChainStatus) === ChainStatus.Unwound) throw new RunEnded();
    return toU64(r0, state.r0h);
  }
}

/** execute() between the hook's enter and leave (leave also when it throws). */
function hooked(prepared: PreparedProgram, env: RunEnv, state: RunState, ws: Workspace, entry: number, frame: number): number {
  const hook = state.hook!;
  hook.enter(prepared.program, frame);
  let aborted = true;
  try {
    const r0 = execute(prepared, env, state, ws, entry, frame);
    aborted = false;
    return r0;
  } finally {
    hook.leave(aborted);
  }
}

/**
 * Executes `prepared` from `entry` in workspace `ws` (registers set by the
 * caller), its first frame being number `frame`, until that frame exits (r0's
 * low half returned, high half in state.r0h), makes a tail call (status
 * TailCall) or ends the run (status Unwound).
 */
function execute(prepared: PreparedProgram, env: RunEnv, state: RunState, ws: Workspace, entry: number, frame: number): number {
  const byPc = prepared.program.byPc;
  // The workspace: the code (read as `code`), then r0..r10 from `base` on (read as `reg`).
  const base = prepared.code.length;
  const code = ws.code;
  const reg = code;
  const { memory } = env;
  const { views, bases, ends, writeEnds } = memory.tables;
  const frames = ws.frames;
  frames.depth = 0;
  frames.first = frame;
  const host = new Callbacks(prepared, env);
  // Scratch for the 64-bit division helpers, which return the high half here.
  const ret = new Int32Array(2);
  // Budget: instructions executed are counted, and checked only where the
  // JIT checks them too (calls, and jumps taken backwards), so both engines
  // stop at the same pc. See BUDGET_RULE in runtime.ts. The count is only
  // ever compared with the budget, so without one nothing is counted. It
  // goes on from the run's count (a tail call's target, a callback) and goes
  // back to the run state wherever other code may count on (helpers, chains).
  const budget = state.budget;
  // A hook (tracing, the debugger) is called where the count is kept, so a
  // run with neither a budget nor a hook pays one test per instruction, as before.
  const hook = state.hook;
  const counting = budget !== Infinity || hook !== undefined;
  let executed = state.executed;
  let pc = entry;
  for (;;) {
    // 4 int32s per slot (STRIDE): op, d, b, c. i is a multiple of 4, so i | k = i + k.
    const i = pc << 2;
    const d = code[i | 1]!;
    const b = code[i | 2]!;
    const c = code[i | 3]!;
    if (counting) {
      executed++;
      if (hook !== undefined) hook.step(pc, reg, base, frames);
    }
    // Cases that `break` go on to the next slot; `break jump` takes the jump to c.
    jump: {
      switch (code[i] as Op) {
        case 0 satisfies Op.BAD_PC:
          throw new ExecutionError('BAD_PC', 'execution reached a pc that starts no instruction', pc);

        // ALU64. rD is reg[d] (low half) and reg[d + 1] (high half). imm (K
        // forms) is sign-extended to 64 bits for every op: its high half is b >> 31.
        case 27 satisfies Op.MOV64_X: reg[d] = reg[b]!; reg[d + 1] = reg[b + 1]!; break;
        case 28 satisfies Op.MOV64_K: reg[d] = b; reg[d + 1] = b >> 31; break;
        case 1 satisfies Op.ADD64_X: add64(reg, d, reg[b]!, reg[b + 1]!); break;
        case 2 satisfies Op.ADD64_K: add64(reg, d, b, b >> 31); break;
        case 3 satisfies Op.SUB64_X: sub64(reg, d, reg[b]!, reg[b + 1]!); break;
        case 4 satisfies Op.SUB64_K: sub64(reg, d, b, b >> 31); break;
        case 5 satisfies Op.MUL64_X: mul64(reg, d, reg[b]!, reg[b + 1]!); break;
        case 6 satisfies Op.MUL64_K: mul64(reg, d, b, b >> 31); break;
        // By zero, div gives 0 and mod leaves dst; the signed forms truncate (arith64.ts).
        case 7 satisfies Op.DIV64_X: reg[d] = div64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!, ret); reg[d + 1] = ret[1]!; break;
        case 8 satisfies Op.DIV64_K: reg[d] = div64(reg[d]!, reg[d + 1]!, b, b >> 31, ret); reg[d + 1] = ret[1]!; break;
        case 9 satisfies Op.SDIV64_X: reg[d] = sdiv64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!, ret); reg[d + 1] = ret[1]!; break;
        case 10 satisfies Op.SDIV64_K: reg[d] = sdiv64(reg[d]!, reg[d + 1]!, b, b >> 31, ret); reg[d + 1] = ret[1]!; break;
        case 11 satisfies Op.MOD64_X: reg[d] = mod64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!, ret); reg[d + 1] = ret[1]!; break;
        case 12 satisfies Op.MOD64_K: reg[d] = mod64(reg[d]!, reg[d + 1]!, b, b >> 31, ret); reg[d + 1] = ret[1]!; break;
        case 13 satisfies Op.SMOD64_X: reg[d] = smod64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!, ret); reg[d + 1] = ret[1]!; break;
        case 14 satisfies Op.SMOD64_K: reg[d] = smod64(reg[d]!, reg[d + 1]!, b, b >> 31, ret); reg[d + 1] = ret[1]!; break;
        case 15 satisfies Op.OR64_X: reg[d] |= reg[b]!; reg[d + 1] |= reg[b + 1]!; break;
        case 16 satisfies Op.OR64_K: reg[d] |= b; reg[d + 1] |= b >> 31; break;
        case 17 satisfies Op.AND64_X: reg[d] &= reg[b]!; reg[d + 1] &= reg[b + 1]!; break;
        case 18 satisfies Op.AND64_K: reg[d] &= b; reg[d + 1] &= b >> 31; break;
        case 19 satisfies Op.XOR64_X: reg[d] ^= reg[b]!; reg[d + 1] ^= reg[b + 1]!; break;
        case 20 satisfies Op.XOR64_K: reg[d] ^= b; reg[d + 1] ^= b >> 31; break;
        // Shift amounts are masked to 6 bits.
        case 21 satisfies Op.LSH64_X: lsh64(reg, d, reg[b]! & 63); break;
        case 22 satisfies Op.LSH64_K: lsh64(reg, d, b & 63); break;
        case 23 satisfies Op.RSH64_X: rsh64(reg, d, reg[b]! & 63); break;
        case 24 satisfies Op.RSH64_K: rsh64(reg, d, b & 63); break;
        case 25 satisfies Op.ARSH64_X: arsh64(reg, d, reg[b]! & 63); break;
        case 26 satisfies Op.ARSH64_K: arsh64(reg, d, b & 63); break;
        case 59 satisfies Op.NEG64: neg64(reg, d); break;

        // ALU32: the operands are the low halves; every result is
        // zero-extended (high half 0), mov32 wX, wX included.
        case 55 satisfies Op.MOV32_X: reg[d] = reg[b]!; reg[d + 1] = 0; break;
        case 56 satisfies Op.MOV32_K: reg[d] = b; reg[d + 1] = 0; break;
        case 29 satisfies Op.ADD32_X: reg[d] = (reg[d]! + reg[b]!) | 0; reg[d + 1] = 0; break;
        case 30 satisfies Op.ADD32_K: reg[d] = (reg[d]! + b) | 0; reg[d + 1] = 0; break;
        case 31 satisfies Op.SUB32_X: reg[d] = (reg[d]! - reg[b]!) | 0; reg[d + 1] = 0; break;
        case 32 satisfies Op.SUB32_K: reg[d] = (reg[d]! - b) | 0; reg[d + 1] = 0; break;
        case 33 satisfies Op.MUL32_X: reg[d] = Math.imul(reg[d]!, reg[b]!); reg[d + 1] = 0; break;
        case 34 satisfies Op.MUL32_K: reg[d] = Math.imul(reg[d]!, b); reg[d + 1] = 0; break;
        // 32-bit div/mod use only the low half of the divisor: 0x1_0000_0000 counts as 0.
        case 35 satisfies Op.DIV32_X: reg[d] = div32(reg[d]!, reg[b]!); reg[d + 1] = 0; break;
        case 36 satisfies Op.DIV32_K: reg[d] = div32(reg[d]!, b); reg[d + 1] = 0; break;
        case 37 satisfies Op.SDIV32_X: reg[d] = sdiv32(reg[d]!, reg[b]!); reg[d + 1] = 0; break;
        case 38 satisfies Op.SDIV32_K: reg[d] = sdiv32(reg[d]!, b); reg[d + 1] = 0; break;
        case 39 satisfies Op.MOD32_X: reg[d] = mod32(reg[d]!, reg[b]!); reg[d + 1] = 0; break;
        case 40 satisfies Op.MOD32_K: reg[d] = mod32(reg[d]!, b); reg[d + 1] = 0; break;
        case 41 satisfies Op.SMOD32_X: reg[d] = smod32(reg[d]!, reg[b]!); reg[d + 1] = 0; break;
        case 42 satisfies Op.SMOD32_K: reg[d] = smod32(reg[d]!, b); reg[d + 1] = 0; break;
        case 43 satisfies Op.OR32_X: reg[d] |= reg[b]!; reg[d + 1] = 0; break;
        case 44 satisfies Op.OR32_K: reg[d] |= b; reg[d + 1] = 0; break;
        case 45 satisfies Op.AND32_X: reg[d] &= reg[b]!; reg[d + 1] = 0; break;
        case 46 satisfies Op.AND32_K: reg[d] &= b; reg[d + 1] = 0; break;
        case 47 satisfies Op.XOR32_X: reg[d] ^= reg[b]!; reg[d + 1] = 0; break;
        case 48 satisfies Op.XOR32_K: reg[d] ^= b; reg[d + 1] = 0; break;
        // JS masks shift counts to 5 bits: exactly eBPF's 32-bit rule. arsh32 shifts as a signed int32.
        case 49 satisfies Op.LSH32_X: reg[d] <<= reg[b]!; reg[d + 1] = 0; break;
        case 50 satisfies Op.LSH32_K: reg[d] <<= b; reg[d + 1] = 0; break;
        case 51 satisfies Op.RSH32_X: reg[d] >>>= reg[b]!; reg[d + 1] = 0; break;
        case 52 satisfies Op.RSH32_K: reg[d] >>>= b; reg[d + 1] = 0; break;
        case 53 satisfies Op.ARSH32_X: reg[d] >>= reg[b]!; reg[d + 1] = 0; break;
        case 54 satisfies Op.ARSH32_K: reg[d] >>= b; reg[d + 1] = 0; break;
        case 60 satisfies Op.NEG32: reg[d] = -reg[d]! | 0; reg[d + 1] = 0; break;

        // movsx: sign-extend the low 32 - c bits; the 32-bit class then zero-extends.
        case 57 satisfies Op.MOVSX64: reg[d] = (reg[b]! << c) >> c; reg[d + 1] = reg[d]! >> 31; break;
        case 58 satisfies Op.MOVSX32: reg[d] = (reg[b]! << c) >> c; reg[d + 1] = 0; break;

        // Byte order on a little-endian model: le truncates, be (and bswap) swaps then truncates.
        case 61 satisfies Op.LE16: reg[d] &= 0xffff; reg[d + 1] = 0; break;
        case 62 satisfies Op.LE32: reg[d + 1] = 0; break;
        case 66 satisfies Op.NOP: break;
        case 63 satisfies Op.BE16: reg[d] = ((reg[d]! & 0xff) << 8) | ((reg[d]! >>> 8) & 0xff); reg[d + 1] = 0; break;
        case 64 satisfies Op.BE32: reg[d] = bswap32(reg[d]!); reg[d + 1] = 0; break;
        case 65 satisfies Op.BE64: { const low = reg[d]!; reg[d] = bswap32(reg[d + 1]!); reg[d + 1] = bswap32(low); break; }

        // lddw occupies two slots.
        case 67 satisfies Op.LDDW: reg[d] = b; reg[d + 1] = c; pc += 2; continue;

        case 68 satisfies Op.JA: break jump;
        // JMP compares 64 bits (K: imm sign-extended); JMP32 the low halves, signed ones as int32.
        case 69 satisfies Op.JEQ64_X: if (reg[d] === reg[b] && reg[d + 1] === reg[b + 1]) break jump; break;
        case 70 satisfies Op.JEQ64_K: if (reg[d] === b && reg[d + 1] === b >> 31) break jump; break;
        case 71 satisfies Op.JNE64_X: if (reg[d] !== reg[b] || reg[d + 1] !== reg[b + 1]) break jump; break;
        case 72 satisfies Op.JNE64_K: if (reg[d] !== b || reg[d + 1] !== b >> 31) break jump; break;
        case 73 satisfies Op.JGT64_X: if (cmpU64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!) > 0) break jump; break;
        case 74 satisfies Op.JGT64_K: if (cmpU64(reg[d]!, reg[d + 1]!, b, b >> 31) > 0) break jump; break;
        case 75 satisfies Op.JGE64_X: if (cmpU64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!) >= 0) break jump; break;
        case 76 satisfies Op.JGE64_K: if (cmpU64(reg[d]!, reg[d + 1]!, b, b >> 31) >= 0) break jump; break;
        case 77 satisfies Op.JLT64_X: if (cmpU64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!) < 0) break jump; break;
        case 78 satisfies Op.JLT64_K: if (cmpU64(reg[d]!, reg[d + 1]!, b, b >> 31) < 0) break jump; break;
        case 79 satisfies Op.JLE64_X: if (cmpU64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!) <= 0) break jump; break;
        case 80 satisfies Op.JLE64_K: if (cmpU64(reg[d]!, reg[d + 1]!, b, b >> 31) <= 0) break jump; break;
        // jset: taken when the operands share a set bit.
        case 81 satisfies Op.JSET64_X: if ((reg[d]! & reg[b]!) !== 0 || (reg[d + 1]! & reg[b + 1]!) !== 0) break jump; break;
        case 82 satisfies Op.JSET64_K: if ((reg[d]! & b) !== 0 || (reg[d + 1]! & (b >> 31)) !== 0) break jump; break;
        case 83 satisfies Op.JSGT64_X: if (cmpS64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!) > 0) break jump; break;
        case 84 satisfies Op.JSGT64_K: if (cmpS64(reg[d]!, reg[d + 1]!, b, b >> 31) > 0) break jump; break;
        case 85 satisfies Op.JSGE64_X: if (cmpS64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!) >= 0) break jump; break;
        case 86 satisfies Op.JSGE64_K: if (cmpS64(reg[d]!, reg[d + 1]!, b, b >> 31) >= 0) break jump; break;
        case 87 satisfies Op.JSLT64_X: if (cmpS64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!) < 0) break jump; break;
        case 88 satisfies Op.JSLT64_K: if (cmpS64(reg[d]!, reg[d + 1]!, b, b >> 31) < 0) break jump; break;
        case 89 satisfies Op.JSLE64_X: if (cmpS64(reg[d]!, reg[d + 1]!, reg[b]!, reg[b + 1]!) <= 0) break jump; break;
        case 90 satisfies Op.JSLE64_K: if (cmpS64(reg[d]!, reg[d + 1]!, b, b >> 31) <= 0) break jump; break;
        case 91 satisfies Op.JEQ32_X: if (reg[d] === reg[b]) break jump; break;
        case 92 satisfies Op.JEQ32_K: if (reg[d] === b) break jump; break;
        case 93 satisfies Op.JNE32_X: if (reg[d] !== reg[b]) break jump; break;
        case 94 satisfies Op.JNE32_K: if (reg[d] !== b) break jump; break;
        case 95 satisfies Op.JGT32_X: if (reg[d]! >>> 0 > reg[b]! >>> 0) break jump; break;
        case 96 satisfies Op.JGT32_K: if (reg[d]! >>> 0 > b >>> 0) break jump; break;
        case 97 satisfies Op.JGE32_X: if (reg[d]! >>> 0 >= reg[b]! >>> 0) break jump; break;
        case 98 satisfies Op.JGE32_K: if (reg[d]! >>> 0 >= b >>> 0) break jump; break;
        case 99 satisfies Op.JLT32_X: if (reg[d]! >>> 0 < reg[b]! >>> 0) break jump; break;
        case 100 satisfies Op.JLT32_K: if (reg[d]! >>> 0 < b >>> 0) break jump; break;
        case 101 satisfies Op.JLE32_X: if (reg[d]! >>> 0 <= reg[b]! >>> 0) break jump; break;
        case 102 satisfies Op.JLE32_K: if (reg[d]! >>> 0 <= b >>> 0) break jump; break;
        case 103 satisfies Op.JSET32_X: if ((reg[d]! & reg[b]!) !== 0) break jump; break;
        case 104 satisfies Op.JSET32_K: if ((reg[d]! & b) !== 0) break jump; break;
        case 105 satisfies Op.JSGT32_X: if (reg[d]! > reg[b]!) break jump; break;
        case 106 satisfies Op.JSGT32_K: if (reg[d]! > b) break jump; break;
        case 107 satisfies Op.JSGE32_X: if (reg[d]! >= reg[b]!) break jump; break;
        case 108 satisfies Op.JSGE32_K: if (reg[d]! >= b) break jump; break;
        case 109 satisfies Op.JSLT32_X: if (reg[d]! < reg[b]!) break jump; break;
        case 110 satisfies Op.JSLT32_K: if (reg[d]! < b) break jump; break;
        case 111 satisfies Op.JSLE32_X: if (reg[d]! <= reg[b]!) break jump; break;
        case 112 satisfies Op.JSLE32_K: if (reg[d]! <= b) break jump; break;

        // Memory. The address is the u64 base + off. It is a valid 32-bit
        // address when the base's high half is 0 and a = low half + off lies
        // in [0, 2^32); then a >>> 24 is its 16 MiB slot, and the access fits
        // when a + size <= the slot's end (0 for unmapped slots, so those
        // fail; for stores, 0 for read-only ones too). An a of 2^32 or more
        // (a low half near 2^32 plus a positive off) wraps to slot 0, never
        // mapped, so the end test catches it. On a miss, `fault` has
        // Memory.resolve throw exactly the error of a checked access; a
        // store's `storeFault` returns instead when the store lies in a
        // writable range of a read-only region (a context's writable
        // fields), and the store below then goes ahead.
        // Loads zero-extend (ldx) or sign-extend (ldsx) to 64 bits.
        case 113 satisfies Op.LDXB: {
          const a = (reg[b]! >>> 0) + c;
          if (reg[b + 1] !== 0 || a < 0 || a + 1 > ends[a >>> 24]!) throw fault(memory, pc, reg[b]!, reg[b + 1]!, c, 1, 'load');
          reg[d] = views[a >>> 24]!.getUint8(a - bases[a >>> 24]!); reg[d + 1] = 0; break;
        }
        case 114 satisfies Op.LDXH: {
          const a = (reg[b]! >>> 0) + c;
          if (reg[b + 1] !== 0 || a < 0 || a + 2 > ends[a >>> 24]!) throw fault(memory, pc, reg[b]!, reg[b + 1]!, c, 2, 'load');
          reg[d] = views[a >>> 24]!.getUint16(a - bases[a >>> 24]!, true); reg[d + 1] = 0; break;
        }
        case 115 satisfies Op.LDXW: {
          const a = (reg[b]! >>> 0) + c;
          if (reg[b + 1] !== 0 || a < 0 || a + 4 > ends[a >>> 24]!) throw fault(memory, pc, reg[b]!, reg[b + 1]!, c, 4, 'load');
          reg[d] = views[a >>> 24]!.getInt32(a - bases[a >>> 24]!, true); reg[d + 1] = 0; break;
        }
        case 116 satisfies Op.LDXDW: {
          const a = (reg[b]! >>> 0) + c;
          if (reg[b + 1] !== 0 || a < 0 || a + 8 > ends[a >>> 24]!) throw fault(memory, pc, reg[b]!, reg[b + 1]!, c, 8, 'load');
          const view = views[a >>> 24]!, at = a - bases[a >>> 24]!;
          reg[d] = view.getInt32(at, true); reg[d + 1] = view.getInt32(at + 4, true); break;
        }
        case 117 satisfies Op.LDSXB: {
          const a = (reg[b]! >>> 0) + c;
          if (reg[b + 1] !== 0 || a < 0 || a + 1 > ends[a >>> 24]!) throw fault(memory, pc, reg[b]!, reg[b + 1]!, c, 1, 'load');
          reg[d] = views[a >>> 24]!.getInt8(a - bases[a >>> 24]!); reg[d + 1] = reg[d]! >> 31; break;
        }
        case 118 satisfies Op.LDSXH: {
          const a = (reg[b]! >>> 0) + c;
          if (reg[b + 1] !== 0 || a < 0 || a + 2 > ends[a >>> 24]!) throw fault(memory, pc, reg[b]!, reg[b + 1]!, c, 2, 'load');
          reg[d] = views[a >>> 24]!.getInt16(a - bases[a >>> 24]!, true); reg[d + 1] = reg[d]! >> 31; break;
        }
        case 119 satisfies Op.LDSXW: {
          const a = (reg[b]! >>> 0) + c;
          if (reg[b + 1] !== 0 || a < 0 || a + 4 > ends[a >>> 24]!) throw fault(memory, pc, reg[b]!, reg[b + 1]!, c, 4, 'load');
          reg[d] = views[a >>> 24]!.getInt32(a - bases[a >>> 24]!, true); reg[d + 1] = reg[d]! >> 31; break;
        }
        // Stores write the low 1, 2, 4 or 8 bytes of the value, read first
        // (V8 inlines a DataView call only when nothing branches between
        // loading the method and calling it). st's imm is sign-extended to
        // 64 bits, so its high half is b >> 31.
        case 120 satisfies Op.STB: {
          const a = (reg[d]! >>> 0) + c, v = b;
          if (reg[d + 1] !== 0 || a < 0 || a + 1 > writeEnds[a >>> 24]!) storeFault(memory, pc, reg[d]!, reg[d + 1]!, c, 1);
          views[a >>> 24]!.setUint8(a - bases[a >>> 24]!, v); break;
        }
        case 121 satisfies Op.STH: {
          const a = (reg[d]! >>> 0) + c, v = b;
          if (reg[d + 1] !== 0 || a < 0 || a + 2 > writeEnds[a >>> 24]!) storeFault(memory, pc, reg[d]!, reg[d + 1]!, c, 2);
          views[a >>> 24]!.setUint16(a - bases[a >>> 24]!, v, true); break;
        }
        case 122 satisfies Op.STW: {
          const a = (reg[d]! >>> 0) + c, v = b;
          if (reg[d + 1] !== 0 || a < 0 || a + 4 > writeEnds[a >>> 24]!) storeFault(memory, pc, reg[d]!, reg[d + 1]!, c, 4);
          views[a >>> 24]!.setInt32(a - bases[a >>> 24]!, v, true); break;
        }
        case 123 satisfies Op.STDW: {
          const a = (reg[d]! >>> 0) + c, v = b, vh = b >> 31;
          if (reg[d + 1] !== 0 || a < 0 || a + 8 > writeEnds[a >>> 24]!) storeFault(memory, pc, reg[d]!, reg[d + 1]!, c, 8);
          const view = views[a >>> 24]!, at = a - bases[a >>> 24]!;
          view.setInt32(at, v, true); view.setInt32(at + 4, vh, true); break;
        }
        case 124 satisfies Op.STXB: {
          const a = (reg[d]! >>> 0) + c, v = reg[b]!;
          if (reg[d + 1] !== 0 || a < 0 || a + 1 > writeEnds[a >>> 24]!) storeFault(memory, pc, reg[d]!, reg[d + 1]!, c, 1);
          views[a >>> 24]!.setUint8(a - bases[a >>> 24]!, v); break;
        }
        case 125 satisfies Op.STXH: {
          const a = (reg[d]! >>> 0) + c, v = reg[b]!;
          if (reg[d + 1] !== 0 || a < 0 || a + 2 > writeEnds[a >>> 24]!) storeFault(memory, pc, reg[d]!, reg[d + 1]!, c, 2);
          views[a >>> 24]!.setUint16(a - bases[a >>> 24]!, v, true); break;
        }
        case 126 satisfies Op.STXW: {
          const a = (reg[d]! >>> 0) + c, v = reg[b]!;
          if (reg[d + 1] !== 0 || a < 0 || a + 4 > writeEnds[a >>> 24]!) storeFault(memory, pc, reg[d]!, reg[d + 1]!, c, 4);
          views[a >>> 24]!.setInt32(a - bases[a >>> 24]!, v, true); break;
        }
        case 127 satisfies Op.STXDW: {
          const a = (reg[d]! >>> 0) + c, v = reg[b]!, vh = reg[b + 1]!;
          if (reg[d + 1] !== 0 || a < 0 || a + 8 > writeEnds[a >>> 24]!) storeFault(memory, pc, reg[d]!, reg[d + 1]!, c, 8);
          const view = views[a >>> 24]!, at = a - bases[a >>> 24]!;
          view.setInt32(at, v, true); view.setInt32(at + 4, vh, true); break;
        }

        case 132 satisfies Op.ATOMIC: atomic(env, reg, base, byPc[pc]!); break;
        case 133 satisfies Op.PACKET:
          if (!packetLoad(env, reg, base, byPc[pc]!)) return ended(state);
          break;

        // Calls check the budget before anything happens.
        case 128 satisfies Op.CALL:
          if (executed > budget) throw new BudgetExceededError(pc, budget);
          state.executed = executed;
          if (callHelper(env, state, host, reg, base, b, pc, frames.frame)) return ended(state);
          executed = state.executed;
          break;
        case 136 satisfies Op.TAIL_CALL:
          if (executed > budget) throw new BudgetExceededError(pc, budget);
          state.executed = executed;
          pc = tailCallAt(state, frames, reg, base, pc) | 0;
          if (pc === END) return 0;
          executed = state.executed;
          continue;
        case 129 satisfies Op.CALL_LOCAL:
          if (executed > budget) throw new BudgetExceededError(pc, budget);
          // `| 0` (here and at the other calls below) tells V8 pc stays an int32, so it keeps pc untagged.
          pc = frames.call(reg, base, pc, c) | 0;
          continue;
        case 130 satisfies Op.CALLX: {
          if (executed > budget) throw new BudgetExceededError(pc, budget);
          // A function's code address makes a local call, a helper id a helper call; anything else is an error.
          const value = toU64(reg[d]!, reg[d + 1]!);
          const target = codeTarget(value);
          if (target !== undefined && prepared.functions.has(target)) {
            pc = frames.call(reg, base, pc, target) | 0;
            continue;
          }
          state.executed = executed;
          if (value === BigInt(TAIL_CALL_HELPER)) {
            pc = tailCallAt(state, frames, reg, base, pc) | 0;
            if (pc === END) return 0;
            executed = state.executed;
            continue;
          }
          if (value < 0x1_0000_0000n && env.helpers.has(Number(value))) {
            if (callHelper(env, state, host, reg, base, Number(value), pc, frames.frame)) return ended(state);
            executed = state.executed;
            break;
          }
          throw new ExecutionError('BAD_CALLX_TARGET', `callx target 0x${value.toString(16)} is neither a function nor a helper`, pc);
        }
        case 131 satisfies Op.EXIT:
          // Returns from a local call (r0 is the result, r1..r10 the caller's), or ends the execution.
          if (frames.depth === 0) {
            state.executed = executed;
            state.r0h = reg[base + 1]!;
            return reg[base]!;
          }
          pc = frames.exit(reg, base) | 0;
          continue;

        case 134 satisfies Op.KFUNC:
          throw new ExecutionError('UNSUPPORTED_INSTRUCTION', `kfunc calls are not supported (BTF id ${byPc[pc]!.imm})`, pc);
        case 135 satisfies Op.LDDW_LOADER:
          throw new ExecutionError('UNSUPPORTED_INSTRUCTION', `lddw with src ${byPc[pc]!.src} needs a loader to resolve it`, pc);
      }
      pc++;
      continue;
    }
    // A jump taken backwards is where a runaway loop gets stopped (calls are the other place).
    if (c <= pc && executed > budget) throw new BudgetExceededError(pc, budget);
    pc = c;
  }
}

// ---------------------------------------------------------------------------
// 64-bit arithmetic on register halves: rD is reg[d] (low 32 bits) and
// reg[d + 1] (high 32 bits), each held as a signed int32 (only the bits
// matter; `>>> 0` reads a half as unsigned). Each function that writes rD
// reads its old value and the operand (bl, bh) before writing anything, so an
// operand that is rD itself is fine. (They live in this module because V8
// inlines them here a little more cheaply than across modules.)

/** rD += b: the low sum carries into the high half when it wraps (ends below an operand, as uint32). */
function add64(reg: Int32Array, d: number, bl: number, bh: number): void {
  const sum = (reg[d]! + bl) | 0;
  reg[d + 1] = (reg[d + 1]! + bh + ((sum >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
  reg[d] = sum;
}

/** rD -= b: the high half borrows when the low halves compare a < b as uint32. */
function sub64(reg: Int32Array, d: number, bl: number, bh: number): void {
  const al = reg[d]!;
  reg[d + 1] = (reg[d + 1]! - bh - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
  reg[d] = (al - bl) | 0;
}

/** rD *= b mod 2^64: high half = high32(al * bl) + al * bh + ah * bl (mod 2^32). */
function mul64(reg: Int32Array, d: number, bl: number, bh: number): void {
  const al = reg[d]!;
  reg[d + 1] = (mulHigh32(al, bl) + Math.imul(al, bh) + Math.imul(reg[d + 1]!, bl)) | 0;
  reg[d] = Math.imul(al, bl);
}

/**
 * The high 32 bits of the 64-bit product of two uint32s, as an int32:
 * schoolbook multiplication in 16-bit limbs. Every product and partial sum
 * stays below 2^32, so each is exact and reads back as a uint32.
 */
function mulHigh32(x: number, y: number): number {
  const x0 = x & 0xffff, x1 = x >>> 16, y0 = y & 0xffff, y1 = y >>> 16;
  const mid = x1 * y0 + ((x0 * y0) >>> 16);
  const mid2 = x0 * y1 + (mid & 0xffff);
  return (x1 * y1 + (mid >>> 16) + (mid2 >>> 16)) | 0;
}

// Shifts by n in 0..63 (the caller masks the amount to 6 bits). JS masks its
// own shift counts to 5 bits, so n >= 32 and n = 0 are cases of their own.

/** rD <<= n. */
function lsh64(reg: Int32Array, d: number, n: number): void {
  if (n >= 32) {
    reg[d + 1] = reg[d]! << (n - 32);
    reg[d] = 0;
  } else if (n > 0) {
    reg[d + 1] = (reg[d + 1]! << n) | (reg[d]! >>> (32 - n));
    reg[d] = reg[d]! << n;
  }
}

/** rD >>= n, filling with zeros. */
function rsh64(reg: Int32Array, d: number, n: number): void {
  if (n >= 32) {
    reg[d] = reg[d + 1]! >>> (n - 32);
    reg[d + 1] = 0;
  } else if (n > 0) {
    reg[d] = (reg[d]! >>> n) | (reg[d + 1]! << (32 - n));
    reg[d + 1] = reg[d + 1]! >>> n;
  }
}

/** rD >>= n, filling with the sign bit. */
function arsh64(reg: Int32Array, d: number, n: number): void {
  if (n >= 32) {
    reg[d] = reg[d + 1]! >> (n - 32);
    reg[d + 1] = reg[d + 1]! >> 31;
  } else if (n > 0) {
    reg[d] = (reg[d]! >>> n) | (reg[d + 1]! << (32 - n));
    reg[d + 1] = reg[d + 1]! >> n;
  }
}

/** rD = -rD: ~x + 1, where the + 1 carries into the high half only when the low half is 0. */
function neg64(reg: Int32Array, d: number): void {
  reg[d + 1] = reg[d] === 0 ? -reg[d + 1]! | 0 : ~reg[d + 1]!;
  reg[d] = -reg[d]! | 0;
}

/** Unsigned 64-bit comparison: -1, 0 or 1 as a <, = or > b. The high halves decide unless equal. */
function cmpU64(al: number, ah: number, bl: number, bh: number): number {
  if (ah !== bh) return (ah >>> 0) < (bh >>> 0) ? -1 : 1;
  if (al !== bl) return (al >>> 0) < (bl >>> 0) ? -1 : 1;
  return 0;
}

/** Signed 64-bit comparison: as cmpU64, but the high halves compare as int32 (they hold the sign). */
function cmpS64(al: number, ah: number, bl: number, bh: number): number {
  if (ah !== bh) return ah < bh ? -1 : 1;
  if (al !== bl) return (al >>> 0) < (bl >>> 0) ? -1 : 1;
  return 0;
}

// 32-bit division on int32 halves: by zero, div gives 0 and mod leaves the
// dividend; the signed forms truncate like `(a / b) | 0` and `a % b`, which
// also give INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 (`| 0` turns -0 to 0).

function div32(a: number, b: number): number {
  return b === 0 ? 0 : ((a >>> 0) / (b >>> 0)) | 0;
}

function sdiv32(a: number, b: number): number {
  return b === 0 ? 0 : (a / b) | 0;
}

function mod32(a: number, b: number): number {
  return b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0;
}

function smod32(a: number, b: number): number {
  return b === 0 ? a : (a % b) | 0;
}

/** Reverses the 4 bytes of an int32. */
function bswap32(x: number): number {
  return (x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}
