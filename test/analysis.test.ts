// The register analysis (codegen/analysis.ts, codegen/absval.ts): facts on
// small programs, and the property that matters: every fact it states holds
// in the actual register values of every run. Programs come from the
// differential fuzzer's generator, every fixture, and the bench programs;
// a reference stepper (analysis-trace.ts) reports the registers before and
// after each instruction and each one is checked against the facts. A
// checker that accepted anything would prove nothing, so it is shown to
// catch a wrong fact. Also here: the memory and runner invariants the
// analysis relies on (absval.ts lists them), and what lowering does with
// the facts.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import fc from 'fast-check';
import { generate } from 'astring';
import { describe, expect, it } from 'vitest';
import { analyzeFunction, type Fact, type RegisterHints } from '../codegen/analysis.js';
import { ADDRESS_LIMIT, FRAME_HIGH, FRAME_LOW } from '../codegen/absval.js';
import { buildFunctionCfgs } from '../codegen/cfg.js';
import type { CompileOptions } from '../codegen/context.js';
import { lowerInsn } from '../codegen/lower.js';
import { CODE_ADDRESS_BASE } from '../lib/code-address.js';
import { conformanceVm, findDataFiles } from '../lib/conformance.js';
import { parseDataFile } from '../lib/datafile.js';
import { programBytes } from '../lib/elf-sections.js';
import { interpret } from '../lib/interpreter.js';
import { Memory, SLOT_BYTES } from '../lib/memory.js';
import type { Program } from '../lib/program.js';
import { DEFAULT_MAX_CALL_DEPTH } from '../lib/runtime.js';
import { Vm } from '../lib/vm.js';
import { trace, type Regs } from './analysis-trace.js';
import { compareEngines } from './fuzz/diff.js';
import { assemble } from '../lib/asm.js';
import { fuzzCase } from './fuzz/gen.js';

const M32 = 0xffff_ffffn;

/** Hints per function of a program, and which function a pc is in. */
function hintsOf(program: Program): (pc: number) => RegisterHints {
  const cfgs = buildFunctionCfgs(program);
  const hints = cfgs.map((cfg) => analyzeFunction(cfg, program));
  return (pc) => {
    let f = 0;
    while (f + 1 < cfgs.length && cfgs[f + 1]!.entry <= pc) f++;
    return hints[f]!;
  };
}

/** Why `fact` does not describe `value` (r10 being `r10`), or undefined when it does. */
function violation(fact: Fact, value: bigint, r10: bigint): string | undefined {
  if (fact.hi !== undefined) {
    if (value >> 32n !== BigInt(fact.hi >>> 0)) return `high half ${value >> 32n} is not ${fact.hi >>> 0}`;
    const low = Number(value & M32);
    if (low < fact.min || low > fact.max) return `low half ${low} outside [${fact.min}, ${fact.max}]`;
  }
  if (fact.frame !== undefined) {
    const d = BigInt.asIntN(64, value - r10);
    if (d < BigInt(fact.frame.min) || d > BigInt(fact.frame.max)) return `r10 + ${d} outside r10 + [${fact.frame.min}, ${fact.frame.max}]`;
  }
  return undefined;
}

interface Checked {
  readonly violations: string[];
  /** Register states compared. */
  readonly states: number;
  /** Facts that said something (a known high half). */
  readonly known: number;
  readonly result: ReturnType<typeof trace>;
}

/** Runs `program` and checks every fact of `hints` against the registers it saw. */
function check(vm: Vm, program: Program, mem: Uint8Array | undefined, maxSteps = 20_000, hints = hintsOf(program)): Checked {
  const violations: string[] = [];
  let states = 0;
  let known = 0;
  const compare = (when: 'before' | 'after', pc: number, regs: Regs): void => {
    states++;
    const h = hints(pc);
    for (let r = 0; r <= 10; r++) {
      const fact = when === 'before' ? h.before(pc, r) : h.after(pc, r);
      if (fact.hi !== undefined) known++;
      const why = violation(fact, regs[r]!, regs[10]!);
      if (why !== undefined && violations.length < 10) violations.push(`${when} pc ${pc}, r${r} = 0x${regs[r]!.toString(16)}: ${why}`);
    }
  };
  const result = trace(vm, program, mem, { before: (pc, regs) => compare('before', pc, regs), after: (pc, regs) => compare('after', pc, regs) }, maxSteps);
  return { violations, states, known, result };
}

/** The interpreter's r0 (or error code) for the same run, to keep the tracer honest. */
function interpreted(vm: Vm, program: Program, mem: Uint8Array | undefined): bigint | string {
  const { memory, helpers, maxCallDepth, stack } = vm.jitTarget();
  stack.bytes.fill(0);
  const region = mem === undefined ? undefined : memory.map(mem, { name: 'input memory' });
  try {
    return interpret(program, {
      memory, helpers, maxCallDepth, unwindHelper: vm.compileOptions(false).unwindHelper, budget: undefined,
      stackTop: stack.end, r1: region === undefined ? 0n : BigInt(region.base), r2: region === undefined ? 0n : BigInt(region.size),
      packet: { address: region?.base ?? 0, length: region?.size ?? 0 },
    });
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  } finally {
    if (region !== undefined) memory.unmap(region);
  }
}

function expectSound(c: Checked): void {
  expect(c.violations, c.violations.join('\n')).toEqual([]);
}

// ---------------------------------------------------------------------------

describe('every fact holds at run time', () => {
  it('on 600 random programs of the differential fuzzer', () => {
    let known = 0;
    let states = 0;
    for (const c of fc.sample(fuzzCase(), { seed: 0xa11a, numRuns: 600 })) {
      const vm = conformanceVm('interp');
      const program = vm.load(c.bytes).program;
      const mem = c.mem.slice();
      const checked = check(vm, program, mem);
      expectSound(checked);
      known += checked.known;
      states += checked.states;
      if (!checked.result.truncated) {
        const ref = interpreted(conformanceVm('interp'), program, c.mem.slice());
        expect(checked.result.r0 ?? checked.result.error?.code).toBe(ref);
      }
    }
    // The analysis must say something, or this proves nothing.
    expect(known).toBeGreaterThan(states * 2);
  });

  it('on every fixture', () => {
    const root = fileURLToPath(new URL('../fixtures', import.meta.url));
    let programs = 0;
    for (const file of findDataFiles([root])) {
      const c = parseDataFile(readFileSync(file, 'utf8'));
      const vm = conformanceVm('interp');
      let program: Program;
      try {
        program = vm.load(c.raw ?? c.asm!).program;
      } catch {
        continue; // a case that checks a load error
      }
      const checked = check(vm, program, c.mem?.slice());
      expect(checked.violations, `${file}\n${checked.violations.join('\n')}`).toEqual([]);
      programs++;
    }
    expect(programs).toBeGreaterThan(200);
  });

  it('on the bench programs', () => {
    const dir = fileURLToPath(new URL('../fixtures/bench', import.meta.url));
    const rand = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 0x9e37 + seed * 0x79b9 + (i >> 3) * 13) & 0xff);
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.o')).map((f) => f.slice(0, -2))) {
      const vm = new Vm();
      const program = vm.load(programBytes(readFileSync(join(dir, `${name}.o`)), name)).program;
      for (const [n, seed] of [[0, 1], [37, 2], [301, 3], [1024, 4]] as const) {
        const mem = n === 0 ? undefined : rand(n, seed);
        const checked = check(vm, program, mem, 200_000);
        expect(checked.violations, `${name} on ${n} bytes\n${checked.violations.join('\n')}`).toEqual([]);
      }
    }
  });

  it('a wrong fact is caught', () => {
    const vm = conformanceVm('interp');
    const program = vm.load('lddw %r1, 0x100000000\nmov %r0, %r1\nexit').program;
    const honest = hintsOf(program);
    // Claims every high half is 0: false for r1 after the lddw.
    const lying = (pc: number): RegisterHints => ({
      highZero: () => true,
      before: (p, r) => ({ ...honest(pc).before(p, r), hi: 0, min: 0, max: 0xffff_ffff }),
      after: (p, r) => honest(pc).after(p, r),
    });
    expectSound(check(vm, program, undefined));
    expect(check(vm, program, undefined, 100, lying).violations.length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------
// Programs shaped for the analysis: a counted loop over frame pointers,
// pointers into the input, spills, narrowing branches, forged pointers and
// calls, run on both engines (same result) and traced (every fact holds).

const FREE = [0, 1, 2, 3, 4, 5, 7];
const reg = fc.constantFrom(...FREE);
const item = (stackTop: number): fc.Arbitrary<string[]> => fc.oneof(
  fc.tuple(reg, fc.integer({ min: -600, max: 40 })).map(([d, k]) => [`mov %r${d}, %r10`, `add %r${d}, ${k}`]),
  fc.tuple(reg, fc.integer({ min: 0, max: 64 })).map(([d, k]) => [`mov %r${d}, %r9`, `add %r${d}, ${k}`]),
  fc.tuple(fc.constantFrom('add', 'sub', 'mul', 'and', 'or', 'xor', 'rsh', 'lsh', 'arsh', 'mod', 'div'), fc.constantFrom('', '32'), reg, fc.oneof(reg.map((r) => `%r${r}`), fc.integer({ min: -70, max: 70 }).map(String), fc.constantFrom('0xffff', '0x7fffffff', '-1', '32', '63')))
    .map(([op, w, d, src]) => [`${op}${w} %r${d}, ${src}`]),
  fc.tuple(fc.constantFrom('mov', 'mov32', 'neg', 'be16', 'le32'), reg, reg).map(([op, d, r]) => [op === 'neg' || op.startsWith('be') || op.startsWith('le') ? `${op} %r${d}` : `${op} %r${d}, %r${r}`]),
  fc.tuple(reg, fc.integer({ min: 1, max: 8 })).map(([r, k]) => [`stxdw [%r10-${8 * k}], %r${r}`]),
  fc.tuple(reg, fc.integer({ min: 1, max: 8 })).map(([r, k]) => [`ldxdw %r${r}, [%r10-${8 * k}]`]),
  fc.tuple(fc.constantFrom('b', 'h', 'w', 'dw'), reg, reg, fc.integer({ min: -8, max: 8 })).map(([sz, b, v, off]) => [`stx${sz} [%r${b}${off < 0 ? off : `+${off}`}], %r${v}`]),
  fc.tuple(fc.constantFrom('b', 'h', 'w', 'dw'), reg, reg, fc.integer({ min: -8, max: 8 })).map(([sz, d, b, off]) => [`ldx${sz} %r${d}, [%r${b}${off < 0 ? off : `+${off}`}]`]),
  fc.tuple(fc.constantFrom('jgt', 'jge', 'jlt', 'jle', 'jeq', 'jne', 'jsgt', 'jslt', 'jset', 'jgt32', 'jlt32'), reg, fc.oneof(reg.map((r) => `%r${r}`), fc.integer({ min: -3, max: 300 }).map(String)), reg)
    .map(([j, d, src, r]) => [`${j} %r${d}, ${src}, +1`, `mov32 %r${r}, 1`]),
  fc.constant<string[]>(['call 2']),
  fc.tuple(fc.integer({ min: 1, max: 8 }), reg).map(([k, v]) => [`lddw %r8, ${stackTop - 8 * k}`, `stxdw [%r8+0], %r${v}`]),
);

describe('every fact holds on programs shaped for the analysis', () => {
  it('300 random loops over frame pointers, input pointers, spills and branches', () => {
    const stackTop = conformanceVm('interp').jitTarget().stack.end;
    const arb = fc.tuple(fc.array(item(stackTop), { minLength: 1, maxLength: 14 }), fc.constantFrom('jlt', 'jle', 'jne'), fc.integer({ min: 1, max: 6 }));
    let known = 0;
    for (const [items, loopJump, count] of fc.sample(arb, { seed: 0x5a5a, numRuns: 300 })) {
      const body = items.flat();
      const asm = ['mov %r9, %r1', 'mov %r6, 0', 'loop:', ...body, 'add %r6, 1', `${loopJump} %r6, ${count}, loop`, 'exit'].join('\n');
      const vm = conformanceVm('interp');
      let program: Program;
      try {
        program = vm.load(asm).program;
      } catch (e) {
        throw new Error(`${String(e)}\n${asm}`);
      }
      const mem = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 5) & 0xff);
      const checked = check(vm, program, mem.slice(), 5000);
      expect(checked.violations, `${asm}\n${checked.violations.join('\n')}`).toEqual([]);
      known += checked.known;
      const cmp = compareEngines(assemble(asm), mem, { budget: 10_000 });
      expect(cmp.ok, `${asm}\n${cmp.detail}`).toBe(true);
    }
    expect(known).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------

/** Facts of a one-function program (assembled) before `pc`. */
function factsAt(asm: string, main = true): (pc: number, reg: number) => Fact {
  const vm = conformanceVm('interp');
  const program = vm.load(asm).program;
  const cfg = buildFunctionCfgs(program)[0]!;
  const hints = analyzeFunction(cfg, main ? program : undefined);
  return (pc, reg) => hints.before(pc, reg);
}

describe('facts on small programs', () => {
  it('32-bit results, narrow loads and small constants have a high half of 0; lddw and unknowns do not', () => {
    const at = factsAt([
      'mov32 %r3, %r4', // 0
      'ldxb %r5, [%r1]', // 1
      'mov %r6, 7', // 2
      'mov %r7, -1', // 3
      'lddw %r8, 0x100000000', // 4
      'ldxdw %r9, [%r1]', // 6
      'exit', // 7
    ].join('\n'), false);
    expect(at(7, 3)).toMatchObject({ hi: 0, min: 0, max: 0xffff_ffff });
    expect(at(7, 5)).toMatchObject({ hi: 0, min: 0, max: 0xff });
    expect(at(7, 6)).toMatchObject({ hi: 0, min: 7, max: 7 });
    expect(at(7, 7)).toMatchObject({ hi: -1, min: 0xffff_ffff, max: 0xffff_ffff });
    expect(at(7, 8)).toMatchObject({ hi: 1, min: 0, max: 0 });
    expect(at(7, 9).hi).toBeUndefined();
  });

  it('a register used as an address is below 2^32 afterwards (its access passed the check)', () => {
    const at = factsAt('ldxdw %r1, [%r3+8]\nexit', false);
    expect(at(0, 3).hi).toBeUndefined();
    expect(at(1, 3)).toMatchObject({ hi: 0, min: SLOT_BYTES - 8, max: ADDRESS_LIMIT - 16 });
  });

  it('main\'s r1 and r2 are an address and a length, unless main can be called', () => {
    const limit = ADDRESS_LIMIT - SLOT_BYTES;
    expect(factsAt('exit')(0, 1)).toMatchObject({ hi: 0, max: limit });
    expect(factsAt('exit')(0, 2)).toMatchObject({ hi: 0, max: limit });
    expect(factsAt('exit', false)(0, 1).hi).toBeUndefined();
    // A local call to pc 0, or any callx, makes main a possible callee.
    expect(factsAt('jeq %r1, 0, +1\ncall local -2\nexit')(0, 1).hi).toBeUndefined();
    expect(factsAt('callx %r3\nexit')(0, 1).hi).toBeUndefined();
  });

  it('every function starts with r0 and r6..r9 at 0; a call leaves r0 unknown and the rest as they were', () => {
    const at = factsAt('mov32 %r1, 5\ncall 2\nexit', false);
    for (const r of [0, 6, 7, 8, 9]) expect(at(0, r)).toMatchObject({ hi: 0, min: 0, max: 0 });
    expect(at(2, 0).hi).toBeUndefined();
    expect(at(2, 1)).toMatchObject({ hi: 0, min: 5, max: 5 });
  });

  it('a loop counter bounded by its exit test stays below 2^32 through the loop', () => {
    // for (r3 = 0; r3 <= 99; r3++) r0 += r3
    const at = factsAt([
      'mov %r3, 0', // 0
      'jgt %r3, 99, +3', // 1
      'add %r0, %r3', // 2
      'add %r3, 1', // 3
      'ja -4', // 4
      'exit', // 5
    ].join('\n'));
    expect(at(2, 3)).toMatchObject({ hi: 0, min: 0, max: 99 });
    expect(at(3, 3)).toMatchObject({ hi: 0, max: 99 });
    expect(at(1, 3).hi).toBe(0);
    expect(at(5, 3)).toMatchObject({ hi: 0, min: 100 });
  });

  it('a pointer into the frame keeps its distance from r10', () => {
    const at = factsAt([
      'mov %r2, %r10', // 0
      'add %r2, -16', // 1
      'mov %r3, 0', // 2
      'jgt %r3, 1, +4', // 3
      'stxdw [%r2], %r3', // 4
      'add %r2, 8', // 5
      'add %r3, 1', // 6
      'ja -5', // 7
      'exit', // 8
    ].join('\n'));
    expect(at(2, 2).frame).toEqual({ min: -16, max: -16 });
    expect(at(2, 2).hi).toBe(0);
    // The loop moves it by an amount the analysis does not bound; it is still below 2^32.
    expect(at(4, 2).hi).toBe(0);
  });

  it('a widened loop still leaves an inner loop\'s base + index below 2^32', () => {
    // Outer: r3 = 0..0xffffff; inner: r5 = 0..3 over [r1 + r3 + r5].
    const at = factsAt([
      'mov %r3, 0', // 0
      'jgt %r3, 0xfffffe, +9', // 1
      'mov %r6, %r1', // 2
      'add %r6, %r3', // 3
      'mov %r5, 0', // 4
      'mov %r7, %r6', // 5
      'add %r7, %r5', // 6
      'add %r5, 1', // 7
      'jlt %r5, 4, -4', // 8
      'add %r3, 1', // 9
      'ja -10', // 10
      'exit', // 11
    ].join('\n'));
    expect(at(6, 7 - 1)).toMatchObject({ hi: 0 });
    expect(at(7, 7)).toMatchObject({ hi: 0 });
    expect(at(6, 5)).toMatchObject({ hi: 0, max: 3 });
  });
});

// ---------------------------------------------------------------------------

describe('spill slots', () => {
  const spill = (between: string): string => [
    'mov32 %r6, 77', // 0
    'stxdw [%r10-8], %r6', // 1
    between, // 2..
    'ldxdw %r7, [%r10-8]', // n
    'exit',
  ].join('\n');
  const reloaded = (between: string, pc: number, callee = 'mov %r0, 0'): Fact => {
    const asm = `${spill(between)}\nf:\n${callee}\nexit`;
    const vm = conformanceVm('interp');
    const program = vm.load(asm).program;
    expectSound(check(vm, program, new Uint8Array(16)));
    return analyzeFunction(buildFunctionCfgs(program)[0]!, program).before(pc, 7);
  };

  it('a register reloaded from its spill slot keeps its facts', () => {
    expect(reloaded('mov %r1, 1', 4)).toMatchObject({ hi: 0, min: 77, max: 77 });
    // Stores elsewhere in the frame, and calls to functions that write nothing, keep it.
    expect(reloaded('stxdw [%r10-16], %r1', 4)).toMatchObject({ hi: 0, min: 77 });
    expect(reloaded('call local f', 4)).toMatchObject({ hi: 0, min: 77 });
  });

  it('anything that may write the slot forgets it', () => {
    // Over it through r10, through a pointer that may have been forged, by a helper, by a callee that stores.
    expect(reloaded('stxw [%r10-4], %r1', 4).hi).toBeUndefined();
    expect(reloaded('stxb [%r1+0], %r1', 4).hi).toBeUndefined();
    expect(reloaded('call 2', 4).hi).toBeUndefined();
    expect(reloaded('call local f', 4, 'stb [%r10-1], 0').hi).toBeUndefined();
  });

  it('a pointer forged to the frame\'s address is one the analysis cannot see, so it forgets', () => {
    const vm = conformanceVm('interp');
    const top = vm.jitTarget().stack.end;
    const asm = [
      'mov32 %r6, 77',
      'stxdw [%r10-8], %r6',
      `lddw %r3, ${top - 8}`,
      'mov %r4, -1',
      'stxdw [%r3+0], %r4',
      'ldxdw %r7, [%r10-8]',
      'mov %r0, %r7',
      'exit',
    ].join('\n');
    const program = vm.load(asm).program;
    const checked = check(vm, program, undefined);
    expectSound(checked);
    expect(checked.result.r0).toBe(0xffff_ffff_ffff_ffffn);
  });
});

describe('what lowering does with the facts', () => {
  const options: CompileOptions = { budget: false, unwindHelper: undefined, helperIds: new Set() };
  const lowered = (asm: string, pc: number): string => {
    const vm = conformanceVm('interp');
    const program = vm.load(asm).program;
    const hints = analyzeFunction(buildFunctionCfgs(program)[0]!, program);
    const body = lowerInsn({ program, options, hints }, program.byPc[pc]!);
    return generate({ type: 'Program', sourceType: 'script', body } as never);
  };

  it('an address register proven below 2^32 needs no high-half test', () => {
    expect(lowered('ldxw %r0, [%r1]\nexit', 0)).not.toContain('r1h !== 0');
    expect(lowered('ldxdw %r3, [%r10-8]\nldxw %r0, [%r3]\nexit', 1)).toContain('r3h !== 0');
  });

  it('a frame pointer access proven inside the frame needs no run-time check', () => {
    const src = lowered('mov %r2, %r10\nadd %r2, -16\nstxdw [%r2+8], %r1\nexit', 2);
    expect(src).toContain('sv.setInt32');
    expect(src).not.toContain('L[i]');
    expect(src).not.toContain('WL[i]');
    // Past the frame's end it is checked.
    expect(lowered('mov %r2, %r10\nadd %r2, -16\nstxdw [%r2+16], %r1\nexit', 2)).toContain('WL[i]');
  });

  it('a 64-bit add that cannot carry is a 32-bit add; known constants fold', () => {
    const add = lowered('mov32 %r3, %r4\nadd %r3, 1\nexit', 1);
    expect(add).not.toContain('?');
    expect(add).toContain('r3h = 0');
    expect(lowered('mov %r3, 6\nmul %r3, 7\nexit', 1)).toBe('r3 = 42;\nr3h = 0;\n');
  });
});

// ---------------------------------------------------------------------------

describe('the invariants the analysis relies on', () => {
  it('Memory maps nothing in slot 0 or at and above CODE_ADDRESS_BASE', () => {
    const memory = new Memory();
    const regions = [memory.map(new Uint8Array(SLOT_BYTES + 1), { name: 'two slots' })];
    for (;;) {
      try {
        regions.push(memory.map(new Uint8Array(1), { name: 'one byte' }));
      } catch {
        break; // full
      }
    }
    // Slots 1..0xfd (0xfe holds map pointers, 0xff code addresses); the first region takes two.
    expect(regions.length).toBe(0xfd - 1);
    for (const r of regions) {
      expect(r.base).toBeGreaterThanOrEqual(SLOT_BYTES);
      expect(r.end).toBeLessThanOrEqual(CODE_ADDRESS_BASE);
    }
    expect(memory.tables.ends[0]).toBe(0);
    expect(memory.tables.limits[0]).toBe(0);
    expect(memory.tables.limits[0xff]).toBe(0);
    expect(ADDRESS_LIMIT).toBe(CODE_ADDRESS_BASE);
  });

  it('the int32 slot tables agree with the bounds tables, as regions come and go', () => {
    const small = fc.integer({ min: 1, max: 4096 });
    const sizes = fc.array(fc.oneof({ weight: 4, arbitrary: small }, { weight: 1, arbitrary: fc.constant(SLOT_BYTES + 3) }), { minLength: 1, maxLength: 6 });
    fc.assert(fc.property(sizes, fc.nat(), (list, drop) => {
      const memory = new Memory();
      const regions = list.map((size, i) => memory.map(new Uint8Array(size), { name: `r${i}`, readonly: i % 2 === 1 }));
      memory.unmap(regions[drop % regions.length]!);
      const t = memory.tables;
      for (let s = 0; s < 256; s++) {
        const start = s * SLOT_BYTES;
        expect(t.limits[s]).toBe(t.ends[s] === 0 ? 0 : Math.min(t.ends[s]! - start, 2 ** 30));
        expect(t.writeLimits[s]).toBe(t.writeEnds[s] === 0 ? 0 : Math.min(t.writeEnds[s]! - start, 2 ** 30));
        if (t.ends[s] !== 0) expect(t.offsets[s]).toBe(start - t.bases[s]!);
      }
    }), { numRuns: 30, seed: 7 });
  });

  it('r10 of every frame lies in [FRAME_LOW, FRAME_HIGH]', () => {
    const vm = new Vm();
    const { stack, maxCallDepth } = vm.jitTarget();
    expect(maxCallDepth).toBe(DEFAULT_MAX_CALL_DEPTH);
    expect(stack.end).toBeLessThanOrEqual(FRAME_HIGH);
    expect(stack.end - (maxCallDepth - 1) * 512).toBeGreaterThanOrEqual(FRAME_LOW);
    expect(stack.base).toBeGreaterThanOrEqual(SLOT_BYTES);
  });
});
