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
// length, or the `len` option (a packet cut by a capture's snaplen: its
// length on the wire, which classic BPF's `ld len` reads as libpcap's
// bpf_filter reads wirelen; loads stay bounded by the bytes present); protocol and vlan_proto are the __be16 EtherTypes as stored in the
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
// Here the ctx region is read-only with those fields as its writable ranges
// (lib/memory.ts): a store elsewhere, or one reaching past its field, is a
// MemoryAccessError naming the field ("__sk_buff.len is read-only") when it
// happens, on both engines. Stores of any width inside a field are allowed
// (Linux insists on the field's own width for most of them, and cb may take
// any aligned width); atomics on the context are refused, as in Linux.
//
// reset(packet) readies the same context for the next packet, as a runner
// over a capture does (a new context per packet costs as much as running a
// small filter): the struct is rewritten from the options as the
// constructor writes it, so nothing a program wrote shows in the next
// packet, and the packet region is remapped only when the length changes
// (at the same address, unless the packet outgrows its 16 MiB slot).
//
// What it does not do: skb_change_head/tail, adjust_room, store_bytes or
// checksum helpers (the packet's length is fixed), VLAN offload beyond the
// three vlan_* fields, or bounds between data and data_end besides the
// region's edges.

import { UsageError } from './errors.js';
import type { ByteRange, Memory, Region } from './memory.js';
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
export const SKB_WRITABLE: Readonly<Record<SkbKind, readonly ByteRange[]>> = Object.freeze({
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

/** Fields by offset, for naming the one a store hits. */
const FIELDS = (Object.entries(SKB) as [SkbField, number][]).sort((a, b) => a[1] - b[1]);
/** Fields that are u32 arrays: their elements are named with an index. */
const ARRAYS: ReadonlyMap<SkbField, number> = new Map([['cb', 5], ['remoteIp6', 4], ['localIp6', 4]]);

/**
 * The C name of the __sk_buff byte at `offset`: the field whose range holds
 * it (padding counts as the field before it), with an index in arrays.
 */
export function skbFieldAt(offset: number): string {
  let owner = FIELDS[0]!;
  for (const f of FIELDS) if (f[1] <= offset) owner = f;
  const [name, start] = owner;
  const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const count = ARRAYS.get(name);
  const index = count === undefined ? '' : `[${Math.min(count - 1, Math.floor((offset - start) / 4))}]`;
  return `__sk_buff.${snake}${index}`;
}

/** What may differ per packet (the constructor's options and reset()'s). */
export interface SkbPacketOptions {
  /**
   * __sk_buff.len for this packet: its length on the wire when the bytes
   * given are a capture's first ones (>= the packet's length, <= 2^32 - 1).
   * Default: the packet's length. LD_ABS/LD_IND, skb_load_bytes and
   * data_end still end at the bytes given.
   */
  readonly len?: number;
}

export interface SkbOptions extends SkbPacketOptions {
  /** Which fields the program may write (see the header); default 'tc'. */
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

/** The len option for `packet`: a u32 at least the packet's length. */
function checkLen(options: SkbPacketOptions | undefined, packet: Uint8Array): number {
  if (options === undefined || options.len === undefined) return packet.length;
  const len = options.len;
  if (typeof len !== 'number' || !Number.isInteger(len) || len < packet.length || len > 0xffffffff) {
    throw new UsageError(`skb option len must be an integer in [${packet.length} (the packet's length), ${0xffffffff}], got ${String(len)}`);
  }
  return len;
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
  /** The packet's mapping: a view of `backing` exactly as long as the packet, so access past it faults. */
  private frame: Region;
  /** The buffer packets are copied into; reset() allocates only when a packet outgrows it. */
  private backing: Uint8Array;
  private readonly ctx: Region;
  /** The struct's bytes as the options set them, before the per-packet fields (len, data ...). */
  private readonly template: Uint8Array;
  /** Whether wire_len and protocol follow the packet (no option gave them). */
  private readonly wireLenFromPacket: boolean;
  private readonly protocolFromPacket: boolean;
  private readonly current = { address: 0, length: 0 };
  private released = false;

  constructor(memory: Memory, packet: Uint8Array, options: SkbOptions = {}) {
    if (!(packet instanceof Uint8Array)) throw new UsageError('the skb packet must be a Uint8Array');
    checkOptions(options);
    const len = checkLen(options, packet);
    const values = U32_OPTIONS.map((name) => [name, options[name] === undefined ? undefined : checkU32(name, options[name])] as const);
    const cb = (options.cb ?? []).map((v, i) => checkU32(`cb[${i}]`, v));
    const protocol = options.protocol === undefined ? undefined : checkU32('protocol', options.protocol, 0xffff);
    const vlanTci = options.vlan === undefined ? undefined : checkU32('vlan.tci', options.vlan.tci, 0xffff);
    const vlanProto = checkU32('vlan.proto', options.vlan?.proto ?? ETH_P_8021Q, 0xffff);
    this.kind = options.kind ?? 'tc';
    this.template = new Uint8Array(SK_BUFF_SIZE);
    const t = new DataView(this.template.buffer);
    t.setUint32(SKB.ingressIfindex, 1, true);
    t.setUint32(SKB.ifindex, 1, true);
    for (const [name, value] of values) if (value !== undefined) t.setUint32(SKB[name], value, true);
    cb.forEach((value, i) => t.setUint32(SKB.cb + 4 * i, value, true));
    if (protocol !== undefined) setBe16(t, SKB.protocol, protocol);
    if (vlanTci !== undefined) {
      t.setUint32(SKB.vlanPresent, 1, true);
      t.setUint32(SKB.vlanTci, vlanTci, true);
      setBe16(t, SKB.vlanProto, vlanProto);
    }
    if (options.tstamp !== undefined) t.setBigUint64(SKB.tstamp, options.tstamp, true);
    this.wireLenFromPacket = options.wireLen === undefined;
    this.protocolFromPacket = protocol === undefined;
    this.memory = memory;
    this.backing = packet.slice();
    this.frame = memory.map(this.backing, { name: 'skb packet' });
    try {
      this.ctx = memory.map(new Uint8Array(SK_BUFF_SIZE), {
        name: '__sk_buff', readonly: true, writable: SKB_WRITABLE[this.kind], describe: skbFieldAt,
      });
    } catch (e) {
      memory.unmap(this.frame);
      throw e;
    }
    this.r1 = BigInt(this.ctx.base);
    this.packet = this.current;
    this.fill(packet, len);
  }

  /**
   * Readies the context for `packet`, as `new SkbContext(memory, packet,
   * options)` with this context's options would: the struct rewritten from
   * the options (what the last program wrote to cb, mark ... is gone), the
   * packet region exactly the packet. The struct's mapping is kept (r1 does
   * not change); the packet's is kept for a packet of the same length and
   * remapped otherwise (Memory.remap: at the same address when it fits the slots).
   * `perPacket.len` is this packet's __sk_buff.len (default: its length; the
   * constructor's `len` described the constructor's packet only).
   */
  reset(packet: Uint8Array, perPacket?: SkbPacketOptions): void {
    if (this.released) throw new UsageError('the skb context was released');
    if (!(packet instanceof Uint8Array)) throw new UsageError('the skb packet must be a Uint8Array');
    if (perPacket !== undefined && (typeof perPacket !== 'object' || perPacket === null)) throw new UsageError('skb reset options must be an object');
    const len = checkLen(perPacket, packet);
    const length = packet.length;
    if (length !== this.frame.bytes.length) {
      if (length > this.backing.length) this.backing = new Uint8Array(Math.max(length, 2 * this.backing.length));
      this.frame = this.memory.remap(this.frame, this.backing.subarray(0, length));
    }
    this.frame.bytes.set(packet);
    this.fill(packet, len);
  }

  /** Writes the struct for `packet` (already in the packet region) whose __sk_buff.len is `len`. */
  private fill(packet: Uint8Array, len: number): void {
    const c = this.ctx.bytes;
    c.set(this.template);
    const v = this.ctx.view;
    const length = packet.length;
    v.setUint32(SKB.len, len, true);
    if (this.wireLenFromPacket) v.setUint32(SKB.wireLen, len, true);
    if (this.protocolFromPacket && length >= 14) {
      c[SKB.protocol] = packet[12]!;
      c[SKB.protocol + 1] = packet[13]!;
    }
    v.setUint32(SKB.data, this.frame.base, true);
    v.setUint32(SKB.dataEnd, this.frame.end, true);
    v.setUint32(SKB.dataMeta, this.frame.base, true);
    this.current.address = this.frame.base;
    this.current.length = length;
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

  /** Unmaps both regions; the context must not be used afterwards. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.memory.unmap(this.frame);
    this.memory.unmap(this.ctx);
  }
}
