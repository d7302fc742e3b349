// Programs (eBPF assembly, so no clang is needed) and packets for the
// capture tests, shared by the one-thread and the worker tests.

import type { MapDefinition } from '../lib/maps/index.js';
import type { CapturedPacket } from '../lib/pcap/types.js';

/** Map definitions of COUNTER, created in this order (map_idx 0, 1, 2). */
export const COUNTER_MAPS: readonly MapDefinition[] = [
  // [0] = { packets, bytes } updated with atomic adds.
  { type: 'array', keySize: 4, valueSize: 16, maxEntries: 1, name: 'totals' },
  // first byte & 7 -> packets, created on first sight (BPF_NOEXIST, then looked up again), atomic add.
  { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, name: 'by_low_bits' },
  // [0] += 1 with a plain load/add/store: per CPU, so no atomics needed.
  { type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1, name: 'per_cpu' },
];

/**
 * XDP: counts every packet of 14 bytes or more in the three maps above and
 * returns XDP_PASS when its first byte is odd, XDP_DROP when even; shorter
 * packets: XDP_ABORTED. A first byte of 0x77 loads from address 0 (a fault).
 */
export const COUNTER = `
  mov %r6, %r1
  ldxw %r7, [%r6+0]
  ldxw %r8, [%r6+4]
  mov %r2, %r7
  add %r2, 14
  jgt %r2, %r8, abort
  ldxb %r9, [%r7+0]
  jne %r9, 0x77, counted
  mov %r1, 0
  ldxb %r0, [%r1+0]
counted:
  mov %r1, 0
  stxw [%r10-4], %r1
  mov %r2, %r10
  add %r2, -4
  lddw %r1, map_idx 0
  call map_lookup_elem
  jeq %r0, 0, abort
  mov %r1, 1
  lock add [%r0+0], %r1
  mov %r1, %r8
  sub %r1, %r7
  lock add [%r0+8], %r1
  mov %r1, %r9
  and %r1, 7
  stxw [%r10-4], %r1
  mov %r2, %r10
  add %r2, -4
  lddw %r1, map_idx 1
  call map_lookup_elem
  jne %r0, 0, hit
  mov %r1, 0
  stxdw [%r10-16], %r1
  mov %r2, %r10
  add %r2, -4
  mov %r3, %r10
  add %r3, -16
  mov %r4, 1
  lddw %r1, map_idx 1
  call map_update_elem
  mov %r2, %r10
  add %r2, -4
  lddw %r1, map_idx 1
  call map_lookup_elem
  jeq %r0, 0, abort
hit:
  mov %r1, 1
  lock add [%r0+0], %r1
  mov %r1, 0
  stxw [%r10-4], %r1
  mov %r2, %r10
  add %r2, -4
  lddw %r1, map_idx 2
  call map_lookup_elem
  jeq %r0, 0, abort
  ldxdw %r1, [%r0+0]
  add %r1, 1
  stxdw [%r0+0], %r1
  mov %r0, 1
  and %r9, 1
  jeq %r9, 0, out
  mov %r0, 2
out:
  exit
abort:
  mov %r0, 0
  exit
`;

/**
 * XDP: grows the packet by 2 bytes at the front (bpf_xdp_adjust_head -2),
 * writes 0xab 0xcd there and returns XDP_TX; XDP_ABORTED if that fails.
 */
export const PUSH_HEAD = `
  mov %r6, %r1
  mov %r2, -2
  call xdp_adjust_head
  jne %r0, 0, abort
  ldxw %r7, [%r6+0]
  ldxw %r8, [%r6+4]
  mov %r2, %r7
  add %r2, 2
  jgt %r2, %r8, abort
  mov %r1, 0xab
  stxb [%r7+0], %r1
  mov %r1, 0xcd
  stxb [%r7+1], %r1
  mov %r0, 3
  exit
abort:
  mov %r0, 0
  exit
`;

/** Map of EVENTS: a ring buffer. */
export const EVENTS_MAPS: readonly MapDefinition[] = [{ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, name: 'events' }];

/**
 * XDP: trace_printk("n=%d", first byte), then bpf_ringbuf_output of the
 * first byte as a u64 when it is odd; XDP_PASS.
 */
export const EVENTS = `
  mov %r6, %r1
  ldxw %r7, [%r6+0]
  ldxw %r8, [%r6+4]
  mov %r2, %r7
  add %r2, 1
  jgt %r2, %r8, out
  ldxb %r9, [%r7+0]
  lddw %r1, 0x64253d6e
  stxdw [%r10-8], %r1
  mov %r1, %r10
  add %r1, -8
  mov %r2, 5
  mov %r3, %r9
  call trace_printk
  mov %r1, %r9
  and %r1, 1
  jeq %r1, 0, out
  stxdw [%r10-16], %r9
  lddw %r1, map_idx 0
  mov %r2, %r10
  add %r2, -16
  mov %r3, 8
  mov %r4, 0
  call ringbuf_output
out:
  mov %r0, 2
  exit
`;

/** `tcpdump -ddd ip`: keep IPv4 packets whole (262144 bytes), drop the rest. */
export const CBPF_IP = '4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n';

/** An Ethernet frame: first byte `first`, EtherType IPv4 (or ARP when `arp`), `len` bytes in all. */
export function frame(first: number, len: number, arp = false): Uint8Array {
  const bytes = new Uint8Array(len);
  for (let i = 0; i < len; i++) bytes[i] = (i * 13 + first) & 0xff;
  bytes[0] = first;
  if (len >= 14) {
    bytes[12] = 0x08;
    bytes[13] = arp ? 0x06 : 0x00;
  }
  return bytes;
}

/** `n` Ethernet packets with varied first bytes and lengths (14..113), some ARP; never a first byte of 0x77. */
export function packets(n: number): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  let offset = 24;
  for (let i = 0; i < n; i++) {
    let first = (i * 37 + 11) & 0xff;
    if (first === 0x77) first = 0x78;
    const data = frame(first, 14 + ((i * 7) % 100), i % 5 === 0);
    out.push({ index: i, offset, timestampNs: BigInt(i) * 1000n, linkType: 1, interfaceId: 0, data, origLen: data.length });
    offset += 16 + data.length;
  }
  return out;
}

/** What COUNTER gives for `list`: verdicts in order, and the map contents. */
export function expectedCounter(list: readonly CapturedPacket[]) {
  const verdicts = list.map((p) => (p.data.length < 14 ? 0n : (p.data[0]! & 1) === 1 ? 2n : 1n));
  const byLowBits = new Map<number, bigint>();
  let bytes = 0n;
  for (const p of list) {
    bytes += BigInt(p.data.length);
    const k = p.data[0]! & 7;
    byLowBits.set(k, (byLowBits.get(k) ?? 0n) + 1n);
  }
  return { verdicts, packets: BigInt(list.length), bytes, byLowBits };
}
