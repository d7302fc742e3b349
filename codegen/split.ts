// Splitting BPF functions too big for V8's optimizing compiler. V8 never
// optimizes a function with more than 61,440 bytes of bytecode
// (--max-optimized-bytecode-size), so a BPF function whose code would come
// near that is compiled as several JS functions, "pieces", each a run of
// consecutive blocks (in pc order), plus the function itself, which only
// dispatches between them:
//
//   function f0(r1, r1h, ..., r5, r5h, r10) {      // same signature as ever
//     R[0] = 0; R[1] = 0; R[2] = r1; ...            // registers into R
//     let k = 1;
//     while (true) switch (k) {
//       case 1: k = f0_0(r10, 1); break;            // a piece, entered at code 1
//       case 2: k = f0_1(r10, 2); break;
//       case -1: RET[1] = R[1]; return R[0];        // the function exited
//       default: return 0;                          // the run was unwound
//     }
//   }
//
// R (an Int32Array(20), rN at 2N and rNh at 2N + 1) holds the registers
// between pieces. A piece loads the registers its instructions touch into
// locals (`let r3 = R[6], r3h = R[7]`), runs its blocks as structured code,
// and where control leaves it stores the registers it may have written and
// returns the resume code of the block to go on with. A register the piece
// does not write keeps its value in R. A piece that calls a function loads
// and stores every register: the callee's own pieces reuse R. R is shared by
// the whole module: it only carries registers from one piece's return to the
// next piece's start, and nothing runs in between.
//
// Resume codes: 1..K number the blocks where pieces are entered (code 1 is
// the function's entry block), -1 means the function exited with r0 in R,
// and 0 means the run is being unwound (lowering's `return 0` after UNWOUND
// is set, left as is: the dispatcher returns 0 in turn). A piece entered at
// several blocks tests its `k` parameter first.
//
// Where to cut: each block is given an estimate of its bytecode (per
// instruction, from measurements of what lowering emits); pieces are filled
// in pc order up to SPLIT_LIMIT, and each cut is placed, within the second
// half of the piece, where the fewest edges cross it: that keeps loops that
// fit in a piece inside one piece and makes pieces with few entries and exits.
//
// Semantics do not change: the budget is counted per block and checked at the
// same jumps (an edge leaving a piece backward still gets its check, by pc);
// faults keep their pcs; calls go to the fN functions as before.
//
// What this does not do: liveness (a piece loads every register it touches,
// dead or not), or splitting a function that fits (functions under the limit
// are one JS function, as before).

import type * as ES from 'estree';
import { FP_REG, type Instruction } from '../lib/isa.js';
import { assign, bin, brk, call, id, index, letDecl, loop, num, ret, switchStmt, withComments, type Expr, type Stmt } from './ast.js';
import { graphFacts, type BasicBlock, type FunctionCfg } from './cfg.js';
import { RT, functionName, hi, lo } from './context.js';
import type { FlowBlock, FlowGraph, FlowTerminator } from './structure.js';

/**
 * Estimated bytecode of one JS function, in bytes, above which a BPF function
 * is split, and the most a piece is filled to. A fifth below V8's 61,440: the
 * estimates are measured averages, and a piece adds its loads and stores.
 */
export const SPLIT_LIMIT = 48_000;

/** The module binding of the register array. */
export const REGS = 'R';
/** Slots of R: r0..r9, low and high halves. */
export const REG_SLOTS = 20;
/** A piece's parameter: the resume code it was entered with. */
const CODE = 'k';

/** Resume code: the function exited (r0 is in R). */
const EXITED = -1;

// ---------------------------------------------------------------------------
// Cost estimates

/**
 * Bytes of V8 bytecode an instruction's lowering compiles to, about: measured
 * with `node --print-bytecode` on 200 repetitions of each instruction form
 * (2025, Node 20), rounded up. A checked memory access is dominated by its
 * bounds check and fault call; an access proven inside the frame is cheap.
 */
export function insnCost(insn: Instruction, functionCount: number): number {
  const { spec } = insn;
  const w64 = spec.width === 64;
  switch (spec.kind) {
    case 'alu':
      if (!w64) return spec.alu === 'mul' || spec.alu === 'div' || spec.alu === 'mod' || spec.alu === 'sdiv' || spec.alu === 'smod' ? 45 : 25;
      switch (spec.alu!) {
        case 'mov': case 'or': case 'and': case 'xor': return 20;
        case 'add': case 'sub': return 70;
        case 'mul': return spec.source === 'reg' ? 175 : 110;
        case 'div': case 'mod': case 'sdiv': case 'smod': return 110;
        case 'lsh': case 'rsh': case 'arsh': return spec.source === 'reg' ? 95 : 35;
      }
      break;
    case 'neg': return w64 ? 45 : 15;
    case 'movsx': return 25;
    case 'end': case 'bswap': return spec.width === 64 ? 160 : spec.width === 32 ? 80 : 40;
    case 'lddw': return 15;
    case 'ldx': case 'ldsx': case 'st': case 'stx': {
      const base = spec.kind === 'ldx' || spec.kind === 'ldsx' ? insn.src : insn.dst;
      const inFrame = base === FP_REG && insn.off < 0;
      // A checked access includes the refill of the slot cache (lower-mem.ts): about 30 bytes.
      return inFrame ? (w64 ? 80 : 45) : (w64 ? 260 : 210);
    }
    case 'atomic': {
      const inFrame = insn.dst === FP_REG && insn.off < 0;
      return w64 ? (inFrame ? 220 : 420) : (inFrame ? 90 : 260);
    }
    case 'ldabs': case 'ldind': return 90;
    case 'call': return 75;
    case 'call_local': return 160;
    // A switch over every function entry, a call in each case.
    case 'callx': return 160 + 60 * functionCount;
    case 'jcond': return w64 ? 60 : 30;
    case 'ja': return 5;
    case 'exit': return 15;
    case 'call_kfunc': return 0;
  }
  return 0;
}

/** A block's estimate: its instructions, plus its counting and control flow. */
function blockCost(block: BasicBlock, functionCount: number): number {
  let cost = 20;
  for (const insn of block.insns) cost += insnCost(insn, functionCount);
  return cost;
}

// ---------------------------------------------------------------------------
// Partition

/** A run of consecutive reachable blocks compiled as one JS function. */
export interface Piece {
  /** Function block ids, in pc order. */
  readonly blocks: readonly number[];
  /** The blocks entered from outside the piece (or the function's entry), in pc order. */
  readonly entries: readonly number[];
}

export interface SplitPlan {
  readonly pieces: readonly Piece[];
  /** Resume code per function block id (0 for blocks that start no piece entry). */
  readonly codes: Int32Array;
}

/**
 * How to split the function, or undefined when it fits in one JS function.
 * `limit` is SPLIT_LIMIT unless a test forces tiny pieces (1: a block each).
 */
export function planSplit(cfg: FunctionCfg, functionCount: number, limit: number): SplitPlan | undefined {
  const { blocks, rpo } = cfg;
  const nb = blocks.length;
  // Reachable blocks in pc order (block ids are in pc order).
  const reachable = new Uint8Array(nb);
  for (const b of rpo) reachable[b] = 1;
  const order: number[] = [];
  for (let b = 0; b < nb; b++) if (reachable[b] === 1) order.push(b);
  const cost = new Float64Array(order.length);
  let total = 0;
  for (let i = 0; i < order.length; i++) total += cost[i] = blockCost(blocks[order[i]!]!, functionCount);
  if (total <= limit) return undefined;

  // position[b]: index of block b in `order`.
  const position = new Int32Array(nb).fill(-1);
  for (let i = 0; i < order.length; i++) position[order[i]!] = i;
  // crossing[p]: edges between order[< p] and order[>= p], for a cut before p.
  const crossing = new Int32Array(order.length + 1);
  for (const b of order) {
    for (const s of blocks[b]!.succs) {
      const x = position[b]!;
      const y = position[s]!;
      if (x === y) continue;
      crossing[Math.min(x, y) + 1]++;
      crossing[Math.max(x, y) + 1]--;
    }
  }
  for (let p = 1; p <= order.length; p++) crossing[p] += crossing[p - 1]!;

  // Cut points, greedily: fill a piece up to the limit (at least one block),
  // then cut where the fewest edges cross, but not before half the limit is
  // filled (on ties, the later cut).
  const cuts: number[] = [0];
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    let filled = cost[start]!;
    while (end < order.length && filled + cost[end]! <= limit) filled += cost[end++]!;
    if (end === order.length) break;
    let best = end;
    for (let p = end - 1; p > start; p--) {
      filled -= cost[p]!; // now the cost of [start, p)
      if (filled < limit / 2) break;
      if (crossing[p]! < crossing[best]!) best = p;
    }
    cuts.push(best);
    start = best;
  }
  cuts.push(order.length);

  const pieceOf = new Int32Array(nb).fill(-1);
  for (let c = 0; c + 1 < cuts.length; c++) for (let i = cuts[c]!; i < cuts[c + 1]!; i++) pieceOf[order[i]!] = c;
  const entered = new Uint8Array(nb);
  entered[0] = 1;
  for (const b of order) for (const s of blocks[b]!.succs) if (pieceOf[s] !== pieceOf[b]) entered[s] = 1;
  const codes = new Int32Array(nb);
  let next = 1;
  const pieces: Piece[] = [];
  for (let c = 0; c + 1 < cuts.length; c++) {
    const members = order.slice(cuts[c]!, cuts[c + 1]!);
    const entries = members.filter((b) => entered[b] === 1);
    for (const b of entries) codes[b] = next++;
    pieces.push({ blocks: members, entries });
  }
  return { pieces, codes };
}

// ---------------------------------------------------------------------------
// A piece as a graph for structure.ts

/**
 * A block of a piece's graph: one of the function's blocks (`block`), a test
 * choosing the entry (`select`: is k the code of its taken side?), or the
 * way out to a block of another piece (`leave`: store, return its code).
 */
export type PieceBlock = FlowBlock & (
  | { readonly role: 'block'; readonly block: BasicBlock }
  | { readonly role: 'select'; readonly code: number }
  | { readonly role: 'leave'; readonly code: number; readonly target: number }
);

/** A piece's graph, and what its code needs to know. */
export interface PieceGraph extends FlowGraph<PieceBlock> {
  /** Registers (bit N: rN) the piece loads from R at its start. */
  readonly loads: number;
  /** Registers it stores back to R where it returns. */
  readonly stores: number;
}

/**
 * The registers an instruction reads or writes (bits 0..9: rN; r10 left
 * out), the ones it writes (bits 10..19), and bit 20 when it calls a
 * function. Packed in one number: this runs for every instruction.
 */
function registersOf(insn: Instruction): number {
  const { spec, dst, src } = insn;
  const d = 1 << dst;
  const s = 1 << src;
  const args = 0b111111; // r0..r5
  switch (spec.kind) {
    case 'alu': return regBits(spec.source === 'reg' ? d | s : d, d);
    case 'movsx': case 'ldx': case 'ldsx': return regBits(d | s, d);
    case 'neg': case 'end': case 'bswap': case 'lddw': return regBits(d, d);
    case 'st': return regBits(d, 0);
    case 'stx': return regBits(d | s, 0);
    case 'atomic':
      if (spec.atomic === 'cmpxchg') return regBits(d | s | 1, 1);
      return regBits(d | s, spec.fetch === true ? s : 0);
    case 'ldabs': return regBits(1, 1);
    case 'ldind': return regBits(1 | s, 1);
    case 'call': return regBits(args, 1);
    case 'call_local': return regBits(args, 1) | CALLS;
    case 'callx': return regBits(args | d, 1) | CALLS;
    case 'jcond': return regBits(spec.source === 'reg' ? d | s : d, 0);
    case 'exit': return regBits(1, 0);
    case 'ja': case 'call_kfunc': return 0;
  }
}

const CALLS = 1 << 20;

function regBits(touched: number, written: number): number {
  return (touched & ALL_REGS) | ((written & ALL_REGS) << 10);
}
const ALL_REGS = (1 << 10) - 1;

/**
 * The graph of one piece: `select` blocks first when it has several entries
 * (block 0 is where it starts), then its blocks in pc order, then one `leave`
 * block per block of another piece it jumps to.
 */
export function pieceGraph(cfg: FunctionCfg, plan: SplitPlan, piece: Piece): PieceGraph {
  const { blocks } = cfg;
  const selects = piece.entries.length - 1;
  const local = new Map<number, number>();
  // The single entry goes first; with several, the select chain leads to each.
  const ordered = selects === 0 ? [piece.entries[0]!, ...piece.blocks.filter((b) => b !== piece.entries[0])] : piece.blocks;
  ordered.forEach((b, i) => local.set(b, selects + i));
  const leaves: number[] = [];
  const leaveOf = new Map<number, number>();
  const to = (target: number): number => {
    const inside = local.get(target);
    if (inside !== undefined) return inside;
    let l = leaveOf.get(target);
    if (l === undefined) {
      l = selects + ordered.length + leaves.length;
      leaveOf.set(target, l);
      leaves.push(target);
    }
    return l;
  };

  const out: PieceBlock[] = [];
  let regs = 0;
  for (let j = 0; j < selects; j++) {
    // Select j: taken to entry j; otherwise on to select j + 1, or to the last entry.
    const taken = local.get(piece.entries[j]!)!;
    const fallthrough = j + 1 < selects ? j + 1 : local.get(piece.entries[selects]!)!;
    const terminator: FlowTerminator = { kind: 'branch', insn: undefined, taken, fallthrough };
    out.push({ id: j, start: blocks[piece.entries[j]!]!.start, terminator, role: 'select', code: plan.codes[piece.entries[j]!]! });
  }
  for (const b of ordered) {
    const block = blocks[b]!;
    for (const insn of block.insns) regs |= registersOf(insn);
    out.push({ id: local.get(b)!, start: block.start, terminator: remap(block.terminator, to), role: 'block', block });
  }
  for (const target of leaves) {
    out.push({
      id: out.length, start: blocks[target]!.start, terminator: { kind: 'exit', insn: undefined },
      role: 'leave', code: plan.codes[target]!, target,
    });
  }
  // A register only read stays valid in R; one that is written is stored
  // where the piece returns. A call reuses R: everything goes through locals.
  const calls = (regs & CALLS) !== 0;
  const loads = calls ? ALL_REGS : regs & ALL_REGS;
  const stores = calls ? ALL_REGS : (regs >> 10) & ALL_REGS;

  const succ = new Int32Array(2 * out.length).fill(-1);
  for (const pb of out) {
    const t = pb.terminator;
    switch (t.kind) {
      case 'fall': succ[2 * pb.id] = t.next; break;
      case 'jump': succ[2 * pb.id] = t.target; break;
      case 'branch':
        succ[2 * pb.id] = t.taken;
        if (t.fallthrough !== t.taken) succ[2 * pb.id + 1] = t.fallthrough;
        break;
      case 'exit': break;
    }
  }
  return { blocks: out, ...graphFacts(succ), loads, stores };
}

function remap(t: BasicBlock['terminator'], to: (target: number) => number): FlowTerminator {
  switch (t.kind) {
    case 'fall': return { kind: 'fall', next: to(t.next) };
    case 'jump': return { kind: 'jump', insn: t.insn, target: to(t.target) };
    case 'branch': return { kind: 'branch', insn: t.insn, taken: to(t.taken), fallthrough: to(t.fallthrough) };
    case 'exit': return t;
  }
}

// ---------------------------------------------------------------------------
// Code around the pieces

/** The JS name of piece `n` of the function at `entry`. */
export function pieceName(entry: number, n: number): string {
  return `${functionName(entry)}_${n}`;
}

function regSlot(reg: number, high: boolean): ES.MemberExpression {
  return index(REGS, num(2 * reg + (high ? 1 : 0)));
}

function registers(mask: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < 10; r++) if ((mask & (1 << r)) !== 0) out.push(r);
  return out;
}

/** `let r3 = R[6], r3h = R[7], ...` for the piece's registers (nothing when it touches none). */
export function pieceLoads(mask: number): Stmt[] {
  const regs = registers(mask);
  if (regs.length === 0) return [];
  return [{
    type: 'VariableDeclaration',
    kind: 'let',
    declarations: regs.flatMap((r) => [
      { type: 'VariableDeclarator', id: id(lo(r)), init: regSlot(r, false) },
      { type: 'VariableDeclarator', id: id(hi(r)), init: regSlot(r, true) },
    ]),
  }];
}

/** `R[6] = r3; R[7] = r3h; ...`: shared by every return of a piece (astring prints shared nodes as often as they occur). */
export function pieceStores(mask: number): Stmt[] {
  return registers(mask).flatMap((r) => [assign(regSlot(r, false), id(lo(r))), assign(regSlot(r, true), id(hi(r)))]);
}

/** A `leave` block's code: the stores, then the resume code of its target. */
export function leaveStatements(stores: readonly Stmt[], code: number): Stmt[] {
  return [...stores, ret(num(code))];
}

/** A real exit inside a piece: r0 goes to R with the rest, the dispatcher returns it. */
export function exitStatements(stores: readonly Stmt[]): Stmt[] {
  return [...stores, ret(num(EXITED))];
}

/** Parameters of a piece: the frame pointer and the resume code it was entered with. */
export const PIECE_PARAMS = ['r10', CODE] as const;

/** The test of a select block: was the piece entered at `code`? */
export function selectTest(code: number): Expr {
  return bin('===', id(CODE), num(code));
}

/**
 * The body of a split function's own JS function: registers into R (r0 and
 * r6..r9 start at 0, as in every function), then the dispatch loop.
 */
export function dispatcherBody(cfg: FunctionCfg, plan: SplitPlan, comments: boolean): Stmt[] {
  const out: Stmt[] = [];
  for (let r = 0; r < 10; r++) {
    const isArg = r >= 1 && r <= 5;
    out.push(assign(regSlot(r, false), isArg ? id(lo(r)) : num(0)), assign(regSlot(r, true), isArg ? id(hi(r)) : num(0)));
  }
  const cases: { test: Expr | null; body: Stmt[] }[] = [];
  plan.pieces.forEach((piece, n) => {
    for (const b of piece.entries) {
      const code = plan.codes[b]!;
      const body: Stmt[] = [assign(CODE, call(pieceName(cfg.entry, n), [id('r10'), num(code)])), brk()];
      if (comments) withComments(body[0]!, [`pc ${cfg.blocks[b]!.start}`]);
      cases.push({ test: num(code), body });
    }
  });
  cases.push({ test: num(EXITED), body: [assign(index(RT.ret, num(1)), regSlot(0, true)), ret(regSlot(0, false))] });
  // Code 0: the run was unwound; RET[1] is 0 already.
  cases.push({ test: null, body: [ret(num(0))] });
  out.push(letDecl([CODE], num(1)), loop([switchStmt(id(CODE), cases)]));
  return out;
}
