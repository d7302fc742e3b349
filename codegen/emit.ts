// Assembles the generated module: one JS function per BPF function (several
// for a function too big for V8 to optimize, see split.ts), the runtime
// bindings they share, and the entry point the runner calls. Each top-level
// statement is an ESTree node printed by astring (print.ts) as soon as it is
// built: only one function's tree is alive at a time, so a
// million-instruction program never holds a million instructions' worth of
// nodes. The module ends with the functions the runner calls (entry.ts),
// which also instantiates it.
//
// A traced compile (CompileOptions.trace, see trace.ts) adds a report before
// every instruction and after every register write, in the same blocks.

import type * as ES from 'estree';
import { formatInstruction } from '../lib/disasm.js';
import type { Instruction } from '../lib/isa.js';
import type { Program } from '../lib/program.js';
import type { SourceLine } from '../lib/vm-options.js';
import {
  appendComments, assign, bin, constDecl, expr, fn, id, letDecl, member, num, str, withComments, type Expr, type Stmt,
} from './ast.js';
import { analyzeFunction } from './analysis.js';
import { buildFunctionCfgs, type BasicBlock, type FunctionCfg } from './cfg.js';
import { RT, STACK_OFFSET, STATE, TEMPS, functionName, hi, lo, type CompileOptions, type LowerContext } from './context.js';
import { lowerInsn } from './lower.js';
import { memoryLocals, cacheResets, needsSharedFlag } from './lower-mem.js';
import { moduleExports } from './entry.js';
import { budgetCheck, lowerExit } from './lower-call.js';
import { lowerCondition } from './lower-jmp.js';
import { printInto, type Sink } from './print.js';
import {
  PIECE_PARAMS, REGS, SPLIT_LIMIT, dispatcherBody, exitStatements, leaveStatements, pieceGraph, pieceLoads, pieceName,
  pieceStores, planSplit, selectTest, type PieceBlock,
} from './split.js';
import { structureFunction, type StructureHooks } from './structure.js';
import { traceAfter, traceBefore, traceBindings } from './trace.js';

/** Parameters of every generated BPF function: r1..r5 as pairs, then the frame pointer. */
const PARAMS = [1, 2, 3, 4, 5].flatMap((r) => [lo(r), hi(r)]).concat('r10');
/** Registers a function starts with at 0: r0 and the callee-saved r6..r9. */
const ZEROED = [0, 6, 7, 8, 9].flatMap((r) => [lo(r), hi(r)]);

export interface EmitOptions extends CompileOptions {
  /** Readable output: indented, with a comment per basic block (pc range and disassembly). */
  readonly comments: boolean;
}

function isCall(insn: { spec: { kind: string } }): boolean {
  const k = insn.spec.kind;
  return k === 'call' || k === 'call_local' || k === 'callx';
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

/** Longest source text shown in a comment (the text is input: a huge line must not bloat the output). */
const MAX_SOURCE_TEXT = 160;

/**
 * The comment of each pc where a new C line starts (its line differs from
 * the previous instruction's, in pc order): `file:line: text`.
 */
function sourceLineStarts(program: Program, lines: readonly (SourceLine | undefined)[] | undefined): ReadonlyMap<number, string> {
  const starts = new Map<number, string>();
  if (lines === undefined) return starts;
  let last: SourceLine | undefined;
  for (const insn of program.insns) {
    const line = lines[insn.pc];
    if (line === undefined) continue;
    if (last === undefined || line.file !== last.file || line.lineNum !== last.lineNum) {
      const text = line.line.trim();
      starts.set(insn.pc, `${line.file}:${line.lineNum}: ${text.length > MAX_SOURCE_TEXT ? `${text.slice(0, MAX_SOURCE_TEXT)}...` : text}`);
    }
    last = line;
  }
  return starts;
}

/**
 * Records that `node` was lowered from `pc` (for a source map). Lowering
 * may hand out one node in several places (the slot-cache reset after every
 * call, frozen constants): a node already recorded is replaced by a shallow
 * copy, which prints the same but is told apart by identity.
 */
function tagged<T extends object>(pcs: Map<object, number>, node: T, pc: number): T {
  const copy = pcs.has(node) ? { ...node } : node;
  pcs.set(copy, pc);
  return copy;
}

/**
 * The code of the program's own blocks: instructions, conditions, budget
 * checks, exits. (Hooks are classes, not closures made per function: V8
 * inlines a hook into the structuring code it optimizes, checking which
 * function it calls, and a fresh closure per function failed that check
 * and threw the optimized code away, function after function.)
 */
class BlockHooks implements StructureHooks {
  /** What follows every call of the function (or piece) being built: its slot caches emptied. */
  resets: readonly Stmt[] = [];

  /**
   * `lines`: the comment of each pc where a C line starts (readable output
   * only); `pcs`: where to record each statement's pc, when a source map is
   * being made (print.ts marks the statements found in it).
   */
  constructor(
    readonly ctx: LowerContext, readonly options: EmitOptions, readonly lines: ReadonlyMap<number, string>,
    readonly pcs: Map<object, number> | undefined,
  ) {}

  body(block: BasicBlock): Stmt[] {
    const { ctx, options, lines, pcs } = this;
    const out: Stmt[] = [];
    // Every instruction of a block runs once the block is entered (a fault
    // ends the run anyway), so the whole block is counted at its start.
    if (options.budget) out.push(assign(STATE.count, num(block.insns.length), '+='));
    if (pcs !== undefined && out.length > 0) out[0] = tagged(pcs, out[0]!, block.start);
    // C lines waiting for a statement to stand before (an instruction may lower to none).
    let pending: string[] = [];
    const traced = options.trace === true;
    for (const insn of block.insns) {
      const line = lines.get(insn.pc);
      if (line !== undefined) pending.push(line);
      // A jump or exit is control flow (structure.ts), but a trace still
      // reports it here, at the end of its block: the test after it has no
      // side effects, so nothing runs between the report and the instruction.
      const terminator = isTerminator(insn);
      if (terminator && !traced) continue;
      const first = out.length;
      if (traced) out.push(traceBefore(insn));
      if (!terminator) {
        for (const s of lowerInsn(ctx, insn)) out.push(s);
        if (traced) for (const s of traceAfter(insn)) out.push(s);
      }
      // The callee may have mapped or unmapped regions: the slot caches are stale.
      if (isCall(insn)) for (const s of this.resets) out.push(s);
      if (pcs !== undefined) for (let i = first; i < out.length; i++) out[i] = tagged(pcs, out[i]!, insn.pc);
      if (pending.length > 0 && out.length > first) {
        appendComments(out[first]!, pending);
        pending = [];
      }
    }
    if (options.comments) {
      // A line starting at the branch or exit: shown where the block's code ends.
      if (pending.length > 0) out.push(appendComments({ type: 'EmptyStatement' }, pending));
      if (out.length === 0) out.push({ type: 'EmptyStatement' });
      const own = (out[0] as { comments?: { value: string }[] }).comments ?? [];
      withComments(out[0]!, blockComment(block));
      if (own.length > 0) appendComments(out[0]!, own.map((c) => c.value.slice(1)));
    }
    return out;
  }

  test(block: BasicBlock): Expr {
    if (block.terminator.kind !== 'branch') throw new Error(`internal: block ${block.id} has no branch`);
    const test = lowerCondition(this.ctx, block.terminator.insn);
    return this.pcs === undefined ? test : tagged(this.pcs, test, block.terminator.insn.pc);
  }

  backwardJump(insn: Instruction): Stmt[] {
    if (!this.options.budget) return [];
    const check = budgetCheck(insn.pc);
    return [this.pcs === undefined ? check : tagged(this.pcs, check, insn.pc)];
  }

  exit(block: BasicBlock): Stmt[] {
    if (block.terminator.kind !== 'exit') throw new Error(`internal: block ${block.id} does not exit`);
    const { insn } = block.terminator;
    const out = lowerExit(this.ctx, insn);
    const { pcs } = this;
    return pcs === undefined ? out : out.map((s) => tagged(pcs, s, insn.pc));
  }
}

/** The blocks of one piece of a split function: the program's own blocks, and those split.ts adds. */
class PieceHooks implements StructureHooks<PieceBlock> {
  constructor(readonly blocks: BlockHooks, readonly stores: readonly Stmt[]) {}

  body(pb: PieceBlock): Stmt[] {
    return pb.role === 'block' ? this.blocks.body(pb.block) : [];
  }

  test(pb: PieceBlock): Expr {
    if (pb.role === 'select') return selectTest(pb.code);
    if (pb.role !== 'block') throw new Error(`internal: piece block ${pb.id} has no branch`);
    return this.blocks.test(pb.block);
  }

  backwardJump(insn: Instruction): Stmt[] {
    return this.blocks.backwardJump(insn);
  }

  exit(pb: PieceBlock): Stmt[] {
    if (pb.role === 'block') return exitStatements(this.stores);
    if (pb.role !== 'leave') throw new Error(`internal: piece block ${pb.id} does not exit`);
    const leave = leaveStatements(this.stores, pb.code);
    if (this.blocks.options.comments) withComments(leave[leave.length - 1]!, [`on at pc ${pb.start}`]);
    return leave;
  }
}

/**
 * Locals every function (or piece of one) declares besides its registers:
 * temporaries, the frame offset, and the locals of its memory accesses
 * (lower-mem.ts). Also sets what `hooks` puts after its calls.
 */
function scratchLocals(hooks: BlockHooks, blocks: readonly BasicBlock[]): Stmt[] {
  const insns = blocks.flatMap((b) => b.insns);
  hooks.resets = cacheResets(insns);
  return [
    letDecl([...TEMPS], num(0)), constDecl(STACK_OFFSET, bin('-', id('r10'), id(RT.stackBase))),
    ...memoryLocals(insns, hooks.ctx.sharedFlag === true),
  ];
}

/** Prints top-level statements as they are made, each as soon as it is complete. */
class Printer {
  constructor(readonly sink: Sink, readonly style: 'compact' | 'readable') {}

  print(body: Stmt[]): void {
    printInto(this.sink, { type: 'Program', sourceType: 'script', body }, this.style);
    this.sink.cut();
    // Printed: the nodes' pcs are no longer needed (a source map holds positions, not nodes).
    this.sink.map?.pcs.clear();
  }
}

/**
 * The JS function(s) of one BPF function, each printed as soon as it is
 * built. Returns whether the function was split (the module then binds R).
 */
function emitFunction(hooks: BlockHooks, cfg: FunctionCfg, limit: number, printer: Printer): boolean {
  const { ctx, options } = hooks;
  const name = functionName(cfg.entry);
  const plan = planSplit(cfg, ctx.program.functions.length, limit);
  if (plan === undefined) {
    printer.print([fn(name, PARAMS, [letDecl(ZEROED, num(0)), ...scratchLocals(hooks, cfg.blocks), ...structureFunction(cfg, hooks)])]);
    return false;
  }
  for (let n = 0; n < plan.pieces.length; n++) {
    const piece = plan.pieces[n]!;
    const graph = pieceGraph(cfg, plan, piece);
    // One list of stores, shared by every return of the piece (never given comments).
    const pieceHooks = new PieceHooks(hooks, pieceStores(graph.stores));
    const decl = fn(pieceName(cfg.entry, n), PIECE_PARAMS, [
      ...pieceLoads(graph.loads), ...scratchLocals(hooks, piece.blocks.map((b) => cfg.blocks[b]!)),
      ...structureFunction(graph, pieceHooks),
    ]);
    if (options.comments) {
      const first = cfg.blocks[piece.blocks[0]!]!.start;
      const last = cfg.blocks[piece.blocks[piece.blocks.length - 1]!]!.end - 1;
      withComments(decl, [`${name}, piece ${n + 1} of ${plan.pieces.length}: pc ${first}..${last}`]);
    }
    printer.print([decl]);
  }
  const dispatcher = fn(name, PARAMS, dispatcherBody(cfg, plan, options.comments));
  if (options.comments) {
    withComments(dispatcher, [`${name}: split in ${plan.pieces.length} pieces (V8 optimizes no function above 60 KB of bytecode)`]);
  }
  printer.print([dispatcher]);
  return true;
}

/**
 * Prints the module (the body of `new Function("rt", ...)`) into `sink`.
 * `splitLimit` overrides SPLIT_LIMIT (tests force tiny pieces with it);
 * `style` is readable with comments, compact without, unless a test asks.
 */
export function emitModule(
  program: Program, options: EmitOptions, sink: Sink, splitLimit = SPLIT_LIMIT,
  style: 'compact' | 'readable' = options.comments ? 'readable' : 'compact',
): void {
  const printer = new Printer(sink, style);
  const ctx: LowerContext = { program, options };
  // Only readable output carries comments; compiled code never looks at source lines.
  const lines = sourceLineStarts(program, options.comments ? options.sourceLines : undefined);
  const head: Stmt[] = [{ ...expr(str('use strict')), directive: 'use strict' } as ES.Directive];
  // Runtime bindings, read once: the generated code reaches nothing else.
  for (const name of Object.values(RT)) head.push(constDecl(name, member('rt', name)));
  head.push(constDecl(STATE.maxDepth, member('rt', 'MAXDEPTH')));
  head.push(letDecl([STATE.count, STATE.budget, STATE.depth], num(0)));
  head.push(letDecl([STATE.unwound], { type: 'Literal', value: false }));
  if (options.trace === true) head.push(...traceBindings());
  printer.print(head);
  let split = false;
  // Traced code adds two calls per instruction, about 20 bytes of bytecode
  // (as much as the cheapest instructions' own): pieces are planned half as
  // big, so that V8 still optimizes them (split.ts).
  const limit = options.trace === true ? Math.max(1, splitLimit / 2) : splitLimit;
  for (const cfg of buildFunctionCfgs(program)) {
    const sharedFlag = needsSharedFlag(cfg.blocks.flatMap((b) => b.insns));
    const hooks = new BlockHooks({ ...ctx, hints: analyzeFunction(cfg, program), sharedFlag }, options, lines, sink.map?.pcs);
    if (emitFunction(hooks, cfg, limit, printer)) split = true;
  }
  const tail: Stmt[] = [];
  // Functions run only after the module body has, so this binding may come last.
  if (split) tail.push(constDecl(REGS, member('rt', REGS)));
  // The ways in (the entry the runner calls, the callback helpers use) are entry.ts's.
  tail.push(...moduleExports(program, options));
  printer.print(tail);
}
