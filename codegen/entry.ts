// The ways into a generated module: what `new Function("rt", source)`
// returns. The module ends with `return [entry, callback]` (an array, and
// one-letter parameters: generated code names nothing but the JIT's own
// identifiers, see context.ts):
//
//   function entry(r1, r1h, r2, r2h, r10, budget, c, d)
//     runs the main function in frame d whose frame pointer is r10, the
//     instruction count going on from c (a run starts at 0, a tail call's
//     target goes on from its caller). Returns r0's low half, the high half
//     in RET[1]; RET[2] is 1 when it ended with a tail call (the runner's
//     dispatch loop starts the target), 2 when it ended the run; the count
//     is left in CNT[0].
//   function (t, r1, r1h, ..., r5, r5h, p), the callback
//     (bpf_loop's): calls the function at entry pc t with r1..r5 in a new
//     frame below the helper's caller (p is the helper call's pc, for a
//     budget or depth error: with a budget, the count is checked first, as
//     at any call), runs its tail-call chain if it made one, and returns r0
//     as above, RET[2] = 2 when the run must end. Only emitted for programs
//     with subprograms: the main function is never called back.
//
// Traced (CompileOptions.trace), the callback tells the run's tracer where
// it starts and ends (the runner does that for `entry`, see lib/vm.ts).
//
// The module state (COUNT, BUDGET, DEPTH, UNWOUND) is set by `entry` alone:
// a module running again inside its own chain (a subprogram tail-calling its
// own program) just goes on with it, the call site putting back what the
// chain changed (lower-call.ts).

import type * as ES from 'estree';
import { FRAME_SIZE } from '../lib/runtime.js';
import type { Program } from '../lib/program.js';
import { assign, bin, block, bool, brk, call, constDecl, expr, id, ifStmt, index, letDecl, num, ret, switchStmt, type Expr, type Stmt } from './ast.js';
import { RT, STATE, functionName, hi, lo, type CompileOptions } from './context.js';
import { budgetCheck, chainIfPending } from './lower-call.js';
import { tailCallers } from './tail-calls.js';
import { TRACE_RT } from './trace.js';

const ENTRY_PARAMS = ['r1', 'r1h', 'r2', 'r2h', 'r10', 'budget', 'c', 'd'] as const;
const CALL_PARAMS = ['t', ...[1, 2, 3, 4, 5].flatMap((r) => [lo(r), hi(r)]), 'p'] as const;

/** entry(r1, r1h, r2, r2h, r10, budget, count, depth) => r0's low half (see above). */
export type EntryFn = (r1: number, r1h: number, r2: number, r2h: number, r10: number, budget: number, count: number, depth: number) => number;
/** callback(t, r1, r1h, ..., r5, r5h, pc) => r0's low half (see above). */
export type CallbackFn = (
  t: number, r1: number, r1h: number, r2: number, r2h: number, r3: number, r3h: number,
  r4: number, r4h: number, r5: number, r5h: number, pc: number,
) => number;

export interface ModuleExports {
  readonly entry: EntryFn;
  readonly call: CallbackFn | undefined;
}

function fnExpr(name: string | null, params: readonly string[], body: Stmt[]): ES.FunctionExpression {
  return {
    type: 'FunctionExpression', id: name === null ? null : id(name), params: params.map(id), body: block(body), generator: false, async: false,
  };
}

/** The statement that ends the module: `return [entry, callback]`. */
export function moduleExports(program: Program, options: CompileOptions): Stmt[] {
  const elements: ES.Expression[] = [fnExpr('entry', ENTRY_PARAMS, entryBody(options))];
  if (program.functions.length > 1) elements.push(fnExpr(null, CALL_PARAMS, callBody(program, options)));
  return [ret({ type: 'ArrayExpression', elements })];
}

/** Module state for this run, the main function, then how it ended. */
function entryBody(options: CompileOptions): Stmt[] {
  // r3..r5 start at 0.
  const mainArgs: Expr[] = [...['r1', 'r1h', 'r2', 'r2h'].map(id), ...Array.from({ length: 6 }, () => num(0)), id('r10')];
  const body: Stmt[] = [
    assign(STATE.count, id('c')),
    assign(STATE.budget, id('budget')),
    assign(STATE.depth, id('d')),
    assign(STATE.unwound, bool(false)),
    assign(index(RT.ret, num(2)), num(0)),
    constDecl(lo(0), call(functionName(0), mainArgs)),
    ifStmt(id(STATE.unwound), [assign(index(RT.ret, num(2)), num(2))]),
  ];
  if (options.budget) body.push(assign(index(RT.count, num(0)), id(STATE.count)));
  body.push(ret(id(lo(0))));
  return body;
}

/** The callback: depth check, a new frame, the function chosen by t, its chain, and how it ended. */
function callBody(program: Program, options: CompileOptions): Stmt[] {
  const args = [...CALL_PARAMS.slice(1, 11).map(id), id('r10')];
  const cases = program.functions.slice(1).map((entry) => ({
    test: num(entry),
    body: [assign(lo(0), call(functionName(entry), args)), brk()],
  }));
  const ctx = { program, options };
  const mayTailCall = (options.tailCallers ?? tailCallers(program)).size > 0;
  return [
    // A callback is a call: with a budget, the count is checked first, at the helper call's pc (as the interpreter does).
    ...(options.budget ? [budgetCheck(id('p'))] : []),
    ifStmt(bin('>=', id(STATE.depth), id(STATE.maxDepth)), [{ type: 'ExpressionStatement', expression: call(RT.depthFail, [id('p')]) }]),
    // The helper's caller runs in frame DEPTH; the callback gets the next one down.
    constDecl('r10', bin('-', id(RT.stackTop), bin('*', id(STATE.depth), num(FRAME_SIZE)))),
    assign(STATE.depth, num(1), '+='),
    letDecl([lo(0), hi(0)], num(0)),
    // The runtime only passes subprogram entries (run-state.ts callbackTarget), so one case always matches.
    ...(options.trace === true ? tracedCallback(switchStmt(id('t'), cases)) : [switchStmt(id('t'), cases)]),
    assign(hi(0), index(RT.ret, num(1))),
    ifStmt(id(STATE.unwound), [assign(index(RT.ret, num(2)), num(2)), ret(num(0))]),
    ...(mayTailCall ? [chainIfPending(ctx)] : []),
    assign(STATE.depth, num(1), '-='),
    assign(index(RT.ret, num(1)), id(hi(0))),
    ret(id(lo(0))),
  ];
}

/**
 * A traced callback is an execution of its own (lib/trace/types.ts): the
 * tracer is told it starts, in the frame just made (DEPTH), and that it
 * ends, normally or by throwing (`a` stays 1 then: its last instruction
 * faulted and gets no event). It ends before its tail-call chain runs,
 * whose targets the runner reports as executions of their own (as the
 * interpreter's callbacks do).
 */
function tracedCallback(body: Stmt): Stmt[] {
  return [
    expr(call(TRACE_RT.enter, [id(STATE.depth)])),
    letDecl(['a'], num(1)),
    {
      type: 'TryStatement',
      block: block([body, assign('a', num(0))]),
      handler: null,
      finalizer: block([expr(call(TRACE_RT.leave, [bin('!==', id('a'), num(0))]))]),
    },
  ];
}

/** Instantiates printed source against a runtime object: the module's exports. */
export function instantiate(source: string, runtime: object): ModuleExports {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('rt', source) as (rt: object) => [EntryFn, CallbackFn | undefined];
  const [entry, call] = factory(runtime);
  return { entry, call };
}
