import { describe, expect, it } from 'vitest';
import { MemoryAccessError } from '../lib/errors.js';
import { makeWorld, PC } from './helpers-world.js';

const EFAULT = -14n;
const PROBE_READS = [4, 112, 113];
const PROBE_READ_STRS = [114, 115];
const STRNCMP = 182;

describe('probe_read, probe_read_user, probe_read_kernel', () => {
  it('copies size bytes and returns 0', () => {
    for (const id of PROBE_READS) {
      const w = makeWorld();
      const src = w.put(0, Uint8Array.of(1, 2, 3, 4, 5));
      expect(w.call(id, w.at(100), 4, src)).toBe(0n);
      expect([...w.bytes(100, 5)]).toEqual([1, 2, 3, 4, 0]);
    }
  });

  it('zeroes the destination and returns -EFAULT when the source is bad', () => {
    for (const id of PROBE_READS) {
      const w = makeWorld();
      w.scratch.bytes.fill(0xaa, 100, 110);
      expect(w.call(id, w.at(100), 8, 8)).toBe(EFAULT); // NULL page
      expect(w.call(id, w.at(100), 8, w.at(4092))).toBe(EFAULT); // runs off the region
      expect(w.call(id, w.at(100), 8, 1n << 40n)).toBe(EFAULT); // beyond 32 bits
      expect([...w.bytes(100, 10)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0xaa, 0xaa]);
    }
  });

  it('does nothing for size 0, even with NULL pointers; reads size as u32', () => {
    const w = makeWorld();
    expect(w.call(4, 0, 0, 0)).toBe(0n);
    expect(w.call(4, 0, 1n << 32n, 0)).toBe(0n);
  });

  it('copies overlapping ranges correctly', () => {
    const w = makeWorld();
    w.put(0, Uint8Array.of(1, 2, 3, 4, 5, 6));
    expect(w.call(4, w.at(2), 4, w.at(0))).toBe(0n);
    expect([...w.bytes(0, 6)]).toEqual([1, 2, 1, 2, 3, 4]);
  });

  it('faults with the call pc on a bad destination, before reading anything', () => {
    const w = makeWorld();
    const err = (() => { try { w.call(113, w.at(4090), 16, w.at(0)); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(MemoryAccessError);
    expect((err as MemoryAccessError).pc).toBe(PC);
    expect((err as MemoryAccessError).kind).toBe('store');
    expect(() => w.call(4, 0, 4, w.at(0))).toThrow(MemoryAccessError);
  });
});

describe('probe_read_user_str, probe_read_kernel_str', () => {
  it('copies up to the NUL and returns the length including it; the rest of dst is untouched', () => {
    for (const id of PROBE_READ_STRS) {
      const w = makeWorld();
      const src = w.put(0, 'hello');
      w.scratch.bytes.fill(0xaa, 100, 116);
      expect(w.call(id, w.at(100), 16, src)).toBe(6n);
      expect([...w.bytes(100, 8)]).toEqual([...new TextEncoder().encode('hello'), 0, 0xaa, 0xaa]);
    }
  });

  it('cuts a string that does not fit to size - 1 bytes and a NUL, returning size', () => {
    const w = makeWorld();
    const src = w.put(0, 'hello world');
    expect(w.call(114, w.at(100), 6, src)).toBe(6n);
    expect(new TextDecoder().decode(w.bytes(100, 6))).toBe('hello\0');
    expect(w.call(114, w.at(200), 1, src)).toBe(1n);
    expect(w.bytes(200, 1)[0]).toBe(0);
  });

  it('zeroes the whole destination and returns -EFAULT on a fault, even after some bytes', () => {
    const w = makeWorld();
    w.scratch.bytes.fill(0x41, 4090, 4096); // no NUL before the region's end
    w.scratch.bytes.fill(0xaa, 100, 116);
    expect(w.call(115, w.at(100), 16, w.at(4090))).toBe(EFAULT);
    expect([...w.bytes(100, 16)].every((b) => b === 0)).toBe(true);
    expect(w.call(115, w.at(100), 16, 0)).toBe(EFAULT);
    // Reading exactly to the region's end is no fault: 6 bytes fit in a size of 6.
    expect(w.call(115, w.at(200), 6, w.at(4090))).toBe(6n);
    expect(new TextDecoder().decode(w.bytes(200, 6))).toBe('AAAAA\0');
  });

  it('returns 0 for size 0', () => {
    const w = makeWorld();
    expect(w.call(114, 0, 0, 0)).toBe(0n);
  });
});

describe('strncmp', () => {
  it('returns the sign of the first difference within s1_sz bytes', () => {
    const w = makeWorld();
    const s1 = w.put(0, 'abcdef');
    expect(w.call(STRNCMP, s1, 6, w.put(100, 'abcdef'))).toBe(0n);
    expect(w.call(STRNCMP, s1, 3, w.put(100, 'abcxyz'))).toBe(0n);
    expect(w.call(STRNCMP, s1, 4, w.put(100, 'abcxyz'))).toBe(-1n);
    expect(w.call(STRNCMP, s1, 6, w.put(100, 'abcaaa'))).toBe(1n);
    expect(w.call(STRNCMP, s1, 6, w.put(100, 'abc'))).toBe(1n); // s2 ends first
    expect(w.call(STRNCMP, w.put(200, 'ab'), 6, w.put(100, 'abc'))).toBe(-1n); // s1's NUL comes first
  });

  it('stops after a common NUL and ignores what follows', () => {
    const w = makeWorld();
    const s1 = w.put(0, Uint8Array.of(0x61, 0, 0x78));
    const s2 = w.put(100, Uint8Array.of(0x61, 0, 0x79));
    expect(w.call(STRNCMP, s1, 3, s2)).toBe(0n);
  });

  it('faults when s1 is not readable for s1_sz bytes', () => {
    const w = makeWorld();
    expect(() => w.call(STRNCMP, w.at(4090), 16, w.put(0, 'x'))).toThrow(MemoryAccessError);
  });
});
