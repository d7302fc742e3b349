// Lowering of calls and exits: helper calls, bpf-to-bpf calls, callx, exit,
// and the budget check shared with backward jumps.
//
// Conventions (codegen/context.ts): a BPF function is a JS function
// fN(r1, r1h, ..., r5, r5h, r10) returning r0's low half with the high half
// in RET[1]. A call assigns only r0/r0h in the caller: r1..r9 are the
// caller's locals and survive for free. Helpers run through the runtime's
// CALL (BigInt arguments, result normalization, error mapping).
//
// Ending the run from any depth (the unwind helper returned 0, or a packet
// load fell outside the packet) sets UNWOUND, leaves 0 in RET[1] and returns
// 0; every local call site checks UNWOUND on return and returns 0 in turn,
// so the entry function returns r0 = 0 without running anything else.
//
// Argument halves (and r0 at an exit) that the register analysis knows are
// passed as constants: the locals hold the same values, nothing is read.
//
// Tail calls (call 12, or callx naming 12): TAIL decides (lib/tail-call.ts);
// a failure leaves its negative errno in r0, a success returns 0 at once with
// RET[2] = 1, the sentinel. A local call (or callx) to a function that may
// make tail calls (tail-calls.ts) looks for it on return and then runs the
// chain there with CHAIN: the chain's r0 is the callee's result, so the JS
// stack does not grow along a chain and a tail call made in a subprogram
// returns to that subprogram's caller. Other call sites check nothing. The
// entry and callback functions (entry.ts) do the same for the main function
// and for callbacks.
//
// Traced code (CompileOptions.trace) reports r0 after a helper call and
// after a tail call that failed, where the code goes on: the outcomes that
// write nothing (a tail call that succeeded, an unwind) have returned.
//
// What it does not do: resolve helpers at compile time (the runtime looks
// them up per call, as the interpreter does, so a helper missing at run time
// fails the same way).

import { FRAME_SIZE } from '../lib/runtime.js';
import { branchTarget, type Instruction } from '../lib/isa.js';
import { TAIL_CALL_HELPER } from '../lib/tail-call.js';
import {
  assign, bin, bool, brk, call, expr, id, ifStmt, index, logical, num, ret, switchStmt, type Expr, type Stmt,
} from './ast.js';
import { RT, STATE, functionName, hi, lo, type LowerContext } from './context.js';
import { ex, regOperandAt } from './lower-alu.js';
import { tailCallers } from './tail-calls.js';
import { traceWrote } from './trace.js';

/** `if (COUNT > BUDGET) BUDGETFAIL(pc, BUDGET);` — the budget rule's check (lib/runtime.ts BUDGET_RULE); pc may be an expression (a callback's p). */
export function budgetCheck(pc: number | Expr): Stmt {
  return ifStmt(bin('>', id(STATE.count), id(STATE.budget)), [
    expr(call(RT.budgetFail, [typeof pc === 'number' ? num(pc) : pc, id(STATE.budget)])),
  ]);
}

/** Ends the whole run with r0 = 0: `UNWOUND = true; RET[1] = 0; return 0;`. */
export function endRun(): Stmt[] {
  return [assign(STATE.unwound, bool(true)), assign(index(RT.ret, num(1)), num(0)), ret(num(0))];
}

/** exit: `RET[1] = r0h; return r0;` (the caller, or the runner, reads the high half from RET[1]). */
export function lowerExit(ctx: LowerContext, insn: Instruction): Stmt[] {
  const r0 = regOperandAt(ctx, insn.pc, 0);
  return [assign(index(RT.ret, num(1)), ex(r0.hi)), ret(ex(r0.lo))];
}

/** r1, r1h, ..., r5, r5h before `pc`: the argument registers, for helpers and local calls alike (known halves as constants). */
function argRegs(ctx: LowerContext, pc: number): Expr[] {
  return [1, 2, 3, 4, 5].flatMap((r) => {
    const op = regOperandAt(ctx, pc, r);
    return [ex(op.lo), ex(op.hi)];
  });
}

/** `(r0 | r0h) === 0`: the helper returned 0 (all 64 bits). */
function r0IsZero(): Expr {
  return bin('===', bin('|', id(lo(0)), id(hi(0))), num(0));
}

/** r0 = helper(id)(r1..r5); `unwindIf` guards the unwind-on-success exit (undefined: none). */
function helperCall(ctx: LowerContext, pc: number, helperId: Expr, unwindIf: Expr | undefined): Stmt[] {
  const out = [
    assign(lo(0), call(RT.callHelper, [helperId, num(pc), ...argRegs(ctx, pc)])),
    assign(hi(0), index(RT.ret, num(1))),
  ];
  if (unwindIf !== undefined) out.push(ifStmt(unwindIf, endRun()));
  return out;
}

/** The depth check before a local call: the main function is frame 1, so DEPTH frames exist now. */
function depthCheck(pc: number): Stmt {
  return ifStmt(bin('>=', id(STATE.depth), id(STATE.maxDepth)), [expr(call(RT.depthFail, [num(pc)]))]);
}

/** `r0 = fT(r1, r1h, ..., r5, r5h, r10 - 512);` — the callee's frame is the next one down. */
function invoke(ctx: LowerContext, pc: number, target: number): Stmt {
  return assign(lo(0), call(functionName(target), [...argRegs(ctx, pc), bin('-', id('r10'), num(FRAME_SIZE))]));
}

/**
 * After a local call: the frame is gone, r0h comes back in RET[1], and an
 * unwound run keeps unwinding. When the callee may have made a tail call,
 * its chain runs here first, still in the callee's frame (DEPTH counts it).
 */
function afterLocalCall(ctx: LowerContext, mayTailCall: boolean): Stmt[] {
  const r0h = assign(hi(0), index(RT.ret, num(1)));
  const unwound = ifStmt(id(STATE.unwound), [ret(num(0))]);
  if (!mayTailCall) return [assign(STATE.depth, num(1), '-='), r0h, unwound];
  return [r0h, unwound, chainIfPending(ctx), assign(STATE.depth, num(1), '-=')];
}

/**
 * `if (RET[2] !== 0) { r0 = CHAIN(COUNT); if (RET[2] !== 0) <end the run>; r0h = RET[1]; COUNT = CNT[0]; }`:
 * the callee returned the tail-call sentinel, so its chain runs now, the
 * count going on from ours, and its r0 is the callee's result.
 */
export function chainIfPending(ctx: LowerContext): Stmt {
  const body = [
    assign(lo(0), call(RT.chain, [id(STATE.count)])),
    ifStmt(bin('!==', index(RT.ret, num(2)), num(0)), endRun()),
    assign(hi(0), index(RT.ret, num(1))),
  ];
  if (ctx.options.budget) body.push(assign(STATE.count, index(RT.count, num(0))));
  return ifStmt(bin('!==', index(RT.ret, num(2)), num(0)), body);
}

/** Whether the function at `entry` may return the tail-call sentinel. */
function mayTailCall(ctx: LowerContext, entry: number): boolean {
  return (ctx.options.tailCallers ?? tailCallers(ctx.program)).has(entry);
}

/** Whether any function may (a callx can reach them all). */
function anyTailCaller(ctx: LowerContext): boolean {
  return (ctx.options.tailCallers ?? tailCallers(ctx.program)).size > 0;
}

/**
 * bpf_tail_call: `r0 = TAIL(pc, r1, r1h, r2, r2h, r3, DEPTH, r10); if (r0 === 0) return 0; r0h = -1;`.
 * A failure is a small negative errno, so its high half is all ones.
 */
function tailCall(ctx: LowerContext, pc: number): Stmt[] {
  const [r1, r1h, r2, r2h, r3] = argRegs(ctx, pc);
  return [
    assign(lo(0), call(RT.tailCall, [num(pc), r1!, r1h!, r2!, r2h!, r3!, id(STATE.depth), id('r10')])),
    ifStmt(bin('===', id(lo(0)), num(0)), [ret(num(0))]),
    assign(hi(0), num(-1)),
  ];
}

/**
 * In traced code, after a helper call or a tail call: r0 as it now is. Only
 * reached when the call wrote it (a tail call that failed, a helper whose
 * result did not end the run): the other outcomes have returned already.
 */
function tracedR0(ctx: LowerContext): Stmt[] {
  return ctx.options.trace === true ? [traceWrote(0)] : [];
}

export function lowerCall(ctx: LowerContext, insn: Instruction): Stmt[] {
  const { pc } = insn;
  // The budget is checked before the call happens (the count includes the call itself).
  const out: Stmt[] = ctx.options.budget ? [budgetCheck(pc)] : [];
  switch (insn.spec.kind) {
    case 'call': {
      if (insn.imm === TAIL_CALL_HELPER) {
        out.push(...tailCall(ctx, pc), ...tracedR0(ctx));
        return out;
      }
      // Unwind-on-success is decided at compile time: only the marked helper's call checks r0.
      const unwinds = insn.imm === ctx.options.unwindHelper;
      out.push(...helperCall(ctx, pc, num(insn.imm), unwinds ? r0IsZero() : undefined), ...tracedR0(ctx));
      return out;
    }
    case 'call_local':
      out.push(
        depthCheck(pc), assign(STATE.depth, num(1), '+='), invoke(ctx, pc, branchTarget(insn)),
        ...afterLocalCall(ctx, mayTailCall(ctx, branchTarget(insn))),
      );
      return out;
    case 'callx':
      out.push(...callx(ctx, insn));
      return out;
    default:
      throw new Error(`internal: lowerCall given ${insn.spec.mnemonic} at pc ${pc}`);
  }
}

/**
 * callx rD: CALLX resolves the value (throwing for anything that is neither a
 * function's code address nor a helper id); a function is then called through
 * a switch over the program's function entries, statically, like a local call.
 * Helper id 12 is a tail call.
 */
function callx(ctx: LowerContext, insn: Instruction): Stmt[] {
  const { pc, dst } = insn;
  const regLo = id(lo(dst));
  const regHi = dst === 10 ? num(0) : id(hi(dst));
  // The helper id is copied to u first: dst may be r0, which the call overwrites
  // before the unwind test reads the id.
  const unwind = ctx.options.unwindHelper;
  const unwindIf = unwind === undefined ? undefined : logical('&&', r0IsZero(), bin('===', id('u'), num(unwind)));
  const cases = ctx.program.functions.map((entry) => ({ test: num(entry), body: [invoke(ctx, pc, entry), brk()] }));
  const helper = [
    ifStmt(bin('===', id('u'), num(TAIL_CALL_HELPER)), tailCall(ctx, pc), helperCall(ctx, pc, id('u'), unwindIf)),
    ...tracedR0(ctx),
  ];
  return [
    assign('t', call(RT.callxTarget, [num(pc), regLo, regHi])),
    ifStmt(
      bin('<', id('t'), num(0)),
      [assign('u', bin('>>>', id(lo(dst)), num(0))), ...helper],
      // CALLX only returns entries of program.functions, so one case always matches.
      [depthCheck(pc), assign(STATE.depth, num(1), '+='), switchStmt(id('t'), cases), ...afterLocalCall(ctx, anyTailCaller(ctx))],
    ),
  ];
}
