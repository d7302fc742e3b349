// Runs a loaded spec on one packet: puts it in the context its kind expects
// (xdp_md, __sk_buff, or the bytes themselves), runs, keeps the packet as
// the program left it when asked. The next packet's reset clears whatever
// the program (or a fault halfway through it) left in the context.
// The same code runs on the calling thread and in workers.
//
// The contexts are made at the first packet and reset for each next one
// (XdpContext.reset, SkbContext.reset: the same semantics as a new context
// per packet, without its allocations and mappings). close() unmaps them.
//
// Every kind sees the packet as an Ethernet frame by default (the caller
// applies toEthernet: raw IP and Linux cooked captures get a synthesized
// Ethernet header), since that is what XDP, tc and socket programs see in
// Linux; or as captured (frames.ts).

import { SkbContext } from '../skb.js';
import type { TraceCallback } from '../trace/types.js';
import type { EngineName, RunOptions } from '../vm.js';
import { XdpContext } from '../xdp.js';
import type { LoadedSpec } from './spec.js';

const EMPTY = new Uint8Array(0);

export class PacketRunner {
  /** The packet as the last run left it (EMPTY unless outputs are kept). */
  output: Uint8Array = EMPTY;
  private readonly spec: LoadedSpec;
  private readonly runOptions: { readonly engine: EngineName; readonly cpu: number };
  private readonly outputs: boolean;
  /** A socket filter's r0 is how many bytes to keep. */
  private readonly truncate: boolean;
  private xdp: XdpContext | undefined;
  private skb: SkbContext | undefined;

  constructor(spec: LoadedSpec, options: { engine: EngineName; cpu: number; outputs: boolean }) {
    this.spec = spec;
    this.runOptions = { engine: options.engine, cpu: options.cpu };
    this.outputs = options.outputs;
    this.truncate = spec.kind === 'socket' && spec.ctx === 'skb';
  }

  /**
   * Runs the program on `frame` (an Ethernet frame, or the packet as captured;
   * not modified) and returns r0. `len`: an skb's __sk_buff.len (>= the
   * frame's length; default the frame's length). `trace`: this run's events go there.
   */
  run(frame: Uint8Array, len?: number, trace?: TraceCallback): bigint {
    const { prog, ctx } = this.spec;
    const runOptions: RunOptions = trace === undefined ? this.runOptions : { ...this.runOptions, trace };
    if (ctx === 'raw') {
      // The program may write its input: give it a copy, the packet stays as captured.
      const bytes = frame.slice();
      const r0 = prog.run(bytes, runOptions);
      this.output = this.outputs ? bytes : EMPTY;
      return r0;
    }
    if (ctx === 'skb') {
      const context = this.skbFor(frame, len);
      const r0 = prog.run(context, runOptions);
      if (this.outputs) {
        const bytes = context.packetBytes();
        // A socket filter keeps the first r0 bytes (as the u32 Linux reads).
        this.output = this.truncate ? bytes.subarray(0, Math.min(bytes.length, Number(r0 & 0xffffffffn))) : bytes;
      }
      return r0;
    }
    const context = this.xdpFor(frame);
    const r0 = prog.run(context, runOptions);
    if (this.outputs) this.output = context.packetBytes();
    return r0;
  }

  private skbFor(frame: Uint8Array, len: number | undefined): SkbContext {
    if (this.skb === undefined) this.skb = new SkbContext(this.spec.prog.vm.memory, frame, { kind: this.spec.skbKind, len });
    else this.skb.reset(frame, { len });
    return this.skb;
  }

  private xdpFor(frame: Uint8Array): XdpContext {
    if (this.xdp === undefined) this.xdp = new XdpContext(this.spec.prog.vm.memory, frame);
    else this.xdp.reset(frame);
    return this.xdp;
  }

  /** Unmaps the contexts kept for the run. */
  close(): void {
    this.xdp?.release();
    this.skb?.release();
    this.xdp = undefined;
    this.skb = undefined;
  }
}
