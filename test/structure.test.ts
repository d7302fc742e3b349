// Structured control flow: every generated function is printed with astring,
// parsed back with acorn, run with `new Function`, and its block trace
// compared with a direct walk of the CFG under the same branch decisions.
// The hooks record a trace: each block pushes its id, a branch reads its
// decision from `d[visit index]`, an exit returns the block id, a backward
// jump records its pc. Hand-written CFGs cover the shapes clang emits;
// random structured programs (reducible) and random jump soup (mostly
// irreducible) cover the rest, on both the structured and the dispatch form.

import { parse } from 'acorn';
import { generate } from 'astring';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleSlots } from '../lib/asm.js';
import type { Slot } from '../lib/isa.js';
import { validateSlots } from '../lib/validate.js';
import { bin, expr, fn, ifStmt, index, member, method, num, ret, type Stmt } from '../codegen/ast.js';
import { buildFunctionCfgs, graphFacts, type FunctionCfg } from '../codegen/cfg.js';
import {
  DISPATCH_VAR, MAX_NESTING, dispatchFunction, structureFunction, type FlowBlock, type FlowTerminator, type StructureHooks,
} from '../codegen/structure.js';

const OPTS = { helperExists: () => true };

function cfgsOf(slots: readonly Slot[]): FunctionCfg[] {
  return buildFunctionCfgs(validateSlots(slots, OPTS));
}

function cfgOf(text: string): FunctionCfg {
  const cfgs = cfgsOf(assembleSlots(text));
  expect(cfgs).toHaveLength(1);
  return cfgs[0]!;
}

// ---------------------------------------------------------------------------
// The harness.

interface Outcome {
  /** Id of the exit block reached, or -1 when the visit limit stopped the run. */
  readonly result: number;
  readonly trace: number[];
  /** pcs of the backward jumps taken, in order. */
  readonly back: number[];
}

interface Compiled {
  readonly source: string;
  readonly body: Stmt[];
  /** pcs passed to the backwardJump hook while generating. */
  readonly backwardCalls: number[];
  /** Block ids passed to the body hook while generating. */
  readonly bodyCalls: number[];
  run(d: readonly boolean[]): Outcome;
}

type Mode = 'structured' | 'dispatch';

function compile(cfg: FunctionCfg, limit: number, mode: Mode = 'structured'): Compiled {
  const backwardCalls: number[] = [];
  const bodyCalls: number[] = [];
  const hooks: StructureHooks = {
    body: (b) => {
      bodyCalls.push(b.id);
      return [
        expr(method('trace', 'push', [num(b.id)])),
        ifStmt(bin('>', member('trace', 'length'), num(limit)), [ret(num(-1))]),
      ];
    },
    test: () => index('d', bin('-', member('trace', 'length'), num(1))),
    backwardJump: (insn) => {
      backwardCalls.push(insn.pc);
      return [expr(method('back', 'push', [num(insn.pc)]))];
    },
    exit: (b) => [ret(num(b.id))],
  };
  const body = mode === 'structured' ? structureFunction(cfg, hooks) : dispatchFunction(cfg, hooks);
  const source = generate(fn('f', ['d', 'trace', 'back'], body));
  parse(source, { ecmaVersion: 'latest' });
  const f = new Function(`"use strict";\n${source}\nreturn f;`)() as (d: readonly boolean[], trace: number[], back: number[]) => number;
  return {
    source,
    body,
    backwardCalls,
    bodyCalls,
    run(d) {
      const trace: number[] = [];
      const back: number[] = [];
      const result = f(d, trace, back);
      return { result, trace, back };
    },
  };
}

/** The reference: walk the CFG block by block. */
function simulate(cfg: FunctionCfg, d: readonly boolean[], limit: number): Outcome {
  const trace: number[] = [];
  const back: number[] = [];
  let b = 0;
  for (;;) {
    trace.push(b);
    if (trace.length > limit) return { result: -1, trace, back };
    const t = cfg.blocks[b]!.terminator;
    switch (t.kind) {
      case 'exit':
        return { result: b, trace, back };
      case 'fall':
        b = t.next;
        break;
      case 'jump':
        if (cfg.blocks[t.target]!.start <= t.insn.pc) back.push(t.insn.pc);
        b = t.target;
        break;
      case 'branch':
        if (t.taken !== t.fallthrough && d[trace.length - 1] === true) {
          if (cfg.blocks[t.taken]!.start <= t.insn.pc) back.push(t.insn.pc);
          b = t.taken;
        } else {
          b = t.fallthrough;
        }
        break;
    }
  }
}

/** pcs of the jumps whose taken edge goes backward (target start <= pc), reachable blocks only. */
function backwardEdges(cfg: FunctionCfg): number[] {
  const pcs: number[] = [];
  for (const b of cfg.rpo) {
    const t = cfg.blocks[b]!.terminator;
    if (t.kind === 'jump' && cfg.blocks[t.target]!.start <= t.insn.pc) pcs.push(t.insn.pc);
    if (t.kind === 'branch' && cfg.blocks[t.taken]!.start <= t.insn.pc) pcs.push(t.insn.pc);
  }
  return pcs.sort((a, b) => a - b);
}

/** A small deterministic PRNG (mulberry32) for decision sequences. */
function decisions(seed: number, length: number): boolean[] {
  let a = seed >>> 0;
  const out: boolean[] = new Array<boolean>(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) % 2 === 1;
  }
  return out;
}

/** Decision sequences: all taken, none taken, alternating, and `random` pseudo-random ones. */
function decisionSets(limit: number, random: number, seed = 1): boolean[][] {
  const sets = [
    new Array<boolean>(limit + 1).fill(true),
    new Array<boolean>(limit + 1).fill(false),
    Array.from({ length: limit + 1 }, (_, i) => i % 2 === 0),
  ];
  for (let k = 0; k < random; k++) sets.push(decisions(seed * 7919 + k, limit + 1));
  return sets;
}

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/**
 * Compiles in the given mode and checks: each reachable block's code placed
 * exactly once (no duplication, unreachable ones left out), backwardJump
 * called exactly for the backward taken edges, and the run equal to the CFG
 * walk for every decision set.
 */
function check(cfg: FunctionCfg, opts: { limit?: number; random?: number; mode?: Mode; seed?: number } = {}): Compiled {
  const limit = opts.limit ?? 200;
  const compiled = compile(cfg, limit, opts.mode);
  expect(sorted(compiled.bodyCalls)).toEqual(sorted(cfg.rpo));
  expect(sorted(compiled.backwardCalls)).toEqual(backwardEdges(cfg));
  for (const d of decisionSets(limit, opts.random ?? 40, opts.seed)) {
    expect(compiled.run(d)).toEqual(simulate(cfg, d, limit));
  }
  return compiled;
}

/** Deepest nesting of statement lists (block bodies, switch cases) in the generated code. */
function nesting(body: Stmt[]): number {
  let max = 0;
  const work: [unknown, number][] = [[body, 0]];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    const [node, depth] = item;
    if (Array.isArray(node)) {
      for (const n of node) work.push([n, depth]);
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    const type = (node as { type?: string }).type;
    const d = type === 'BlockStatement' || type === 'SwitchCase' ? depth + 1 : depth;
    if (d > max) max = d;
    for (const value of Object.values(node)) if (typeof value === 'object') work.push([value, d]);
  }
  return max;
}

const isDispatch = (c: Compiled): boolean => c.source.includes(`switch (${DISPATCH_VAR})`);

// ---------------------------------------------------------------------------

describe('hand-written control flow', () => {
  it('straight line and a call that ends a block', () => {
    const c = check(cfgOf('mov %r0, 1\ncall 1\nadd %r0, 1\nexit'));
    expect(isDispatch(c)).toBe(false);
    expect(c.source).not.toMatch(/while|B_b|L_b/);
  });

  it('an if/else diamond needs no label', () => {
    const c = check(cfgOf(`
      mov %r0, 0
      jeq %r1, 0, else
      mov %r0, 1
      ja end
    else: mov %r0, 2
    end: exit`));
    expect(c.source).not.toMatch(/B_b|L_b|while|switch/);
    expect(c.source).toContain('else');
  });

  it('an if without else (one side skips to the merge)', () => {
    const c = check(cfgOf(`
      jeq %r1, 0, end
      mov %r0, 1
    end: exit`));
    expect(c.source).not.toMatch(/B_b|while|switch/);
  });

  it('a chain of diamonds stays flat', () => {
    const c = check(cfgOf(`
      jeq %r1, 0, e1
      mov %r0, 1
      ja m1
    e1: mov %r0, 2
    m1: jeq %r1, 1, e2
      mov %r0, 3
      ja m2
    e2: mov %r0, 4
    m2: jeq %r1, 2, e3
      mov %r0, 5
      ja m3
    e3: mov %r0, 6
    m3: exit`));
    expect(c.source).not.toMatch(/B_b|L_b|while|switch/);
    expect(nesting(c.body)).toBeLessThanOrEqual(3);
  });

  it('nested loops', () => {
    const c = check(cfgOf(`
      mov %r1, 0
    outer: mov %r2, 0
    inner: add %r2, 1
      jlt %r2, 10, inner
      add %r1, 1
      jlt %r1, 10, outer
      exit`));
    expect(isDispatch(c)).toBe(false);
    expect(c.source.match(/while \(true\)/g)).toHaveLength(2);
  });

  // Shapes clang emits: each structured (no dispatch) and equal to the CFG walk.
  const shapes: [string, string][] = [
    ['a loop with several exits and an early return', `
      mov %r1, 0
    top: add %r1, 1
      jeq %r2, 0, out1
      jeq %r3, 0, ret
      jlt %r1, 10, top
      ja done
    out1: mov %r0, 1
      ja done
    ret: exit
    done: exit`],
    ['a break out of two nested loops', `
    outer: add %r1, 1
    inner: add %r2, 1
      jeq %r3, 0, out
      jlt %r2, 10, inner
      jlt %r1, 10, outer
      mov %r0, 1
      exit
    out: mov %r0, 2
      exit`],
    ['a continue of the outer loop from the inner one', `
      mov %r1, 0
    outer: add %r1, 1
      jgt %r1, 20, done
    inner: add %r2, 1
      jeq %r3, 0, outer
      jlt %r2, 10, inner
      ja outer
    done: exit`],
    ['early returns inside a loop and after it', `
    top: add %r1, 1
      jne %r4, 0, keep
      mov %r0, 1
      exit
    keep: jeq %r5, 0, top
      jlt %r1, 3, ret2
      ja top
    ret2: mov %r0, 2
      exit`],
    ['a switch-like cascade with case fall-through', `
      jeq %r1, 0, c0
      jeq %r1, 1, c1
      jeq %r1, 2, c2
      ja def
    c0: mov %r0, 10
    c1: add %r0, 1
      ja end
    c2: mov %r0, 12
      ja end
    def: mov %r0, 0
    end: exit`],
  ];
  for (const [name, text] of shapes) {
    it(name, () => expect(isDispatch(check(cfgOf(text)))).toBe(false));
  }

  it('consecutive loops follow each other instead of nesting', () => {
    const c = check(cfgOf(`
    a: add %r1, 1
      jlt %r1, 10, a
    b: add %r2, 1
      jlt %r2, 10, b
    c: add %r3, 1
      jlt %r3, 10, c
      exit`));
    expect(c.source.match(/while \(true\)/g)).toHaveLength(3);
    expect(nesting(c.body)).toBeLessThanOrEqual(4);
    // Each loop's back edge ends its body: falling off the body repeats it.
    expect(c.source).not.toContain('continue');
  });

  it('a loop entered at its test: a back edge forward in pc, a forward edge backward in pc', () => {
    const cfg = cfgOf(`
      ja cond
    body: add %r0, 1
      add %r1, 1
    cond: jlt %r1, 10, body
      exit`);
    const c = check(cfg);
    expect(c.backwardCalls).toEqual([3]);
    expect(isDispatch(c)).toBe(false);
  });

  it('a backward jump that is no loop still gets the budget hook', () => {
    const c = check(cfgOf(`
      ja second
    first: mov %r0, 1
      exit
    second: mov %r0, 2
      ja first`));
    expect(c.backwardCalls).toEqual([4]);
    expect(c.source).not.toContain('while');
  });

  it('the entry block as loop header, and a jump with offset 0', () => {
    check(cfgOf(`
    top: add %r0, 1
      jeq %r1, 0, +0
      jlt %r0, 10, top
      exit`));
  });

  it('unreachable blocks are left out', () => {
    const cfg = cfgOf(`
      ja +1
      mov %r0, 1
      exit`);
    const c = check(cfg);
    expect(c.source).not.toContain('trace.push(1)');
    expect(check(cfg, { mode: 'dispatch' }).source).not.toContain('case 1');
  });

  it('an irreducible loop (two entries) uses the dispatch loop', () => {
    const cfg = cfgOf(`
      jeq %r1, 0, b
    a: add %r0, 1
      ja b
    b: add %r0, 2
      jeq %r0, 100, end
      ja a
    end: exit`);
    expect(cfg.reducible).toBe(false);
    const c = check(cfg);
    expect(isDispatch(c)).toBe(true);
    expect(c.source).toContain(`let ${DISPATCH_VAR} = 0;`);
    expect(c.backwardCalls).toEqual([5]);
  });

  it('each function of a program separately', () => {
    const cfgs = cfgsOf(assembleSlots(`
      call local f
      exit
    f: mov %r1, 0
    loop: add %r1, 1
      jlt %r1, 5, loop
      exit`));
    expect(cfgs).toHaveLength(2);
    for (const cfg of cfgs) check(cfg);
  });

  it('hook statements declaring block-scoped names are kept in their own scope', () => {
    const cfg = cfgOf(`
      jeq %r1, 0, else
      mov %r0, 1
      ja end
    else: mov %r0, 2
    end: exit`);
    const decl: Stmt = { type: 'VariableDeclaration', kind: 'const', declarations: [{ type: 'VariableDeclarator', id: { type: 'Identifier', name: 'k' }, init: num(1) }] };
    for (const build of [structureFunction, dispatchFunction]) {
      const body = build(cfg, { body: () => [decl], test: () => num(1), backwardJump: () => [], exit: () => [ret(num(0))] });
      const source = generate(fn('f', [], body));
      expect(() => parse(source, { ecmaVersion: 'latest' })).not.toThrow();
    }
  });
});

// ---------------------------------------------------------------------------
// Random programs.

/** A structured program: its control flow graph is reducible by construction. */
type S =
  | { t: 'op' }
  | { t: 'call' }
  | { t: 'if'; then: S[]; else: S[] | null }
  | { t: 'loop'; body: S[] }
  | { t: 'break'; up: number }
  | { t: 'continue'; up: number }
  | { t: 'return' };

const structured: fc.Arbitrary<S[]> = fc.letrec<{ stmt: S; list: S[] }>((tie) => ({
  stmt: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<S>({ t: 'op' }),
    fc.constant<S>({ t: 'call' }),
    fc.record({ t: fc.constant('if' as const), then: tie('list'), else: fc.option(tie('list'), { nil: null }) }),
    fc.record({ t: fc.constant('loop' as const), body: tie('list') }),
    fc.record({ t: fc.constant('break' as const), up: fc.nat(3) }),
    fc.record({ t: fc.constant('continue' as const), up: fc.nat(3) }),
    fc.constant<S>({ t: 'return' }),
  ),
  list: fc.array(tie('stmt'), { maxLength: 5 }),
})).list;

/** Assembly for a structured program; break/continue pick an enclosing loop (or return when there is none). */
function assembleStructured(program: S[]): string {
  const lines: string[] = [];
  let labels = 0;
  const loops: { top: string; end: string }[] = [];
  const emit = (list: S[]): void => {
    for (const s of list) {
      switch (s.t) {
        case 'op': lines.push('add %r0, 1'); break;
        case 'call': lines.push('call 1'); break;
        case 'return': lines.push('exit'); break;
        case 'if': {
          const els = `l${labels++}`;
          const end = `l${labels++}`;
          lines.push(`jeq %r1, 0, ${els}`);
          emit(s.then);
          if (s.else !== null) lines.push(`ja ${end}`);
          lines.push(`${els}:`);
          if (s.else !== null) emit(s.else);
          lines.push(`${end}:`);
          break;
        }
        case 'loop': {
          const top = `l${labels++}`;
          const end = `l${labels++}`;
          // The add keeps `ja top` from targeting itself.
          lines.push(`${top}:`, 'add %r2, 1');
          loops.push({ top, end });
          emit(s.body);
          loops.pop();
          lines.push(`ja ${top}`, `${end}:`);
          break;
        }
        case 'break':
        case 'continue': {
          const target = loops[loops.length - 1 - (s.up % Math.max(loops.length, 1))];
          if (target === undefined) lines.push('exit');
          else lines.push(`ja ${s.t === 'break' ? target.end : target.top}`);
          break;
        }
      }
    }
  };
  emit(program);
  lines.push('exit');
  return lines.join('\n');
}

/**
 * Jump soup: random instructions and jump targets, anything the validator
 * accepts. With `forward`, jumps mostly go forward (one in five may go
 * back), which gives larger reducible graphs with many merges.
 */
function soup(maxLength: number, forward: boolean): fc.Arbitrary<Slot[]> {
  return fc.integer({ min: 2, max: maxLength }).chain((n) =>
    fc.array(fc.tuple(fc.nat(9), fc.nat(n - 1), fc.nat(4)), { minLength: n - 1, maxLength: n - 1 }).map((picks) => {
      const slots: Slot[] = picks.map(([what, target, dir], pc) => {
        let to = target === pc ? (pc + 1) % n : target;
        if (forward && dir > 0 && to < pc) to = pc + 1 + ((pc - to) % (n - pc - 1));
        const jump = (opcode: number, dst: number): Slot => ({ opcode, dst, src: 0, off: to - pc - 1, imm: 0 });
        if (what < 3) return jump(0x15, 1); // jeq %r1, 0
        if (what < 5) return jump(0x05, 0); // ja
        if (what === 5) return { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 }; // exit
        if (what === 6) return { opcode: 0x85, dst: 0, src: 0, off: 0, imm: 1 }; // call 1
        return { opcode: 0x07, dst: 0, src: 0, off: 0, imm: 1 }; // add %r0, 1
      });
      slots.push({ opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
      return slots;
    }));
}

describe('graphs with blocks of no instruction (split.ts)', () => {
  // 0: a test of no instruction (a piece's choice of entry), taken to 2, else to 1 (it starts at
  // pc 20, after both, so only an instruction's pc could make its edges backward);
  // 1: a jump at pc 5 forward to 2; 2: a loop, its branch at pc 9 back to its own start (pc 8);
  // 3: an exit of no instruction (a way out of a piece).
  const jump = assembleSlots('ja +0\nexit');
  const insnAt = (pc: number) => ({ ...validateSlots(jump, { helperExists: () => true }).insns[0]!, pc });
  const terminators: FlowTerminator[] = [
    { kind: 'branch', insn: undefined, taken: 2, fallthrough: 1 },
    { kind: 'jump', insn: insnAt(5), target: 2 },
    { kind: 'branch', insn: insnAt(9), taken: 2, fallthrough: 3 },
    { kind: 'exit', insn: undefined },
  ];
  const blocks: FlowBlock[] = terminators.map((terminator, id) => ({ id, start: [20, 4, 8, 12][id]!, terminator }));
  const succ = Int32Array.from([2, 1, 2, -1, 2, 3, -1, -1]);
  const graph = { blocks, ...graphFacts(succ) };

  for (const build of [structureFunction, dispatchFunction]) {
    it(`${build.name}: no budget hook on edges without an instruction, the real back edge keeps its hook`, () => {
      const backward: number[] = [];
      const hooks: StructureHooks<FlowBlock> = {
        body: (b) => [expr(method('trace', 'push', [num(b.id)]))],
        test: (b) => index('d', num(b.id)),
        backwardJump: (insn) => {
          backward.push(insn.pc);
          return [expr(method('back', 'push', [num(insn.pc)]))];
        },
        exit: (b) => [ret(num(b.id))],
      };
      const source = generate(fn('f', ['d', 'trace', 'back'], build(graph, hooks)));
      expect(backward).toEqual([9]);
      const f = new Function(`"use strict";\n${source}\nreturn f;`)() as (d: boolean[], trace: number[], back: number[]) => number;
      const trace: number[] = [];
      const back: number[] = [];
      // Taken at 0, taken once at 2, then out.
      let loops = 0;
      const d = new Proxy([] as boolean[], { get: (_, k) => (k === '0' ? true : k === '2' ? loops++ === 0 : undefined) });
      expect(f(d, trace, back)).toBe(3);
      expect(trace).toEqual([0, 2, 2, 3]);
      expect(back).toEqual([9]);
    });
  }
});

describe('random programs', () => {
  it('structured programs: reducible, structured form, both forms match the CFG walk', () => {
    fc.assert(
      fc.property(structured, fc.nat(), (program, seed) => {
        const cfg = cfgOf(assembleStructured(program));
        expect(cfg.reducible).toBe(true);
        const c = check(cfg, { random: 8, seed });
        expect(isDispatch(c)).toBe(false);
        check(cfg, { random: 4, seed, mode: 'dispatch' });
      }),
      { seed: 20240611, numRuns: 400 },
    );
  });

  for (const [name, maxLength, forward, seed] of [['any jumps', 30, false, 77], ['mostly forward jumps', 60, true, 78]] as const) {
    it(`jump soup (${name}): irreducible ones dispatch, reducible ones are structured, all match the CFG walk`, () => {
      const seen = { reducible: 0, irreducible: 0 };
      fc.assert(
        fc.property(soup(maxLength, forward), fc.nat(), (slots, decisionSeed) => {
          const [cfg] = cfgsOf(slots);
          seen[cfg!.reducible ? 'reducible' : 'irreducible']++;
          const c = check(cfg!, { random: 8, seed: decisionSeed });
          expect(isDispatch(c)).toBe(!cfg!.reducible);
          check(cfg!, { random: 4, seed: decisionSeed, mode: 'dispatch' });
        }),
        { seed, numRuns: 400 },
      );
      expect(seen.reducible).toBeGreaterThan(20);
      expect(seen.irreducible).toBeGreaterThan(20);
    });
  }
});

// ---------------------------------------------------------------------------
// Big functions: no stack overflow while structuring, printing, parsing or
// running, and no more nesting than the shape needs.

describe('10,000-block functions', () => {
  const big = (text: string[]): FunctionCfg => cfgOf(text.join('\n'));
  const LIMIT = 100_000;

  it('3,400 diamonds in a row: structured and flat', () => {
    const lines: string[] = [];
    for (let i = 0; i < 3400; i++) lines.push(`jeq %r1, ${i}, e${i}`, 'mov %r0, 1', `ja m${i}`, `e${i}:`, 'mov %r0, 2', `m${i}:`);
    lines.push('exit');
    const cfg = big(lines);
    expect(cfg.blocks.length).toBeGreaterThan(10_000);
    const c = check(cfg, { limit: LIMIT, random: 3 });
    expect(isDispatch(c)).toBe(false);
    expect(nesting(c.body)).toBeLessThanOrEqual(3);
  });

  it('an if-cascade of 5,000 tests, each to its own exit: structured and shallow', () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(`jeq %r1, ${i}, x${i}`);
    lines.push('exit');
    for (let i = 0; i < 5000; i++) lines.push(`x${i}:`, `mov %r0, ${i}`, 'exit');
    const cfg = big(lines);
    expect(cfg.blocks.length).toBeGreaterThan(10_000);
    const c = check(cfg, { limit: LIMIT, random: 3 });
    expect(isDispatch(c)).toBe(false);
    expect(nesting(c.body)).toBeLessThanOrEqual(3);
  });

  it('10,000 consecutive loops: structured and flat', () => {
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) lines.push(`h${i}:`, 'add %r1, 1', `jlt %r1, 10, h${i}`);
    lines.push('exit');
    const cfg = big(lines);
    const c = check(cfg, { limit: LIMIT, random: 3 });
    expect(isDispatch(c)).toBe(false);
    expect(nesting(c.body)).toBeLessThanOrEqual(4);
  });

  it('5,000 nested loops: too deep to nest, so the dispatch form', () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(`h${i}:`, 'add %r0, 1');
    for (let i = 4999; i >= 0; i--) lines.push(`jlt %r0, 10, h${i}`);
    lines.push('exit');
    const cfg = big(lines);
    expect(cfg.loopHeaders.size).toBe(5000);
    const c = check(cfg, { limit: LIMIT, random: 3 });
    expect(isDispatch(c)).toBe(true);
    expect(nesting(c.body)).toBeLessThanOrEqual(4);
  });

  it('a 5,000-case switch whose cases fall into each other: merge nodes too deep, so the dispatch form', () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(`jeq %r1, ${i}, c${i}`);
    lines.push('ja end');
    for (let i = 0; i < 5000; i++) lines.push(`c${i}:`, `add %r0, ${i}`);
    lines.push('end:', 'exit');
    const cfg = big(lines);
    const c = check(cfg, { limit: LIMIT, random: 3 });
    expect(isDispatch(c)).toBe(true);
  });

  it(`structured nesting just under MAX_NESTING (${MAX_NESTING}) still prints, parses and runs`, () => {
    const n = Math.floor(MAX_NESTING / 2) - 2;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`h${i}:`, 'add %r0, 1');
    for (let i = n - 1; i >= 0; i--) lines.push(`jlt %r0, 10, h${i}`);
    lines.push('exit');
    const c = check(big(lines), { limit: LIMIT, random: 3 });
    expect(isDispatch(c)).toBe(false);
  });
});
