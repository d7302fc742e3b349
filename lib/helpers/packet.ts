// Packet helpers: skb_load_bytes (26), csum_diff (28), xdp_adjust_head (44),
// xdp_adjust_tail (65). The packet is the run's ProgramContext's (plain
// input memory or an XdpContext, lib/xdp.ts).
//
// skb_load_bytes(ctx, offset, to, len): copies packet bytes; an offset past
// INT_MAX or a range past the packet's end zeroes `to` and returns -EFAULT.
// csum_diff(from, from_size, to, to_size, seed): Linux 6.13's version, the
// same on every architecture: any sizes (either may be 0, then its pointer
// is not read), a 16-bit result (checksum.ts).
// xdp_adjust_*: delegated to the context; a context without XDP is a
// HelperError (Linux only offers these helpers to XDP programs).

import { EFAULT } from '../errno.js';
import type { HelperFn } from '../runtime.js';
import { csumDiff } from './checksum.js';
import { EMPTY, fail, helper, s32, u32, type StandardHelper } from './common.js';

const INT_MAX = 0x7fffffff;

const skbLoadBytes: HelperFn = (_ctx, offset, to, len, _5, ctx) => {
  const n = u32(len);
  const off = u32(offset);
  const out = n === 0 ? EMPTY : ctx.memory.view(to, n, 'store', ctx.pc);
  const packet = ctx.run.context.packet;
  if (off > INT_MAX || off + n > packet.length) {
    out.fill(0);
    return -EFAULT;
  }
  if (n > 0) out.set(ctx.memory.view(BigInt(packet.address + off), n, 'load', ctx.pc));
  return 0;
};

const csumDiffHelper: HelperFn = (from, fromSize, to, toSize, seed, ctx) => {
  const fromLen = u32(fromSize);
  const toLen = u32(toSize);
  const a = fromLen === 0 ? EMPTY : ctx.memory.view(from, fromLen, 'load', ctx.pc);
  const b = toLen === 0 ? EMPTY : ctx.memory.view(to, toLen, 'load', ctx.pc);
  return csumDiff(a, b, u32(seed));
};

function xdpAdjust(name: string, which: 'adjustHead' | 'adjustTail'): HelperFn {
  return (_ctx, delta, _3, _4, _5, ctx) => {
    const xdp = ctx.run.context.xdp;
    if (xdp === undefined) fail(ctx, name, 'the program does not run on an XDP context');
    return xdp[which](s32(delta));
  };
}

export const packetHelpers: readonly StandardHelper[] = Object.freeze([
  helper(26, 'skb_load_bytes', skbLoadBytes),
  helper(28, 'csum_diff', csumDiffHelper),
  helper(44, 'xdp_adjust_head', xdpAdjust('xdp_adjust_head', 'adjustHead')),
  helper(65, 'xdp_adjust_tail', xdpAdjust('xdp_adjust_tail', 'adjustTail')),
]);
