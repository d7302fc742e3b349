// The JIT's entry points: a validated Program in, a callable out (or the
// generated source, for inspection). Pure apart from `new Function`.

import { JitError } from '../lib/errors.js';
import type { Memory, Region } from '../lib/memory.js';
import type { Program } from '../lib/program.js';
import type { HelperFn } from '../lib/runtime.js';
import type { CompileOptions } from './context.js';
import { buildModule, instantiate, printModule, type EntryFn } from './emit.js';
import { createRuntime } from './runtime.js';

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

/** The generated JavaScript, with a comment per basic block (pc range and disassembly). */
export function jitSource(program: Program, options: CompileOptions): string {
  return printModule(buildModule(program, { ...options, comments: true }), true);
}

export function compileProgram(program: Program, options: CompileOptions, target: JitTarget): CompiledProgram {
  const source = printModule(buildModule(program, { ...options, comments: false }), false);
  const runtime = createRuntime(target.memory, target.helpers, program, target.maxCallDepth, target.stack);
  let entry: EntryFn;
  try {
    entry = instantiate(source, runtime);
  } catch (e) {
    // The source is ours, so a rejection is a JIT bug: keep the source for the report.
    throw new JitError(`generated code was rejected: ${e instanceof Error ? e.message : String(e)}`, source);
  }
  return { entry, runtime, source };
}
