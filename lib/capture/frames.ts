// What each captured packet is given to the program as (CaptureJob.frames),
// and the packets that cannot be given to it: those are skipped and counted,
// not fatal (tcpdump too goes on past a packet its filter cannot parse).
//
// 'ethernet': toEthernet's frame; a packet it refuses (a cooked header cut
// short, an empty raw-IP packet, an IP version other than 4 or 6 ...) is
// skipped with its reason. 'captured': the bytes as captured; a packet
// whose link type differs from the first packet's is skipped (classic BPF
// compiled for one link type means nothing on another).
//
// For a cbpf spec, the skb's len is the wire length of what the program
// sees: origLen plus whatever toEthernet added (or took away) in front.

import { tryToEthernet } from '../pcap/index.js';
import type { CapturedPacket } from '../pcap/types.js';
import type { SkippedPacket } from './types.js';

/** How many skipped packets a CaptureResult lists. */
export const SKIPPED_EXAMPLES = 10;

export interface Framed {
  readonly frame: Uint8Array;
  /** __sk_buff.len, or undefined for the frame's own length. */
  readonly len: number | undefined;
}

export class Framer {
  private readonly captured: boolean;
  private readonly wireLen: boolean;
  private linkType: number | undefined;

  constructor(frames: 'ethernet' | 'captured', wireLen: boolean) {
    this.captured = frames === 'captured';
    this.wireLen = wireLen;
  }

  /** The packet's frame and len, or the reason it is skipped. */
  frame(p: CapturedPacket): Framed | string {
    let frame: Uint8Array;
    if (this.captured) {
      this.linkType ??= p.linkType;
      if (p.linkType !== this.linkType) return `link type ${p.linkType} differs from the first packet's ${this.linkType}`;
      frame = p.data;
    } else {
      const f = tryToEthernet(p);
      if (f.frame === undefined) return f.reason;
      frame = f.frame;
    }
    if (!this.wireLen) return { frame, len: undefined };
    // A record claiming less on the wire than it holds (a broken writer), or a
    // hand-made packet without origLen: the bytes held win.
    const orig = Number.isSafeInteger(p.origLen) ? p.origLen : p.data.length;
    const len = Math.min(0xffffffff, Math.max(frame.length, orig + frame.length - p.data.length));
    return { frame, len };
  }
}

/** The skipped packets of a run: a count and the first few. */
export class Skips {
  count = 0;
  readonly examples: SkippedPacket[] = [];

  add(p: { readonly index: number; readonly offset: number }, reason: string): void {
    this.count++;
    if (this.examples.length < SKIPPED_EXAMPLES) this.examples.push({ index: p.index, offset: p.offset, reason });
  }
}
