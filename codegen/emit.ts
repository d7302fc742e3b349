// Assembles the generated module: one JS function per BPF function, the
// runtime bindings they share, and the entry point the runner calls. The
// whole module is an ESTree Program printed by astring; `instantiate` turns
// the printed source into a callable with `new Function("rt", source)`, the
// runtime object being the only thing the code can reach.

import { generate } from 'astring';
import type * as ES from 'estree';
import { formatInstruction } from '../lib/disasm.js';
import type { Program } from '../lib/program.js';
import {
  assign, bin, call, constDecl, expr, fn, id, letDecl, member, num, ret, str, withComments, type Expr, type Stmt,
} from './ast.js';
import { analyzeFunction } from './analysis.js';
import { buildFunctionCfgs, type BasicBlock, type FunctionCfg } from './cfg.js';
import { RT, STACK_OFFSET, STATE, TEMPS, functionName, hi, lo, type CompileOptions, type LowerContext } from './context.js';
import { lowerInsn } from './lower.js';
import { budgetCheck, lowerExit } from './lower-call.js';
import { lowerCondition } from './lower-jmp.js';
import { structureFunction, type StructureHooks } from './structure.js';

/** Parameters of every generated BPF function: r1..r5 as pairs, then the frame pointer. */
const PARAMS = [1, 2, 3, 4, 5].flatMap((r) => [lo(r), hi(r)]).concat('r10');
/** Registers a function starts with at 0: r0 and the callee-saved r6..r9. */
const ZEROED = [0, 6, 7, 8, 9].flatMap((r) => [lo(r), hi(r)]);
/** Parameters of the entry function the runner calls. */
export const ENTRY_PARAMS = ['r1', 'r1h', 'r2', 'r2h', 'r10', 'budget'] as const;

export interface EmitOptions extends CompileOptions {
  /** Attach a comment per basic block with its pc range and disassembly. */
  readonly comments: boolean;
}

function isTerminator(insn: { spec: { kind: string } }): boolean {
  const k = insn.spec.kind;
  return k === 'ja' || k === 'jcond' || k === 'exit';
}

function blockComment(block: BasicBlock): string[] {
  const last = block.insns[block.insns.length - 1]!;
  const lines = [`pc ${block.start}..${last.pc}`];
  for (const insn of block.insns) lines.push(`${String(insn.pc).padStart(5)}: ${formatInstruction(insn, insn.pc, insn.imm2)}`);
  return lines;
}

function functionBody(ctx: LowerContext, cfg: FunctionCfg, options: EmitOptions): Stmt[] {
  const hooks: StructureHooks = {
    body(block) {
      const out: Stmt[] = [];
      // Every instruction of a block runs once the block is entered (a fault
      // ends the run anyway), so the whole block is counted at its start.
      if (options.budget) out.push(assign(STATE.count, num(block.insns.length), '+='));
      for (const insn of block.insns) {
        if (!isTerminator(insn)) out.push(...lowerInsn(ctx, insn));
      }
      if (options.comments) {
        if (out.length === 0) out.push({ type: 'EmptyStatement' });
        withComments(out[0]!, blockComment(block));
      }
      return out;
    },
    test(block) {
      if (block.terminator.kind !== 'branch') throw new Error(`internal: block ${block.id} has no branch`);
      return lowerCondition(ctx, block.terminator.insn);
    },
    backwardJump(insn) {
      return options.budget ? [budgetCheck(insn.pc)] : [];
    },
    exit(block) {
      if (block.terminator.kind !== 'exit') throw new Error(`internal: block ${block.id} does not exit`);
      return lowerExit(ctx, block.terminator.insn);
    },
  };
  return [
    letDecl(ZEROED, num(0)),
    letDecl([...TEMPS], num(0)),
    constDecl(STACK_OFFSET, bin('-', id('r10'), id(RT.stackBase))),
    ...structureFunction(cfg, hooks),
  ];
}

/** The module as an ESTree Program (the body of `new Function("rt", ...)`). */
export function buildModule(program: Program, options: EmitOptions): ES.Program {
  const ctx: LowerContext = { program, options };
  const body: Stmt[] = [{ ...expr(str('use strict')), directive: 'use strict' } as ES.Directive];
  // Runtime bindings, read once: the generated code reaches nothing else.
  for (const name of Object.values(RT)) body.push(constDecl(name, member('rt', name)));
  body.push(constDecl(STATE.maxDepth, member('rt', 'MAXDEPTH')));
  body.push(letDecl([STATE.count, STATE.budget, STATE.depth], num(0)));
  body.push(letDecl([STATE.unwound], { type: 'Literal', value: false }));
  for (const cfg of buildFunctionCfgs(program)) {
    const fctx: LowerContext = { ...ctx, hints: analyzeFunction(cfg) };
    body.push(fn(functionName(cfg.entry), PARAMS, functionBody(fctx, cfg, options)));
  }
  // The entry resets the per-run state and calls the main function with
  // r1, r2 and the top of the stack; r3..r5 start at 0.
  const mainArgs: Expr[] = [...['r1', 'r1h', 'r2', 'r2h'].map(id), ...Array.from({ length: 6 }, () => num(0)), id('r10')];
  body.push(ret({
    type: 'FunctionExpression',
    id: id('entry'),
    params: ENTRY_PARAMS.map(id),
    body: {
      type: 'BlockStatement',
      body: [
        assign(STATE.count, num(0)),
        assign(STATE.budget, id('budget')),
        assign(STATE.depth, num(1)),
        assign(STATE.unwound, { type: 'Literal', value: false }),
        ret(call(functionName(0), mainArgs)),
      ],
    },
    generator: false,
    async: false,
  }));
  return { type: 'Program', sourceType: 'script', body };
}

export function printModule(module: ES.Program, comments: boolean): string {
  return generate(module, { comments });
}

/** (r1, r1h, r2, r2h, r10, budget) => r0 low half; the high half is left in RET[1]. */
export type EntryFn = (r1: number, r1h: number, r2: number, r2h: number, r10: number, budget: number) => number;

/** Compiles printed source against a runtime object. */
export function instantiate(source: string, runtime: object): EntryFn {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('rt', source) as (rt: object) => EntryFn;
  return factory(runtime);
}
