// What the program learns about where it runs: get_prandom_u32 (7),
// get_smp_processor_id (8), get_current_pid_tgid (14), get_current_comm
// (16). The answers come from the Vm's HelperEnv and the run's CPU.

import type { HelperFn } from '../runtime.js';
import { helper, u32, type StandardHelper } from './common.js';

/**
 * long bpf_get_current_comm(void *buf, u32 size): the name, cut to size - 1
 * bytes, then zeros to the end of buf (Linux's strscpy_pad). A size of 0
 * writes nothing.
 */
const getCurrentComm: HelperFn = (buf, size, _3, _4, _5, ctx) => {
  const n = u32(size);
  if (n === 0) return 0;
  const out = ctx.memory.view(buf, n, 'store', ctx.pc);
  const comm = ctx.run.env.comm.subarray(0, n - 1);
  out.set(comm);
  out.fill(0, comm.length);
  return 0;
};

export const taskHelpers: readonly StandardHelper[] = Object.freeze([
  helper(7, 'get_prandom_u32', (_1, _2, _3, _4, _5, ctx) => ctx.run.env.randomU32()),
  helper(8, 'get_smp_processor_id', (_1, _2, _3, _4, _5, ctx) => ctx.run.cpu),
  // tgid in the high half, the thread id in the low half.
  helper(14, 'get_current_pid_tgid', (_1, _2, _3, _4, _5, ctx) =>
    (BigInt(ctx.run.env.tgid) << 32n) | BigInt(ctx.run.env.pid)),
  helper(16, 'get_current_comm', getCurrentComm),
]);
