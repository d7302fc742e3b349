// An XDP context: what an XDP program's r1 points at, laid out as Linux
// presents it after its context rewriting.
//
// Two regions. The frame holds the packet with XDP_PACKET_HEADROOM (256)
// bytes before it and room after it, so xdp_adjust_head / xdp_adjust_tail
// move within one mapping and never remap. The ctx region holds struct
// xdp_md { u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index,
// egress_ifindex }, whose data/data_end/data_meta are 32-bit addresses into
// the frame: programs compare and dereference them unmodified. The ctx is
// read-only to programs (as in Linux); adjustments rewrite it.
//
// The frame is a 4096-byte page, as Linux's test runner uses, or larger for
// a bigger packet. Linux's limits: the head may move down to just past a
// struct xdp_frame (40 bytes) at the frame's start and up to ETH_HLEN (14)
// bytes before data_end; the tail may shrink to ETH_HLEN bytes of packet and
// grow up to the frame's end less the skb_shared_info reserve (320 bytes).
// Anything else is -EINVAL and changes nothing. Grown tail bytes are zeroed.
// There is no metadata area (no xdp_adjust_meta): data_meta equals data.
//
// reset(packet) readies the same context for the next packet, as a runner
// over a capture does: a new context per packet allocates a frame and maps
// two regions, which cost as much as running a small program. The frame is
// zeroed and refilled exactly as the constructor fills a new one; its
// mapping is kept when the new packet needs a frame of the same size (every
// packet up to 3520 bytes gets one page) and remapped otherwise (at the
// same address unless the frame outgrows its 16 MiB slot), so the frame's
// size, and with it adjust_tail's limit, is always the one a new context
// would have. xdp_md's ingress_ifindex and rx_queue_index keep the
// constructor's options.
//
// What it does not do: bounds between data and data_end. A program may read
// headroom and tailroom bytes (the kernel's verifier would refuse it); only
// the frame's edges fault.

import { EINVAL } from './errno.js';
import { UsageError } from './errors.js';
import type { Memory, Region } from './memory.js';
import type { ProgramContext, XdpBuffer } from './runtime.js';

export const XDP_PACKET_HEADROOM = 256;
export const ETH_HLEN = 14;
/** sizeof(struct xdp_frame) on 64-bit Linux: kept free at the frame's start. */
export const XDP_FRAME_RESERVE = 40;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: kept free at the frame's end. */
export const XDP_TAIL_RESERVE = 320;
const PAGE_SIZE = 4096;
/** Size of struct xdp_md. */
export const XDP_MD_SIZE = 24;

/** Offsets of the struct xdp_md fields. */
export const XDP_MD = Object.freeze({
  data: 0, dataEnd: 4, dataMeta: 8, ingressIfindex: 12, rxQueueIndex: 16, egressIfindex: 20,
});

const XDP_MD_NAMES = ['data', 'data_end', 'data_meta', 'ingress_ifindex', 'rx_queue_index', 'egress_ifindex'];

/** The C name of the xdp_md field holding byte `offset` (a store there faults naming it). */
export function xdpFieldAt(offset: number): string {
  return `xdp_md.${XDP_MD_NAMES[Math.floor(offset / 4)] ?? 'unknown'}`;
}

export interface XdpOptions {
  readonly ingressIfindex?: number;
  readonly rxQueueIndex?: number;
}

/** Bytes of the mapped frame for a packet of `length` bytes (the skb_shared_info reserve is never packet data). */
function frameBytes(length: number): number {
  return Math.max(PAGE_SIZE, XDP_PACKET_HEADROOM + length + XDP_TAIL_RESERVE) - XDP_TAIL_RESERVE;
}

export class XdpContext implements ProgramContext, XdpBuffer {
  readonly r1: bigint;
  readonly r2 = 0n;
  /** The current packet's address and length (they change with adjustments). */
  readonly packet: { readonly address: number; readonly length: number };
  readonly xdp: XdpBuffer = this;
  private readonly memory: Memory;
  /** The frame's mapping: the first frameBytes(packet length) bytes of `backing`. */
  private frame: Region;
  /** The largest frame made so far; smaller frames are views of it, so reset() allocates only to grow. */
  private backing: Uint8Array;
  private readonly ctx: Region;
  /** Offsets in the frame of the packet's first byte and one past its last. */
  private start = XDP_PACKET_HEADROOM;
  private end = XDP_PACKET_HEADROOM;
  private released = false;

  constructor(memory: Memory, packet: Uint8Array, options: XdpOptions = {}) {
    this.memory = memory;
    this.backing = new Uint8Array(frameBytes(packet.length));
    this.frame = memory.map(this.backing, { name: 'xdp packet' });
    try {
      this.ctx = memory.map(new Uint8Array(XDP_MD_SIZE), { name: 'xdp_md', readonly: true, describe: xdpFieldAt });
    } catch (e) {
      memory.unmap(this.frame);
      throw e;
    }
    this.r1 = BigInt(this.ctx.base);
    // Only the constructor writes these: xdp_md is read-only to programs, so reset() need not.
    this.ctx.view.setUint32(XDP_MD.ingressIfindex, (options.ingressIfindex ?? 1) >>> 0, true);
    this.ctx.view.setUint32(XDP_MD.rxQueueIndex, (options.rxQueueIndex ?? 0) >>> 0, true);
    this.ctx.view.setUint32(XDP_MD.egressIfindex, 0, true);
    this.fill(packet);
    const self = this;
    this.packet = {
      get address() { return self.frame.base + self.start; },
      get length() { return self.end - self.start; },
    };
  }

  /**
   * Readies the context for `packet`, as `new XdpContext(memory, packet,
   * options)` with this context's options would (same frame size, zeroed
   * headroom and tailroom, same xdp_md), keeping its mappings when they fit.
   */
  reset(packet: Uint8Array): void {
    if (this.released) throw new UsageError('the xdp context was released');
    if (!(packet instanceof Uint8Array)) throw new UsageError('the xdp packet must be a Uint8Array');
    const size = frameBytes(packet.length);
    // (bytes.length, not the size getter's byteLength: this runs once per packet, and it is measurably faster.)
    if (size !== this.frame.bytes.length) {
      if (size > this.backing.length) this.backing = new Uint8Array(size);
      this.frame = this.memory.remap(this.frame, this.backing.subarray(0, size));
    }
    this.fill(packet);
  }

  /** Zeroes the frame, puts `packet` at the headroom's end and points xdp_md at it (the frame fits it). */
  private fill(packet: Uint8Array): void {
    const bytes = this.frame.bytes;
    // One fill of the whole frame: faster than filling around the packet (two fills with bounds).
    bytes.fill(0);
    bytes.set(packet, XDP_PACKET_HEADROOM);
    this.start = XDP_PACKET_HEADROOM;
    this.end = XDP_PACKET_HEADROOM + packet.length;
    this.writePointers();
  }

  /** Address of the packet's first byte (xdp_md.data). */
  get data(): number {
    return this.frame.base + this.start;
  }

  /** One past the packet's last byte (xdp_md.data_end). */
  get dataEnd(): number {
    return this.frame.base + this.end;
  }

  /** bpf_xdp_adjust_head: moves the packet's start by `delta` bytes (negative: grows the packet). */
  adjustHead(delta: number): number {
    const start = this.start + delta;
    if (start < XDP_FRAME_RESERVE || start > this.end - ETH_HLEN) return -EINVAL;
    this.start = start;
    this.writePointers();
    return 0;
  }

  /** bpf_xdp_adjust_tail: moves the packet's end by `delta` bytes (positive: grows it, zero-filled). */
  adjustTail(delta: number): number {
    const end = this.end + delta;
    if (end > this.frame.size || end < this.start + ETH_HLEN) return -EINVAL;
    if (end > this.end) this.frame.bytes.fill(0, this.end, end);
    this.end = end;
    this.writePointers();
    return 0;
  }

  /** A copy of the packet as it is now (after the program's adjustments and writes). */
  packetBytes(): Uint8Array {
    return this.frame.bytes.slice(this.start, this.end);
  }

  /** Unmaps both regions; the context must not be used afterwards. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.memory.unmap(this.frame);
    this.memory.unmap(this.ctx);
  }

  private writePointers(): void {
    const v = this.ctx.view;
    const base = this.frame.base;
    v.setUint32(XDP_MD.data, base + this.start, true);
    v.setUint32(XDP_MD.dataEnd, base + this.end, true);
    v.setUint32(XDP_MD.dataMeta, base + this.start, true);
  }
}
