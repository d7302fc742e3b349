// Basic blocks of each BPF function, their edges, dominators and loops: what
// structure.ts needs to turn a function into structured JavaScript.
//
// A function spans [entry, next function's entry). The validator guarantees
// what this module relies on: jumps stay inside their function and land on an
// instruction start, and the last instruction of a function is exit or ja (no
// fall-through into the next function). A violated guarantee is an internal
// error (plain Error), never a silently wrong graph.
//
// Leaders: the entry, every jump target, the instruction after a jump or an
// exit, and the instruction after every call. Calls end blocks because the
// JIT checks the instruction budget before a call and counts instructions per
// block: a call must be the last instruction its block executes. A straight
// run longer than MAX_BLOCK_INSNS instructions is cut into blocks of at most
// that many (falling into each other), so that a block's code alone stays
// far below V8's bytecode limit and split.ts can cut a huge function anywhere.
//
// Cost: linear in the instruction count for building blocks and edges (one
// pass over flat typed arrays, no closure per instruction); dominators use the
// Cooper-Harvey-Kennedy iteration over reverse postorder, which converges in a
// few passes on compiler output. Every graph walk uses an explicit stack: a
// million-block chain must not overflow the JS call stack.
//
// `graphFacts` computes the same facts (reverse postorder, dominators, loops,
// reducibility) for any graph given as successor pairs: split.ts builds the
// graphs of the pieces of a function it splits with it.
//
// What this does not do: no liveness or register analysis, no splitting of
// oversized functions (split.ts), no edges between functions (calls are plain
// instructions here).

import { branchTarget, type Instruction, type Kind } from '../lib/isa.js';
import type { Program } from '../lib/program.js';

export type Terminator =
  /** The last instruction is not a jump or exit (a call, or a plain instruction before a leader): control falls into `next`. */
  | { readonly kind: 'fall'; readonly next: number }
  /** ja / ja32 to block `target`. */
  | { readonly kind: 'jump'; readonly insn: Instruction; readonly target: number }
  /** Conditional jump: `taken` when the condition holds, else `fallthrough` (the block at pc + 1). */
  | { readonly kind: 'branch'; readonly insn: Instruction; readonly taken: number; readonly fallthrough: number }
  | { readonly kind: 'exit'; readonly insn: Instruction };

export interface BasicBlock {
  /** Index in FunctionCfg.blocks. */
  readonly id: number;
  /** pc of the first instruction. */
  readonly start: number;
  /** pc one past the last slot (an lddw takes two slots). */
  readonly end: number;
  /** All instructions of the block, terminator included. */
  readonly insns: readonly Instruction[];
  readonly terminator: Terminator;
  /**
   * Successor block ids, without duplicates: a conditional jump with offset 0
   * (taken == fallthrough) has one successor. For a branch, taken comes first.
   */
  readonly succs: readonly number[];
  /** Predecessor block ids, without duplicates, unreachable ones included. */
  readonly preds: readonly number[];
}

export interface FunctionCfg {
  /** Entry pc. */
  readonly entry: number;
  /** blocks[0] is the entry block; blocks are in pc order. */
  readonly blocks: readonly BasicBlock[];
  /** Reverse postorder of the blocks reachable from the entry (rpo[0] = 0). */
  readonly rpo: readonly number[];
  /** Immediate dominator per block id; -1 for the entry and for unreachable blocks. */
  readonly idom: readonly number[];
  /** Targets of back edges: edges u -> v where v dominates u. */
  readonly loopHeaders: ReadonlySet<number>;
  /** False when some retreating edge's target does not dominate its source (a loop with two entries). */
  readonly reducible: boolean;
}

/**
 * Longest block, in instructions. The costliest instructions (a checked
 * 64-bit atomic) lower to about 400 bytes of V8 bytecode, so a block stays
 * under 52 KB whatever it holds (V8 optimizes functions up to 60 KB).
 */
export const MAX_BLOCK_INSNS = 128;

/** Instructions after which control may not simply continue in the same block. */
function endsBlock(kind: Kind): boolean {
  switch (kind) {
    case 'ja': case 'jcond': case 'exit':
    // Calls end blocks: the budget is checked before a call, and the JIT
    // counts a whole block at its start, so nothing may follow the call.
    case 'call': case 'call_local': case 'callx': case 'call_kfunc':
      return true;
    default:
      return false;
  }
}

/** One CFG per entry of program.functions, in that order. */
export function buildFunctionCfgs(program: Program): FunctionCfg[] {
  const { insns, functions } = program;
  const n = program.slotCount;
  // Scratch indexed by pc, shared by the functions of this program: each
  // function only touches the slots of its own range.
  const scratch: Scratch = { leader: new Uint8Array(n), blockAt: new Int32Array(n).fill(-1) };
  const cfgs: FunctionCfg[] = [];
  let first = 0;
  for (let f = 0; f < functions.length; f++) {
    const entry = functions[f]!;
    const end = functions[f + 1] ?? n;
    let last = first;
    while (last < insns.length && insns[last]!.pc < end) last++;
    if (first === last || insns[first]!.pc !== entry) {
      throw new Error(`internal: function entry ${entry} is not an instruction start`);
    }
    cfgs.push(buildFunction(insns, first, last, entry, end, scratch));
    first = last;
  }
  return cfgs;
}

interface Scratch {
  /** 1 when a block starts at this pc. */
  readonly leader: Uint8Array;
  /** Block id (within its function) of the block starting at this pc, else -1. */
  readonly blockAt: Int32Array;
}

/**
 * The edges of one function as flat typed arrays, which the graph algorithms
 * below read. Blocks expose them as arrays lazily: a million-instruction
 * program would otherwise allocate several small arrays per block up front,
 * and the garbage collector, copying them all, dominated the build time.
 */
interface Edges {
  readonly insns: readonly Instruction[];
  /** Block b holds insns[starts[b], starts[b + 1]). */
  readonly starts: Int32Array;
  /** succ[2b], succ[2b + 1]: successors of b (-1 when absent; a branch has taken first). */
  readonly succ: Int32Array;
  /** Predecessors of b: predList[predStart[b], predStart[b + 1]). */
  readonly predStart: Int32Array;
  readonly predList: Int32Array;
}

/**
 * A block reads its arrays and terminator from the function's Edges on first
 * use and keeps them; only id, start and end are computed up front.
 */
class Block implements BasicBlock {
  readonly id: number;
  readonly start: number;
  readonly end: number;
  readonly #edges: Edges;
  #insns: readonly Instruction[] | undefined;
  #terminator: Terminator | undefined;
  #succs: readonly number[] | undefined;
  #preds: readonly number[] | undefined;

  constructor(id: number, start: number, end: number, edges: Edges) {
    this.id = id;
    this.start = start;
    this.end = end;
    this.#edges = edges;
  }

  get insns(): readonly Instruction[] {
    const { insns, starts } = this.#edges;
    return (this.#insns ??= insns.slice(starts[this.id]!, starts[this.id + 1]!));
  }

  get terminator(): Terminator {
    if (this.#terminator !== undefined) return this.#terminator;
    const { insns, starts, succ } = this.#edges;
    const last = insns[starts[this.id + 1]! - 1]!;
    const s0 = succ[2 * this.id]!;
    const s1 = succ[2 * this.id + 1]!;
    switch (last.spec.kind) {
      case 'ja': return (this.#terminator = { kind: 'jump', insn: last, target: s0 });
      case 'jcond': return (this.#terminator = { kind: 'branch', insn: last, taken: s0, fallthrough: s1 < 0 ? s0 : s1 });
      case 'exit': return (this.#terminator = { kind: 'exit', insn: last });
      default: return (this.#terminator = { kind: 'fall', next: s0 });
    }
  }

  get succs(): readonly number[] {
    const { succ } = this.#edges;
    const s0 = succ[2 * this.id]!;
    const s1 = succ[2 * this.id + 1]!;
    return (this.#succs ??= s0 < 0 ? [] : s1 < 0 ? [s0] : [s0, s1]);
  }

  get preds(): readonly number[] {
    const { predStart, predList } = this.#edges;
    return (this.#preds ??= Array.from(predList.subarray(predStart[this.id]!, predStart[this.id + 1]!)));
  }
}

/**
 * A set of block ids backed by one byte per block: a Set of a quarter of a
 * million loop headers cost more than the rest of the analysis.
 */
class BlockSet implements ReadonlySet<number> {
  readonly #member: Uint8Array;
  readonly size: number;

  constructor(member: Uint8Array) {
    this.#member = member;
    let size = 0;
    for (let i = 0; i < member.length; i++) size += member[i]!;
    this.size = size;
  }

  has(id: number): boolean {
    return this.#member[id] === 1;
  }

  *values(): IterableIterator<number> {
    const member = this.#member;
    for (let i = 0; i < member.length; i++) if (member[i] === 1) yield i;
  }

  keys(): IterableIterator<number> {
    return this.values();
  }

  *entries(): IterableIterator<[number, number]> {
    for (const v of this.values()) yield [v, v];
  }

  [Symbol.iterator](): IterableIterator<number> {
    return this.values();
  }

  forEach(callback: (value: number, key: number, set: ReadonlySet<number>) => void, thisArg?: unknown): void {
    for (const v of this.values()) callback.call(thisArg, v, v, this);
  }
}

/** The CFG of insns[first, last), the function spanning pcs [entry, end). */
function buildFunction(
  insns: readonly Instruction[], first: number, last: number, entry: number, end: number, scratch: Scratch,
): FunctionCfg {
  const { leader, blockAt } = scratch;
  leader[entry] = 1;
  let count = 0;
  for (let i = first; i < last; i++) {
    const insn = insns[i]!;
    const kind = insn.spec.kind;
    if (kind === 'ja' || kind === 'jcond') {
      const target = branchTarget(insn);
      if (target < entry || target >= end) throw new Error(`internal: jump at pc ${insn.pc} leaves its function`);
      leader[target] = 1;
    }
    // The next instruction's pc (an lddw takes two slots).
    const next = i + 1 < last ? insns[i + 1]!.pc : end;
    if (endsBlock(kind) && next < end) leader[next] = 1;
  }
  // Cut straight runs (leaders are all known now, jump targets included).
  for (let i = first, run = 0; i < last; i++) {
    const pc = insns[i]!.pc;
    if (leader[pc] === 1 || run === MAX_BLOCK_INSNS) {
      leader[pc] = 1;
      run = 0;
    }
    run++;
  }
  for (let i = first; i < last; i++) count += leader[insns[i]!.pc]!;

  // Block boundaries as instruction indices and as pcs (blocks are contiguous).
  const nb = count;
  const starts = new Int32Array(nb + 1);
  const startPc = new Int32Array(nb + 1);
  for (let i = first, b = 0; i < last; i++) {
    const pc = insns[i]!.pc;
    if (leader[pc] === 1) {
      blockAt[pc] = b;
      startPc[b] = pc;
      starts[b++] = i;
    }
  }
  starts[nb] = last;
  startPc[nb] = end;

  const succ = new Int32Array(2 * nb).fill(-1);
  const predStart = new Int32Array(nb + 1);
  for (let b = 0; b < nb; b++) {
    const insn = insns[starts[b + 1]! - 1]!;
    const next = startPc[b + 1]!;
    switch (insn.spec.kind) {
      case 'ja':
        succ[2 * b] = blockOf(scratch, branchTarget(insn), end, insn);
        break;
      case 'jcond': {
        const taken = blockOf(scratch, branchTarget(insn), end, insn);
        const fallthrough = blockOf(scratch, next, end, insn);
        succ[2 * b] = taken;
        // Offset 0: both sides are the next block, one successor.
        if (fallthrough !== taken) succ[2 * b + 1] = fallthrough;
        break;
      }
      case 'exit':
        break;
      default:
        succ[2 * b] = blockOf(scratch, next, end, insn);
        break;
    }
    if (succ[2 * b]! >= 0) predStart[succ[2 * b]! + 1]++;
    if (succ[2 * b + 1]! >= 0) predStart[succ[2 * b + 1]! + 1]++;
  }
  for (let b = 0; b < nb; b++) predStart[b + 1] += predStart[b]!;
  const predList = new Int32Array(predStart[nb]!);
  const fill = predStart.slice(0, nb);
  for (let b = 0; b < nb; b++) {
    for (let k = 2 * b; k < 2 * b + 2; k++) {
      const s = succ[k]!;
      if (s >= 0) predList[fill[s]!++] = b;
    }
  }

  // Leave the scratch clean for the next function (only this range was set).
  for (let b = 0; b < nb; b++) {
    leader[startPc[b]!] = 0;
    blockAt[startPc[b]!] = -1;
  }

  const edges: Edges = { insns, starts, succ, predStart, predList };
  const blocks: BasicBlock[] = new Array<BasicBlock>(nb);
  for (let b = 0; b < nb; b++) blocks[b] = new Block(b, startPc[b]!, startPc[b + 1]!, edges);
  return { entry, blocks, ...factsOf(succ, nb, predStart, predList) };
}

/** What FunctionCfg knows about a graph beyond its blocks. */
export type GraphFacts = Pick<FunctionCfg, 'rpo' | 'idom' | 'loopHeaders' | 'reducible'>;

/**
 * Reverse postorder, dominators, loop headers and reducibility of the graph
 * whose block b has successors succ[2b] and succ[2b + 1] (-1: none; a
 * branch's taken side first), entered at block 0.
 */
export function graphFacts(succ: Int32Array): GraphFacts {
  const nb = succ.length >> 1;
  const predStart = new Int32Array(nb + 1);
  for (let k = 0; k < 2 * nb; k++) if (succ[k]! >= 0) predStart[succ[k]! + 1]++;
  for (let b = 0; b < nb; b++) predStart[b + 1] += predStart[b]!;
  const predList = new Int32Array(predStart[nb]!);
  const fill = predStart.slice(0, nb);
  for (let k = 0; k < 2 * nb; k++) if (succ[k]! >= 0) predList[fill[succ[k]!]!++] = k >> 1;
  return factsOf(succ, nb, predStart, predList);
}

function factsOf(succ: Int32Array, nb: number, predStart: Int32Array, predList: Int32Array): GraphFacts {
  const rpo = reversePostorder(succ, nb);
  const rpoIndex = new Int32Array(nb).fill(-1);
  for (let i = 0; i < rpo.length; i++) rpoIndex[rpo[i]!] = i;
  const idom = dominators(rpo, rpoIndex, predStart, predList);
  // The set is made here rather than at the end of loops(): code V8
  // optimized while inside that function's long loops had never seen the
  // construction after them, and threw itself away there, graph after graph.
  const header = new Uint8Array(nb);
  const reducible = loops(rpo, rpoIndex, idom, succ, header);
  idom[0] = -1;
  return { rpo: toArray(rpo), idom: toArray(idom), loopHeaders: new BlockSet(header), reducible };
}

/** Block id starting at `pc`; a pc that starts no block means the program was not validated. */
function blockOf(scratch: Scratch, pc: number, end: number, from: Instruction): number {
  const id = pc < end ? scratch.blockAt[pc]! : -1;
  if (id < 0) throw new Error(`internal: pc ${from.pc} continues at pc ${pc}, which starts no block of its function`);
  return id;
}

function toArray(a: Int32Array): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  return out;
}

/** Reverse postorder of the blocks reachable from block 0, by an explicit-stack DFS. */
function reversePostorder(succ: Int32Array, nb: number): Int32Array {
  const visited = new Uint8Array(nb);
  const stack = new Int32Array(nb);
  const edge = new Int32Array(nb);
  const post = new Int32Array(nb);
  let count = 0;
  let sp = 0;
  stack[sp++] = 0;
  visited[0] = 1;
  while (sp > 0) {
    const b = stack[sp - 1]!;
    const i = edge[sp - 1]!;
    const s = i < 2 ? succ[2 * b + i]! : -1;
    if (s >= 0) {
      edge[sp - 1] = i + 1;
      if (visited[s] === 0) {
        visited[s] = 1;
        stack[sp] = s;
        edge[sp] = 0;
        sp++;
      }
    } else {
      sp--;
      post[count++] = b;
    }
  }
  const rpo = new Int32Array(count);
  for (let i = 0; i < count; i++) rpo[i] = post[count - 1 - i]!;
  return rpo;
}

/**
 * Immediate dominators (Cooper, Harvey, Kennedy: "A Simple, Fast Dominance
 * Algorithm"): iterate over reverse postorder until nothing changes. The entry
 * maps to itself here (the caller turns it into -1); unreachable blocks stay -1.
 */
function dominators(rpo: Int32Array, rpoIndex: Int32Array, predStart: Int32Array, predList: Int32Array): Int32Array {
  const idom = new Int32Array(rpoIndex.length).fill(-1);
  idom[0] = 0;
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 1; i < rpo.length; i++) {
      const b = rpo[i]!;
      let d = -1;
      for (let k = predStart[b]!; k < predStart[b + 1]!; k++) {
        const p = predList[k]!;
        if (idom[p] === -1) continue; // unreachable, or not reached yet in this pass
        if (d === -1) {
          d = p;
          continue;
        }
        // Walk both fingers up the tree until they meet; a dominator always
        // comes earlier in reverse postorder.
        let a = p;
        while (a !== d) {
          while (rpoIndex[a]! > rpoIndex[d]!) a = idom[a]!;
          while (rpoIndex[d]! > rpoIndex[a]!) d = idom[d]!;
        }
      }
      if (idom[b] !== d) {
        idom[b] = d;
        changed = true;
      }
    }
  }
  return idom;
}

/**
 * Pre/post numbers of the dominator tree of the blocks in `rpo` (idom of
 * rpo[1..]; rpo[0] is the root): v dominates u exactly when pre[v] <= pre[u]
 * and post[u] <= post[v], an O(1) test where walking idom chains would be
 * quadratic on a long chain of blocks. Blocks not in `rpo` keep -1.
 */
export function dominatorIntervals(rpo: ArrayLike<number>, idom: ArrayLike<number>, nb: number): { pre: Int32Array; post: Int32Array } {
  // Children of each node in the dominator tree, as compressed rows.
  const first = new Int32Array(nb + 1);
  for (let i = 1; i < rpo.length; i++) first[idom[rpo[i]!]! + 1]++;
  for (let b = 0; b < nb; b++) first[b + 1] += first[b]!;
  const fill = first.slice(0, nb);
  const children = new Int32Array(Math.max(rpo.length - 1, 0));
  for (let i = 1; i < rpo.length; i++) {
    const b = rpo[i]!;
    children[fill[idom[b]!]!++] = b;
  }
  const pre = new Int32Array(nb).fill(-1);
  const post = new Int32Array(nb).fill(-1);
  if (rpo.length === 0) return { pre, post };
  const stack = new Int32Array(nb);
  const next = new Int32Array(nb);
  let clock = 0;
  let sp = 0;
  stack[sp] = rpo[0]!;
  next[sp++] = first[rpo[0]!]!;
  pre[rpo[0]!] = clock++;
  while (sp > 0) {
    const b = stack[sp - 1]!;
    const c = next[sp - 1]!;
    if (c < first[b + 1]!) {
      next[sp - 1] = c + 1;
      const child = children[c]!;
      pre[child] = clock++;
      stack[sp] = child;
      next[sp++] = first[child]!;
    } else {
      post[b] = clock++;
      sp--;
    }
  }
  return { pre, post };
}

/** Whether block v dominates block u of `cfg` (false when either is unreachable). */
export function dominanceTest(cfg: Pick<FunctionCfg, 'rpo' | 'idom' | 'blocks'>): (v: number, u: number) => boolean {
  const { pre, post } = dominatorIntervals(cfg.rpo, cfg.idom, cfg.blocks.length);
  return (v, u) => pre[u]! >= 0 && pre[v]! >= 0 && pre[v]! <= pre[u]! && post[u]! <= post[v]!;
}

/**
 * Marks the loop headers in `header` and returns whether the graph is
 * reducible. A retreating edge u -> v (v no later than u in reverse
 * postorder) is a back edge when v dominates u; a graph is reducible exactly
 * when every retreating edge is a back edge.
 */
function loops(rpo: Int32Array, rpoIndex: Int32Array, idom: Int32Array, succ: Int32Array, header: Uint8Array): boolean {
  const { pre, post } = dominatorIntervals(rpo, idom, rpoIndex.length);
  let reducible = true;
  for (let i = 0; i < rpo.length; i++) {
    const u = rpo[i]!;
    for (let k = 2 * u; k < 2 * u + 2; k++) {
      const v = succ[k]!;
      if (v < 0 || rpoIndex[v]! > i) continue; // no edge, or a forward edge
      if (pre[v]! <= pre[u]! && post[u]! <= post[v]!) header[v] = 1;
      else reducible = false;
    }
  }
  return reducible;
}
