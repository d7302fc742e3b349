// Helpers that change the flow of the program: loop (181) runs a BPF
// callback, tail_call (12) is done by the engines themselves.
//
// bpf_loop(nr_loops, callback_fn, callback_ctx, flags), as Linux: flags other
// than 0 are -EINVAL (checked first), more than 2^23 iterations -E2BIG; the
// callback gets (index, callback_ctx) in r1, r2; a non-zero return stops the
// loop; the result is the number of iterations run, the stopping one
// included.

import { E2BIG, EINVAL } from '../errno.js';
import type { HelperFn } from '../runtime.js';
import { fail, helper, u32, type StandardHelper } from './common.js';

/** BPF_MAX_LOOPS. */
export const MAX_LOOPS = 1 << 23;

const loop: HelperFn = (nrLoops, callback, callbackCtx, flags, _5, ctx) => {
  if (flags !== 0n) return -EINVAL;
  const n = u32(nrLoops);
  if (n > MAX_LOOPS) return -E2BIG;
  for (let i = 0; i < n; i++) {
    if (ctx.run.callFunction(callback, [BigInt(i), callbackCtx]) !== 0n) return i + 1;
  }
  return n;
};

/**
 * Listed so that the name resolves and the id is known; the engines
 * implement the call (it replaces the running program), so reaching this
 * function means an engine did not.
 */
const tailCall: HelperFn = (_1, _2, _3, _4, _5, ctx) => fail(ctx, 'tail_call', 'tail_call is handled by the engine');

export const controlHelpers: readonly StandardHelper[] = Object.freeze([
  helper(12, 'tail_call', tailCall),
  helper(181, 'loop', loop),
]);
