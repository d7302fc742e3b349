// The standard helpers called from BPF programs, on every engine: map
// updates and their errno results, LRU eviction, per-CPU values, map-in-map,
// queues and stacks, ring buffers and perf events (records delivered to JS),
// the printf family, strings, probe reads, checksums, packets, the task and
// clock helpers and bpf_loop. Expected values come from Linux's definitions
// (errno numbers, C string and checksum semantics), computed here.
import { describe, expect, it } from 'vitest';
import { HelperError, MemoryAccessError } from '../lib/errors.js';
import type { PerfRecord } from '../lib/maps/index.js';
import { AVAILABLE_ENGINES, Vm, type EngineName, type VmOptions } from '../lib/vm.js';
import { XdpContext } from '../lib/xdp.js';

// Linux's errno values (include/uapi/asm-generic/errno-base.h).
const ENOENT = 2;
const E2BIG = 7;
const EFAULT = 14;
const EEXIST = 17;
const EINVAL = 22;
// map_update_elem flags (include/uapi/linux/bpf.h).
const BPF_ANY = 0;
const BPF_NOEXIST = 1;
const BPF_EXIST = 2;

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The signed u64 at byte `off` of `mem`. */
function i64(mem: Uint8Array, off: number): bigint {
  return new DataView(mem.buffer, mem.byteOffset, mem.byteLength).getBigInt64(off, true);
}

/** Little-endian bytes of a u64. */
function le64(v: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((BigInt.asUintN(64, v) >> BigInt(8 * i)) & 0xffn));
}

/** `r = r10 + off`. */
const stackPtr = (reg: number, off: number): string => `mov %r${reg}, %r10\nadd %r${reg}, ${off}`;

/** Copies `n` (a multiple of 8) bytes from the stack at r10+from to the input (r6) at +to. */
function copyOut(from: number, to: number, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i += 8) lines.push(`ldxdw %r1, [%r10${from + i}]`, `stxdw [%r6+${to + i}], %r1`);
  return lines.join('\n');
}

/** Fills n bytes (a multiple of 8) of the stack at r10+at with 0xff. */
function fillStack(at: number, n: number): string {
  const lines = ['lddw %r1, -1'];
  for (let i = 0; i < n; i += 8) lines.push(`stxdw [%r10${at + i}], %r1`);
  return lines.join('\n');
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

/** C's strncmp sign (Linux returns -1, 0 or 1). */
function cStrncmp(a: Uint8Array, n: number, b: Uint8Array): number {
  for (let i = 0; i < n; i++) {
    const c1 = a[i] ?? 0;
    const c2 = b[i] ?? 0;
    if (c1 !== c2) return c1 < c2 ? -1 : 1;
    if (c1 === 0) return 0;
  }
  return 0;
}

/** Ones'-complement 16-bit sum of little-endian 16-bit words (a final odd byte is a low byte). */
function ocSum(bytes: number[], start = 0): number {
  let s = start;
  for (let i = 0; i < bytes.length; i += 2) s += bytes[i]! | ((bytes[i + 1] ?? 0) << 8);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

describe.each(AVAILABLE_ENGINES)('standard helpers called by programs on the %s engine', (engine) => {
  const vmOf = (options: VmOptions = {}): Vm => new Vm({ engine, ...options });

  it('map_update_elem honours BPF_ANY/NOEXIST/EXIST with Linux errnos; map_delete_elem', () => {
    const vm = vmOf();
    const h = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 2 });
    const a = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 });
    let slot = 0;
    const update = (fd: number, key: number, value: number, flags: number): string => `
      stw [%r10-4], ${key}
      stdw [%r10-16], ${value}
      lddw %r1, map_fd ${fd}
      ${stackPtr(2, -4)}
      ${stackPtr(3, -16)}
      mov %r4, ${flags}
      call map_update_elem
      stxdw [%r6+${8 * slot++}], %r0`;
    const del = (fd: number, key: number): string => `
      stw [%r10-4], ${key}
      lddw %r1, map_fd ${fd}
      ${stackPtr(2, -4)}
      call map_delete_elem
      stxdw [%r6+${8 * slot++}], %r0`;
    const prog = vm.load(`
      mov %r6, %r1
      ${update(h.fd, 1, 10, BPF_NOEXIST)}
      ${update(h.fd, 1, 11, BPF_NOEXIST)}
      ${update(h.fd, 2, 20, BPF_EXIST)}
      ${update(h.fd, 1, 12, BPF_EXIST)}
      ${update(h.fd, 2, 20, BPF_ANY)}
      ${update(h.fd, 3, 30, BPF_ANY)}
      ${update(h.fd, 1, 13, 8)}
      ${del(h.fd, 2)}
      ${del(h.fd, 2)}
      ${update(a.fd, 1, 5, BPF_ANY)}
      ${update(a.fd, 1, 6, BPF_NOEXIST)}
      ${update(a.fd, 2, 7, BPF_ANY)}
      ${del(a.fd, 0)}
      mov %r0, 0
      exit`);
    const mem = new Uint8Array(8 * slot);
    expect(prog.run(mem)).toBe(0n);
    const results = Array.from({ length: slot }, (_, i) => i64(mem, 8 * i));
    expect(results).toEqual([
      0n, BigInt(-EEXIST), BigInt(-ENOENT), 0n, 0n, BigInt(-E2BIG), BigInt(-EINVAL), 0n, BigInt(-ENOENT),
      0n, BigInt(-EEXIST), BigInt(-E2BIG), BigInt(-EINVAL),
    ]);
    expect(h.get(1, 'u64')).toBe(12n);
    expect(h.has(2)).toBe(false);
    expect(h.has(3)).toBe(false);
    expect(h.size).toBe(1);
    expect(a.get(1, 'u64')).toBe(5n);
    expect(a.get(0, 'u64')).toBe(0n);
  });

  it('a lookup pointer is written through by the program and read from JS, and back', () => {
    const vm = vmOf();
    const h = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    h.set(7, 100n);
    const prog = vm.load(`
      ldxw %r1, [%r1]
      stxw [%r10-4], %r1
      lddw %r1, map_fd ${h.fd}
      ${stackPtr(2, -4)}
      call map_lookup_elem
      jeq %r0, 0, none
      ldxdw %r1, [%r0]
      add %r1, 5
      stxdw [%r0], %r1
      mov %r0, %r1
      exit
    none:
      lddw %r0, -1
      exit`);
    const key = (k: number): Uint8Array => new Uint8Array(new Uint32Array([k]).buffer);
    expect(prog.run(key(7))).toBe(105n);
    expect(h.get(7, 'u64')).toBe(105n);
    h.set(7, 1000n, BPF_EXIST);
    expect(prog.run(key(7))).toBe(1005n);
    expect(h.get(7, 'u64')).toBe(1005n);
    expect(prog.run(key(8))).toBe(BigInt.asUintN(64, -1n));
    expect(h.has(8)).toBe(false);
  });

  it('an LRU hash evicts the least recently used key when a program inserts into it full', () => {
    const vm = vmOf();
    const lru = vm.createMap({ type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 3 });
    let slot = 0;
    const update = (key: number): string => `
      stw [%r10-4], ${key}
      stdw [%r10-16], ${key * 10}
      lddw %r1, map_fd ${lru.fd}
      ${stackPtr(2, -4)}
      ${stackPtr(3, -16)}
      mov %r4, 0
      call map_update_elem
      stxdw [%r6+${8 * slot++}], %r0`;
    const lookup = (key: number): string => `
      stw [%r10-4], ${key}
      lddw %r1, map_fd ${lru.fd}
      ${stackPtr(2, -4)}
      call map_lookup_elem
      stxdw [%r6+${8 * slot++}], %r0`;
    const prog = vm.load(`
      mov %r6, %r1
      ${update(1)}
      ${update(2)}
      ${update(3)}
      ${lookup(1)}
      ${update(4)}
      ${update(5)}
      mov %r0, 0
      exit`);
    const mem = new Uint8Array(8 * 6);
    expect(prog.run(mem)).toBe(0n);
    // Every insertion succeeds (an LRU map never says -E2BIG); the lookup of 1 found it.
    expect([0, 1, 2, 4, 5].map((i) => i64(mem, 8 * i))).toEqual([0n, 0n, 0n, 0n, 0n]);
    expect(i64(mem, 24)).not.toBe(0n);
    // 1 was touched after 2 and 3: inserting 4 evicts 2, inserting 5 evicts 3.
    expect([1, 2, 3, 4, 5].map((k) => lru.has(k))).toEqual([true, false, false, true, true]);
    expect(lru.get(1, 'u64')).toBe(10n);
    expect(lru.get(5, 'u64')).toBe(50n);
    expect(lru.size).toBe(3);
  });

  it('a per-CPU array keeps one value per CPU; run(mem, {cpu}) picks it', () => {
    const vm = vmOf({ cpus: 2 });
    const pc = vm.createMap({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 2 });
    // value[0] += input[0]; value[1] = input[8] (update, this CPU only); r0 = the CPU.
    const prog = vm.load(`
      mov %r6, %r1
      stw [%r10-4], 0
      lddw %r1, map_fd ${pc.fd}
      ${stackPtr(2, -4)}
      call map_lookup_elem
      jeq %r0, 0, none
      ldxdw %r1, [%r6]
      lock add [%r0], %r1
      stw [%r10-4], 1
      lddw %r1, map_fd ${pc.fd}
      ${stackPtr(2, -4)}
      mov %r3, %r6
      add %r3, 8
      mov %r4, 0
      call map_update_elem
      jne %r0, 0, none
      call get_smp_processor_id
      exit
    none:
      lddw %r0, -1
      exit`);
    const input = (add: bigint, set: bigint): Uint8Array => Uint8Array.from([...le64(add), ...le64(set)]);
    expect(prog.run(input(5n, 55n), { cpu: 1 })).toBe(1n);
    expect(prog.run(input(3n, 33n), { cpu: 0 })).toBe(0n);
    expect(prog.run(input(4n, 44n), { cpu: 1 })).toBe(1n);
    expect(pc.get(0, 'u64')).toEqual([3n, 9n]);
    expect(pc.get(1, 'u64')).toEqual([33n, 44n]);
  });

  it('array_of_maps and hash_of_maps: the outer lookup gives a map the inner lookup uses', () => {
    const vm = vmOf();
    const innerDef = { type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 } as const;
    const outerA = vm.createMap({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, inner: innerDef });
    const hashDef = { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8 } as const;
    const outerH = vm.createMap({ type: 'hash_of_maps', keySize: 4, valueSize: 4, maxEntries: 4, inner: hashDef });
    const innerA = vm.createMap(innerDef);
    const innerH = vm.createMap(hashDef);
    innerA.set(2, 0x77n);
    innerH.set(5, 500n);
    outerA.set(1, innerA);
    outerH.set(0xabc, innerH);
    // input: u32 outer fd-selector (0 = array, 1 = hash), u32 outer key, u32 inner key. r0 = *value or -1 / -2.
    const prog = vm.load(`
      mov %r6, %r1
      ldxw %r1, [%r6+4]
      stxw [%r10-4], %r1
      ldxw %r1, [%r6]
      jeq %r1, 1, hash
      lddw %r1, map_fd ${outerA.fd}
      ja go
    hash:
      lddw %r1, map_fd ${outerH.fd}
    go:
      ${stackPtr(2, -4)}
      call map_lookup_elem
      jeq %r0, 0, noinner
      mov %r1, %r0
      ldxw %r2, [%r6+8]
      stxw [%r10-8], %r2
      ${stackPtr(2, -8)}
      call map_lookup_elem
      jeq %r0, 0, novalue
      ldxdw %r0, [%r0]
      exit
    noinner:
      lddw %r0, -1
      exit
    novalue:
      lddw %r0, -2
      exit`);
    const input = (sel: number, outer: number, inner: number): Uint8Array => new Uint8Array(new Uint32Array([sel, outer, inner]).buffer);
    expect(prog.run(input(0, 1, 2))).toBe(0x77n);
    expect(prog.run(input(0, 1, 3))).toBe(0n);
    expect(prog.run(input(0, 0, 2))).toBe(BigInt.asUintN(64, -1n));
    expect(prog.run(input(0, 1, 4))).toBe(BigInt.asUintN(64, -2n));
    expect(prog.run(input(1, 0xabc, 5))).toBe(500n);
    expect(prog.run(input(1, 0xabc, 6))).toBe(BigInt.asUintN(64, -2n));
    expect(prog.run(input(1, 0xabd, 5))).toBe(BigInt.asUintN(64, -1n));
  });

  it.each(['queue', 'stack'] as const)('map_push/pop/peek_elem on a %s, with BPF_EXIST overwrite and -ENOENT when empty', (type) => {
    const vm = vmOf();
    const q = vm.createMap({ type, keySize: 0, valueSize: 4, maxEntries: 2 });
    let slot = 0;
    const push = (v: number, flags: number): string => `
      stw [%r10-4], ${v}
      lddw %r1, map_fd ${q.fd}
      ${stackPtr(2, -4)}
      mov %r3, ${flags}
      call map_push_elem
      stxdw [%r6+${8 * slot++}], %r0`;
    // Stores the result, then the u32 at the destination (prefilled with 0x5eadbeef).
    const take = (name: string): string => `
      stw [%r10-8], 0x5eadbeef
      lddw %r1, map_fd ${q.fd}
      ${stackPtr(2, -8)}
      call ${name}
      stxdw [%r6+${8 * slot++}], %r0
      ldxw %r1, [%r10-8]
      stxdw [%r6+${8 * slot++}], %r1`;
    const prog = vm.load(`
      mov %r6, %r1
      ${push(1, BPF_ANY)}
      ${push(2, BPF_ANY)}
      ${push(3, BPF_ANY)}
      ${push(3, BPF_NOEXIST)}
      ${push(3, BPF_EXIST)}
      ${take('map_peek_elem')}
      ${take('map_pop_elem')}
      ${take('map_pop_elem')}
      ${take('map_pop_elem')}
      ${take('map_peek_elem')}
      ${push(9, BPF_ANY)}
      mov %r0, 0
      exit`);
    const mem = new Uint8Array(8 * slot);
    expect(prog.run(mem)).toBe(0n);
    const r = Array.from({ length: slot }, (_, i) => i64(mem, 8 * i));
    // Full: ANY is -E2BIG, other flags -EINVAL; EXIST drops the oldest (1) for both kinds.
    expect(r.slice(0, 5)).toEqual([0n, 0n, BigInt(-E2BIG), BigInt(-EINVAL), 0n]);
    const order = type === 'queue' ? [2n, 2n, 3n] : [3n, 3n, 2n];
    expect(r.slice(5, 11)).toEqual([0n, order[0], 0n, order[1], 0n, order[2]]);
    // Empty: -ENOENT and the destination zeroed.
    expect(r.slice(11, 15)).toEqual([BigInt(-ENOENT), 0n, BigInt(-ENOENT), 0n]);
    expect(r[15]).toBe(0n);
    expect(q.size).toBe(1);
    expect(q.pop('u32')).toBe(9);
  });

  describe('ring buffers', () => {
    /** reserve 8 + submit, reserve 16 + discard, output 4, four queries, two failing reserves. */
    const RING_PROG = (fd: number): string => `
      mov %r6, %r1
      lddw %r1, map_fd ${fd}
      mov %r2, 8
      mov %r3, 0
      call ringbuf_reserve
      jeq %r0, 0, fail
      lddw %r1, 0x1122334455667788
      stxdw [%r0], %r1
      mov %r1, %r0
      mov %r2, 0
      call ringbuf_submit
      lddw %r1, map_fd ${fd}
      mov %r2, 16
      mov %r3, 0
      call ringbuf_reserve
      jeq %r0, 0, fail
      stdw [%r0], 99
      mov %r1, %r0
      mov %r2, 0
      call ringbuf_discard
      stw [%r10-4], 0x0abbccdd
      lddw %r1, map_fd ${fd}
      ${stackPtr(2, -4)}
      mov %r3, 4
      mov %r4, 0
      call ringbuf_output
      stxdw [%r6+0], %r0
      ${[0, 1, 2, 3].map((flag) => `
      lddw %r1, map_fd ${fd}
      mov %r2, ${flag}
      call ringbuf_query
      stxdw [%r6+${8 + 8 * flag}], %r0`).join('\n')}
      lddw %r1, map_fd ${fd}
      mov %r2, 8
      mov %r3, 1
      call ringbuf_reserve
      stxdw [%r6+40], %r0
      lddw %r1, map_fd ${fd}
      mov %r2, 4096
      mov %r3, 0
      call ringbuf_reserve
      stxdw [%r6+48], %r0
      lddw %r1, map_fd ${fd}
      ${stackPtr(2, -4)}
      mov %r3, 4
      mov %r4, 4
      call ringbuf_output
      stxdw [%r6+56], %r0
      mov %r0, 1
      exit
    fail:
      mov %r0, 0
      exit`;
    // Record lengths: 8-byte header + size, rounded up to 8.
    const roundRec = (size: number): number => Math.ceil((8 + size) / 8) * 8;
    const produced = BigInt(roundRec(8) + roundRec(16) + roundRec(4));
    const first = le64(0x1122334455667788n);
    const second = [0xdd, 0xcc, 0xbb, 0x0a];

    it('records go to onRecord as they are submitted; discarded ones never arrive', () => {
      const vm = vmOf();
      const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 });
      const got: number[][] = [];
      rb.onRecord((r) => got.push([...r]));
      const mem = new Uint8Array(64);
      expect(vm.load(RING_PROG(rb.fd)).run(mem)).toBe(1n);
      expect(got).toEqual([first, second]);
      expect(i64(mem, 0)).toBe(0n);
      // AVAIL_DATA, RING_SIZE, CONS_POS, PROD_POS: everything was consumed at once.
      expect([8, 16, 24, 32].map((o) => i64(mem, o))).toEqual([0n, 4096n, produced, produced]);
      // Reserve with flags, or bigger than the ring: NULL. Output with unknown flags: -EINVAL.
      expect([i64(mem, 40), i64(mem, 48), i64(mem, 56)]).toEqual([0n, 0n, BigInt(-EINVAL)]);
      expect(rb.drain()).toEqual([]);
    });

    it('without a callback records wait for drain() and hold their space', () => {
      const vm = vmOf();
      const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 });
      const mem = new Uint8Array(64);
      const prog = vm.load(RING_PROG(rb.fd));
      expect(prog.run(mem)).toBe(1n);
      expect([8, 16, 24, 32].map((o) => i64(mem, o))).toEqual([produced, 4096n, 0n, produced]);
      expect(rb.drain().map((r) => [...r])).toEqual([first, second]);
      expect(rb.drain()).toEqual([]);
      // A second run: the consumer moved past the first run's records.
      expect(prog.run(mem)).toBe(1n);
      expect([8, 16, 24, 32].map((o) => i64(mem, o))).toEqual([produced, 4096n, produced, 2n * produced]);
      expect(rb.drain().map((r) => [...r])).toEqual([first, second]);
    });

    it('ringbuf_output returns -EAGAIN when the unconsumed records fill the ring', () => {
      const vm = vmOf();
      const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 });
      const output = (size: number) => vm.load(`
        mov %r6, %r1
        lddw %r1, map_fd ${rb.fd}
        mov %r2, %r6
        mov %r3, ${size}
        mov %r4, 0
        call ringbuf_output
        exit`);
      const EAGAIN = 11;
      const mem = Uint8Array.from({ length: 2040 }, (_, i) => i & 0xff);
      // 2032 bytes take 2040 with the header: two take 4080 < 4096 and fit.
      const small = output(2032);
      expect([small.run(mem), small.run(mem)].map((r) => BigInt.asIntN(64, r))).toEqual([0n, 0n]);
      expect(rb.drain().map((r) => r.length)).toEqual([2032, 2032]);
      // 2040 bytes take 2048: a second one would make producer - consumer = 4096, more than Linux's mask (4095).
      const big = output(2040);
      expect([big.run(mem), big.run(mem)].map((r) => BigInt.asIntN(64, r))).toEqual([0n, BigInt(-EAGAIN)]);
      const records = rb.drain();
      expect(records).toHaveLength(1);
      expect(records[0]).toEqual(mem);
      // Consumed: there is room again.
      expect(BigInt.asIntN(64, big.run(mem))).toBe(0n);
    });
  });

  it('perf_event_output with BPF_F_CURRENT_CPU sends to the running CPU\'s slot', () => {
    const vm = vmOf({ cpus: 2 });
    const perf = vm.createMap({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 2 });
    const got: PerfRecord[] = [];
    perf.onRecord((r) => got.push(r));
    let slot = 0;
    const output = (flags: string, value: number): string => `
      stdw [%r10-8], ${value}
      mov %r1, %r6
      lddw %r2, map_fd ${perf.fd}
      lddw %r3, ${flags}
      ${stackPtr(4, -8)}
      mov %r5, 8
      call perf_event_output
      stxdw [%r6+${8 * slot++}], %r0`;
    const prog = vm.load(`
      mov %r6, %r1
      ${output('0xffffffff', 0x1234567)}
      ${output('0', 42)}
      ${output('2', 43)}
      ${output('0x8000000000000000', 44)}
      mov %r0, 0
      exit`);
    const mem = new Uint8Array(8 * slot);
    expect(prog.run(mem, { cpu: 1 })).toBe(0n);
    expect(Array.from({ length: 4 }, (_, i) => i64(mem, 8 * i))).toEqual([0n, 0n, BigInt(-E2BIG), BigInt(-EINVAL)]);
    expect(got.map((r) => ({ cpu: r.cpu, index: r.index, data: [...r.data] }))).toEqual([
      { cpu: 1, index: 1, data: le64(0x1234567n) },
      { cpu: 1, index: 0, data: le64(42n) },
    ]);
    got.length = 0;
    expect(prog.run(mem, { cpu: 0 })).toBe(0n);
    expect(got.map((r) => [r.cpu, r.index])).toEqual([[0, 0], [0, 0]]);
  });

  it('snprintf formats %d %s %llx into the stack and returns the full length plus the NUL', () => {
    const vm = vmOf();
    const fmt = 'a=%d s=%s x=%llx';
    const prog = vm.load(`
      mov %r6, %r1
      stdw [%r10-24], -5
      mov %r1, %r6
      add %r1, 32
      stxdw [%r10-16], %r1
      lddw %r1, 0xdeadbeefcafe
      stxdw [%r10-8], %r1
      ${fillStack(-96, 64)}
      ${fillStack(-112, 16)}
      ${stackPtr(1, -96)}
      mov %r2, 64
      mov %r3, %r6
      ${stackPtr(4, -24)}
      mov %r5, 24
      call snprintf
      stxdw [%r6+48], %r0
      ${stackPtr(1, -112)}
      mov %r2, 8
      mov %r3, %r6
      ${stackPtr(4, -24)}
      mov %r5, 24
      call snprintf
      stxdw [%r6+56], %r0
      ${stackPtr(1, -112)}
      mov %r2, 8
      mov %r3, %r6
      ${stackPtr(4, -24)}
      mov %r5, 20
      call snprintf
      stxdw [%r6+64], %r0
      ${copyOut(-96, 128, 64)}
      ${copyOut(-112, 192, 16)}
      mov %r0, 0
      exit`);
    const mem = new Uint8Array(256);
    mem.set(enc(`${fmt}\0`), 0);
    mem.set(enc('hi\0'), 32);
    expect(prog.run(mem)).toBe(0n);
    const expected = `a=${-5} s=hi x=${(0xdeadbeefcafe).toString(16)}`;
    expect(i64(mem, 48)).toBe(BigInt(expected.length + 1));
    expect(dec(mem.subarray(128, 128 + expected.length))).toBe(expected);
    expect(mem[128 + expected.length]).toBe(0);
    // str_size 8: 7 bytes and a NUL, the same return value; the bytes after stay as they were.
    expect(i64(mem, 56)).toBe(BigInt(expected.length + 1));
    expect(dec(mem.subarray(192, 199))).toBe(expected.slice(0, 7));
    expect([...mem.subarray(199, 208)]).toEqual([0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    // data_len not a multiple of 8.
    expect(i64(mem, 64)).toBe(BigInt(-EINVAL));
  });

  it('trace_printk lines go to the printk sink; the result is the formatted length', () => {
    const lines: string[] = [];
    const vm = vmOf({ printk: (line) => lines.push(line) });
    const fmt = 'x=%d y=%s z=%llx\n';
    const prog = vm.load(`
      mov %r6, %r1
      mov %r1, %r6
      mov %r2, ${fmt.length + 1}
      mov %r3, -7
      mov %r4, %r6
      add %r4, 32
      mov %r5, 0xabc
      call trace_printk
      mov %r7, %r0
      mov %r1, %r6
      mov %r2, ${fmt.length}
      call trace_printk
      lsh %r0, 32
      or %r0, %r7
      exit`);
    const mem = new Uint8Array(64);
    mem.set(enc(`${fmt}\0`), 0);
    mem.set(enc('ok\0'), 32);
    const r0 = prog.run(mem);
    const text = `x=${-7} y=ok z=${(0xabc).toString(16)}\n`;
    expect(Number(r0 & 0xffffffffn)).toBe(text.length);
    // fmt_size that leaves out the NUL: -EINVAL and no line.
    expect(BigInt.asIntN(32, r0 >> 32n)).toBe(BigInt(-EINVAL));
    expect(lines).toEqual([text.slice(0, -1)]);
    expect(vm.env.printkLines).toEqual([]);
  });

  it('strncmp compares like C, at most s1_sz bytes, and returns the sign', () => {
    const vm = vmOf();
    const s2s = ['help', 'hel', 'hello', 'hellp', 'Hello'];
    let slot = 0;
    const cases: [number, string][] = [];
    const body = s2s.flatMap((s2, i) => [3, 5, 6].map((n) => {
      cases.push([n, s2]);
      return `
        ${stackPtr(1, -8)}
        mov %r2, ${n}
        mov %r3, %r6
        add %r3, ${16 * i}
        call strncmp
        stxdw [%r6+${128 + 8 * slot++}], %r0`;
    })).join('\n');
    // s1 = "hello\0" on the stack.
    const prog = vm.load(`
      mov %r6, %r1
      stw [%r10-8], 0x6c6c6568
      stb [%r10-4], 0x6f
      stb [%r10-3], 0
      ${body}
      mov %r0, 0
      exit`);
    const mem = new Uint8Array(256);
    s2s.forEach((s, i) => mem.set(enc(`${s}\0`), 16 * i));
    expect(prog.run(mem)).toBe(0n);
    const s1 = enc('hello\0');
    expect(cases.map((_, i) => i64(mem, 128 + 8 * i))).toEqual(
      cases.map(([n, s2]) => BigInt(cStrncmp(s1, n, enc(`${s2}\0`)))));
    // The cases do exercise all three answers.
    expect(new Set(cases.map(([n, s2]) => cStrncmp(s1, n, enc(`${s2}\0`))))).toEqual(new Set([-1, 0, 1]));
  });

  it('probe_read_kernel / probe_read_user_str / probe_read_kernel_str: copies, truncation, -EFAULT zeroing the destination', () => {
    const vm = vmOf();
    const LEN = 256;
    const prog = vm.load(`
      mov %r6, %r1
      ${fillStack(-8, 8)}
      ${stackPtr(1, -8)}
      mov %r2, 8
      mov %r3, %r6
      call probe_read_kernel
      stxdw [%r6+64], %r0
      ldxdw %r1, [%r10-8]
      stxdw [%r6+72], %r1
      ${fillStack(-8, 8)}
      ${stackPtr(1, -8)}
      mov %r2, 8
      mov %r3, 16
      call probe_read_kernel
      stxdw [%r6+80], %r0
      ldxdw %r1, [%r10-8]
      stxdw [%r6+88], %r1
      ${fillStack(-8, 8)}
      ${stackPtr(1, -8)}
      mov %r2, 8
      mov %r3, %r6
      add %r3, ${LEN - 4}
      call probe_read_kernel
      stxdw [%r6+96], %r0
      ldxdw %r1, [%r10-8]
      stxdw [%r6+104], %r1
      ${fillStack(-32, 16)}
      ${stackPtr(1, -32)}
      mov %r2, 4
      mov %r3, %r6
      add %r3, 16
      call probe_read_user_str
      stxdw [%r6+112], %r0
      ldxdw %r1, [%r10-32]
      stxdw [%r6+120], %r1
      ${stackPtr(1, -32)}
      mov %r2, 16
      mov %r3, %r6
      add %r3, 16
      call probe_read_user_str
      stxdw [%r6+128], %r0
      ldxdw %r1, [%r10-32]
      stxdw [%r6+136], %r1
      ${fillStack(-32, 16)}
      ${stackPtr(1, -32)}
      mov %r2, 16
      mov %r3, 16
      call probe_read_kernel_str
      stxdw [%r6+144], %r0
      ${copyOut(-32, 152, 16)}
      ${fillStack(-32, 16)}
      ${stackPtr(1, -32)}
      mov %r2, 16
      mov %r3, %r6
      add %r3, ${LEN - 3}
      call probe_read_kernel_str
      stxdw [%r6+168], %r0
      ${copyOut(-32, 176, 16)}
      mov %r0, 0
      exit`);
    const mem = new Uint8Array(LEN);
    const head = [1, 2, 3, 4, 5, 6, 7, 8];
    mem.set(head, 0);
    mem.set(enc('abcdef\0'), 16);
    mem.set(enc('xyz'), LEN - 3); // no NUL before the region ends
    expect(prog.run(mem)).toBe(0n);
    expect(i64(mem, 64)).toBe(0n);
    expect([...mem.subarray(72, 80)]).toEqual(head);
    // A source near NULL, and one that runs past its region: -EFAULT, destination zeroed.
    expect(i64(mem, 80)).toBe(BigInt(-EFAULT));
    expect(i64(mem, 88)).toBe(0n);
    expect(i64(mem, 96)).toBe(BigInt(-EFAULT));
    expect(i64(mem, 104)).toBe(0n);
    // size 4: "abc" and a NUL, result = size; the rest of dst untouched.
    expect(i64(mem, 112)).toBe(4n);
    expect([...mem.subarray(120, 128)]).toEqual([...enc('abc'), 0, 0xff, 0xff, 0xff, 0xff]);
    // size 16: the whole string, result = its length with the NUL.
    expect(i64(mem, 128)).toBe(BigInt('abcdef'.length + 1));
    expect([...mem.subarray(136, 143)]).toEqual([...enc('abcdef'), 0]);
    expect(i64(mem, 144)).toBe(BigInt(-EFAULT));
    expect([...mem.subarray(152, 168)]).toEqual(new Array(16).fill(0));
    expect(i64(mem, 168)).toBe(BigInt(-EFAULT));
    expect([...mem.subarray(176, 192)]).toEqual(new Array(16).fill(0));
  });

  it('csum_diff: to-only, from-only, both, odd sizes and a seed, folded to 16 bits', () => {
    const vm = vmOf();
    const from = [1, 2, 3, 4];
    const to = [5, 6, 7, 8];
    const carry = [0xff, 0xff, 0x02, 0x00];
    const odd = [0x12, 0x34, 0x56];
    let slot = 0;
    const call = (f: string, fs: number, t: string, ts: number, seed: number): string => `
      ${f}
      mov %r2, ${fs}
      ${t}
      mov %r4, ${ts}
      mov %r5, ${seed}
      call csum_diff
      stxdw [%r6+${64 + 8 * slot++}], %r0`;
    const at = (reg: number, off: number): string => `mov %r${reg}, %r6\nadd %r${reg}, ${off}`;
    const prog = vm.load(`
      mov %r6, %r1
      ${call(at(1, 0), 4, at(3, 8), 4, 0)}
      ${call('mov %r1, 0', 0, at(3, 16), 4, 0)}
      ${call('mov %r1, 0', 0, at(3, 24), 3, 0x10000)}
      ${call(at(1, 0), 4, 'mov %r3, 0', 0, 0)}
      ${call(at(1, 0), 4, at(3, 0), 4, 0x1234)}
      mov %r0, 0
      exit`);
    const mem = new Uint8Array(128);
    mem.set(from, 0);
    mem.set(to, 8);
    mem.set(carry, 16);
    mem.set(odd, 24);
    expect(prog.run(mem)).toBe(0n);
    const results = Array.from({ length: slot }, (_, i) => Number(i64(mem, 64 + 8 * i)));
    expect(results).toEqual([
      ocSum(to, ~ocSum(from) & 0xffff), // csum(to) - csum(from)
      ocSum(carry), // 0xffff + 2 with the carry wrapped: 2
      ocSum(odd, 1), // the seed 0x10000 folds to 1
      ~ocSum(from) & 0xffff, // -csum(from)
      0x1234, // equal buffers: the seed
    ]);
    expect(results.slice(0, 3)).toEqual([0x0808, 2, 0x3469]);
  });

  it('skb_load_bytes reads the input memory as the packet; out of range is -EFAULT with the buffer zeroed', () => {
    const vm = vmOf();
    const prog = vm.load(`
      mov %r6, %r1
      ${fillStack(-8, 8)}
      mov %r1, %r6
      mov %r2, 2
      ${stackPtr(3, -8)}
      mov %r4, 4
      call skb_load_bytes
      stxdw [%r6+40], %r0
      ldxdw %r1, [%r10-8]
      stxdw [%r6+48], %r1
      ${fillStack(-8, 8)}
      mov %r1, %r6
      mov %r2, 62
      ${stackPtr(3, -8)}
      mov %r4, 4
      call skb_load_bytes
      stxdw [%r6+56], %r0
      ldxdw %r1, [%r10-8]
      stxdw [%r6+64], %r1
      ${fillStack(-8, 8)}
      mov %r1, %r6
      lddw %r2, 0x80000000
      ${stackPtr(3, -8)}
      mov %r4, 1
      call skb_load_bytes
      stxdw [%r6+72], %r0
      ldxdw %r1, [%r10-8]
      stxdw [%r6+80], %r1
      mov %r0, 0
      exit`);
    const mem = Uint8Array.from({ length: 96 }, (_, i) => i);
    expect(prog.run(mem)).toBe(0n);
    expect(i64(mem, 40)).toBe(0n);
    expect([...mem.subarray(48, 56)]).toEqual([2, 3, 4, 5, 0xff, 0xff, 0xff, 0xff]);
    expect(i64(mem, 56)).toBe(0n); // 62 + 4 <= 96: in range
    expect([...mem.subarray(64, 72)]).toEqual([62, 63, 64, 65, 0xff, 0xff, 0xff, 0xff]);
    expect(i64(mem, 72)).toBe(BigInt(-EFAULT));
    expect([...mem.subarray(80, 88)]).toEqual([0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    // A 64-byte packet: offset 62 + 4 bytes runs past its end.
    const small = Uint8Array.from({ length: 64 }, (_, i) => i);
    const past = vm.load(`
      ${fillStack(-8, 8)}
      mov %r2, 62
      ${stackPtr(3, -8)}
      mov %r4, 4
      call skb_load_bytes
      ldxw %r1, [%r10-8]
      jne %r1, 0, bad
      ldxw %r1, [%r10-4]
      jne32 %r1, -1, bad
      exit
    bad:
      mov %r0, 1
      exit`);
    expect(BigInt.asIntN(64, past.run(small))).toBe(BigInt(-EFAULT));
  });

  it('xdp_adjust_tail shrinks and grows the packet of an XdpContext, zeroing grown bytes', () => {
    const vm = vmOf();
    const packet = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
    const xdp = new XdpContext(vm.memory, packet);
    const adjust = (delta: number, slot: number): string => `
      mov %r1, %r6
      mov %r2, ${delta}
      call xdp_adjust_tail
      stxdw [%r10-${8 * (slot + 1)}], %r0
      ldxw %r2, [%r6+0]
      ldxw %r3, [%r6+4]
      sub %r3, %r2
      stxdw [%r10-${8 * (slot + 6)}], %r3`;
    const prog = vm.load(`
      mov %r6, %r1
      ${adjust(-10, 0)}
      ${adjust(-41, 1)}
      ${adjust(20, 2)}
      ${adjust(4000, 3)}
      ${adjust(0, 4)}
      ldxw %r7, [%r6+0]
      ${Array.from({ length: 10 }, (_, i) => `ldxdw %r1, [%r10-${8 * (i + 1)}]\nstxw [%r7+${4 * i}], %r1`).join('\n')}
      mov %r0, 2
      exit`);
    expect(prog.run(xdp)).toBe(2n);
    const out = xdp.packetBytes();
    expect(out).toHaveLength(64 - 10 + 20);
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const results = Array.from({ length: 10 }, (_, i) => BigInt(view.getInt32(4 * i, true)));
    // 54 - 41 = 13 < ETH_HLEN (14): -EINVAL; 4000 more bytes do not fit the frame: -EINVAL.
    expect(results.slice(0, 5)).toEqual([0n, BigInt(-EINVAL), 0n, BigInt(-EINVAL), 0n]);
    expect(results.slice(5)).toEqual([54n, 54n, 74n, 74n, 74n]);
    // Bytes the program did not write keep the packet's; the grown ones are zero, not the old tail.
    expect([...out.subarray(40, 54)]).toEqual([...packet.subarray(40, 54)]);
    expect([...out.subarray(54)]).toEqual(new Array(20).fill(0));
    xdp.release();
  });

  it('get_current_comm pads with zeros and truncates to size - 1 and TASK_COMM_LEN - 1', () => {
    const comm = (vm: Vm, size: number): number[] => {
      const mem = new Uint8Array(24);
      const r0 = vm.load(`
        mov %r6, %r1
        ${fillStack(-24, 24)}
        ${stackPtr(1, -24)}
        mov %r2, ${size}
        call get_current_comm
        ${copyOut(-24, 0, 24)}
        exit`).run(mem);
      expect(r0).toBe(0n);
      return [...mem];
    };
    const long = 'a-very-long-process-name';
    const vm = vmOf({ comm: long });
    const ff = (n: number): number[] => new Array(n).fill(0xff);
    expect(comm(vm, 16)).toEqual([...enc(long.slice(0, 15)), 0, ...ff(8)]);
    expect(comm(vm, 4)).toEqual([...enc(long.slice(0, 3)), 0, ...ff(20)]);
    expect(comm(vm, 24)).toEqual([...enc(long.slice(0, 15)), ...new Array(9).fill(0)]);
    expect(comm(vmOf({ comm: 'ab' }), 16)).toEqual([...enc('ab'), ...new Array(14).fill(0), ...ff(8)]);
  });

  it('jiffies64, ktime_get_ns and ktime_get_boot_ns read the configured clocks; get_smp_processor_id the run\'s CPU', () => {
    let now = 2_500_000_000n;
    const vm = vmOf({ clock: () => now, bootClock: () => now + 7_000_000_123n, cpus: 4 });
    const HZ = 250n; // CONFIG_HZ=250, Linux's default
    expect(vm.load('call ktime_get_ns\nexit').run()).toBe(2_500_000_000n);
    expect(vm.load('call jiffies64\nexit').run()).toBe((2_500_000_000n * HZ) / 1_000_000_000n);
    expect(vm.load('call ktime_get_boot_ns\nexit').run()).toBe(9_500_000_123n);
    now = 10_000_000_000n;
    expect(vm.load('call jiffies64\nexit').run()).toBe(10n * HZ);
    const cpu = vm.load('call get_smp_processor_id\nexit');
    expect([cpu.run(), cpu.run(undefined, { cpu: 3 }), cpu.run(undefined, { cpu: 2 })]).toEqual([0n, 3n, 2n]);
  });

  it('get_prandom_u32 with a seed gives the same sequence on every engine', () => {
    const SAMPLE = `
      mov %r6, %r1
      ${Array.from({ length: 6 }, (_, i) => `call get_prandom_u32\nstxdw [%r6+${8 * i}], %r0`).join('\n')}
      mov %r0, 0
      exit`;
    const sequence = (e: EngineName, seed: number): bigint[] => {
      const mem = new Uint8Array(48);
      new Vm({ engine: e, seed }).load(SAMPLE).run(mem);
      return Array.from({ length: 6 }, (_, i) => i64(mem, 8 * i));
    };
    const mine = sequence(engine, 1234);
    for (const other of AVAILABLE_ENGINES) expect(sequence(other, 1234)).toEqual(mine);
    expect(mine.every((v) => v >= 0n && v <= 0xffffffffn)).toBe(true);
    expect(new Set(mine).size).toBe(6);
    expect(sequence(engine, 1235)).not.toEqual(mine);
    // The generator continues across runs of one Vm.
    const vm = new Vm({ engine, seed: 1234 });
    const one = vm.load('call get_prandom_u32\nexit');
    expect([one.run(), one.run(), one.run()]).toEqual(mine.slice(0, 3));
  });

  it('bpf_loop stops when the callback returns 1 and counts that iteration', () => {
    const vm = vmOf();
    const prog = vm.load(`
      mov %r6, %r1
      stdw [%r10-8], 0
      ldxw %r1, [%r6]
      lddw %r2, func cb
      ${stackPtr(3, -8)}
      ldxw %r4, [%r6+4]
      call loop
      stxdw [%r6+8], %r0
      ldxdw %r0, [%r10-8]
      exit
    cb:
      ldxdw %r3, [%r2]
      add %r3, %r1
      stxdw [%r2], %r3
      mov %r0, 0
      jne %r1, 4, more
      mov %r0, 1
    more:
      exit`);
    const run = (n: number, flags: number): [bigint, bigint] => {
      const mem = new Uint8Array(16);
      new DataView(mem.buffer).setUint32(0, n, true);
      new DataView(mem.buffer).setUint32(4, flags, true);
      const sum = prog.run(mem);
      return [i64(mem, 8), sum];
    };
    // Index 4 breaks: 5 iterations, sum 0+1+2+3+4.
    expect(run(100, 0)).toEqual([5n, 10n]);
    expect(run(3, 0)).toEqual([3n, 3n]);
    expect(run(0, 0)).toEqual([0n, 0n]);
    // Flags must be 0, and at most 1 << 23 iterations: the callback never runs.
    expect(run(100, 1)).toEqual([BigInt(-EINVAL), 0n]);
    expect(run((1 << 23) + 1, 0)).toEqual([BigInt(-E2BIG), 0n]);
  });

  it('argument widths follow the C prototypes: u32/int arguments and formats truncate, u64 flags do not', () => {
    const vm = vmOf({ cpus: 2 });
    const a = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 });
    const perf = vm.createMap({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const fmt = '%d %u %x %lld %llu';
    const prog = vm.load(`
      mov %r6, %r1
      lddw %r1, 0x100000005
      stxdw [%r10-40], %r1
      stdw [%r10-32], -1
      lddw %r1, 0x1000000ff
      stxdw [%r10-24], %r1
      stdw [%r10-16], -1
      stdw [%r10-8], -1
      mov %r1, %r6
      add %r1, 64
      mov %r2, 64
      mov %r3, %r6
      ${stackPtr(4, -40)}
      mov %r5, 40
      call snprintf
      stxdw [%r6+128], %r0
      stw [%r10-4], 2
      stdw [%r10-16], 1
      lddw %r1, map_fd ${a.fd}
      ${stackPtr(2, -4)}
      call map_lookup_elem
      stxdw [%r6+136], %r0
      stw [%r10-4], 1
      lddw %r1, map_fd ${a.fd}
      ${stackPtr(2, -4)}
      ${stackPtr(3, -16)}
      lddw %r4, 0x100000000
      call map_update_elem
      stxdw [%r6+144], %r0
      mov %r1, %r6
      lddw %r2, map_fd ${perf.fd}
      lddw %r3, 0xffffffff
      ${stackPtr(4, -16)}
      mov %r5, 8
      call perf_event_output
      stxdw [%r6+152], %r0
      mov %r1, 0
      mov %r2, 0
      mov %r3, 16
      call probe_read_kernel
      stxdw [%r6+160], %r0
      stdw [%r10-24], 0
      lddw %r1, 0x100000003
      lddw %r2, func cb
      ${stackPtr(3, -24)}
      mov %r4, 0
      call loop
      stxdw [%r6+168], %r0
      ldxdw %r0, [%r10-24]
      stxdw [%r6+176], %r0
      mov %r0, 0
      exit
    cb:
      ldxdw %r3, [%r2]
      add %r3, 1
      stxdw [%r2], %r3
      mov %r0, 0
      exit`);
    const mem = new Uint8Array(192);
    mem.set(enc(`${fmt}\0`), 0);
    expect(prog.run(mem, { cpu: 1 })).toBe(0n);
    // Without an l, a u64 argument is passed as a 32-bit int.
    const text = `5 ${2 ** 32 - 1} ff -1 ${2n ** 64n - 1n}`;
    expect(i64(mem, 128)).toBe(BigInt(text.length + 1));
    expect(dec(mem.subarray(64, 64 + text.length + 1))).toBe(`${text}\0`);
    expect(i64(mem, 136)).toBe(0n); // index 2 of 2: NULL
    expect(i64(mem, 144)).toBe(BigInt(-EINVAL)); // flags 1 << 32
    expect(i64(mem, 152)).toBe(BigInt(-E2BIG)); // CPU 1, one slot
    expect(i64(mem, 160)).toBe(0n); // size 0: nothing read or written
    expect([i64(mem, 168), i64(mem, 176)]).toEqual([3n, 3n]); // nr_loops is a u32
    expect(a.get(1, 'u64')).toBe(0n);
    expect(perf.drain()).toEqual([]);
  });

  it('a NULL key pointer is a MemoryAccessError at the call\'s pc', () => {
    const vm = vmOf();
    const h = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    // lddw takes pcs 0 and 1.
    const e1 = thrown(() => vm.load(`lddw %r1, map_fd ${h.fd}\nmov %r2, 0\ncall map_lookup_elem\nexit`).run());
    expect(e1).toBeInstanceOf(MemoryAccessError);
    expect((e1 as MemoryAccessError).pc).toBe(3);
    expect((e1 as MemoryAccessError).address).toBe(0n);
    const e2 = thrown(() => vm.load(`
      mov %r0, 0
      stw [%r10-4], 1
      lddw %r1, map_fd ${h.fd}
      ${stackPtr(2, -4)}
      mov %r3, 0
      mov %r4, 0
      call map_update_elem
      exit`).run());
    expect(e2).toBeInstanceOf(MemoryAccessError);
    expect((e2 as MemoryAccessError).pc).toBe(8);
    expect(h.size).toBe(0);
  });

  it('a pointer that is not a map (or the wrong kind of map) is a HelperError at the call', () => {
    const vm = vmOf();
    const h = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    const cases = [
      `mov %r1, %r10\n${stackPtr(2, -8)}\n${stackPtr(3, -16)}\nmov %r4, 0\ncall map_update_elem`,
      `mov %r1, %r10\n${stackPtr(2, -8)}\ncall map_delete_elem`,
      `lddw %r1, map_fd ${h.fd}\n${stackPtr(2, -8)}\nmov %r3, 0\ncall map_push_elem`,
      `lddw %r1, map_fd ${h.fd}\nmov %r2, 8\nmov %r3, 0\ncall ringbuf_reserve`,
      `${stackPtr(1, -8)}\nmov %r2, 0\ncall ringbuf_submit`,
      `mov %r1, %r6\nmov %r2, 0x1234\nmov %r3, 0\n${stackPtr(4, -8)}\nmov %r5, 8\ncall perf_event_output`,
    ];
    for (const body of cases) {
      // The call's pc: three instructions of prologue, then the body's (lddw takes two slots).
      const before = body.split('\n').slice(0, -1);
      const pc = 3 + before.reduce((n, line) => n + (line.startsWith('lddw') ? 2 : 1), 0);
      const err = thrown(() => vm.load(`mov %r6, %r1\nstdw [%r10-8], 0\nstdw [%r10-16], 0\n${body}\nexit`).run(new Uint8Array(8)));
      expect(err, body).toBeInstanceOf(HelperError);
      expect((err as HelperError).pc, body).toBe(pc);
    }
    expect(h.size).toBe(0);
  });
});

describe('helper results are identical on every engine', () => {
  it('one program calling many helpers leaves the same r0, memory, maps and records', () => {
    const outcome = (engine: EngineName): unknown => {
      const lines: string[] = [];
      const vm = new Vm({ engine, seed: 99, clock: () => 123_456_789_000n, comm: 'same', cpus: 2, printk: (l) => lines.push(l) });
      const h = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
      const q = vm.createMap({ type: 'queue', keySize: 0, valueSize: 8, maxEntries: 4 });
      const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 });
      const prog = vm.load(`
        mov %r6, %r1
        call get_prandom_u32
        stxdw [%r10-8], %r0
        stw [%r10-12], 3
        lddw %r1, map_fd ${h.fd}
        ${stackPtr(2, -12)}
        ${stackPtr(3, -8)}
        mov %r4, 0
        call map_update_elem
        stxdw [%r6+0], %r0
        call jiffies64
        stxdw [%r10-8], %r0
        lddw %r1, map_fd ${q.fd}
        ${stackPtr(2, -8)}
        mov %r3, 0
        call map_push_elem
        stxdw [%r6+8], %r0
        ${stackPtr(1, -32)}
        mov %r2, 16
        call get_current_comm
        lddw %r1, map_fd ${rb.fd}
        ${stackPtr(2, -32)}
        mov %r3, 16
        mov %r4, 0
        call ringbuf_output
        stxdw [%r6+16], %r0
        mov %r1, %r6
        add %r1, 64
        mov %r2, 7
        call get_smp_processor_id
        mov %r3, %r0
        call trace_printk
        stxdw [%r6+24], %r0
        mov %r1, %r6
        mov %r2, 16
        mov %r3, %r6
        add %r3, 16
        mov %r4, 16
        mov %r5, 0
        call csum_diff
        stxdw [%r6+32], %r0
        call get_prandom_u32
        exit`);
      const mem = new Uint8Array(96);
      mem.set(enc('cpu%d\0'), 64);
      const r0 = prog.run(mem, { cpu: 1 });
      return { r0, mem: [...mem], h: [...h.entries()].map(([k, v]) => [[...k], [...v]]), q: q.pop('u64'), rb: rb.drain().map((r) => [...r]), lines };
    };
    const [first, ...rest] = AVAILABLE_ENGINES.map(outcome);
    expect(AVAILABLE_ENGINES.length).toBeGreaterThanOrEqual(2);
    for (const other of rest) expect(other).toEqual(first);
    const f = first as { q: bigint; lines: string[]; rb: number[][] };
    expect(f.q).toBe((123_456_789_000n * 250n) / 1_000_000_000n);
    expect(f.lines).toEqual(['cpu1']);
    expect(f.rb).toEqual([[...enc('same'), ...new Array(12).fill(0)]]);
  });
});
