// The JIT's entry points: a validated Program in, a callable out (or the
// generated source, for inspection). Pure apart from `new Function`.

import { JitError } from '../lib/errors.js';
import type { Memory, Region } from '../lib/memory.js';
import type { Program } from '../lib/program.js';
import type { RunState } from '../lib/run-state.js';
import type { HelperFn } from '../lib/runtime.js';
import type { SourceLine } from '../lib/vm-options.js';
import type { CompileOptions } from './context.js';
import { emitModule } from './emit.js';
import { instantiate, type ModuleExports } from './entry.js';
import { MappedSink, Sink } from './print.js';
import { buildSourceMap, sourceMapComments, type SourceMapV3 } from './source-map.js';
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
  /** The source map of `source` (as V8 sees it, inside `new Function`), when one was asked for. */
  readonly sourceMap?: SourceMapV3;
}

/** Asks for a source map (source-map.ts): what to call the code, and the C lines of its pcs, if known. */
export interface SourceMapRequest {
  /** Names the script (`ebpf-js/NAME.js`) and the virtual BPF source (`NAME.bpf`). */
  readonly name: string;
  readonly sourceLines?: readonly (SourceLine | undefined)[];
}

/** Lines V8 puts before the body of `new Function('rt', body)`: `function anonymous(rt\n) {\n`. */
const FUNCTION_PREFIX_LINES = 2;

function generate(program: Program, options: CompileOptions, comments: boolean): string {
  const sink = new Sink();
  // Worked out once here rather than at every call site.
  const tailCallersOf = options.tailCallers ?? tailCallers(program);
  emitModule(program, { ...options, tailCallers: tailCallersOf, comments }, sink, options.splitLimit);
  return sink.text();
}

/**
 * generate() with a source map: the same text (the sink only also counts
 * lines and columns) and its map. `lineOffset`: lines before the text in the
 * script the map is for.
 */
function generateMapped(
  program: Program, options: CompileOptions, comments: boolean, request: SourceMapRequest, lineOffset: number,
): { source: string; map: SourceMapV3 } {
  const sink = new MappedSink();
  const tailCallersOf = options.tailCallers ?? tailCallers(program);
  emitModule(program, { ...options, tailCallers: tailCallersOf, comments }, sink, options.splitLimit);
  return { source: sink.text(), map: buildSourceMap(sink.map, program, request.name, request.sourceLines, lineOffset) };
}

/**
 * The generated JavaScript, readable, with a comment per basic block (pc
 * range and disassembly). With `sourceMap`, followed by `//# sourceURL` and
 * an inline `//# sourceMappingURL` whose map describes this text.
 */
export function jitSource(program: Program, options: CompileOptions, sourceMap?: SourceMapRequest): string {
  if (sourceMap === undefined) return generate(program, options, true);
  const { source, map } = generateMapped(program, options, true, sourceMap, 0);
  return source + sourceMapComments(sourceMap.name, map);
}

/** The source map of the code compileProgram makes (positions as V8 sees them, inside `new Function`). */
export function compiledSourceMap(program: Program, options: CompileOptions, request: SourceMapRequest): SourceMapV3 {
  return generateMapped(program, options, false, request, FUNCTION_PREFIX_LINES).map;
}

/**
 * Compiles `program`. With `sourceMap`, the code ends with `//# sourceURL`
 * and an inline `//# sourceMappingURL`, so a debugger or profiler shows BPF
 * (or C) positions; without, nothing is tracked or added.
 */
export function compileProgram(
  program: Program, options: CompileOptions, target: JitTarget, sourceMap?: SourceMapRequest,
): CompiledProgram {
  let source: string;
  let map: SourceMapV3 | undefined;
  if (sourceMap === undefined) {
    source = generate(program, options, false);
  } else {
    const mapped = generateMapped(program, options, false, sourceMap, FUNCTION_PREFIX_LINES);
    map = mapped.map;
    source = mapped.source + sourceMapComments(sourceMap.name, map);
  }
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
  return map === undefined ? { exports, runtime, source } : { exports, runtime, source, sourceMap: map };
}
