// The graph that every cfg renderer draws: the JIT analyzer's basic blocks
// (codegen/cfg.ts) with their disassembly, edge kinds, back edges and marks,
// plus call edges between functions. Renderers only lay out and escape; all
// meaning (what is a back edge, which block holds a tail call) is decided here
// once, so DOT, Mermaid and SVG always agree.

import { buildFunctionCfgs, dominanceTest } from '../../codegen/cfg.js';
import { formatInstruction } from '../disasm.js';
import { branchTarget, type Instruction } from '../isa.js';
import type { Program } from '../program.js';
import type { SourceLine } from '../vm-options.js';
import { TAIL_CALL_HELPER } from '../tail-call.js';
import { sourceLineText } from '../source-line.js';

/** fall: straight-line into the next block; jump: ja; taken / not-taken: the two sides of a conditional jump. */
export type EdgeKind = 'fall' | 'jump' | 'taken' | 'not-taken';

export interface GraphBlock {
  /** Unique in the graph and safe as an identifier in every output format: `f<function>b<block>`. */
  readonly id: string;
  readonly fn: number;
  /** Block index within its function (codegen BasicBlock.id). */
  readonly index: number;
  readonly start: number;
  /** One past the last slot. */
  readonly end: number;
  /**
   * `pc: disassembly`, one per instruction; with source lines, `; file:N: text`
   * before the first instruction of each new C line.
   */
  readonly lines: readonly string[];
  readonly loopHeader: boolean;
  /** Holds a bpf_tail_call (helper 12). */
  readonly tailCall: boolean;
  /** Holds a callx (call through a register). */
  readonly callx: boolean;
  readonly exit: boolean;
  /** Not reachable from its function's entry. */
  readonly unreachable: boolean;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** The target dominates the source: the edge closes a loop. */
  readonly back: boolean;
}

/** A bpf-to-bpf call: from the calling block to the callee's entry block. */
export interface CallEdge {
  readonly from: string;
  readonly to: string;
  readonly callee: number;
}

export interface GraphFunction {
  readonly index: number;
  readonly entry: number;
  readonly name: string;
  readonly blocks: readonly GraphBlock[];
  readonly edges: readonly GraphEdge[];
  readonly reducible: boolean;
}

export interface CfgGraph {
  readonly title: string;
  readonly functions: readonly GraphFunction[];
  readonly calls: readonly CallEdge[];
}

export function blockId(fn: number, block: number): string {
  return `f${fn}b${block}`;
}

/** The function name shown for the function entered at `entry` (the program's own name for pc 0). */
function functionName(title: string, entry: number): string {
  return entry === 0 ? title : `fn@${entry}`;
}

function disasmLine(insn: Instruction): string {
  return `${insn.pc}: ${formatInstruction(insn, insn.pc, insn.spec.kind === 'lddw' ? insn.imm2 : undefined)}`;
}

/** A block's lines: each instruction's disassembly, preceded by its C line where that changes. */
function blockLines(insns: readonly Instruction[], sourceLines: readonly (SourceLine | undefined)[] | undefined): string[] {
  const lines: string[] = [];
  let shown: SourceLine | undefined;
  for (const insn of insns) {
    const src = sourceLines?.[insn.pc];
    if (src !== undefined && (shown === undefined || src.file !== shown.file || src.lineNum !== shown.lineNum)) {
      lines.push(`; ${sourceLineText(src)}`);
      shown = src;
    }
    lines.push(disasmLine(insn));
  }
  return lines;
}

/**
 * The graph of a validated program. `title` names the graph and the function
 * at pc 0; `sourceLines` (LoadedProgram.sourceLines, from BTF line info) adds
 * the C lines to the blocks.
 */
export function buildCfgGraph(program: Program, title = 'program',
  sourceLines?: readonly (SourceLine | undefined)[]): CfgGraph {
  const cfgs = buildFunctionCfgs(program);
  const fnIndex = new Map<number, number>(program.functions.map((pc, i) => [pc, i]));
  const calls: CallEdge[] = [];
  const functions = cfgs.map((cfg, f): GraphFunction => {
    const dominates = dominanceTest(cfg);
    const reachable = new Uint8Array(cfg.blocks.length);
    for (const b of cfg.rpo) reachable[b] = 1;
    const blocks: GraphBlock[] = [];
    const edges: GraphEdge[] = [];
    for (const block of cfg.blocks) {
      const id = blockId(f, block.id);
      let tailCall = false;
      let callx = false;
      for (const insn of block.insns) {
        const kind = insn.spec.kind;
        if (kind === 'call' && insn.imm === TAIL_CALL_HELPER) tailCall = true;
        if (kind === 'callx') callx = true;
        if (kind === 'call_local') {
          const callee = fnIndex.get(branchTarget(insn));
          // The validator makes every local call target a function entry.
          if (callee !== undefined) calls.push({ from: id, to: blockId(callee, 0), callee });
        }
      }
      const t = block.terminator;
      blocks.push({
        id, fn: f, index: block.id, start: block.start, end: block.end, lines: blockLines(block.insns, sourceLines),
        loopHeader: cfg.loopHeaders.has(block.id), tailCall, callx, exit: t.kind === 'exit', unreachable: reachable[block.id] === 0,
      });
      const edge = (to: number, kind: EdgeKind) =>
        edges.push({ from: id, to: blockId(f, to), kind, back: dominates(to, block.id) });
      switch (t.kind) {
        case 'fall': edge(t.next, 'fall'); break;
        case 'jump': edge(t.target, 'jump'); break;
        case 'branch':
          edge(t.taken, 'taken');
          // Offset 0: both sides reach the same block; one edge (the analyzer keeps one successor too).
          if (t.fallthrough !== t.taken) edge(t.fallthrough, 'not-taken');
          break;
        case 'exit': break;
      }
    }
    return { index: f, entry: cfg.entry, name: functionName(title, cfg.entry), blocks, edges, reducible: cfg.reducible };
  });
  return { title, functions, calls };
}

/** The short tags a block carries, in a fixed order (the renderers print them in the block header). */
export function blockMarks(b: GraphBlock): string[] {
  const marks: string[] = [];
  if (b.loopHeader) marks.push('loop header');
  if (b.tailCall) marks.push('tail call');
  if (b.callx) marks.push('callx');
  if (b.unreachable) marks.push('unreachable');
  return marks;
}

/** First line of a block's label: its pc range (end exclusive) and marks. */
export function blockHeader(b: GraphBlock): string {
  const marks = blockMarks(b);
  return `pc ${b.start}..${b.end - 1}${marks.length === 0 ? '' : ` [${marks.join(', ')}]`}`;
}
