// Random mutations of the fixtures' .BTF and .BTF.ext (byte and u32 writes
// of boundary values, truncations): parsing and everything asked of the
// result (resolve, sizeOf, typeName, datasecs, btfMaps, decodeValue of every
// sized type and encodeValue of what it decoded, parseBtfExt) either works or throws BtfError, and each case
// finishes (no hang: vitest's time limit ends a runaway case; no giant allocation).

import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BtfError, btfMaps, decodeValue, encodeValue, parseBtf, parseBtfExt, type Btf } from '../lib/btf/index.js';
import { FIXTURES, fixture } from './btf-builder.js';
import { UsageError } from '../lib/errors.js';

const OBJECTS = readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort();
const SECTIONS = OBJECTS.map((name) => {
  const sections = fixture(name);
  const data = (n: string) => Uint8Array.from(sections.find((s) => s.name === n)!.data);
  return { name, btf: data('.BTF'), ext: data('.BTF.ext') };
});

const mutation = fc.record({
  writes: fc.array(fc.record({
    at: fc.nat(),
    value: fc.oneof(fc.nat(0xff), fc.constantFrom(0, 1, 7, 0x18, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x1000000)),
    wide: fc.boolean(),
  }), { minLength: 1, maxLength: 6 }),
  truncate: fc.option(fc.nat(), { freq: 4 }),
});

interface Mutation { writes: { at: number; value: number; wide: boolean }[]; truncate: number | null }

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const out = Uint8Array.from(bytes);
  const v = new DataView(out.buffer);
  for (const w of m.writes) {
    if (w.wide) {
      const at = (w.at % Math.max(1, out.length - 3)) & ~3;
      if (at + 4 <= out.length) v.setUint32(at, w.value >>> 0, true);
    } else out[w.at % out.length] = w.value & 0xff;
  }
  return m.truncate === null ? out : out.subarray(0, m.truncate % (out.length + 1));
}

/** Everything a loader asks of a BTF; any failure must be a BtfError. */
function exercise(btf: Btf): void {
  for (const t of btf.types) {
    for (const step of [() => btf.resolve(t.id), () => btf.typeName(t.id), () => {
      const size = btf.sizeOf(t.id);
      if (size > 4096) return;
      const zeros = new Uint8Array(size);
      const value = decodeValue(btf, t.id, zeros);
      // What decodes encodes back to the same bytes, unless nonsensical BTF (member names
      // that collide once anonymous members are flattened) makes a value not fit (UsageError).
      if (value === undefined) return;
      try {
        expect(encodeValue(btf, t.id, value)).toEqual(zeros);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
      }
    }]) {
      try {
        step();
      } catch (e) {
        if (!(e instanceof BtfError)) throw e;
      }
    }
    if (t.kind === 'datasec') {
      try {
        btf.datasec(t.name);
      } catch (e) {
        if (!(e instanceof BtfError)) throw e;
      }
    }
  }
  try {
    btfMaps(btf);
  } catch (e) {
    if (!(e instanceof BtfError)) throw e;
  }
}

describe('mutation fuzz', () => {
  it('the unmutated fixtures exercise without errors from parsing', () => {
    for (const s of SECTIONS) {
      const btf = parseBtf(s.btf);
      exercise(btf);
      parseBtfExt(s.ext, btf);
      // Strictly here: every sized type of a clang object round-trips through decode and encode.
      for (const t of btf.types) {
        // A var of void (`extern const void sym __ksym`, kconfig.o) has no size either.
        const target = t.kind === 'var' ? btf.resolved(t.type) : btf.resolved(t.id);
        if (['void', 'func', 'func_proto', 'fwd', 'datasec'].includes(target.kind)) continue;
        const zeros = new Uint8Array(btf.sizeOf(t.id));
        const value = decodeValue(btf, t.id, zeros);
        if (value !== undefined) expect(encodeValue(btf, t.id, value)).toEqual(zeros);
      }
    }
  });

  it('mutated .BTF: BtfError or a usable result', () => {
    fc.assert(fc.property(fc.nat(SECTIONS.length - 1), mutation, (i, m) => {
      const bytes = mutate(SECTIONS[i]!.btf, m);
      let btf: Btf | undefined;
      try {
        btf = parseBtf(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(BtfError);
      }
      if (btf !== undefined) exercise(btf);
    }), { numRuns: 600, seed: 5 });
  });

  it('mutated .BTF.ext: BtfError or a result', () => {
    fc.assert(fc.property(fc.nat(SECTIONS.length - 1), mutation, (i, m) => {
      const s = SECTIONS[i]!;
      const btf = parseBtf(s.btf);
      const bytes = mutate(s.ext, m);
      try {
        parseBtfExt(bytes, btf);
      } catch (e) {
        expect(e).toBeInstanceOf(BtfError);
      }
    }), { numRuns: 600, seed: 5 });
  });

  it('type ids rewired inside the type section (cycles, wrong kinds): BtfError or a result', () => {
    let parsed = 0;
    fc.assert(fc.property(fc.nat(SECTIONS.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(40)), { minLength: 1, maxLength: 8 }), (i, writes) => {
      const bytes = Uint8Array.from(SECTIONS[i]!.btf);
      const v = new DataView(bytes.buffer);
      const start = 24 + v.getUint32(8, true);
      const words = v.getUint32(12, true) / 4;
      for (const [at, value] of writes) v.setUint32(start + (at % words) * 4, value, true);
      try {
        exercise(parseBtf(bytes));
        parsed++;
      } catch (e) {
        expect(e).toBeInstanceOf(BtfError);
      }
    }), { numRuns: 600, seed: 5 });
    // Most rewirings still parse, so the code past parsing is what this exercises.
    expect(parsed).toBeGreaterThan(200);
  });

  it('random bytes behind a valid header', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.nat(400), fc.nat(400), (body, typeLen, strLen) => {
      const out = new Uint8Array(24 + body.length);
      const v = new DataView(out.buffer);
      v.setUint16(0, 0xeb9f, true); v.setUint8(2, 1); v.setUint32(4, 24, true);
      const tl = Math.min(typeLen & ~3, body.length);
      v.setUint32(12, tl, true); v.setUint32(16, tl, true); v.setUint32(20, Math.min(strLen, body.length - tl), true);
      out.set(body, 24);
      try {
        exercise(parseBtf(out));
      } catch (e) {
        expect(e).toBeInstanceOf(BtfError);
      }
    }), { numRuns: 500, seed: 5 });
  });
});
