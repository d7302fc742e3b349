// Test support for lower-mem and lower-call: runs the same small program on
// the reference interpreter and on code built from the lowering functions
// under test, in two identically built memories, and returns what each saw
// (registers r0..r9, memory, whether the run ended early, or the error).
//
// The JIT side uses a tiny straight-line emitter (no jumps): the main
// function's statements run inline in runSnippet so every register stays
// visible; every BPF function also becomes a `function fN(...)` declaration. It
// lowers only what these tests need: memory ops and calls by the code under
// test, lddw and mov by hand (those belong to lower-alu, not tested here).
//
// Expected values come from the interpreter only: a program is run once per
// register (`mov r0, rK; exit` appended to main) to read every register, and
// once with a marker (`mov r0, 0x5a5a`) to tell "ended early" from "returned".

import type { Stmt } from '../codegen/ast.js';
import { assign, bin, constDecl, fn, id, letDecl, num } from '../codegen/ast.js';
import { RT, STACK_OFFSET, STATE, TEMPS, functionName, hi, lo, type CompileOptions, type LowerContext } from '../codegen/context.js';
import { lowerCall, lowerExit } from '../codegen/lower-call.js';
import { memoryLocals, cacheResets, lowerMem } from '../codegen/lower-mem.js';
import { createRuntime } from '../codegen/runtime.js';
import { assembleSlots } from '../lib/asm.js';
import { codeAddress } from '../lib/code-address.js';
import { EbpfError } from '../lib/errors.js';
import { interpret } from '../lib/interpreter.js';
import type { Instruction } from '../lib/isa.js';
import { Memory, type Region } from '../lib/memory.js';
import type { Program } from '../lib/program.js';
import { FRAME_SIZE, type HelperFn, type RunEnv } from '../lib/runtime.js';
import { validateSlots } from '../lib/validate.js';
import { runSnippet, split } from './jit-harness.js';

export interface World {
  readonly memory: Memory;
  readonly stack: Region;
  readonly data: Region;
  readonly rodata: Region;
  readonly packet: Region;
}

/** Bytes with every bit pattern mix (high bits set often, so sign extension shows). */
function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 0x9d + seed * 0x35 + 0x83) & 0xff);
}

export const MAX_DEPTH = 8;

/** Always the same layout: stack (slot 1), data (2), rodata (3, read-only), packet (4). */
export function makeWorld(): World {
  const memory = new Memory();
  const stack = memory.map(pattern(MAX_DEPTH * FRAME_SIZE, 1), { name: 'stack' });
  const data = memory.map(pattern(64, 2), { name: 'data' });
  const rodata = memory.map(pattern(16, 3), { name: 'rodata', readonly: true });
  const packet = memory.map(pattern(32, 4), { name: 'packet' });
  return { memory, stack, data, rodata, packet };
}

/** The addresses of a world (every world has the same). */
export const LAYOUT = (() => {
  const w = makeWorld();
  return { stack: w.stack.base, stackTop: w.stack.end, data: w.data.base, rodata: w.rodata.base, packet: w.packet.base };
})();

export interface RunSetup {
  readonly helpers?: ReadonlyMap<number, HelperFn>;
  readonly unwindHelper?: number;
  /** Compile budget checks and run with this budget. */
  readonly budget?: number;
  readonly maxCallDepth?: number;
}

/** What a run produced: an error, or registers (unless it ended early) and memory. */
export interface Outcome {
  readonly error?: Record<string, unknown>;
  /** The run ended before main's epilogue (unwind, packet load out of bounds). */
  readonly ended?: boolean;
  /** r0..r9 when the run reached main's epilogue. */
  readonly regs?: readonly bigint[];
  /** r0 when the run ended early. */
  readonly r0?: bigint;
  readonly memory: Record<string, number[]>;
}

/** Every field an engine error carries, for comparing errors across engines. */
export function errorFields(e: unknown): Record<string, unknown> {
  if (!(e instanceof EbpfError)) throw e;
  const { name, code, message } = e;
  const out: Record<string, unknown> = { name, code, message };
  for (const k of ['pc', 'address', 'size', 'kind', 'helper', 'budget'] as const) {
    if (k in e) out[k] = (e as unknown as Record<string, unknown>)[k];
  }
  return out;
}

function snapshot(w: World): Record<string, number[]> {
  return { stack: [...w.stack.bytes], data: [...w.data.bytes], rodata: [...w.rodata.bytes], packet: [...w.packet.bytes] };
}

export function assembleProgram(text: string, helpers: ReadonlyMap<number, HelperFn>): Program {
  return validateSlots(assembleSlots(text), { helperExists: (id) => helpers.has(id) });
}

/** Main's lines, then a two-slot epilogue, then the other functions' lines. */
function source(main: string, epilogue: string, funcs: string): string {
  return `${main}\n${epilogue}\nexit\n${funcs}`;
}

const MARKER = 0x5a5an;

/** The reference: the interpreter, once per register plus once with a marker. */
export function runReference(main: string, funcs = '', setup: RunSetup = {}): Outcome {
  const helpers = setup.helpers ?? new Map();
  const once = (epilogue: string): { value?: bigint; error?: unknown; world: World } => {
    const world = makeWorld();
    const env: RunEnv = {
      memory: world.memory,
      helpers,
      unwindHelper: setup.unwindHelper,
      budget: setup.budget,
      maxCallDepth: setup.maxCallDepth ?? MAX_DEPTH,
      stackTop: world.stack.end,
      r1: BigInt(world.data.base),
      r2: BigInt(world.data.size),
      packet: { address: world.packet.base, length: world.packet.size },
    };
    try {
      return { value: interpret(assembleProgram(source(main, epilogue, funcs), helpers), env), world };
    } catch (e) {
      return { error: e, world };
    }
  };
  const marked = once(`mov %r0, ${MARKER}`);
  const memory = snapshot(marked.world);
  if (marked.error !== undefined) return { error: errorFields(marked.error), memory };
  if (marked.value !== MARKER) return { ended: true, r0: marked.value!, memory };
  const regs = Array.from({ length: 10 }, (_, k) => once(`mov %r0, %r${k}`).value!);
  return { regs, memory };
}

/** lddw and mov64, lowered by hand for the tests (lower-alu owns the real ones). */
function lowerSupport(insn: Instruction): Stmt[] {
  const { spec, dst, src, imm, imm2, pc } = insn;
  if (spec.kind === 'lddw') {
    const [l, h] = spec.lddwSrc === 4 ? [codeAddress(pc + 1 + imm) | 0, 0] : [imm, imm2];
    return [assign(lo(dst), num(l)), assign(hi(dst), num(h))];
  }
  if (spec.kind === 'alu' && spec.alu === 'mov' && spec.width === 64) {
    if (spec.source === 'imm') return [assign(lo(dst), num(imm)), assign(hi(dst), num(imm < 0 ? -1 : 0))];
    return [assign(lo(dst), src === 10 ? bin('|', id('r10'), num(0)) : id(lo(src))), assign(hi(dst), src === 10 ? num(0) : id(hi(src)))];
  }
  throw new Error(`test emitter: ${spec.mnemonic} at pc ${pc} is not supported`);
}

function lowerStraight(ctx: LowerContext, insns: readonly Instruction[]): Stmt[] {
  const out: Stmt[] = [];
  for (const insn of insns) {
    // As the emitter counts a block at its start: here every instruction is its own block.
    if (ctx.options.budget) out.push(assign(STATE.count, num(1), '+='));
    switch (insn.spec.kind) {
      case 'ldx': case 'ldsx': case 'st': case 'stx': case 'atomic': case 'ldabs': case 'ldind':
        out.push(...lowerMem(ctx, insn));
        break;
      case 'call': case 'call_local': case 'callx':
        out.push(...lowerCall(ctx, insn));
        // As the emitter does: a call empties the slot caches.
        out.push(...cacheResets(insns));
        break;
      case 'exit':
        out.push(...lowerExit(ctx, insn));
        break;
      default:
        out.push(...lowerSupport(insn));
    }
  }
  return out;
}

const PARAMS = [1, 2, 3, 4, 5].flatMap((r) => [lo(r), hi(r)]).concat('r10');

/** Function declarations for every function, then main's statements (inline, so its registers stay visible). */
export function emitStraight(ctx: LowerContext): Stmt[] {
  const { program } = ctx;
  const entries = program.functions;
  const bodyOf = (k: number): Instruction[] =>
    program.insns.filter((x) => x.pc >= entries[k]! && (k + 1 === entries.length || x.pc < entries[k + 1]!));
  const decls: Stmt[] = [];
  // Main gets a declaration too (callx can call it), besides its inline copy.
  for (let k = 0; k < entries.length; k++) {
    decls.push(fn(functionName(entries[k]!), PARAMS, [
      letDecl([0, 6, 7, 8, 9].flatMap((r) => [lo(r), hi(r)]), num(0)),
      letDecl([...TEMPS], num(0)),
      constDecl(STACK_OFFSET, bin('-', id('r10'), id(RT.stackBase))),
      ...memoryLocals(bodyOf(k)),
      ...lowerStraight(ctx, bodyOf(k)),
    ]));
  }
  return [...decls, ...memoryLocals(bodyOf(0)), ...lowerStraight(ctx, bodyOf(0))];
}

/** The same program, lowered by the code under test and run in runSnippet. */
export function runLowered(main: string, funcs = '', setup: RunSetup = {}): Outcome & { source: Stmt[] } {
  const helpers = setup.helpers ?? new Map();
  const program = assembleProgram(source(main, 'mov %r0, %r0', funcs), helpers);
  const options: CompileOptions = {
    budget: setup.budget !== undefined,
    unwindHelper: setup.unwindHelper,
    helperIds: new Set(helpers.keys()),
  };
  const stmts = emitStraight({ program, options });
  const world = makeWorld();
  const runtime = createRuntime(world.memory, helpers, program, setup.maxCallDepth ?? MAX_DEPTH, world.stack);
  runtime.setPacket(world.packet.base, world.packet.size);
  const rt = {
    ...runtime,
    [STATE.count]: 0,
    [STATE.budget]: setup.budget ?? Infinity,
    [STATE.depth]: 1,
    [STATE.maxDepth]: runtime.MAXDEPTH,
    [STATE.unwound]: false,
  };
  const init = { ...split(1, BigInt(world.data.base)), ...split(2, BigInt(world.data.size)), r10: world.stack.end };
  let out;
  try {
    out = runSnippet(stmts, init, rt);
  } catch (e) {
    return { error: errorFields(e), memory: snapshot(world), source: stmts };
  }
  const memory = snapshot(world);
  const unwound = (out as Record<string, unknown>)[STATE.unwound] === true;
  if (unwound) {
    // An early end returns 0 with 0 in RET[1], from whatever depth.
    const r0 = (BigInt(runtime.RET[1]! >>> 0) << 32n) | BigInt((out.returned ?? NaN) >>> 0);
    return { ended: true, r0, memory, source: stmts };
  }
  const regs = Array.from({ length: 10 }, (_, k) => (BigInt(out[hi(k)]! >>> 0) << 32n) | BigInt(out[lo(k)]! >>> 0));
  // main's epilogue returned r0 with its high half in RET[1]
  if (out.returned !== out[lo(0)] || runtime.RET[1] !== out[hi(0)]) throw new Error('exit did not return r0');
  return { regs, memory, source: stmts };
}

/** Both engines' outcomes, for `expect(jit).toEqual(ref)`. */
export function both(main: string, funcs = '', setup: RunSetup = {}): { ref: Outcome; jit: Outcome } {
  const ref = runReference(main, funcs, setup);
  const { source: _source, ...jit } = runLowered(main, funcs, setup);
  return { ref, jit };
}
