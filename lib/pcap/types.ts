// The packet record every capture reader yields, and the LINKTYPE_* numbers
// (https://www.tcpdump.org/linktypes.html) the readers and toEthernet know.

export interface CapturedPacket {
  /** 0-based packet number in the file (across pcapng sections and interfaces). */
  readonly index: number;
  /** Byte offset of the packet's record (pcap) or block (pcapng) in the file. */
  readonly offset: number;
  /** Since the epoch. pcapng simple packet blocks carry none: their interface's if_tsoffset (usually 0n). */
  readonly timestampNs: bigint;
  /** LINKTYPE_* of its interface; the raw-IP aliases 12 and 14 read as 101. */
  readonly linkType: number;
  /** pcapng interface number within its section; 0 for pcap. */
  readonly interfaceId: number;
  /** The captured bytes: the reader's own copy, safe to keep and modify. */
  readonly data: Uint8Array;
  /** Length on the wire (>= data.length when the capture was truncated by a snaplen). */
  readonly origLen: number;
}

/** BSD loopback: a 4-byte address family in the writer's byte order (LOOP: big-endian), then IP. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_ETHERNET = 1;
/** Raw IPv4 or IPv6, the version nibble tells which. */
export const LINKTYPE_RAW = 101;
/** DLT_RAW's value on most platforms (12) and on OpenBSD (14), found in files old libpcaps wrote: read as 101. */
export const LINKTYPE_RAW_ALIASES: readonly number[] = [12, 14];
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

/** The largest captured length accepted in a record (libpcap's MAXIMUM_SNAPLEN). */
export const MAX_CAPTURED_LENGTH = 262_144;

/** The link type a reader reports for a file's value: raw-IP aliases fold to 101. */
export function normalizeLinkType(linkType: number): number {
  return LINKTYPE_RAW_ALIASES.includes(linkType) ? LINKTYPE_RAW : linkType;
}
