// Splitting big BPF functions into several JS functions (codegen/split.ts).
//
// The plan and the piece graphs are checked on small programs; then, with the
// split limit forced very low (1: every block its own piece; 300: a few
// blocks per piece, so pieces have several entries and loops inside), every
// fixture and conformance case, the differential fuzzer's programs, and
// programs exercising calls, callx, recursion, unwinding and budgets must
// give the interpreter's results. Big programs are split at the default
// limit. Speed is measured by `npm run bench`, never asserted here.

import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';
import { simple } from 'acorn-walk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleSlots } from '../lib/asm.js';
import { conformanceVm, findDataFiles } from '../lib/conformance.js';
import { parseDataFile, errorMatches } from '../lib/datafile.js';
import { EbpfError } from '../lib/errors.js';
import { encodeSlots, type Slot } from '../lib/isa.js';
import { validateSlots } from '../lib/validate.js';
import type { Vm } from '../lib/vm.js';
import { buildFunctionCfgs, type FunctionCfg } from '../codegen/cfg.js';
import { RT, STACK_OFFSET, STATE, TEMPS } from '../codegen/context.js';
import { SPLIT_LIMIT, insnCost, pieceGraph, planSplit } from '../codegen/split.js';
import { capture, compareEngines, vmEngine, type Engine } from './fuzz/diff.js';
import { describeCase, fuzzCase } from './fuzz/gen.js';

const OPTS = { helperExists: () => true };

function cfgsOf(text: string): FunctionCfg[] {
  return buildFunctionCfgs(validateSlots(assembleSlots(text), OPTS));
}

/** Makes every compile of `vm` use split limit `limit` (undefined: the default). */
function forceSplit(vm: Vm, limit: number | undefined): Vm {
  if (limit === undefined) return vm;
  const options = vm.compileOptions.bind(vm);
  (vm as { compileOptions: (budgeted: boolean) => object }).compileOptions = (budgeted) => ({ ...options(budgeted), splitLimit: limit });
  return vm;
}

/** The JIT with a forced split limit, as a fuzzer engine. */
function splitEngine(limit: number): Engine {
  return {
    name: `jit (split limit ${limit})`,
    run(bytes, mem, budget) {
      const copy = mem.slice();
      return capture(copy, () => forceSplit(conformanceVm('jit', budget), limit).load(bytes).run(copy));
    },
  };
}

/** Runs `text` on the interpreter and on the JIT split at each limit: same r0 or same error. */
function agree(text: string, limits: readonly (number | undefined)[], budget?: number, mem = new Uint8Array(64)): bigint {
  const bytes = encodeSlots(assembleSlots(text));
  const ref = vmEngine('interp').run(bytes, mem, budget);
  for (const limit of limits) {
    const r = compareEngines(bytes, mem, { budget, pairs: [{ reference: vmEngine('interp'), candidate: limit === undefined ? vmEngine('jit') : splitEngine(limit) }] });
    expect(r.ok, r.detail).toBe(true);
  }
  return ref.kind === 'result' ? ref.r0 : -1n;
}

// ---------------------------------------------------------------------------

const LOOPS = `
  mov %r0, 0
  mov %r1, 0
outer:
  mov %r2, 0
inner:
  add %r0, %r2
  add %r2, 1
  jlt %r2, 5, inner
  add %r1, 1
  jlt %r1, 4, outer
  jeq %r0, 40, done
  mov %r0, 99
done:
  exit`;

describe('the plan', () => {
  it('leaves a function under the limit whole', () => {
    const [cfg] = cfgsOf(LOOPS);
    expect(planSplit(cfg!, 1, SPLIT_LIMIT)).toBeUndefined();
  });

  it('limit 1: one piece per reachable block, codes numbering the entries from 1', () => {
    const [cfg] = cfgsOf(`
      ja +1
      mov %r0, 7
      ${LOOPS}`);
    const plan = planSplit(cfg!, 1, 1)!;
    const reachable = [...cfg!.rpo].sort((a, b) => a - b);
    expect(plan.pieces.map((p) => p.blocks)).toEqual(reachable.map((b) => [b]));
    expect(plan.pieces.map((p) => p.entries)).toEqual(reachable.map((b) => [b]));
    expect(reachable.map((b) => plan.codes[b])).toEqual(reachable.map((_, i) => i + 1));
    // The unreachable block (mov r0, 7) belongs to no piece.
    expect(plan.codes[1]).toBe(0);
  });

  it('cuts where fewest edges cross: a loop that fits stays in one piece', () => {
    // Two loops of about equal cost; a limit that fits a bit more than one.
    const body = Array.from({ length: 40 }, () => 'stxdw [%r1+8], %r2').join('\n');
    const [cfg] = cfgsOf(`
      mov %r2, 0
    a:
      ${body}
      add %r2, 1
      jlt %r2, 3, a
      mov %r2, 0
    b:
      ${body}
      add %r2, 1
      jlt %r2, 3, b
      exit`);
    const costs = cfg!.blocks.map((b) => b.insns.reduce((s, i) => s + insnCost(i, 1), 0));
    const plan = planSplit(cfg!, 1, Math.round(costs[1]! * 1.4))!;
    // Each loop body (with its test) is whole in some piece.
    const pieceOf = new Map<number, number>();
    plan.pieces.forEach((p, n) => p.blocks.forEach((b) => pieceOf.set(b, n)));
    for (const b of cfg!.blocks) {
      const t = b.terminator;
      if (t.kind === 'branch' && t.taken <= b.id) expect(pieceOf.get(t.taken)).toBe(pieceOf.get(b.id));
    }
    expect(plan.pieces.length).toBeGreaterThan(1);
  });
});

describe('piece graphs', () => {
  it('a piece entered at several blocks selects the entry first; edges out become leave blocks', () => {
    const [cfg] = cfgsOf(`
      jeq %r1, 0, second
      mov %r3, 1
    second:
      add %r3, 2
      jeq %r3, 5, out
      ja second
    out:
      mov %r0, %r3
      exit`);
    const plan = { pieces: [{ blocks: [1, 2], entries: [1, 2] }], codes: Int32Array.from([0, 7, 8, 0, 0]) };
    const g = pieceGraph(cfg!, plan, plan.pieces[0]!);
    // Blocks: 0 jeq | 1 mov | 2 add, jeq | 3 ja second | 4 mov, exit. The piece holds 1 and 2.
    expect(g.blocks.map((b) => b.role)).toEqual(['select', 'block', 'block', 'leave', 'leave']);
    const select = g.blocks[0]!;
    expect(select.role === 'select' && select.code).toBe(7);
    expect(select.terminator).toEqual({ kind: 'branch', insn: undefined, taken: 1, fallthrough: 2 });
    // Block 2's branch leaves both ways: taken to `out` (pc 5), else to `ja second` (pc 4).
    expect(g.blocks[2]!.terminator).toMatchObject({ kind: 'branch', taken: 3, fallthrough: 4 });
    expect(g.blocks.slice(3).map((b) => b.role === 'leave' && [b.target, b.start])).toEqual([[4, 5], [3, 4]]);
    expect(g.reducible).toBe(true);
    // r3 is read and written.
    expect(g.loads).toBe(1 << 3);
    expect(g.stores).toBe(1 << 3);
  });

  it('a piece that calls a function loads and stores every register', () => {
    const cfgs = cfgsOf(`
      mov %r6, 1
      call local f
      add %r0, %r6
      exit
    f:
      mov %r0, 2
      exit`);
    const cfg = cfgs[0]!;
    const plan = planSplit(cfg, 2, 1)!;
    const g = pieceGraph(cfg, plan, plan.pieces[0]!);
    expect(g.loads).toBe(0x3ff);
    expect(g.stores).toBe(0x3ff);
  });
});

describe('split code gives the interpreter\'s results', () => {
  const LIMITS = [1, 300] as const;

  it('loops, nested and crossing pieces', () => {
    expect(agree(LOOPS, [...LIMITS, undefined])).toBe(40n);
  });

  it('local calls into split functions, recursion and a callee that is split too', () => {
    const text = `
      mov %r6, 5
      mov %r1, 6
      call local fact
      add %r0, %r6
      lddw %r7, func square
      mov %r1, %r0
      callx %r7
      exit
    fact:
      mov %r0, 1
      jle %r1, 1, fact_done
      mov %r6, %r1
      sub %r1, 1
      call local fact
      mul %r0, %r6
    fact_done:
      exit
    square:
      mov %r0, %r1
      mul %r0, %r1
      exit`;
    expect(agree(text, [...LIMITS, undefined])).toBe(725n * 725n);
  });

  it('unwinding (helper 5 returning 0) from a split callee ends the run', () => {
    const text = `
      mov %r2, 3
      call local f
      mov %r0, 77
      exit
    f:
      mov %r1, 0
      jeq %r2, 3, go
      mov %r0, 5
      exit
    go:
      call 5
      mov %r0, 9
      exit`;
    expect(agree(text, [...LIMITS, undefined])).toBe(0n);
  });

  it('budgets: the same BudgetExceededError pc, including on a backward edge between pieces', () => {
    const text = `
      mov %r0, 0
    top:
      add %r0, 1
      jeq %r0, 1000000, out
      mov %r1, %r0
      and %r1, 1
      jeq %r1, 0, top
      ja top
    out:
      exit`;
    for (const budget of [1, 2, 3, 10, 57, 1000]) agree(text, [...LIMITS, undefined], budget);
  });

  it('faults keep their pcs', () => {
    const text = `
      mov %r2, 1
      jeq %r1, 0, +2
      ldxdw %r0, [%r1+4096]
      exit
      ldxw %r0, [%r2+0]
      exit`;
    agree(text, [...LIMITS, undefined]);
  });
});

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const SUITE = '/work/shared/conformance/tests';

describe('every .data case, with every function split (limits 1 and 300)', () => {
  const files = [...findDataFiles([FIXTURES]), ...(existsSync(SUITE) ? findDataFiles([SUITE]) : [])];
  for (const limit of [1, 300]) {
    it(`limit ${limit}: ${files.length} cases`, () => {
      const failures: string[] = [];
      for (const file of files) {
        const c = parseDataFile(readFileSync(file, 'utf8'));
        if (c.raw === undefined && c.asm === undefined) continue;
        let outcome: string;
        try {
          const vm = forceSplit(conformanceVm('jit', 10_000_000), limit);
          const r0 = vm.load(c.raw ?? c.asm!).run(c.mem?.slice());
          outcome = c.error !== undefined ? `expected an error, got ${r0}` : r0 === c.result ? '' : `expected ${c.result}, got ${r0}`;
        } catch (e) {
          if (!(e instanceof EbpfError)) outcome = `crash: ${String(e)}`;
          else outcome = c.error !== undefined && errorMatches(c.error, e.message) ? '' : `unexpected error ${e.message}`;
        }
        if (outcome !== '') failures.push(`${relative(FIXTURES, file)}: ${outcome}`);
      }
      expect(failures).toEqual([]);
    });
  }
});

describe('differential fuzzing with every function split', () => {
  // SPLIT_FUZZ_RUNS runs longer (the default keeps npm test quick).
  const runs = Number(process.env['SPLIT_FUZZ_RUNS'] ?? 600);
  for (const limit of [1, 300]) {
    it(`${runs} random programs at limit ${limit} agree with the interpreter`, () => {
      const pairs = [{ reference: vmEngine('interp'), candidate: splitEngine(limit) }];
      const details = fc.check(fc.property(fuzzCase(), (c) => {
        const r = compareEngines(c.bytes, c.mem, { budget: c.budget, pairs });
        if (!r.ok) throw new Error(`${r.detail}\n${describeCase(c)}`);
      }), { seed: 0x5b117 + limit, numRuns: runs });
      expect(details.failed, String(details.errorInstance)).toBe(false);
    }, 120_000);
  }
});

// ---------------------------------------------------------------------------
// Big programs at the default limit.

function slot(opcode: number, fields: Partial<Slot> = {}): Slot {
  return { opcode, dst: 0, src: 0, off: 0, imm: 0, ...fields };
}

/**
 * About `n` slots: blocks of memory and ALU work, a conditional skip each,
 * and every 50 blocks a small loop and a call to a subprogram.
 */
function bigProgram(n: number): Slot[] {
  const s: Slot[] = [];
  s.push(slot(0xb7, { dst: 0 })); // mov r0, 0
  s.push(slot(0xbf, { dst: 9, src: 1 })); // mov r9, r1
  const calls: number[] = [];
  for (let k = 0; s.length < n; k++) {
    s.push(slot(0x79, { dst: 3, src: 9, off: 8 * (k & 3) })); // ldxdw r3, [r9 + ...]
    s.push(slot(0x0f, { dst: 0, src: 3 })); // add r0, r3
    s.push(slot(0x27, { dst: 0, imm: (0x9e3779b1 + k) | 1 })); // mul r0, imm
    s.push(slot(0x7b, { dst: 10, src: 0, off: -8 * (1 + (k & 7)) })); // stxdw [r10-..], r0
    s.push(slot(0x79, { dst: 4, src: 10, off: -8 * (1 + ((k + 3) & 7)) })); // ldxdw r4, [r10-..]
    s.push(slot(0xaf, { dst: 0, src: 4 })); // xor r0, r4
    s.push(slot(0x2d, { dst: 0, src: 3, off: 1 })); // jgt r0, r3, +1
    s.push(slot(0x07, { dst: 0, imm: k & 0x7fff })); // add r0, k
    if (k % 50 === 49) {
      s.push(slot(0xb7, { dst: 5, imm: 0 })); // mov r5, 0
      s.push(slot(0x07, { dst: 5, imm: 1 })); // loop: add r5, 1
      s.push(slot(0x0f, { dst: 0, src: 5 })); // add r0, r5
      s.push(slot(0xa5, { dst: 5, imm: 7, off: -3 })); // jlt r5, 7, loop
      s.push(slot(0xbf, { dst: 1, src: 0 })); // mov r1, r0
      calls.push(s.length);
      s.push(slot(0x85, { src: 1 })); // call local sub (imm below)
    }
  }
  s.push(slot(0x95)); // exit
  const sub = s.length;
  for (const at of calls) s[at] = slot(0x85, { src: 1, imm: sub - at - 1 });
  s.push(slot(0xbf, { dst: 0, src: 1 })); // sub: mov r0, r1
  s.push(slot(0x77, { dst: 0, imm: 3 })); // rsh r0, 3
  s.push(slot(0x95)); // exit
  return s;
}

describe('big programs are split at the default limit', () => {
  it('a 30,000-slot program: several pieces, each under the limit, same result as the interpreter', () => {
    const slots = bigProgram(30_000);
    const program = validateSlots(slots, OPTS);
    const cfg = buildFunctionCfgs(program)[0]!;
    const plan = planSplit(cfg, program.functions.length, SPLIT_LIMIT)!;
    expect(plan.pieces.length).toBeGreaterThan(5);
    for (const piece of plan.pieces) {
      const cost = piece.blocks.reduce((sum, b) => sum + cfg.blocks[b]!.insns.reduce((c, i) => c + insnCost(i, 2), 20), 0);
      expect(cost).toBeLessThanOrEqual(SPLIT_LIMIT);
    }
    const bytes = encodeSlots(slots);
    const mem = Uint8Array.from({ length: 64 }, (_, i) => i * 7);
    for (const budget of [undefined, 1e9]) {
      const r = compareEngines(bytes, mem, { budget, pairs: [{ reference: vmEngine('interp'), candidate: vmEngine('jit') }] });
      expect(r.ok, r.detail).toBe(true);
      expect(r.outcome.kind).toBe('result');
    }
  }, 60_000);

  it('a split module names only the JIT\'s own identifiers', () => {
    const vm = forceSplit(conformanceVm('jit'), 1);
    const source = vm.load(LOOPS).compiled(true).source;
    const names = new Set<string>();
    simple(parse(source, { ecmaVersion: 2022, allowReturnOutsideFunction: true }), {
      Identifier(node) { names.add((node as unknown as { name: string }).name); },
    });
    const own = new Set<string>([...Object.values(RT), ...Object.values(STATE), ...TEMPS, STACK_OFFSET, 'rt', 'entry', 'budget', 'R', 'Math', 'imul']);
    const foreign = [...names].filter((n) => !own.has(n) && !/^(r\d+h?|f\d+(_\d+)?|[A-Z]_b\d+|[a-z]|get\w+|set\w+|blk|D)$/.test(n));
    expect(foreign).toEqual([]);
    expect(names).toContain('f0_1');
  });

  it('the readable source of a split program parses and says where each piece starts', () => {
    const vm = forceSplit(conformanceVm('jit'), 300);
    const source = vm.load(LOOPS).jitSource({ budget: true });
    expect(() => parse(source, { ecmaVersion: 2022, allowReturnOutsideFunction: true })).not.toThrow();
    expect(source).toMatch(/\/\/ f0, piece 1 of \d+: pc 0\.\./);
    expect(source).toMatch(/\/\/ f0: split in \d+ pieces/);
    expect(source).toContain('const R = rt.R;');
  });
});
