// toEthernet: a captured packet as an Ethernet frame, so XDP and socket-filter
// programs (which parse from an Ethernet header) can run over raw-IP, Linux
// cooked and BSD loopback captures. The header is synthesized: destination MAC zero, source MAC
// the cooked header's address when it holds a 6-byte one (else zero), EtherType
// from the cooked protocol field or the IP version nibble.

import { PcapError } from './error.js';
import {
  LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW,
  type CapturedPacket,
} from './types.js';

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
/** Linux cooked headers' protocol values below this are not EtherTypes (ETH_P_802_3, ETH_P_802_2...). */
const ETH_P_802_3_MIN = 0x0600;
const ETH_P_802_3 = 0x0001;
const ETH_P_802_2 = 0x0004;
const SLL_HDR_LEN = 16;
const SLL2_HDR_LEN = 20;

/**
 * toEthernet without the throw: the frame, or why the packet has none (a
 * runner over a capture skips such a packet and goes on, as tcpdump does
 * with a packet its filter cannot parse).
 */
export function tryToEthernet(p: CapturedPacket): { readonly frame: Uint8Array; readonly reason?: undefined } | { readonly frame?: undefined; readonly reason: string } {
  try {
    return { frame: toEthernet(p) };
  } catch (e) {
    // Only refusals of this module are reasons; anything else is a bug to surface.
    if (e instanceof PcapError) return { reason: e.reason };
    throw e;
  }
}

/** Ethernet captures are returned as they are (the same bytes, not a copy); others get a new frame. */
export function toEthernet(p: CapturedPacket): Uint8Array {
  const d = p.data;
  switch (p.linkType) {
    case LINKTYPE_ETHERNET:
      return d;
    case LINKTYPE_RAW:
      return frame(d, 0, ipEtherType(p, 0), undefined);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      // The address family's value for IPv6 differs between BSDs (24, 28, 30): the version nibble decides.
      need(p, 4, 'BSD loopback');
      return frame(d, 4, ipEtherType(p, 4), undefined);
    case LINKTYPE_IPV4:
      return frame(d, 0, ETH_P_IP, undefined);
    case LINKTYPE_IPV6:
      return frame(d, 0, ETH_P_IPV6, undefined);
    case LINKTYPE_LINUX_SLL: {
      // pkttype u16, hatype u16, halen u16, addr[8], protocol u16 (all big-endian).
      need(p, SLL_HDR_LEN, 'Linux cooked (v1)');
      const halen = (d[4]! << 8) | d[5]!;
      return frame(d, SLL_HDR_LEN, cookedType(p, (d[14]! << 8) | d[15]!, SLL_HDR_LEN), halen === 6 ? d.subarray(6, 12) : undefined);
    }
    case LINKTYPE_LINUX_SLL2: {
      // protocol u16, reserved u16, ifindex u32, hatype u16, pkttype u8, halen u8, addr[8].
      need(p, SLL2_HDR_LEN, 'Linux cooked (v2)');
      const halen = d[11]!;
      return frame(d, SLL2_HDR_LEN, cookedType(p, (d[0]! << 8) | d[1]!, SLL2_HDR_LEN), halen === 6 ? d.subarray(12, 18) : undefined);
    }
    default:
      throw new PcapError(`link type ${p.linkType} cannot be turned into Ethernet (supported: 0, 1, 101, 108, 113, 228, 229, 276)`, p.index, p.offset);
  }
}

function need(p: CapturedPacket, n: number, what: string): void {
  if (p.data.length < n) throw new PcapError(`${what} header needs ${n} bytes, the packet has ${p.data.length}`, p.index, p.offset);
}

function ipEtherType(p: CapturedPacket, from: number): number {
  const version = p.data.length > from ? p.data[from]! >> 4 : -1;
  if (version === 4) return ETH_P_IP;
  if (version === 6) return ETH_P_IPV6;
  throw new PcapError(
    version < 0 ? 'no IP header (the packet is empty past its link header)' : `IP version ${version} (expected 4 or 6)`, p.index, p.offset,
  );
}

/**
 * A cooked protocol field as an EtherType. 802.3 / 802.2 (LLC) payloads become
 * an 802.3 frame (the type field holds the payload length, as on the wire).
 */
function cookedType(p: CapturedPacket, protocol: number, hdr: number): number {
  if (protocol >= ETH_P_802_3_MIN) return protocol;
  if (protocol === ETH_P_802_3 || protocol === ETH_P_802_2) {
    const len = p.data.length - hdr;
    if (len < ETH_P_802_3_MIN) return len;
  }
  throw new PcapError(`Linux cooked protocol 0x${protocol.toString(16).padStart(4, '0')} has no Ethernet equivalent`, p.index, p.offset);
}

function frame(d: Uint8Array, from: number, etherType: number, src: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(ETH_HLEN + d.length - from);
  if (src !== undefined) out.set(src, 6);
  out[12] = etherType >> 8;
  out[13] = etherType & 0xff;
  out.set(d.subarray(from), ETH_HLEN);
  return out;
}
