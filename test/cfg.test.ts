// The basic-block analyzer: leaders (jump targets, after jumps, exits and
// calls), lddw spans, edges, dominators, loop headers, reducibility, one CFG
// per BPF function, and the build time of million-instruction programs.

import { describe, expect, it } from 'vitest';
import { assembleSlots } from '../lib/asm.js';
import type { Slot } from '../lib/isa.js';
import type { Program } from '../lib/program.js';
import { validateSlots } from '../lib/validate.js';
import { MAX_BLOCK_INSNS, buildFunctionCfgs, graphFacts, type FunctionCfg } from '../codegen/cfg.js';

const OPTS = { helperExists: () => true };

function program(text: string): Program {
  return validateSlots(assembleSlots(text), OPTS);
}

function cfgOf(text: string): FunctionCfg {
  const cfgs = buildFunctionCfgs(program(text));
  expect(cfgs).toHaveLength(1);
  return cfgs[0]!;
}

/** Blocks as [start, end, terminator kind, succs, preds]: compact to compare. */
function shape(cfg: FunctionCfg): [number, number, string, number[], number[]][] {
  return cfg.blocks.map((b) => [b.start, b.end, b.terminator.kind, [...b.succs], [...b.preds]]);
}

describe('leaders and blocks', () => {
  it('a straight-line function is one block', () => {
    const cfg = cfgOf('mov %r0, 1\nadd %r0, 2\nexit');
    expect(shape(cfg)).toEqual([[0, 3, 'exit', [], []]]);
    expect(cfg.blocks[0]!.insns.map((i) => i.pc)).toEqual([0, 1, 2]);
    expect(cfg.rpo).toEqual([0]);
    expect(cfg.idom).toEqual([-1]);
    expect(cfg.loopHeaders.size).toBe(0);
    expect(cfg.reducible).toBe(true);
    expect(cfg.entry).toBe(0);
  });

  it('splits at jump targets and after jumps: an if/else diamond', () => {
    const cfg = cfgOf(`
      mov %r0, 0
      jeq %r1, 0, else
      mov %r0, 1
      ja end
    else:
      mov %r0, 2
    end:
      exit`);
    expect(shape(cfg)).toEqual([
      [0, 2, 'branch', [2, 1], []],
      [2, 4, 'jump', [3], [0]],
      [4, 5, 'fall', [3], [0]],
      [5, 6, 'exit', [], [1, 2]],
    ]);
    const t = cfg.blocks[0]!.terminator;
    expect(t.kind === 'branch' && [t.taken, t.fallthrough, t.insn.pc]).toEqual([2, 1, 1]);
    const j = cfg.blocks[1]!.terminator;
    expect(j.kind === 'jump' && [j.target, j.insn.pc]).toEqual([3, 3]);
    expect(cfg.idom).toEqual([-1, 0, 0, 0]);
    expect(cfg.rpo[0]).toBe(0);
    expect([...cfg.rpo].sort()).toEqual([0, 1, 2, 3]);
    expect(cfg.rpo.indexOf(3)).toBe(3);
    expect(cfg.loopHeaders.size).toBe(0);
  });

  it('splits after an exit in the middle of a function', () => {
    const cfg = cfgOf(`
      jeq %r1, 0, two
      exit
    two:
      mov %r0, 2
      exit`);
    expect(shape(cfg)).toEqual([
      [0, 1, 'branch', [2, 1], []],
      [1, 2, 'exit', [], [0]],
      [2, 4, 'exit', [], [0]],
    ]);
  });

  it('ends a block after every call (helper, local, callx)', () => {
    const cfgs = buildFunctionCfgs(program(`
      call 1
      mov %r0, 0
      call local f
      callx %r2
      exit
    f:
      mov %r0, 1
      exit`));
    expect(cfgs).toHaveLength(2);
    expect(shape(cfgs[0]!)).toEqual([
      [0, 1, 'fall', [1], []],
      [1, 3, 'fall', [2], [0]],
      [3, 4, 'fall', [3], [1]],
      [4, 5, 'exit', [], [2]],
    ]);
    expect(cfgs[0]!.blocks.map((b) => b.insns[b.insns.length - 1]!.spec.kind)).toEqual(['call', 'call_local', 'callx', 'exit']);
    const fall = cfgs[0]!.blocks[0]!.terminator;
    expect(fall.kind === 'fall' && fall.next).toBe(1);
    expect(shape(cfgs[1]!)).toEqual([[5, 7, 'exit', [], []]]);
  });

  it('lddw takes two slots: block ends and jump targets account for it', () => {
    const cfg = cfgOf(`
      jeq %r1, 0, second
      lddw %r0, 0x100000000
    second:
      lddw %r2, 7
      exit`);
    expect(shape(cfg)).toEqual([
      [0, 1, 'branch', [2, 1], []],
      [1, 3, 'fall', [2], [0]],
      [3, 6, 'exit', [], [0, 1]],
    ]);
    expect(cfg.blocks[1]!.insns).toHaveLength(1);
    expect(cfg.blocks[2]!.insns.map((i) => [i.pc, i.spec.kind])).toEqual([[3, 'lddw'], [5, 'exit']]);
  });

  it('a conditional jump with offset 0 has one successor', () => {
    const cfg = cfgOf('jeq %r1, 0, +0\nmov %r0, 1\nexit');
    expect(shape(cfg)).toEqual([
      [0, 1, 'branch', [1], []],
      [1, 3, 'exit', [], [0]],
    ]);
    const t = cfg.blocks[0]!.terminator;
    expect(t.kind === 'branch' && [t.taken, t.fallthrough]).toEqual([1, 1]);
  });

  it('keeps unreachable blocks out of rpo and the dominator tree', () => {
    const cfg = cfgOf(`
      ja +1
      mov %r0, 1
      exit`);
    expect(shape(cfg)).toEqual([
      [0, 1, 'jump', [2], []],
      [1, 2, 'fall', [2], []],
      [2, 3, 'exit', [], [0, 1]],
    ]);
    expect(cfg.rpo).toEqual([0, 2]);
    expect(cfg.idom).toEqual([-1, -1, 0]);
    expect(cfg.reducible).toBe(true);
  });
});

describe('dominators and loops', () => {
  it('nested loops: headers, idoms, reducible', () => {
    const cfg = cfgOf(`
      mov %r1, 0
    outer:
      mov %r2, 0
    inner:
      add %r2, 1
      jlt %r2, 10, inner
      add %r1, 1
      jlt %r1, 10, outer
      exit`);
    expect(shape(cfg)).toEqual([
      [0, 1, 'fall', [1], []],
      [1, 2, 'fall', [2], [0, 3]],
      [2, 4, 'branch', [2, 3], [1, 2]],
      [4, 6, 'branch', [1, 4], [2]],
      [6, 7, 'exit', [], [3]],
    ]);
    expect(cfg.idom).toEqual([-1, 0, 1, 2, 3]);
    expect(cfg.rpo).toEqual([0, 1, 2, 3, 4]);
    expect([...cfg.loopHeaders].sort()).toEqual([1, 2]);
    expect(cfg.reducible).toBe(true);
  });

  it('the entry block can be a loop header', () => {
    const cfg = cfgOf(`
    top:
      add %r0, 1
      jlt %r0, 10, top
      exit`);
    expect([...cfg.loopHeaders]).toEqual([0]);
    expect(cfg.idom).toEqual([-1, 0]);
    expect(cfg.reducible).toBe(true);
  });

  it('a loop entered at its test (a back edge that falls through forward in pc)', () => {
    const cfg = cfgOf(`
      ja cond
    body:
      add %r0, 1
      add %r1, 1
    cond:
      jlt %r1, 10, body
      exit`);
    // b1 (body) falls into b2 (cond): a back edge although it goes forward in pc.
    expect(shape(cfg)).toEqual([
      [0, 1, 'jump', [2], []],
      [1, 3, 'fall', [2], [2]],
      [3, 4, 'branch', [1, 3], [0, 1]],
      [4, 5, 'exit', [], [2]],
    ]);
    expect([...cfg.loopHeaders]).toEqual([2]);
    expect(cfg.idom).toEqual([-1, 2, 0, 2]);
    expect(cfg.reducible).toBe(true);
  });

  it('a loop with two entries is irreducible', () => {
    const cfg = cfgOf(`
      jeq %r1, 0, b
    a:
      add %r0, 1
      ja b
    b:
      add %r0, 2
      jeq %r0, 100, end
      ja a
    end:
      exit`);
    expect(shape(cfg)).toEqual([
      [0, 1, 'branch', [2, 1], []],
      [1, 3, 'jump', [2], [0, 3]],
      [3, 5, 'branch', [4, 3], [0, 1]],
      [5, 6, 'jump', [1], [2]],
      [6, 7, 'exit', [], [2]],
    ]);
    expect(cfg.reducible).toBe(false);
    expect(cfg.idom).toEqual([-1, 0, 0, 2, 2]);
  });

  it('a loop with several exits and an early return', () => {
    const cfg = cfgOf(`
      mov %r1, 0
    top:
      add %r1, 1
      jeq %r2, 0, out1
      jeq %r3, 0, ret
      jlt %r1, 10, top
      ja done
    out1:
      mov %r0, 1
      ja done
    ret:
      exit
    done:
      exit`);
    expect(cfg.reducible).toBe(true);
    expect([...cfg.loopHeaders]).toEqual([1]);
    const done = cfg.blocks.find((b) => b.start === 9)!;
    expect(cfg.idom[done.id]).toBe(1);
    expect([...done.preds].sort()).toEqual([4, 5]);
  });
});

describe('functions', () => {
  it('one CFG per function, block ids local to each, entries from local calls and code addresses', () => {
    const p = program(`
      call local f
      lddw %r1, func g
      exit
    f:
      jeq %r1, 0, f_end
      mov %r0, 1
    f_end:
      exit
    g:
      mov %r0, 2
      exit`);
    expect(p.functions).toEqual([0, 4, 7]);
    const cfgs = buildFunctionCfgs(p);
    expect(cfgs.map((c) => c.entry)).toEqual([0, 4, 7]);
    expect(shape(cfgs[0]!)).toEqual([
      [0, 1, 'fall', [1], []],
      [1, 4, 'exit', [], [0]],
    ]);
    expect(shape(cfgs[1]!)).toEqual([
      [4, 5, 'branch', [2, 1], []],
      [5, 6, 'fall', [2], [0]],
      [6, 7, 'exit', [], [0, 1]],
    ]);
    expect(shape(cfgs[2]!)).toEqual([[7, 9, 'exit', [], []]]);
    for (const c of cfgs) expect(c.blocks[0]!.start).toBe(c.entry);
  });
});

// Opcodes for the large programs (built from slots: assembling a million lines is slow).
const MOV64_IMM = 0xb7;
const ADD64_IMM = 0x07;
const JLT_IMM = 0xa5;
const JEQ_IMM = 0x15;
const EXIT = 0x95;

function slot(opcode: number, fields: Partial<Omit<Slot, 'opcode'>> = {}): Slot {
  return { opcode, dst: 0, src: 0, off: 0, imm: 0, ...fields };
}

describe('graphFacts: the same facts for a graph given as successor pairs', () => {
  it('agrees with buildFunctionCfgs on every function of a program', () => {
    const cfg = cfgOf(`
      mov %r1, 0
    top:
      jeq %r1, 7, skip
      add %r1, 1
    skip:
      add %r1, 1
      jlt %r1, 10, top
      jeq %r2, 0, out
      ja top
    out:
      exit`);
    const succ = new Int32Array(2 * cfg.blocks.length).fill(-1);
    for (const b of cfg.blocks) b.succs.forEach((s, i) => { succ[2 * b.id + i] = s; });
    const facts = graphFacts(succ);
    expect(facts.rpo).toEqual(cfg.rpo);
    expect(facts.idom).toEqual(cfg.idom);
    expect([...facts.loopHeaders]).toEqual([...cfg.loopHeaders]);
    expect(facts.reducible).toBe(cfg.reducible);
  });

  it('finds a loop with two entries, and leaves unreachable nodes out', () => {
    // 0 -> 1, 0 -> 2, 1 <-> 2 (a cycle entered at both), 3 unreachable -> 1.
    const facts = graphFacts(Int32Array.from([1, 2, 2, -1, 1, -1, 1, -1]));
    expect(facts.reducible).toBe(false);
    expect(facts.rpo).toHaveLength(3);
    expect(facts.idom).toEqual([-1, 0, 0, -1]);
  });
});

describe('block length cap', () => {
  it(`cuts a straight run after ${MAX_BLOCK_INSNS} instructions, counting from the last leader`, () => {
    // A jump target at pc 5 restarts the count; lddw counts as one instruction.
    const lines = ['jeq %r1, 0, t'];
    for (let i = 0; i < 3; i++) lines.push('add %r0, 1');
    lines.push('lddw %r2, 1');
    lines.push('t:');
    for (let i = 0; i < MAX_BLOCK_INSNS + 5; i++) lines.push('add %r0, 1');
    lines.push('exit');
    const cfg = cfgOf(lines.join('\n'));
    expect(cfg.blocks.map((b) => [b.start, b.insns.length])).toEqual([
      [0, 1], [1, 4], [6, MAX_BLOCK_INSNS], [6 + MAX_BLOCK_INSNS, 6],
    ]);
    expect(cfg.blocks[2]!.terminator).toEqual({ kind: 'fall', next: 3 });
  });
});

describe('million-instruction programs', () => {
  const N = 1_000_000;

  it(`straight line: blocks of ${MAX_BLOCK_INSNS} instructions falling into each other`, () => {
    const slots: Slot[] = new Array<Slot>(N);
    for (let i = 0; i < N - 1; i++) slots[i] = slot(ADD64_IMM, { imm: 1 });
    slots[N - 1] = slot(EXIT);
    const p = validateSlots(slots, OPTS);
    // Speed is measured by npm run bench, not asserted here: this checks size and shape.
    const cfgs = buildFunctionCfgs(p);
    const { blocks } = cfgs[0]!;
    expect(blocks).toHaveLength(Math.ceil(N / MAX_BLOCK_INSNS));
    expect(blocks.every((b, i) => b.start === i * MAX_BLOCK_INSNS)).toBe(true);
    expect(blocks.slice(0, -1).every((b) => b.insns.length === MAX_BLOCK_INSNS && b.terminator.kind === 'fall')).toBe(true);
    expect(blocks[blocks.length - 1]!.terminator.kind).toBe('exit');
    expect(cfgs[0]!.rpo).toHaveLength(blocks.length);
  });

  it('250,000 loops in a chain: 750,000 blocks, built without deep recursion', () => {
    // Unit of 4 slots: mov r1, 0; loop: add r1, 1; jlt r1, 3, loop; jeq r2, 7, (next unit's loop).
    const slots: Slot[] = [];
    const count = Math.floor((N - 1) / 4);
    for (let u = 0; u < count; u++) {
      slots.push(slot(MOV64_IMM, { dst: 1 }));
      slots.push(slot(ADD64_IMM, { dst: 1, imm: 1 }));
      slots.push(slot(JLT_IMM, { dst: 1, imm: 3, off: -2 }));
      slots.push(slot(JEQ_IMM, { dst: 2, imm: 7, off: u === count - 1 ? 0 : 1 }));
    }
    while (slots.length < N - 1) slots.push(slot(MOV64_IMM));
    slots.push(slot(EXIT));
    const p = validateSlots(slots, OPTS);
    // Speed is measured by npm run bench, not asserted here: this checks size and shape.
    const cfgs = buildFunctionCfgs(p);
    const cfg = cfgs[0]!;
    expect(cfg.blocks).toHaveLength(3 * count + 1);
    expect(cfg.reducible).toBe(true);
    expect(cfg.loopHeaders.size).toBe(count);
    expect(cfg.rpo).toHaveLength(cfg.blocks.length);
    // The last block's immediate-dominator chain spans the whole function.
    let depth = 0;
    for (let b = cfg.blocks.length - 1; b > 0; b = cfg.idom[b]!) depth++;
    expect(depth).toBeGreaterThan(count);
  });
});
