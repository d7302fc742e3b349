// What the page starts with: an assembly example, the maps it uses, and
// sample packets to run packet programs on. Data only.

/** The prefilled assembly: a loop, a memory write, a helper call and a map, so every panel has something to show. */
export const EXAMPLE_ASM = `# r1 = address of the input, r2 = its length.
# Sums the input bytes into r0, stores the sum's low byte over
# byte 0 and counts the runs in counts[0] (map fd 1, see Maps).
  mov %r6, %r1
  mov %r7, %r2
  mov %r8, 0              # the sum
  mov %r3, 0              # index
loop:
  jge %r3, %r7, done
  mov %r4, %r6
  add %r4, %r3
  ldxb %r5, [%r4]
  add %r8, %r5
  add %r3, 1
  ja loop
done:
  jeq %r7, 0, count
  stxb [%r6], %r8
count:
  stw [%r10-4], 0         # key 0
  mov %r2, %r10
  add %r2, -4
  lddw %r1, map_fd 1
  call map_lookup_elem
  jeq %r0, 0, out
  mov %r1, 1
  lock add [%r0], %r1     # counts[0] += 1
out:
  mov %r0, %r8
  exit
`;

/** The maps of the assembly example, created in order (fds 1, 2, ...) before it loads. */
export const EXAMPLE_MAPS = `[{ "type": "array", "name": "counts",
   "keySize": 4, "valueSize": 8, "maxEntries": 4 }]`;

export const EXAMPLE_INPUT = '01 02 03 04 05 06 07 08';

/** An Ethernet + IPv4 + TCP SYN packet from 10.0.0.1:40000 to 10.0.0.2:`port` (checksums left 0: no program here checks them). */
export function tcpSyn(port: number): Uint8Array {
  const p = new Uint8Array(54);
  const v = new DataView(p.buffer);
  p.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0); // dst, src MAC
  v.setUint16(12, 0x0800); // IPv4
  p[14] = 0x45; // version 4, IHL 5
  v.setUint16(16, 40); // total length
  p[22] = 64; // TTL
  p[23] = 6; // TCP
  p.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  v.setUint16(34, 40000);
  v.setUint16(36, port);
  p[46] = 0x50; // data offset 5 words
  p[47] = 0x02; // SYN
  v.setUint16(48, 64240); // window
  return p;
}

/** An Ethernet + IPv4 + UDP packet (a DNS query's headers) from 10.0.0.1 to 10.0.0.53:53. */
export function udpDns(): Uint8Array {
  const p = new Uint8Array(42);
  const v = new DataView(p.buffer);
  p.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  v.setUint16(12, 0x0800);
  p[14] = 0x45;
  v.setUint16(16, 28);
  p[22] = 64;
  p[23] = 17; // UDP
  p.set([10, 0, 0, 1, 10, 0, 0, 53], 26);
  v.setUint16(34, 50000);
  v.setUint16(36, 53);
  v.setUint16(38, 8);
  return p;
}

export const SAMPLE_PACKETS: Readonly<Record<string, () => Uint8Array>> = {
  'TCP SYN to port 80': () => tcpSyn(80),
  'TCP SYN to port 23 (telnet)': () => tcpSyn(23),
  'UDP to port 53': udpDns,
};
