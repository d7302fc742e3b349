// The JIT's entry points: a validated Program in, a callable out (or the
// generated source, for inspection). Pure apart from `new Function`.

import { JitError } from '../lib/errors.js';
import type { Memory, Region } from '../lib/memory.js';
import type { Program } from '../lib/program.js';
import type { RunState } from '../lib/run-state.js';
import type { HelperFn } from '../lib/runtime.js';
import type { CompileOptions } from './context.js';
import { emitModule } from './emit.js';
import { instantiate, type ModuleExports } from './entry.js';
import { Sink } from './print.js';
import { createRuntime, type JitRuntime } from './runtime.js';
import { REGS, REG_SLOTS } from './split.js';
import { tailCallers } from './tail-calls.js';

export interface JitTarget {
  readonly memory: Memory;
  readonly helpers: ReadonlyMap<number, HelperFn>;
  readonly maxCallDepth: number;
  /** The stack region: maxCallDepth frames of FRAME_SIZE bytes below its end. */
  readonly stack: Region;
  /** The Vm's run state (tail calls, services); absent, the runtime gets its own (no chains). */
  readonly state?: RunState;
}

export interface CompiledProgram {
  /** The module's ways in (entry.ts). */
  readonly exports: ModuleExports;
  /** The runtime object the code was instantiated with (RET scratch, run state...). */
  readonly runtime: JitRuntime;
  readonly source: string;
}

function generate(program: Program, options: CompileOptions, comments: boolean): string {
  const sink = new Sink();
  // Worked out once here rather than at every call site.
  const tailCallersOf = options.tailCallers ?? tailCallers(program);
  emitModule(program, { ...options, tailCallers: tailCallersOf, comments }, sink, options.splitLimit);
  return sink.text();
}

/** The generated JavaScript, readable, with a comment per basic block (pc range and disassembly). */
export function jitSource(program: Program, options: CompileOptions): string {
  return generate(program, options, true);
}

export function compileProgram(program: Program, options: CompileOptions, target: JitTarget): CompiledProgram {
  const source = generate(program, options, false);
  const runtime = createRuntime(target.memory, target.helpers, program, target.maxCallDepth, target.stack, target.state);
  let exports: ModuleExports;
  try {
    // The registers of a split function cross between its pieces in R (split.ts).
    exports = instantiate(source, { ...runtime, [REGS]: new Int32Array(REG_SLOTS) });
  } catch (e) {
    // The source is ours, so a rejection is a JIT bug: keep the source for the report.
    throw new JitError(`generated code was rejected: ${e instanceof Error ? e.message : String(e)}`, source);
  }
  runtime.attach(exports);
  return { exports, runtime, source };
}
