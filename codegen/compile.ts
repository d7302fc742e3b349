// The JIT's entry points: a validated Program in, a callable out (or the
// generated source, for inspection). Pure apart from `new Function`.

import { JitError } from '../lib/errors.js';
import type { Memory, Region } from '../lib/memory.js';
import type { Program } from '../lib/program.js';
import type { HelperFn } from '../lib/runtime.js';
import type { CompileOptions } from './context.js';
import { emitModule, instantiate, type EntryFn } from './emit.js';
import { Sink } from './print.js';
import { createRuntime } from './runtime.js';
import { REGS, REG_SLOTS } from './split.js';

export interface JitTarget {
  readonly memory: Memory;
  readonly helpers: ReadonlyMap<number, HelperFn>;
  readonly maxCallDepth: number;
  /** The stack region: maxCallDepth frames of FRAME_SIZE bytes below its end. */
  readonly stack: Region;
}

export interface CompiledProgram {
  readonly entry: EntryFn;
  /** The runtime object the code was instantiated with (packet, RET scratch...). */
  readonly runtime: ReturnType<typeof createRuntime>;
  readonly source: string;
}

function generate(program: Program, options: CompileOptions, comments: boolean): string {
  const sink = new Sink();
  emitModule(program, { ...options, comments }, sink, options.splitLimit);
  return sink.text();
}

/** The generated JavaScript, readable, with a comment per basic block (pc range and disassembly). */
export function jitSource(program: Program, options: CompileOptions): string {
  return generate(program, options, true);
}

export function compileProgram(program: Program, options: CompileOptions, target: JitTarget): CompiledProgram {
  const source = generate(program, options, false);
  const runtime = createRuntime(target.memory, target.helpers, program, target.maxCallDepth, target.stack);
  let entry: EntryFn;
  try {
    // The registers of a split function cross between its pieces in R (split.ts).
    entry = instantiate(source, { ...runtime, [REGS]: new Int32Array(REG_SLOTS) });
  } catch (e) {
    // The source is ours, so a rejection is a JIT bug: keep the source for the report.
    throw new JitError(`generated code was rejected: ${e instanceof Error ? e.message : String(e)}`, source);
  }
  return { entry, runtime, source };
}
