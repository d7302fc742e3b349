import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryAccessError, UsageError } from '../lib/errors.js';
import { Memory, SLOT_BYTES } from '../lib/memory.js';

function setup() {
  const mem = new Memory();
  const a = mem.map(new Uint8Array(16), { name: 'a' });
  const ro = mem.map(Uint8Array.from([1, 2, 3, 4]), { name: 'ro', readonly: true });
  return { mem, a, ro };
}

describe('Memory', () => {
  it('never maps slot 0, so NULL faults', () => {
    const { mem, a } = setup();
    expect(a.base).toBeGreaterThanOrEqual(SLOT_BYTES);
    const err = (() => { try { mem.load(0n, 4, 7); } catch (e) { return e; } })() as MemoryAccessError;
    expect(err).toBeInstanceOf(MemoryAccessError);
    expect(err.pc).toBe(7);
    expect(err.address).toBe(0n);
    expect(err.size).toBe(4);
    expect(err.kind).toBe('load');
    expect(err.message).toMatch(/NULL/);
    expect(() => mem.store(16n, 1, 0n, 0)).toThrow(/NULL/);
  });

  it('loads and stores little-endian values of every width', () => {
    const { mem, a } = setup();
    const base = BigInt(a.base);
    mem.store(base, 8, 0x1122334455667788n, 0);
    expect(a.bytes[0]).toBe(0x88);
    expect(mem.load(base, 8, 0)).toBe(0x1122334455667788n);
    expect(mem.load(base, 4, 0)).toBe(0x55667788n);
    expect(mem.load(base + 2n, 2, 0)).toBe(0x5566n);
    expect(mem.load(base + 7n, 1, 0)).toBe(0x11n);
    mem.store(base + 1n, 2, 0xffffabcdn, 0); // truncated to 16 bits
    expect(mem.load(base, 4, 0)).toBe(0x55abcd88n);
  });

  it('checks bounds on every access: the last byte is in, one past is out', () => {
    const { mem, a } = setup();
    const base = BigInt(a.base);
    expect(mem.load(base + 8n, 8, 0)).toBe(0n);
    expect(() => mem.load(base + 9n, 8, 3)).toThrow(MemoryAccessError);
    expect(() => mem.store(base + 16n, 1, 0n, 3)).toThrow(/past the end of a/);
    expect(() => mem.load(base - 1n, 1, 3)).toThrow(MemoryAccessError);
    // A failed store touches nothing.
    a.bytes.fill(0xaa);
    expect(() => mem.store(base + 12n, 8, 0n, 3)).toThrow(MemoryAccessError);
    expect([...a.bytes].every((b) => b === 0xaa)).toBe(true);
  });

  it('rejects addresses outside 32 bits (negative pointers)', () => {
    const { mem, a } = setup();
    const wrapped = BigInt.asUintN(64, BigInt(a.base) - 8n - (1n << 32n));
    expect(() => mem.load(wrapped, 1, 0)).toThrow(/32-bit address space/);
    expect(() => mem.load(1n << 32n, 1, 0)).toThrow(MemoryAccessError);
  });

  it('rejects stores to read-only regions but allows loads', () => {
    const { mem, ro } = setup();
    expect(mem.load(BigInt(ro.base), 4, 0)).toBe(0x04030201n);
    const err = (() => { try { mem.store(BigInt(ro.base), 1, 9n, 5); } catch (e) { return e; } })() as MemoryAccessError;
    expect(err.kind).toBe('store');
    expect(err.message).toMatch(/read-only/);
    expect(ro.bytes[0]).toBe(1);
  });

  it('wraps the caller bytes without copying', () => {
    const bytes = new Uint8Array(4);
    const mem = new Memory();
    const r = mem.map(bytes, { name: 'x' });
    mem.store(BigInt(r.base), 4, 0xdeadbeefn, 0);
    expect(bytes[0]).toBe(0xef);
  });

  it('unmaps regions and reuses their slots', () => {
    const mem = new Memory();
    const r = mem.map(new Uint8Array(4), { name: 'x' });
    mem.unmap(r);
    expect(() => mem.load(BigInt(r.base), 1, 0)).toThrow(/unmapped/);
    const r2 = mem.map(new Uint8Array(4), { name: 'y' });
    expect(r2.base).toBe(r.base);
  });

  it('gives large regions several slots and reports a full address space', () => {
    const mem = new Memory();
    const big = mem.map(new Uint8Array(SLOT_BYTES + 1), { name: 'big' });
    const next = mem.map(new Uint8Array(1), { name: 'next' });
    expect(next.base).toBe(big.base + 2 * SLOT_BYTES);
    expect(mem.load(BigInt(big.base + SLOT_BYTES), 1, 0)).toBe(0n);
    const tiny = new Uint8Array(1);
    expect(() => { for (let i = 0; i < 300; i++) mem.map(tiny, { name: `r${i}` }); }).toThrow(UsageError);
  });

  it('unmaps only the slots of the region it is given', () => {
    const mem = new Memory();
    const big = mem.map(new Uint8Array(SLOT_BYTES + 1), { name: 'big' });
    const after = mem.map(new Uint8Array(4), { name: 'after' });
    // Count the slot lookups unmap makes: its own two slots, not the whole table of 256.
    const slots = (mem as unknown as { slots: unknown[] }).slots;
    let reads = 0;
    (mem as unknown as { slots: unknown[] }).slots = new Proxy(slots, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    mem.unmap(big);
    expect(reads).toBe(2);
    for (const at of [big.base, big.base + SLOT_BYTES]) {
      expect(mem.regionAt(at)).toBeUndefined();
      expect(mem.tables.limits[at >>> 24]).toBe(0);
      expect(() => mem.load(BigInt(at), 1, 0)).toThrow(/unmapped/);
    }
    expect(mem.regionAt(after.base)).toBe(after);
    // A region already unmapped: its slots now belong to another, which stays.
    const reuser = mem.map(new Uint8Array(1), { name: 'reuser' });
    expect(reuser.base).toBe(big.base);
    mem.unmap(big);
    expect(mem.regionAt(big.base)).toBe(reuser);
    mem.unmap(after);
    expect(mem.regions().map((r) => r.name)).toEqual(['reuser']);
  });

  it('remaps new bytes in place of a region, with its options, at the same base when they fit its slots', () => {
    const mem = new Memory();
    const describe = (off: number) => `field@${off}`;
    const r = mem.map(new Uint8Array(8), { name: 'ctx', readonly: true, writable: [[2, 4]], describe });
    const next = mem.map(new Uint8Array(1), { name: 'next' });
    const r2 = mem.remap(r, new Uint8Array(4));
    expect(r2.base).toBe(r.base);
    expect(r2.size).toBe(4);
    expect(mem.regionAt(r.base)).toBe(r2);
    expect([r2.name, r2.readonly, r2.writable, r2.describe(0)]).toEqual(['ctx', true, [[2, 4]], 'field@0']);
    mem.store(BigInt(r2.base + 2), 2, 0xbeefn, 0);
    expect(() => mem.store(BigInt(r2.base), 1, 0n, 0)).toThrow(/field@0 is read-only/);
    expect(() => mem.load(BigInt(r2.base + 4), 1, 0)).toThrow(/past the end of ctx/);
    expect(() => mem.remap(r, new Uint8Array(4))).toThrow(UsageError); // r itself is no longer mapped

    // Growing past its slots: mapped where map() would put it (the first free run), old slot freed.
    const grown = mem.remap(r2, new Uint8Array(SLOT_BYTES + 1));
    expect(grown.base).toBe(next.base + SLOT_BYTES);
    expect(mem.regionAt(r2.base)).toBeUndefined();
    // Shrinking frees the slots it no longer needs.
    expect(() => mem.remap(grown, new Uint8Array(3))).toThrow(/writable range \[2,4\]/); // the options must fit
    expect(mem.regionAt(grown.base)).toBe(grown);
    const shrunk = mem.remap(grown, new Uint8Array(4));
    expect(shrunk.base).toBe(grown.base);
    expect(mem.regionAt(grown.base + SLOT_BYTES)).toBeUndefined();
    expect(mem.tables.ends[(grown.base + SLOT_BYTES) >>> 24]).toBe(0);
  });

  it('keeps a region mapped when remapping it finds no room', () => {
    const mem = new Memory();
    const tiny = new Uint8Array(1);
    const first = mem.map(tiny, { name: 'first' });
    expect(() => { for (let i = 0; i < 300; i++) mem.map(tiny, { name: `r${i}` }); }).toThrow(UsageError);
    expect(() => mem.remap(first, new Uint8Array(SLOT_BYTES + 1))).toThrow(/address space full/);
    expect(mem.regionAt(first.base)).toBe(first);
    expect(mem.load(BigInt(first.base), 1, 0)).toBe(0n);
  });

  it('reads C strings without running past the region', () => {
    const mem = new Memory();
    const r = mem.map(new TextEncoder().encode('abc\0def'), { name: 's' });
    expect(new TextDecoder().decode(mem.readCString(BigInt(r.base), 100, 0))).toBe('abc');
    expect(() => mem.readCString(BigInt(r.base + 4), 100, 0)).toThrow(/unterminated/);
    expect(mem.readCString(BigInt(r.base + 4), 2, 0).length).toBe(2);
  });

  it('never throws anything but MemoryAccessError for any address and size', () => {
    const { mem } = setup();
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(1, 2, 4, 8) as fc.Arbitrary<1 | 2 | 4 | 8>, (addr, size) => {
      try {
        mem.load(addr, size, 0);
        mem.store(addr, size, 0n, 0);
      } catch (e) {
        expect(e).toBeInstanceOf(MemoryAccessError);
      }
    }));
  });
});
