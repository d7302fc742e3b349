// Basic blocks to structured JavaScript: labeled blocks left with `break` for
// forward edges, labeled `while (true)` loops entered again with `continue`
// for back edges, and a switch-dispatch loop when no such structure exists.
//
// Reducible functions follow Norman Ramsey, "Beyond Relooper" (JFP 2022):
// walk the dominator tree in reverse postorder; a loop header x becomes
// `L_bx: while (true) {...}`; each dominator-tree child y of x that is a
// merge node (two or more forward predecessors) is placed right after a
// labeled block `B_by: { ... }` holding the code of x, and is reached with
// `break B_by`; a child with a single forward predecessor is inlined at the
// branch that reaches it. Children are nested by decreasing reverse-postorder
// number, so every forward jump targets an enclosing label. Every path ends
// in an explicit break/continue/return: in JS, unlike wasm, falling off a
// loop body repeats the loop.
//
// Where this departs from the paper:
// - Labels are names, so no label context is kept to compute branch depths.
// - A loop header's dominator-tree children outside its loop (the loop
//   exits) are placed after the loop, not inside it, reached with `break`
//   like merge nodes (`B_by: L_bx: while (true) {...}` then y). In the paper
//   the code after a loop nests inside it, so n consecutive loops nest n deep.
// - A conditional puts one side in an `if` and the other flat after it: the
//   side that is a jump, or of two inlined subtrees the smaller one, so
//   nesting through ifs grows with log2 of the function size at most (a
//   heavy-path argument), not with the length of an if-cascade.
// - Afterwards, a jump at the very end of its label's body (`break B_by`
//   falling into y, `continue L_bx` ending the loop body) is removed; when
//   the `if` before it has a `then` ending in the same jump, the code after
//   the `if` becomes its `else` and that jump goes too (a diamond becomes
//   `if (t) {a} else {b}`). A label nothing refers to any more is dropped and
//   a labeled block's body spliced into its parent.
//
// Irreducible functions use a dispatch loop over the whole function:
//   let blk = 0; D: while (true) { switch (blk) { case 0: ...; blk = 3; continue D; ... } }
// So do reducible ones whose structured form would nest deeper than
// MAX_NESTING (thousands of merge nodes under one dominator, or thousands of
// nested loops): printing and parsing deeply nested JS recurses, in astring,
// acorn and V8.
//
// The work happens in two phases: a hook-free plan (the Node tree below) is
// built and checked for depth first, then converted to ESTree while calling
// the hooks, so every hook is called once per emitted item, whichever form
// wins. Both phases use explicit stacks: 10,000-block functions must not
// overflow the JS call stack. Output size is linear: no block is duplicated.

import type * as ES from 'estree';
import type { Instruction } from '../lib/isa.js';
import { assign, block, brk, cont, id, ifStmt, labeled, letDecl, loop, num, switchStmt, unary, type Expr, type Stmt } from './ast.js';
import type { BasicBlock, GraphFacts } from './cfg.js';

/**
 * How a block ends, as far as structuring goes: cfg.ts's Terminator, except
 * that a block need not come from an instruction (split.ts adds blocks that
 * choose an entry or leave a piece of a split function: no `insn`, so no
 * budget check on their edges).
 */
export type FlowTerminator =
  | { readonly kind: 'fall'; readonly next: number }
  | { readonly kind: 'jump'; readonly insn: Instruction; readonly target: number }
  | { readonly kind: 'branch'; readonly insn: Instruction | undefined; readonly taken: number; readonly fallthrough: number }
  | { readonly kind: 'exit'; readonly insn: Instruction | undefined };

/** What structuring reads of a block; a cfg.ts BasicBlock is one. */
export interface FlowBlock {
  readonly id: number;
  /** pc of the block's first instruction: an edge to it from a jump at a pc >= start is a backward jump. */
  readonly start: number;
  readonly terminator: FlowTerminator;
}

/** What structuring reads of a graph; a cfg.ts FunctionCfg is one. */
export interface FlowGraph<B extends FlowBlock = BasicBlock> extends GraphFacts {
  /** blocks[0] is the entry. */
  readonly blocks: readonly B[];
}

export interface StructureHooks<B extends FlowBlock = BasicBlock> {
  /**
   * Statements for the block's instructions, excluding a jump/branch/exit
   * terminator instruction (a 'fall' block's last instruction IS included).
   * They run in sequence with other blocks' statements in one scope: a
   * top-level let/const/class/function declaration gets the statements
   * wrapped in a `{ }` block.
   */
  body(block: B): Stmt[];
  /**
   * JS expression, true when the block's branch terminator is taken. It must
   * have no side effects: it may be left out when both sides of the branch
   * end up at the same place.
   */
  test(block: B): Expr;
  /** Statements to run on a taken jump whose target pc <= the jump's pc (budget check); called once per such emitted edge. */
  backwardJump(insn: Instruction): Stmt[];
  /** Statements for the block's exit terminator (they end in a return). */
  exit(block: B): Stmt[];
}

/** The dispatch loop's block variable and label. */
export const DISPATCH_VAR = 'blk';
export const DISPATCH_LABEL = 'D';

export function loopLabel(blockId: number): string {
  return `L_b${blockId}`;
}

export function blockLabel(blockId: number): string {
  return `B_b${blockId}`;
}

/**
 * Deepest nesting of labeled blocks, loops and ifs the structured form may
 * use before the dispatch form is used instead. astring prints a nesting
 * level with a handful of stack frames and V8 parses with a bounded stack;
 * compiler output stays far below this.
 */
export const MAX_NESTING = 500;

/**
 * Statements for one BPF function's control flow (without its local
 * declarations), or for one piece of a function split.ts divides.
 */
export function structureFunction<B extends FlowBlock>(cfg: FlowGraph<B>, hooks: StructureHooks<B>): Stmt[] {
  if (cfg.reducible) {
    const plan = planStructured(cfg);
    if (plan !== undefined) return convert(cfg, plan, hooks);
  }
  return dispatchFunction(cfg, hooks);
}

// ---------------------------------------------------------------------------
// The plan: control flow with block references in place of hook output.

type Node =
  | { readonly k: 'code'; readonly block: number }
  | { readonly k: 'exit'; readonly block: number }
  | { readonly k: 'back'; readonly insn: Instruction }
  | { readonly k: 'break' | 'continue'; readonly target: number }
  | { readonly k: 'loop'; readonly header: number; readonly body: Node[] }
  | { readonly k: 'block'; readonly merge: number; readonly body: Node[] }
  /** `if (test of block) then else`; `negate` tests for the fallthrough side. */
  | { readonly k: 'if'; readonly block: number; readonly negate: boolean; readonly then: Node[]; else: Node[] | undefined };

type LoopNode = Extract<Node, { k: 'loop' }>;
type BlockNode = Extract<Node, { k: 'block' }>;

interface Plan {
  readonly root: Node[];
  /** References to each loop label / block label by block id, after tail jumps are removed. */
  readonly loopRefs: Int32Array;
  readonly blockRefs: Int32Array;
}

/** What the plan needs to know about each block, beyond the CFG. */
interface Shape {
  readonly rpoIndex: Int32Array;
  /** 1 when the block is reached with `break`: a merge node, or a loop exit placed after its loop. */
  readonly viaBreak: Uint8Array;
  /** Dominator subtree sizes, in blocks. */
  readonly size: Int32Array;
  /**
   * Children placed after a labeled block around their parent x, by
   * decreasing reverse-postorder number (the latest gets the outermost
   * block): `outside[x]` around x's loop (x a loop header: its children
   * outside the loop, the loop exits), `inside[x]` around x's code (merge
   * nodes; inside the loop when x is a header).
   */
  readonly outside: readonly (readonly number[] | undefined)[];
  readonly inside: readonly (readonly number[] | undefined)[];
}

/** Successor 0 or 1 of a terminator without allocating (-1: none); taken first for a branch. */
function successor(t: FlowTerminator, which: number): number {
  switch (t.kind) {
    case 'fall': return which === 0 ? t.next : -1;
    case 'jump': return which === 0 ? t.target : -1;
    case 'branch': return which === 0 ? t.taken : t.fallthrough === t.taken ? -1 : t.fallthrough;
    case 'exit': return -1;
  }
}

function analyze(cfg: FlowGraph<FlowBlock>): Shape {
  const { blocks, rpo, idom, loopHeaders } = cfg;
  const nb = blocks.length;
  const rpoIndex = new Int32Array(nb).fill(-1);
  for (let i = 0; i < rpo.length; i++) rpoIndex[rpo[i]!] = i;

  // Predecessors among reachable blocks, as compressed rows (flat arrays:
  // this runs for every function the JIT compiles), and the number of
  // forward ones, which decides merge nodes.
  const predStart = new Int32Array(nb + 1);
  const forwardPreds = new Int32Array(nb);
  for (const b of rpo) {
    const t = blocks[b]!.terminator;
    for (let which = 0; which < 2; which++) {
      const s = successor(t, which);
      if (s < 0) continue;
      predStart[s + 1]++;
      if (rpoIndex[s]! > rpoIndex[b]!) forwardPreds[s]++;
    }
  }
  for (let b = 0; b < nb; b++) predStart[b + 1] += predStart[b]!;
  const predList = new Int32Array(predStart[nb]!);
  const fill = predStart.slice(0, nb);
  for (const b of rpo) {
    const t = blocks[b]!.terminator;
    const s0 = successor(t, 0);
    const s1 = successor(t, 1);
    if (s0 >= 0) predList[fill[s0]!++] = b;
    if (s1 >= 0) predList[fill[s1]!++] = b;
  }

  const size = new Int32Array(nb);
  for (let i = rpo.length - 1; i >= 0; i--) {
    const b = rpo[i]!;
    size[b]++;
    if (i > 0) size[idom[b]!] += size[b]!;
  }
  const loopParent = innermostLoops(cfg, rpoIndex, predStart, predList);

  // Ramsey places everything a loop header dominates inside its loop. Here a
  // header's children outside the loop follow the loop instead: otherwise
  // each of a thousand consecutive loops would nest inside the previous one.
  const viaBreak = new Uint8Array(nb);
  const outside: number[][] = new Array<number[]>(nb);
  const inside: number[][] = new Array<number[]>(nb);
  for (let i = rpo.length - 1; i > 0; i--) {
    const b = rpo[i]!;
    const parent = idom[b]!;
    const exitsLoop = loopHeaders.has(parent) && loopParent[b] !== parent;
    if (exitsLoop) (outside[parent] ??= []).push(b);
    else if (forwardPreds[b]! >= 2) (inside[parent] ??= []).push(b);
    else continue;
    viaBreak[b] = 1;
  }
  return { rpoIndex, viaBreak, size, outside, inside };
}

/**
 * The innermost loop header whose loop contains each block (-1 for none; a
 * header maps to its enclosing loop). Reducible graphs only: each loop is
 * found by walking predecessors back from its back edges to its header,
 * inner loops first (later headers in reverse postorder), collapsing each
 * finished loop into its header with union-find so it is crossed in one step.
 */
function innermostLoops(cfg: FlowGraph<FlowBlock>, rpoIndex: Int32Array, predStart: Int32Array, predList: Int32Array): Int32Array {
  const { rpo, loopHeaders } = cfg;
  const nb = rpoIndex.length;
  const loopParent = new Int32Array(nb).fill(-1);
  const rep = new Int32Array(nb);
  for (let b = 0; b < nb; b++) rep[b] = b;
  const work: number[] = [];
  for (let i = rpo.length - 1; i >= 0; i--) {
    const h = rpo[i]!;
    if (!loopHeaders.has(h)) continue;
    work.push(h);
    while (work.length > 0) {
      const w = work.pop()!;
      for (let k = predStart[w]!; k < predStart[w + 1]!; k++) {
        const p = predList[k]!;
        // From the header itself only its back edges lead into the loop.
        if (w === h && rpoIndex[p]! < i) continue;
        const r = find(rep, p);
        if (r === h) continue;
        loopParent[r] = h;
        rep[r] = h;
        work.push(r);
      }
    }
  }
  return loopParent;
}

/** Union-find root, halving paths on the way. */
function find(rep: Int32Array, b: number): number {
  while (rep[b] !== b) {
    const up = rep[rep[b]!]!;
    rep[b] = up;
    b = up;
  }
  return b;
}

/** The structured plan, or undefined when it would nest deeper than MAX_NESTING. */
function planStructured(cfg: FlowGraph<FlowBlock>): Plan | undefined {
  const { blocks, loopHeaders } = cfg;
  const nb = blocks.length;
  const { rpoIndex, viaBreak, size, outside, inside } = analyze(cfg);
  const loopRefs = new Int32Array(nb);
  const blockRefs = new Int32Array(nb);
  const loops: LoopNode[] = [];
  const labeledBlocks: BlockNode[] = [];
  const root: Node[] = [];
  // Jump nodes are immutable: one per target serves every jump there.
  const breaks: (Node | undefined)[] = new Array<Node | undefined>(nb);
  const continues: (Node | undefined)[] = new Array<Node | undefined>(nb);
  // Dominator subtrees still to place (parallel stacks, no object per task):
  // the code of taskX goes at the end of taskOut, at nesting taskDepth.
  const taskX: number[] = [0];
  const taskOut: Node[][] = [root];
  const taskDepth: number[] = [0];
  let maxDepth = 0;

  const isBack = (src: number, dst: number): boolean => rpoIndex[dst]! <= rpoIndex[src]!;
  const inlined = (src: number, dst: number): boolean => !isBack(src, dst) && viaBreak[dst] === 0;
  /** The edge src -> dst: a jump to a label, or dst's subtree placed at the end of `out`. */
  const edge = (src: number, dst: number, insn: Instruction | undefined, out: Node[], depth: number): void => {
    // The budget rule counts backward jumps by pc, whatever the edge is in the graph.
    if (insn !== undefined && blocks[dst]!.start <= insn.pc) out.push({ k: 'back', insn });
    if (isBack(src, dst)) {
      out.push((continues[dst] ??= { k: 'continue', target: dst }));
      loopRefs[dst]++;
    } else if (viaBreak[dst] === 1) {
      out.push((breaks[dst] ??= { k: 'break', target: dst }));
      blockRefs[dst]++;
    } else {
      taskX.push(dst);
      taskOut.push(out);
      taskDepth.push(depth);
    }
  };

  while (taskX.length > 0) {
    const x = taskX.pop()!;
    let out = taskOut.pop()!;
    let depth = taskDepth.pop()!;
    // Labeled blocks, one per child placed after x's code; the latest child
    // in reverse postorder gets the outermost block. The loop exits wrap the
    // loop, the merge nodes inside it wrap x's code.
    for (let group = 0; group < 2; group++) {
      if (group === 1 && loopHeaders.has(x)) {
        const node: LoopNode = { k: 'loop', header: x, body: [] };
        out.push(node);
        loops.push(node);
        out = node.body;
        depth++;
      }
      for (const y of (group === 0 ? outside[x] : inside[x]) ?? []) {
        const node: BlockNode = { k: 'block', merge: y, body: [] };
        out.push(node);
        labeledBlocks.push(node);
        taskX.push(y);
        taskOut.push(out);
        taskDepth.push(depth);
        out = node.body;
        depth++;
      }
    }
    if (depth + 1 > maxDepth) maxDepth = depth + 1;
    if (maxDepth > MAX_NESTING) return undefined;

    out.push({ k: 'code', block: x });
    const term = blocks[x]!.terminator;
    switch (term.kind) {
      case 'exit':
        out.push({ k: 'exit', block: x });
        break;
      case 'fall':
        edge(x, term.next, undefined, out, depth);
        break;
      case 'jump':
        edge(x, term.target, term.insn, out, depth);
        break;
      case 'branch': {
        const { taken, fallthrough, insn } = term;
        if (taken === fallthrough) {
          // Offset 0: both sides continue at pc + 1, a forward edge.
          edge(x, taken, insn, out, depth);
          break;
        }
        // One side goes in an `if`, the other follows it flat; every path
        // ends in a jump or return, so no `else` is needed (dropTailJump
        // makes one where both sides end in the same jump). A side that
        // leaves goes in the `if`; of two inlined subtrees, the smaller, so
        // that nesting grows with log2 of the function size at most.
        const takenInline = inlined(x, taken);
        const fallInline = inlined(x, fallthrough);
        let negate: boolean;
        if (takenInline && fallInline) negate = size[fallthrough]! < size[taken]!;
        else if (takenInline !== fallInline) negate = takenInline;
        // Both leave: a `continue` last, where it may end its loop body and vanish.
        else negate = isBack(x, taken) && !isBack(x, fallthrough);
        const then: Node[] = [];
        if (negate) edge(x, fallthrough, undefined, then, depth + 1);
        else edge(x, taken, insn, then, depth + 1);
        out.push({ k: 'if', block: x, negate, then, else: undefined });
        if (negate) edge(x, taken, insn, out, depth);
        else edge(x, fallthrough, undefined, out, depth);
        break;
      }
    }
  }

  for (const node of loops) dropTailJump(node.body, 'continue', node.header, loopRefs);
  for (const node of labeledBlocks) dropTailJump(node.body, 'break', node.merge, blockRefs);
  return { root, loopRefs, blockRefs };
}

/**
 * Removes a `break`/`continue` to `target` found where falling off the end of
 * `body` reaches the same place: at the end of the list, of an `if` arm that
 * ends the list, or of a labeled block that ends the list. Loops are not
 * entered (falling off a loop body repeats it).
 *
 * When the jump removed ends a list whose last `if` has its `then` arm
 * ending in the same jump, the code after the `if` becomes its `else` and
 * that jump goes too: `if (t) { a; break B } b; break B` at the end of B
 * becomes `if (t) { a } else { b }`.
 */
function dropTailJump(body: Node[], kind: 'break' | 'continue', target: number, refs: Int32Array): void {
  const isJump = (n: Node | undefined): boolean => n !== undefined && n.k === kind && n.target === target;
  const work: Node[][] = [body];
  for (let list = work.pop(); list !== undefined; list = work.pop()) {
    const last = list[list.length - 1];
    if (last === undefined) continue;
    if (isJump(last)) {
      list.pop();
      refs[target]--;
      const at = lastIf(list);
      const cond = list[at];
      if (cond?.k === 'if' && cond.else === undefined && isJump(cond.then[cond.then.length - 1])) {
        cond.then.pop();
        refs[target]--;
        cond.else = list.splice(at + 1);
      }
      // What now ends the list may end in another such jump.
      work.push(list);
    } else if (last.k === 'if') {
      work.push(last.then);
      if (last.else !== undefined) work.push(last.else);
    } else if (last.k === 'block') {
      work.push(last.body);
    }
  }
}

/** Index of the last `if` of a list, or -1. */
function lastIf(list: readonly Node[]): number {
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.k === 'if') return i;
  return -1;
}

// ---------------------------------------------------------------------------
// Plan to ESTree, calling the hooks in document order.

/** A list of plan nodes being converted into `out`, or an `if` to assemble once its arms are done. */
type Frame =
  | { readonly k: 'list'; readonly nodes: readonly Node[]; i: number; readonly out: Stmt[] }
  | { readonly k: 'if'; readonly out: Stmt[]; readonly at: number; readonly test: Expr; readonly negate: boolean; readonly then: Stmt[]; readonly else: Stmt[] };

const PLACEHOLDER: ES.EmptyStatement = Object.freeze({ type: 'EmptyStatement' }) as ES.EmptyStatement;

function convert<B extends FlowBlock>(cfg: FlowGraph<B>, plan: Plan, hooks: StructureHooks<B>): Stmt[] {
  const { blocks } = cfg;
  const result: Stmt[] = [];
  const frames: Frame[] = [{ k: 'list', nodes: plan.root, i: 0, out: result }];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    if (frame.k === 'if') {
      frames.pop();
      finishIf(frame);
      continue;
    }
    if (frame.i === frame.nodes.length) {
      frames.pop();
      continue;
    }
    const node = frame.nodes[frame.i++]!;
    const out = frame.out;
    switch (node.k) {
      case 'code':
        place(out, hooks.body(blocks[node.block]!));
        break;
      case 'exit':
        place(out, hooks.exit(blocks[node.block]!));
        break;
      case 'back':
        place(out, hooks.backwardJump(node.insn));
        break;
      case 'break':
        out.push(brk(blockLabel(node.target)));
        break;
      case 'continue':
        out.push(cont(loopLabel(node.target)));
        break;
      case 'loop':
        out.push(openLoop(node, plan, frames));
        break;
      case 'block': {
        if (plan.blockRefs[node.merge]! === 0) {
          // Nothing breaks out of it any more: its body joins the parent list.
          frames.push({ k: 'list', nodes: node.body, i: 0, out });
          break;
        }
        const label = blockLabel(node.merge);
        const only = node.body.length === 1 ? node.body[0]! : undefined;
        if (only?.k === 'loop') {
          // `B: L: while (true) {...}`: breaking out of the loop statement leaves the block.
          out.push(labeled(label, openLoop(only, plan, frames)));
          break;
        }
        const body: Stmt[] = [];
        out.push(labeled(label, block(body)));
        frames.push({ k: 'list', nodes: node.body, i: 0, out: body });
        break;
      }
      case 'if': {
        const test = hooks.test(blocks[node.block]!);
        const at = out.length;
        out.push(PLACEHOLDER);
        const ifFrame: Frame = { k: 'if', out, at, test, negate: node.negate, then: [], else: [] };
        frames.push(ifFrame);
        if (node.else !== undefined) frames.push({ k: 'list', nodes: node.else, i: 0, out: ifFrame.else });
        frames.push({ k: 'list', nodes: node.then, i: 0, out: ifFrame.then });
        break;
      }
    }
  }
  return result;
}

/** A loop's statement, its body to be converted by the frame pushed here. */
function openLoop(node: LoopNode, plan: Plan, frames: Frame[]): Stmt {
  const body: Stmt[] = [];
  frames.push({ k: 'list', nodes: node.body, i: 0, out: body });
  return plan.loopRefs[node.header]! > 0 ? labeled(loopLabel(node.header), loop(body)) : loop(body);
}

/** Replaces an `if`'s placeholder, now that both arms are known; an arm emptied by tail-jump removal is dropped. */
function finishIf(frame: Extract<Frame, { k: 'if' }>): void {
  let { then, else: els, negate } = frame;
  if (then.length === 0) {
    if (els.length === 0) {
      // Both sides continue at the same place (nothing was pushed after the placeholder).
      frame.out.pop();
      return;
    }
    [then, els] = [els, then];
    negate = !negate;
  }
  frame.out[frame.at] = ifStmt(negate ? unary('!', frame.test) : frame.test, then, els);
}

/** Appends hook statements (a loop, not a spread: a block may hold a million of them). */
function place(out: Stmt[], stmts: readonly Stmt[]): void {
  if (stmts.some(declaresInBlockScope)) {
    out.push(block([...stmts]));
    return;
  }
  for (const s of stmts) out.push(s);
}

function declaresInBlockScope(s: Stmt): boolean {
  return (s.type === 'VariableDeclaration' && s.kind !== 'var') || s.type === 'ClassDeclaration' || s.type === 'FunctionDeclaration';
}

// ---------------------------------------------------------------------------
// Dispatch form.

/**
 * The function as one dispatch loop: `let blk = 0; D: while (true) { switch (blk) { ... } }`,
 * a case per reachable block in reverse postorder. A case whose last edge
 * goes to the next case falls through into it.
 */
export function dispatchFunction<B extends FlowBlock>(cfg: FlowGraph<B>, hooks: StructureHooks<B>): Stmt[] {
  const { blocks, rpo } = cfg;
  const cases: { test: Expr; body: Stmt[] }[] = [];
  for (let i = 0; i < rpo.length; i++) {
    const bb = blocks[rpo[i]!]!;
    const nextCase = i + 1 < rpo.length ? rpo[i + 1]! : -1;
    const body: Stmt[] = [];
    place(body, hooks.body(bb));
    const term = bb.terminator;
    switch (term.kind) {
      case 'exit':
        place(body, hooks.exit(bb));
        break;
      case 'fall':
        dispatchEdge(cfg, hooks, term.next, undefined, body, nextCase);
        break;
      case 'jump':
        dispatchEdge(cfg, hooks, term.target, term.insn, body, nextCase);
        break;
      case 'branch':
        if (term.taken === term.fallthrough) {
          dispatchEdge(cfg, hooks, term.taken, term.insn, body, nextCase);
        } else {
          const then: Stmt[] = [];
          dispatchEdge(cfg, hooks, term.taken, term.insn, then, -1);
          body.push(ifStmt(hooks.test(bb), then));
          dispatchEdge(cfg, hooks, term.fallthrough, undefined, body, nextCase);
        }
        break;
    }
    cases.push({ test: num(bb.id), body });
  }
  return [
    letDecl([DISPATCH_VAR], num(0)),
    labeled(DISPATCH_LABEL, loop([switchStmt(id(DISPATCH_VAR), cases)])),
  ];
}

/**
 * An edge in dispatch form: the budget hook on a backward jump, then
 * `blk = dst; continue D;`, or nothing when dst is `fallsInto`, the case
 * that follows (-1 inside an `if`, where nothing falls through).
 */
function dispatchEdge<B extends FlowBlock>(
  cfg: FlowGraph<B>, hooks: StructureHooks<B>, dst: number, insn: Instruction | undefined, out: Stmt[], fallsInto: number,
): void {
  if (insn !== undefined && cfg.blocks[dst]!.start <= insn.pc) place(out, hooks.backwardJump(insn));
  if (dst === fallsInto) return;
  out.push(assign(DISPATCH_VAR, num(dst)), cont(DISPATCH_LABEL));
}
