// codegen/lower-mem.ts against the reference interpreter: every load/store
// width, sign extension, every atomic, packet loads, and faults, whose
// MemoryAccessError must match the interpreter's field for field. Each case
// runs the same program on both engines (test/lower-world.ts) and compares
// registers, memory, early ends and errors; expected values never come from
// the code under test.
import fc from 'fast-check';
import { generate } from 'astring';
import { describe, expect, it } from 'vitest';
import { lowerMem } from '../codegen/lower-mem.js';
import { createRuntime } from '../codegen/runtime.js';
import { interpret } from '../lib/interpreter.js';
import type { CompileOptions } from '../codegen/context.js';
import type { HelperFn } from '../lib/runtime.js';
import { CODE_ADDRESS_BASE } from '../lib/code-address.js';
import { assembleProgram, both, LAYOUT, makeWorld, runReference, type Outcome, type RunSetup } from './lower-world.js';

const hex = (v: bigint | number): string => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
const lddw = (reg: number, v: bigint | number): string => `lddw %r${reg}, ${hex(v)}`;
const mem = (reg: number, off: number): string => `[%r${reg}${off < 0 ? off : `+${off}`}]`;

const D = BigInt(LAYOUT.data);
const RO = BigInt(LAYOUT.rodata);
const TWO32 = 1n << 32n;

/** Runs both engines and requires identical outcomes; returns the reference's. */
function same(main: string, funcs = '', setup: RunSetup = {}): Outcome {
  const { ref, jit } = both(main, funcs, setup);
  expect(jit).toEqual(ref);
  return ref;
}

const SUFFIX = { 8: 'b', 16: 'h', 32: 'w', 64: 'dw' } as const;
const WIDTHS = [8, 16, 32, 64] as const;
const BYTES = { 8: 1, 16: 2, 32: 4, 64: 8 } as const;

describe('ldx and ldsx', () => {
  for (const w of WIDTHS) {
    for (const off of [0, 3, 64 - BYTES[w]]) {
      it(`ldx${SUFFIX[w]} at data+${off} zero-extends`, () => {
        const ref = same(`ldx${SUFFIX[w]} %r0, ${mem(1, off)}`);
        expect(ref.regs).toBeDefined();
      });
      if (w !== 64) {
        it(`ldxs${SUFFIX[w]} at data+${off} sign-extends`, () => {
          const ref = same(`ldxs${SUFFIX[w]} %r0, ${mem(1, off)}\nldxs${SUFFIX[w]} %r4, ${mem(1, off + 1 > 64 - BYTES[w] ? 0 : off + 1)}`);
          // The pattern has both signs somewhere: at least one load is negative.
          expect(ref.regs!.slice(0, 5).some((r) => r >= 1n << 63n)).toBe(true);
        });
      }
    }
  }
  it('a load into its own base register reads the address first', () => {
    same('ldxdw %r1, [%r1+8]');
    same('ldxsw %r1, [%r1+4]');
    same('ldxb %r1, [%r1+63]');
  });
  it('negative offsets', () => {
    same(`${lddw(3, D + 20n)}\nldxh %r0, [%r3-7]\nldxsb %r5, [%r3-20]`);
  });
  it('r10-based loads (the frame pointer has no high half)', () => {
    same('ldxdw %r0, [%r10-8]\nldxsb %r2, [%r10-512]\nldxw %r3, [%r10-4096]\nldxsh %r4, [%r10-1023]');
  });
  it('read-only and packet regions load', () => {
    same(`${lddw(3, RO)}\nldxdw %r0, [%r3+8]\n${lddw(4, LAYOUT.packet)}\nldxw %r5, [%r4+28]`);
  });
});

describe('st and stx', () => {
  for (const w of WIDTHS) {
    for (const imm of [-2, 0x7fffffff, -0x80000000, 0x1234, 0x80]) {
      it(`st${SUFFIX[w]} ${imm} truncates (DW: sign-extends)`, () => {
        same(`st${SUFFIX[w]} [%r1+5], ${imm}\nldxdw %r0, [%r1+5]\nst${SUFFIX[w]} [%r10-8], ${imm}\nldxdw %r3, [%r10-8]`);
      });
    }
    it(`stx${SUFFIX[w]} stores the low ${w} bits`, () => {
      same(`${lddw(2, 0x8877665544332211n)}\nstx${SUFFIX[w]} [%r1+7], %r2\nldxdw %r0, [%r1+7]\nstx${SUFFIX[w]} [%r10-3], %r2`);
    });
    it(`stx${SUFFIX[w]} of r10 (a plain number) stores its bits`, () => {
      same(`stx${SUFFIX[w]} [%r1+0], %r10\nldxdw %r0, [%r1+0]\nstx${SUFFIX[w]} [%r10-16], %r10`);
    });
  }
  it('a store through a register that is also the value', () => {
    same('stxdw [%r1+16], %r1\nstxw [%r1+40], %r1\nldxdw %r0, [%r1+16]');
  });
});

const RMW = ['add', 'or', 'and', 'xor'] as const;

/** Memory at data+8 and the operand chosen so the 64-bit add carries out of the low half. */
const ATOMIC_SETUP = `${lddw(5, 0xffffffff80000001n)}\nstxdw [%r1+8], %r5\n${lddw(2, 0x0000000180000003n)}`;

describe('atomics', () => {
  for (const w of [32, 64] as const) {
    const sfx = w === 32 ? '32' : '';
    for (const op of RMW) {
      for (const fetch of [false, true]) {
        it(`lock ${fetch ? 'fetch ' : ''}${op}${sfx}`, () => {
          same(`${ATOMIC_SETUP}\nlock ${fetch ? 'fetch ' : ''}${op}${sfx} [%r1+8], %r2\nldxdw %r0, [%r1+8]`);
        });
      }
      it(`lock ${op}${sfx} on the stack with r10 as the value`, () => {
        same(`${lddw(2, -3n)}\nstxdw [%r10-8], %r2\nlock ${op}${sfx} [%r10-8], %r10\nldxdw %r0, [%r10-8]`);
      });
    }
    it(`lock fetch add${sfx} whose src is its base`, () => {
      same(`${ATOMIC_SETUP}\nlock fetch add${sfx} [%r1+8], %r1\nldxdw %r0, [%r1+8]`);
    });
    it(`lock xchg${sfx}`, () => {
      same(`${ATOMIC_SETUP}\nlock xchg${sfx} [%r1+8], %r2\nldxdw %r0, [%r1+8]`);
    });
    it(`lock cmpxchg${sfx} stores on equality`, () => {
      const ref = same(`${ATOMIC_SETUP}\n${lddw(0, 0xffffffff80000001n)}\nlock cmpxchg${sfx} [%r1+8], %r2\nldxdw %r3, [%r1+8]`);
      expect(ref.regs![3]).not.toBe(0xffffffff80000001n);
    });
    it(`lock cmpxchg${sfx} leaves memory on inequality`, () => {
      const ref = same(`${ATOMIC_SETUP}\n${lddw(0, 0xffffffff80000002n)}\nlock cmpxchg${sfx} [%r1+8], %r2\nldxdw %r3, [%r1+8]`);
      expect(ref.regs![3]).toBe(0xffffffff80000001n);
    });
    it(`lock cmpxchg${sfx} compares ${w === 32 ? 'only the low half' : 'both halves'} of r0`, () => {
      const ref = same(`${ATOMIC_SETUP}\n${lddw(0, 0x1234567880000001n)}\nlock cmpxchg${sfx} [%r1+8], %r2\nldxdw %r3, [%r1+8]`);
      expect(ref.regs![3] === 0xffffffff80000001n).toBe(w === 64);
    });
    it(`lock cmpxchg${sfx} with r0 as the new value and r10 as the base`, () => {
      same(`${lddw(0, 0x77n)}\nstxdw [%r10-16], %r0\nlock cmpxchg${sfx} [%r10-16], %r0\nldxdw %r3, [%r10-16]`);
      same(`${lddw(0, 0x77n)}\nstxdw [%r10-16], %r0\nlock cmpxchg${sfx} [%r10-16], %r10\nldxdw %r3, [%r10-16]`);
    });
    it(`lock add${sfx} faults as a store: read-only, past the end, NULL`, () => {
      for (const prog of [
        `${lddw(4, RO)}\nlock add${sfx} [%r4+0], %r2`,
        `lock fetch add${sfx} [%r1+${64 - w / 8 + 1}], %r2`,
        `${lddw(4, 0)}\nlock cmpxchg${sfx} [%r4+8], %r2`,
      ]) {
        const ref = same(prog);
        expect(ref.error).toMatchObject({ code: 'MEMORY_ACCESS', kind: 'store' });
      }
    });
  }
});

/** Base values and offsets whose accesses must fault, each with a different reason or address shape. */
const FAULTS: ReadonlyArray<readonly [string, bigint, number]> = [
  ['NULL', 0n, 0],
  ['NULL plus an offset', 0n, 16],
  ['one past the end', D + 64n, 0],
  ['straddling the end (2 bytes and wider)', D + 63n, 0],
  ['just below a region (past the end of the one before)', D, -1],
  ['high half set', D | TWO32, 0],
  ['high half 1, negative offset wrapping into the code slot', TWO32 + 0x10n, -0x20],
  ['0 with a negative offset (wraps to 2^64 - 1)', 0n, -1],
  ['0xffffffff + 1 (2^32)', 0xffffffffn, 1],
  ['0xfffffff0 + 0x7fff', 0xfffffff0n, 0x7fff],
  ['2^64 - 1 + 1 (wraps to NULL)', (1n << 64n) - 1n, 1],
  ['unmapped slot', 0x50000000n, 0],
  ['the code-address slot', BigInt(CODE_ADDRESS_BASE) + 4n, 0],
  ['a huge value', 0x8000000000000000n, -32768],
];

describe('faults match the interpreter (class, code, message, pc, address, size, kind)', () => {
  for (const [what, base, off] of FAULTS) {
    for (const w of WIDTHS) {
      if (w === 8 && what.startsWith('straddling')) continue;
      it(`${what}: ldx${SUFFIX[w]}, ldxs, st${SUFFIX[w]}, stx${SUFFIX[w]}`, () => {
        const forms = [`ldx${SUFFIX[w]} %r0, ${mem(3, off)}`, `st${SUFFIX[w]} ${mem(3, off)}, 1`, `stx${SUFFIX[w]} ${mem(3, off)}, %r2`];
        if (w !== 64) forms.push(`ldxs${SUFFIX[w]} %r0, ${mem(3, off)}`);
        for (const form of forms) {
          const ref = same(`${lddw(3, base)}\n${form}`);
          expect(ref.error).toMatchObject({ name: 'MemoryAccessError', pc: 2, size: BYTES[w] });
        }
      });
    }
  }
  it('a store to a read-only region faults with the region named; a load does not', () => {
    expect(same(`${lddw(4, RO)}\nstw [%r4+0], 1`).error).toMatchObject({ kind: 'store', message: expect.stringContaining('read-only') });
    expect(same(`${lddw(4, RO)}\nstxb [%r4+15], %r1`).error).toMatchObject({ kind: 'store' });
    expect(same(`${lddw(4, RO)}\nldxb %r0, [%r4+15]`).regs).toBeDefined();
  });
  it('r10-based accesses past either end of the stack', () => {
    expect(same('ldxb %r0, [%r10+0]').error).toMatchObject({ message: expect.stringContaining('past the end of stack') });
    expect(same('stxdw [%r10-4097], %r1').error).toMatchObject({ message: expect.stringContaining('NULL') });
    expect(same('ldxdw %r0, [%r10-4]').error).toMatchObject({ size: 8 });
  });
  it('a faulting store changes nothing, and the stores before it stay', () => {
    const ref = same(`stdw [%r1+0], -1\n${lddw(3, D + 62n)}\nstxw [%r3+0], %r3`);
    const fresh = makeWorld();
    expect(ref.memory.data!.slice(0, 8)).toEqual(Array(8).fill(255));
    expect(ref.memory.data!.slice(8)).toEqual([...fresh.data.bytes.slice(8)]);
  });
});

// Checked accesses share a per-function cache of the last slot's table
// entries (lower-mem.ts): it must follow accesses from slot to slot and
// forget everything at calls, where a helper may unmap and map regions.
describe('the slot cache', () => {
  /** Helper 1: unmaps the data region and maps 8 bytes in its place (the lowest free slot, data's). */
  const REMAP: HelperFn = (_r1, _r2, _r3, _r4, _r5, ctx) => {
    const data = ctx.memory.regions().find((r) => r.name === 'data')!;
    ctx.memory.unmap(data);
    const small = ctx.memory.map(new Uint8Array(8).fill(0xab), { name: 'small' });
    if (small.base !== data.base) throw new Error('test setup: the new region did not take the data slot');
    return 0n;
  };
  const helpers = new Map([[1, REMAP]]);

  it('follows one register from region to region (limits and write limits of each)', () => {
    same(`${lddw(3, RO)}\nldxdw %r0, [%r3+8]\nmov %r3, %r1\nldxdw %r4, [%r3+56]\nstxdw [%r3+0], %r0\n${lddw(3, LAYOUT.packet)}\nstw [%r3+28], 7`);
    // A store to the read-only region right after a load from it (same slot, cached) faults.
    expect(same(`${lddw(3, RO)}\nldxb %r0, [%r3+0]\nstb [%r3+1], 1`).error).toMatchObject({ name: 'MemoryAccessError', pc: 3 });
    // Past the end of a cached slot's region, and back into another one.
    expect(same('ldxb %r0, [%r1+63]\nldxb %r0, [%r1+64]').error).toMatchObject({ pc: 1 });
    same(`ldxb %r0, [%r1+63]\n${lddw(2, RO)}\nldxb %r4, [%r2+15]\nldxb %r5, [%r1+0]`);
  });
  it('is emptied after a helper call: a region replaced in the same slot is seen', () => {
    const ref = same('ldxb %r6, [%r1+0]\nmov %r7, %r1\ncall 1\nldxb %r8, [%r7+7]\nldxb %r9, [%r7+8]', '', { helpers });
    expect(ref.error).toMatchObject({ name: 'MemoryAccessError', pc: 4 });
    same('ldxb %r6, [%r1+0]\nmov %r7, %r1\ncall 1\nldxb %r0, [%r7+7]', '', { helpers });
  });
  it('is emptied after a local call whose callee calls the helper', () => {
    const funcs = 'f1:\ncall 1\nexit';
    const ref = same('ldxb %r6, [%r1+16]\nmov %r7, %r1\ncall local f1\nldxb %r8, [%r7+16]', funcs, { helpers });
    expect(ref.error).toMatchObject({ name: 'MemoryAccessError', pc: 3 });
  });
});

describe('packet loads (ldabs, ldind)', () => {
  for (const w of [8, 16, 32] as const) {
    const n = BYTES[w];
    for (const imm of [0, 5, 32 - n]) {
      it(`ldabs${SUFFIX[w]} ${imm} loads big-endian, zero-extended`, () => {
        expect(same(`${lddw(0, -1n)}\nldabs${SUFFIX[w]} ${imm}`).regs).toBeDefined();
      });
    }
    for (const imm of [32 - n + 1, -1, 0x7fffffff, -0x80000000]) {
      it(`ldabs${SUFFIX[w]} ${imm} is out of bounds: the run ends with r0 = 0`, () => {
        expect(same(`${lddw(0, 5n)}\nldabs${SUFFIX[w]} ${imm}`)).toMatchObject({ ended: true, r0: 0n });
      });
    }
    const INDS: ReadonlyArray<readonly [bigint, number]> = [
      [4n, 2], [30n, -30], [0n, 32 - n],
      // out of bounds: no wrapping of the u64 sum, so none of these comes back in range
      [0n, -1], [0xffffffffn, 1], [TWO32 + 2n, -0x80000000], [(1n << 64n) - 1n, 1], [TWO32, 0], [32n, 0],
    ];
    for (const [reg, imm] of INDS) {
      it(`ldind${SUFFIX[w]} r3 = ${hex(reg)}, imm ${imm}`, () => {
        same(`${lddw(3, reg)}\nldind${SUFFIX[w]} %r3, ${imm}`);
      });
    }
    it(`ldind${SUFFIX[w]} through r10 is out of bounds`, () => {
      expect(same(`ldind${SUFFIX[w]} %r10, 0`)).toMatchObject({ ended: true });
    });
  }
  it('a packet the runner says is 4 GiB: offsets past 2^31 are computed exactly (then fault)', () => {
    // No real packet is that large; the runner's length is trusted and the
    // load itself is still bounds-checked, so both engines fault identically.
    const program = assembleProgram(`${lddw(3, TWO32 + 5n)}\nldindb %r3, -2147483648\nexit`, new Map());
    const world = makeWorld();
    const packet = { address: world.packet.base, length: 0xffffffff };
    const env = {
      memory: world.memory, helpers: new Map(), unwindHelper: undefined, budget: undefined, maxCallDepth: 8,
      stackTop: world.stack.end, r1: 0n, r2: 0n, packet,
    };
    let want: unknown;
    try {
      interpret(program, env);
    } catch (e) {
      want = e;
    }
    expect(want).toMatchObject({ name: 'MemoryAccessError', address: BigInt(packet.address) + (1n << 31n) + 5n });
    const rt = createRuntime(world.memory, new Map(), program, 8, world.stack);
    rt.setPacket(packet.address, packet.length);
    let got: unknown;
    try {
      rt.PKT(2, 5, 1, -2147483648, 1);
    } catch (e) {
      got = e;
    }
    expect(got).toEqual(want);
    expect(rt.PKT(2, 5, 2, -2147483648, 1)).toBe(-1);
  });
  it('a W load with the top bit set keeps all 32 bits in r0 (high half 0)', () => {
    const ref = same('ldabsw 1');
    expect(ref.regs![0]).toBeGreaterThanOrEqual(0x80000000n);
    expect(ref.regs![0]).toBeLessThan(TWO32);
  });
});

describe('random accesses agree with the interpreter', () => {
  const bases = fc.oneof(
    fc.constantFrom(D, D + 60n, RO, BigInt(LAYOUT.stack), BigInt(LAYOUT.stackTop) - 8n, BigInt(LAYOUT.packet), 0n, D | TWO32,
      0xffffffffn, 0xfffffff0n, (1n << 64n) - 1n, BigInt(CODE_ADDRESS_BASE), 0x50000000n, D - 1n),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  );
  const offs = fc.oneof(fc.integer({ min: -16, max: 70 }), fc.integer({ min: -32768, max: 32767 }));
  const forms = fc.oneof(
    fc.tuple(fc.constantFrom('ldx', 'st', 'stx'), fc.constantFrom(...WIDTHS)),
    fc.tuple(fc.constant('ldxs'), fc.constantFrom(8, 16, 32)),
    fc.tuple(fc.constantFrom('add', 'fetch add', 'or', 'fetch and', 'xor', 'xchg', 'cmpxchg'), fc.constantFrom(32, 64)),
  );
  it('300 programs', () => {
    fc.assert(fc.property(bases, offs, forms, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (base, off, [form, w], value) => {
      const m = mem(3, off);
      const sfx = SUFFIX[w as 8];
      const insn = form === 'ldx' || form === 'ldxs' ? `${form}${sfx} %r0, ${m}`
        : form === 'st' ? `st${sfx} ${m}, ${Number(BigInt.asIntN(32, value))}`
          : form === 'stx' ? `stx${sfx} ${m}, %r2`
            : `lock ${form}${w === 32 ? '32' : ''} ${m}, %r2`;
      const { ref, jit } = both(`${lddw(3, base)}\n${lddw(2, value)}\n${lddw(0, value ^ 0x5555n)}\n${insn}`);
      expect(jit).toEqual(ref);
    }), { seed: 0x1e57, numRuns: 300 });
  });
});

describe('generated code shape', () => {
  const options: CompileOptions = { budget: false, unwindHelper: undefined, helperIds: new Set() };
  const lowered = (text: string): string => {
    const program = assembleProgram(`${text}\nexit`, new Map());
    const body = lowerMem({ program, options }, program.insns[0]!);
    return generate({ type: 'Program', sourceType: 'script', body } as never);
  };
  it('a load is an inline int32 check and a DataView read, with no BigInt', () => {
    const src = lowered('ldxw %r0, [%r1+4]');
    expect(src).toContain('L[i]');
    expect(src).toContain('O[i]');
    expect(src).toContain('getInt32(a, true)');
    expect(src).not.toMatch(/BigInt|\d+n\b/);
  });
  it('stores check the write limits; r10 has no high-half test', () => {
    const src = lowered('stxdw [%r10-520], %r1');
    expect(src).toContain('WL[i]');
    expect(src).not.toContain('r10h');
    expect(lowered('stxdw [%r1-8], %r2')).toContain('WL[i]');
  });
  it('r10 accesses inside the frame are checked at compile time and go to the stack view', () => {
    for (const insn of ['stxdw [%r10-8], %r1', 'ldxb %r0, [%r10-512]', 'stw [%r10-4], 1']) {
      const src = lowered(insn);
      expect(src).not.toContain('L[i]');
      expect(src).toMatch(/\bsv\.(get|set)/);
    }
    // One byte past the frame either way is checked at run time.
    expect(lowered('ldxb %r0, [%r10-513]')).toContain('L[i]');
    expect(lowered('ldxdw %r0, [%r10-4]')).toContain('L[i]');
  });
  it('no offset needs a sign test (a wrapped address lands in slot 0 or 0xff, never mapped)', () => {
    expect(lowered('ldxb %r0, [%r1+4]')).not.toContain('a < 0');
    expect(lowered('ldxb %r0, [%r1-4]')).not.toContain('a < 0');
  });
});

// The reference of runReference is exercised directly once, so a broken
// comparison (both sides empty) cannot pass silently.
describe('the reference runner', () => {
  it('reads every register', () => {
    const ref = runReference(`${lddw(7, 0x1122334455667788n)}\nldxb %r0, [%r1+0]`);
    expect(ref.regs![7]).toBe(0x1122334455667788n);
    expect(ref.regs![1]).toBe(D);
  });
});
