// perf_event_output (25): long bpf_perf_event_output(ctx, map, u64 flags,
// void *data, u64 size) on a PERF_EVENT_ARRAY (lib/maps/perf-event-array.ts).
//
// flags' low 32 bits pick the slot (BPF_F_CURRENT_CPU, 0xffffffff: the
// run's CPU); bits 32-51 (BPF_F_CTXLEN_MASK) ask for that many packet bytes
// to be appended to the sample, as Linux's skb and XDP variants do: more
// than the packet holds is -EFAULT. Any other bit is -EINVAL.

import { EFAULT, EINVAL } from '../errno.js';
import { BPF_F_CURRENT_CPU, PerfEventArrayMap } from '../maps/index.js';
import type { HelperFn } from '../runtime.js';
import { EMPTY, fail, helper, mapArg, type StandardHelper } from './common.js';

const INDEX_MASK = 0xffffffffn;
const CTXLEN_MASK = 0xfffffn << 32n;

const perfEventOutput: HelperFn = (_ctx, map, flags, data, size, ctx) => {
  const name = 'perf_event_output';
  const m = mapArg(ctx, map, name, 2);
  if (!(m instanceof PerfEventArrayMap)) fail(ctx, name, `map ${m.name} is a ${m.typeName} map, not a perf_event_array`);
  let sample = size === 0n ? EMPTY : ctx.memory.view(data, Number(size), 'load', ctx.pc);
  if ((flags & ~(INDEX_MASK | CTXLEN_MASK)) !== 0n) return -EINVAL;
  const ctxLen = Number((flags & CTXLEN_MASK) >> 32n);
  if (ctxLen > 0) {
    const packet = ctx.run.context.packet;
    if (ctxLen > packet.length) return -EFAULT;
    const joined = new Uint8Array(sample.length + ctxLen);
    joined.set(sample);
    joined.set(ctx.memory.view(BigInt(packet.address), ctxLen, 'load', ctx.pc), sample.length);
    sample = joined;
  }
  const index = Number(flags & INDEX_MASK);
  return m.output(ctx.run.cpu, index === BPF_F_CURRENT_CPU ? 'current' : index, sample);
};

export const perfHelpers: readonly StandardHelper[] = Object.freeze([helper(25, 'perf_event_output', perfEventOutput)]);
