// An skb context: what a socket filter's or a tc program's r1 points at,
// struct __sk_buff as Linux presents it (uapi <linux/bpf.h>, 192 bytes).
//
// Two regions. The packet region holds a copy of the packet, starting at
// the MAC header as Linux's test runner and tc hooks see it (LD_ABS offset 0
// is the first byte of the Ethernet header). The ctx region holds the
// struct, whose data/data_end/data_meta are 32-bit addresses into the packet
// region: programs compare and dereference them unmodified (direct packet
// access, which Linux gives tc programs; socket filters cannot read these
// fields in Linux, but finding them set does no harm). The packet region
// ends at data_end, so an access past the packet faults.
//
// Field values, as Linux's ctx rewriting gives them: len is the packet's
// length; protocol and vlan_proto are the __be16 EtherTypes as stored in the
// skb (network byte order in the low 16 bits: ETH_P_IP reads as 0x0008, and
// C code compares with bpf_htons(ETH_P_IP)); protocol defaults to the
// packet's EtherType (bytes 12-13, as eth_type_trans would set it), or 0 for
// a packet shorter than 14 bytes. wire_len defaults to len,
// ingress_ifindex/ifindex to 1; everything else to 0. The sk_skb-only fields
// (family .. local_port), flow_keys and sk are 0 (NULL).
//
// Writes. Linux lets a tc program write mark, priority, tc_index, cb[0..4],
// tc_classid, queue_mapping and tstamp, and a socket filter only cb[0..4];
// its verifier rejects a program that stores anywhere else in the context.
// ebpf-js protects memory by whole regions, so the ctx region is writable
// and such a store is not caught when it happens: violations() lists the
// read-only fields whose bytes changed since the context was made, for
// callers that want to reject such programs after the fact.
//
// What it does not do: skb_change_head/tail, adjust_room, store_bytes or
// checksum helpers (the packet's length is fixed), VLAN offload beyond the
// three vlan_* fields, or bounds between data and data_end besides the
// region's edges.

import { UsageError } from './errors.js';
import type { Memory, Region } from './memory.js';
import type { ProgramContext } from './runtime.js';

/** sizeof(struct __sk_buff). */
export const SK_BUFF_SIZE = 192;
export const ETH_P_8021Q = 0x8100;

/** Offsets of the struct __sk_buff fields (Linux uapi). cb is u32[5]; remote_ip6/local_ip6 are u32[4]. */
export const SKB = Object.freeze({
  len: 0, pktType: 4, mark: 8, queueMapping: 12, protocol: 16, vlanPresent: 20, vlanTci: 24, vlanProto: 28,
  priority: 32, ingressIfindex: 36, ifindex: 40, tcIndex: 44, cb: 48, hash: 68, tcClassid: 72, data: 76,
  dataEnd: 80, napiId: 84, family: 88, remoteIp4: 92, localIp4: 96, remoteIp6: 100, localIp6: 116,
  remotePort: 132, localPort: 136, dataMeta: 140, flowKeys: 144, tstamp: 152, wireLen: 160, gsoSegs: 164,
  sk: 168, gsoSize: 176, tstampType: 180, hwtstamp: 184,
});
export type SkbField = keyof typeof SKB;

/** Program kinds, which differ in the fields they may write. */
export type SkbKind = 'tc' | 'socket';

/** Byte ranges [start, end) of the fields each kind may write. */
const WRITABLE: Readonly<Record<SkbKind, readonly (readonly [number, number])[]>> = Object.freeze({
  socket: [[SKB.cb, SKB.cb + 20]],
  tc: [
    [SKB.mark, SKB.mark + 4], [SKB.queueMapping, SKB.queueMapping + 4], [SKB.priority, SKB.priority + 4],
    [SKB.tcIndex, SKB.tcIndex + 4], [SKB.cb, SKB.cb + 20], [SKB.tcClassid, SKB.tcClassid + 4],
    [SKB.tstamp, SKB.tstamp + 8],
  ],
});

/** u32 fields settable at construction (host-order numbers; protocol/vlanProto are EtherTypes). */
const U32_OPTIONS = [
  'pktType', 'mark', 'queueMapping', 'priority', 'ingressIfindex', 'ifindex', 'tcIndex', 'hash', 'tcClassid',
  'napiId', 'wireLen', 'gsoSegs', 'gsoSize',
] as const;

export interface SkbOptions {
  /** Which fields the program may write (see violations()); default 'tc'. */
  readonly kind?: SkbKind;
  /** EtherType in host order (0x0800 for IPv4); default: the packet's bytes 12-13. */
  readonly protocol?: number;
  /** A VLAN tag as offload leaves it: sets vlan_present = 1, vlan_tci, vlan_proto (default 0x8100). */
  readonly vlan?: { readonly tci: number; readonly proto?: number };
  readonly pktType?: number;
  readonly mark?: number;
  readonly queueMapping?: number;
  readonly priority?: number;
  readonly ingressIfindex?: number;
  readonly ifindex?: number;
  readonly tcIndex?: number;
  /** Up to five u32 values for cb[0..4]. */
  readonly cb?: readonly number[];
  readonly hash?: number;
  readonly tcClassid?: number;
  readonly napiId?: number;
  readonly wireLen?: number;
  readonly gsoSegs?: number;
  readonly gsoSize?: number;
  readonly tstamp?: bigint;
}

function checkU32(name: string, value: unknown, max = 0xffffffff): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new UsageError(`skb option ${name} must be an integer in [0, ${max}]`);
  }
  return value;
}

function checkOptions(options: SkbOptions): void {
  if (typeof options !== 'object' || options === null) throw new UsageError('skb options must be an object');
  if (options.kind !== undefined && options.kind !== 'tc' && options.kind !== 'socket') {
    throw new UsageError("skb option kind must be 'tc' or 'socket'");
  }
  if (options.cb !== undefined && (!Array.isArray(options.cb) || options.cb.length > 5)) {
    throw new UsageError('skb option cb must be an array of at most 5 numbers');
  }
  if (options.vlan !== undefined && (typeof options.vlan !== 'object' || options.vlan === null)) {
    throw new UsageError('skb option vlan must be an object { tci, proto? }');
  }
  if (options.tstamp !== undefined && (typeof options.tstamp !== 'bigint' || BigInt.asUintN(64, options.tstamp) !== options.tstamp)) {
    throw new UsageError('skb option tstamp must be a u64 bigint');
  }
}

/** A 16-bit EtherType written as Linux stores a __be16 in a u32 field. */
function setBe16(view: DataView, offset: number, value: number): void {
  view.setUint16(offset, value, false);
}

export class SkbContext implements ProgramContext {
  readonly r1: bigint;
  readonly r2 = 0n;
  /** The packet LD_ABS/LD_IND and skb_load_bytes read: the whole packet region. */
  readonly packet: { readonly address: number; readonly length: number };
  readonly kind: SkbKind;
  private readonly memory: Memory;
  private readonly frame: Region;
  private readonly ctx: Region;
  /** The ctx bytes as made, to find stores to read-only fields. */
  private readonly initial: Uint8Array;
  private released = false;

  constructor(memory: Memory, packet: Uint8Array, options: SkbOptions = {}) {
    if (!(packet instanceof Uint8Array)) throw new UsageError('the skb packet must be a Uint8Array');
    checkOptions(options);
    const values = U32_OPTIONS.map((name) => [name, options[name] === undefined ? undefined : checkU32(name, options[name])] as const);
    const cb = (options.cb ?? []).map((v, i) => checkU32(`cb[${i}]`, v));
    const protocol = options.protocol === undefined ? undefined : checkU32('protocol', options.protocol, 0xffff);
    const vlanTci = options.vlan === undefined ? undefined : checkU32('vlan.tci', options.vlan.tci, 0xffff);
    const vlanProto = checkU32('vlan.proto', options.vlan?.proto ?? ETH_P_8021Q, 0xffff);
    this.kind = options.kind ?? 'tc';
    this.memory = memory;
    this.frame = memory.map(packet.slice(), { name: 'skb packet' });
    try {
      this.ctx = memory.map(new Uint8Array(SK_BUFF_SIZE), { name: '__sk_buff' });
    } catch (e) {
      memory.unmap(this.frame);
      throw e;
    }
    this.r1 = BigInt(this.ctx.base);
    this.packet = { address: this.frame.base, length: this.frame.size };
    const v = this.ctx.view;
    v.setUint32(SKB.len, packet.length, true);
    v.setUint32(SKB.ingressIfindex, 1, true);
    v.setUint32(SKB.ifindex, 1, true);
    v.setUint32(SKB.wireLen, packet.length, true);
    for (const [name, value] of values) if (value !== undefined) v.setUint32(SKB[name], value, true);
    cb.forEach((value, i) => v.setUint32(SKB.cb + 4 * i, value, true));
    if (protocol !== undefined) setBe16(v, SKB.protocol, protocol);
    else if (packet.length >= 14) this.ctx.bytes.set(packet.subarray(12, 14), SKB.protocol);
    if (vlanTci !== undefined) {
      v.setUint32(SKB.vlanPresent, 1, true);
      v.setUint32(SKB.vlanTci, vlanTci, true);
      setBe16(v, SKB.vlanProto, vlanProto);
    }
    if (options.tstamp !== undefined) v.setBigUint64(SKB.tstamp, options.tstamp, true);
    v.setUint32(SKB.data, this.frame.base, true);
    v.setUint32(SKB.dataEnd, this.frame.end, true);
    v.setUint32(SKB.dataMeta, this.frame.base, true);
    this.initial = this.ctx.bytes.slice();
  }

  /** Address of the packet's first byte (__sk_buff.data). */
  get data(): number {
    return this.frame.base;
  }

  /** One past the packet's last byte (__sk_buff.data_end). */
  get dataEnd(): number {
    return this.frame.end;
  }

  /** The current value of a u32 field (cb: cb[0]; use cb for all five). */
  field(name: Exclude<SkbField, 'tstamp' | 'hwtstamp' | 'flowKeys' | 'sk'>): number {
    return this.ctx.view.getUint32(SKB[name], true);
  }

  get mark(): number { return this.field('mark'); }
  get priority(): number { return this.field('priority'); }
  get tcIndex(): number { return this.field('tcIndex'); }
  get tcClassid(): number { return this.field('tcClassid'); }
  get queueMapping(): number { return this.field('queueMapping'); }
  get cb(): number[] {
    return Array.from({ length: 5 }, (_, i) => this.ctx.view.getUint32(SKB.cb + 4 * i, true));
  }
  get tstamp(): bigint {
    return this.ctx.view.getBigUint64(SKB.tstamp, true);
  }

  /** A copy of the struct __sk_buff bytes as they are now. */
  ctxBytes(): Uint8Array {
    return this.ctx.bytes.slice();
  }

  /** A copy of the packet as it is now (tc programs may write it through data). */
  packetBytes(): Uint8Array {
    return this.frame.bytes.slice();
  }

  /**
   * Fields outside what this kind may write (see the header) whose bytes
   * changed since the context was made: stores Linux's verifier would have
   * refused. Empty for a well-behaved program.
   */
  violations(): SkbField[] {
    const now = this.ctx.bytes;
    const writable = WRITABLE[this.kind];
    const changed = new Set<SkbField>();
    const fields = (Object.entries(SKB) as [SkbField, number][]).sort((a, b) => a[1] - b[1]);
    for (let at = 0; at < SK_BUFF_SIZE; at++) {
      if (now[at] === this.initial[at] || writable.some(([s, e]) => at >= s && at < e)) continue;
      // The field whose range holds `at` (the last one starting at or before it; padding counts as its field).
      let owner = fields[0]![0];
      for (const [name, offset] of fields) if (offset <= at) owner = name;
      changed.add(owner);
    }
    return [...changed];
  }

  /** Unmaps both regions; the context must not be used afterwards. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.memory.unmap(this.frame);
    this.memory.unmap(this.ctx);
  }
}
