// Ethernet/IPv4/TCP/UDP frames for the skb tests.

export interface FrameOptions {
  readonly ethertype?: number;
  readonly proto?: number;
  readonly saddr?: readonly number[];
  readonly dport?: number;
  /** IPv4 header length in 32-bit words (5 = no options). */
  readonly ihl?: number;
  readonly fragOffset?: number;
  readonly payload?: number;
}

/** An Ethernet frame: IPv4 (ihl words of header) then a 20-byte TCP/UDP header and payload bytes. */
export function frame(options: FrameOptions = {}): Uint8Array {
  const ihl = options.ihl ?? 5;
  const bytes = new Uint8Array(14 + ihl * 4 + 20 + (options.payload ?? 0));
  const v = new DataView(bytes.buffer);
  bytes.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]);
  v.setUint16(12, options.ethertype ?? 0x0800);
  bytes[14] = 0x40 | ihl;
  v.setUint16(16, bytes.length - 14);
  v.setUint16(20, options.fragOffset ?? 0x4000);
  bytes[22] = 64;
  bytes[23] = options.proto ?? 6;
  bytes.set(options.saddr ?? [10, 0, 0, 1], 26);
  bytes.set([10, 0, 0, 2], 30);
  const l4 = 14 + ihl * 4;
  v.setUint16(l4, 40000);
  v.setUint16(l4 + 2, options.dport ?? 80);
  return bytes;
}
