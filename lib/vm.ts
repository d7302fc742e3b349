// The public entry point: a Vm holds helpers, maps, options and memory;
// `load` validates a program once (resolving its map references); `run`
// executes it on the chosen engine.
//
//   const vm = new Vm();
//   const counts = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
//   const prog = vm.load('lddw %r1, map_fd 1\n...');
//   prog.run(); // r0 as a bigint
//
// A run goes through the Vm's RunState (run-state.ts): its dispatch loop runs
// the program and every program it tail-calls, each on the run's engine.
// Runs of one Vm do not nest (they share the stack region and the run state):
// a helper that starts another run gets a UsageError.

import { compileProgram, compiledSourceMap, jitSource, type CompiledProgram, type SourceMapRequest } from '../codegen/compile.js';
import type { SourceMapV3 } from '../codegen/source-map.js';
import { HELPER_NAME_RE, assembleSlots } from './asm.js';
import { disassemble } from './disasm.js';
import { UsageError, ValidationError } from './errors.js';
import { HelperEnv, helperIdByName, standardHelpers } from './helpers/index.js';
import { runMain, prepare, type PreparedProgram } from './interpreter.js';
import { ChainStatus, MAX_ENTRY_VALUE, RunEnded, RunState, runChain } from './run-state.js';
import { decodeSlots, lddwValue, SLOT_SIZE, type Slot } from './isa.js';
import { hasMapReferences, resolveMapReferences } from './map-refs.js';
import { BpfMap, MapRegistry, type MapByType, type MapDefinition, type MapTypeName } from './maps/index.js';
import { Memory, type Region } from './memory.js';
import type { Program } from './program.js';
import { DEFAULT_MAX_CALL_DEPTH, FRAME_SIZE, type HelperFn, type ProgramContext, type RunEnv, type RunServices } from './runtime.js';
import { DEFAULT_MAX_TAIL_CALLS, TAIL_CALL_HELPER } from './tail-call.js';
import { validateBytes, validateSlots } from './validate.js';
import { InterpreterTrace } from './trace/interp-hook.js';
import { Tracer } from './trace/tracer.js';
import type { InstructionHook, TraceCallback, TraceEvent } from './trace/types.js';
import {
  ENGINES, checkBoolean, checkEngine, checkEnvOptions, checkHelperId, checkInt, checkSourceLines, helperEntries,
  type EngineName, type LoadOptions, type RunOptions, type SharedMapsState, type SourceLine, type VmOptions,
} from './vm-options.js';

export { ENGINES };
export type { EngineName, LoadOptions, RunOptions, SharedMapsState, SourceLine, SourceMapV3, TraceCallback, TraceEvent, VmOptions };
/** Engines that can run programs. Tests run every one. */
export const AVAILABLE_ENGINES: readonly EngineName[] = ['interp', 'jit'];

export type ProgramSource = Uint8Array | string;

/** What `run` accepts: input memory (mapped without copying) or a program context (an XdpContext, say). */
export type RunInput = Uint8Array | ProgramContext;

/**
 * The context of a run on plain input memory: r1 = its address, r2 = its
 * length, and it is the packet too. r1/r2 become BigInts only if a helper
 * asks for them.
 */
class MemoryContext implements ProgramContext {
  constructor(readonly address: number, readonly length: number) {}
  get r1(): bigint {
    return BigInt(this.address);
  }
  get r2(): bigint {
    return BigInt(this.length);
  }
  get packet(): { readonly address: number; readonly length: number } {
    return this;
  }
}

const NO_INPUT = new MemoryContext(0, 0);

/** The RunServices of a Vm's runs: one object, its per-run fields set at the start of each run. */
class Services implements RunServices {
  cpu = 0;
  context: ProgramContext = NO_INPUT;
  constructor(readonly maps: MapRegistry, readonly env: HelperEnv, readonly callFunction: RunServices['callFunction']) {}
}

function isProgramContext(value: unknown): value is ProgramContext {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<ProgramContext>;
  return typeof c.r1 === 'bigint' && typeof c.r2 === 'bigint' && typeof c.packet === 'object' && c.packet !== null;
}

export class Vm {
  readonly memory = new Memory();
  /** The maps of this Vm's programs (fds from 1). */
  readonly maps: MapRegistry;
  /** What standard helpers ask the host for: clocks, random numbers, task ids, printk lines. */
  readonly env: HelperEnv;
  private readonly helpers = new Map<number, HelperFn>();
  /** Names of helpers of the user's own (registerHelper's `name` option), for `call NAME` in assembly. */
  private readonly helperNames = new Map<string, number>();
  /** How vm.load's assembler resolves `call NAME`: this Vm's own names, then the standard ones. */
  private readonly resolveHelper = (name: string): number | undefined => this.helperNames.get(name) ?? helperIdByName(name);
  private readonly options: {
    readonly engine: EngineName; readonly maxInstructions: number; readonly maxCallDepth: number; readonly cpus: number;
    readonly sourceMaps: boolean;
  };
  private budget: number | undefined;
  private unwindHelper: number | undefined;
  /** Stack frames for every run of this Vm's programs. */
  private readonly stack: Region;
  /** The state of the current run, reused from run to run. */
  private readonly state: RunState;
  /** The interpreter's view of the current run (set per run; the interpreter step reads it). */
  private runEnv: RunEnv | undefined;
  private running = false;
  /** Maps to freeze when the next run starts (freezeBeforeRun). */
  private readonly toFreeze: BpfMap[] = [];
  private readonly interpStep = (target: unknown, state: RunState): number =>
    runMain((target as LoadedProgram).interpreted(), this.runEnv!, state);
  private readonly jitStep = (target: unknown, state: RunState): number => {
    const prog = target as LoadedProgram;
    const tracer = state.tracer;
    if (tracer === undefined) return runCompiledMain(prog.compiled(state.budget !== Infinity), state);
    tracer.enter(prog.program, state.depth);
    let aborted = true;
    try {
      const r0 = runCompiledMain(prog.compiled(state.budget !== Infinity, true), state);
      aborted = false;
      return r0;
    } finally {
      tracer.leave(aborted);
    }
  };
  /** The LoadedProgram of each validated Program, for traces and the debugger (names, C lines). */
  private readonly loadedBy = new WeakMap<Program, LoadedProgram>();
  private readonly services: Services;

  constructor(options: VmOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new UsageError('Vm options must be an object');
    checkInt('maxInstructions', options.maxInstructions, 1, 0x7fffffff);
    checkInt('budget', options.budget, 0, Number.MAX_SAFE_INTEGER);
    checkInt('maxCallDepth', options.maxCallDepth, 1, 64);
    checkInt('maxTailCalls', options.maxTailCalls, 0, 0x7fffffff);
    checkBoolean('standardHelpers', options.standardHelpers);
    checkBoolean('shareMaps', options.shareMaps);
    checkBoolean('sourceMaps', options.sourceMaps);
    if (options.sharedMaps !== undefined && (typeof options.sharedMaps !== 'object' || options.sharedMaps === null)) {
      throw new UsageError('option sharedMaps must be what vm.maps.sharedState() returned');
    }
    checkEnvOptions(options);
    if (options.unwindHelper !== undefined) checkHelperId(options.unwindHelper);
    this.options = {
      engine: checkEngine(options.engine ?? 'jit'),
      maxInstructions: options.maxInstructions ?? 1_000_000,
      maxCallDepth: options.maxCallDepth ?? DEFAULT_MAX_CALL_DEPTH,
      cpus: options.cpus ?? 1,
      sourceMaps: options.sourceMaps === true,
    };
    this.budget = options.budget;
    this.unwindHelper = options.unwindHelper;
    this.env = new HelperEnv(options);
    // share/attach: lib/maps checks and uses them (storage in SharedArrayBuffers, attaching to another thread's maps).
    const mapOptions = {
      cpus: this.options.cpus,
      isProgram: (value: unknown) => value instanceof LoadedProgram && value.vm === this,
      share: options.shareMaps,
      attach: options.sharedMaps,
    };
    this.maps = new MapRegistry(this.memory, mapOptions);
    if (options.standardHelpers !== false) {
      for (const h of standardHelpers()) if (h.id !== TAIL_CALL_HELPER) this.helpers.set(h.id, h.fn);
    }
    for (const [key, fn] of helperEntries(options.helpers)) this.registerHelper(key, fn);
    this.stack = this.memory.map(new Uint8Array(this.options.maxCallDepth * FRAME_SIZE), { name: 'stack' });
    this.state = new RunState(options.maxTailCalls ?? DEFAULT_MAX_TAIL_CALLS, this.jitStep);
    const state = this.state;
    this.services = new Services(this.maps, this.env, (address, args) => state.callFunction(address, args));
  }

  /**
   * Registers (or replaces) a helper, by id or by standard name
   * ('map_lookup_elem' or 'bpf_map_lookup_elem'). Programs loaded afterwards
   * may call it. Helper 12 (tail_call) is the engines' own and cannot be
   * replaced.
   *
   * A helper of your own takes an id, and may take a name too:
   * `vm.registerHelper(0x10000, fn, { name: 'add_two' })`. Assembly loaded
   * by this Vm (`vm.load`) may then write `call add_two`: `call NAME` looks
   * in this Vm's own names first, then in the standard names. A name is a C
   * identifier that is not a register (`r1`), names one id for the Vm's
   * life, and may not be a standard helper's name (with or without `bpf_`)
   * unless the id is that helper's: anything else is a UsageError. Names do
   * not reach the plain `assemble()`, which knows the standard names only.
   */
  registerHelper(idOrName: number | string, fn: HelperFn, options: { name?: string } = {}): this {
    if (typeof options !== 'object' || options === null) throw new UsageError('registerHelper options must be an object');
    let id: number;
    if (typeof idOrName === 'string') {
      const found = helperIdByName(idOrName);
      if (found === undefined) {
        throw new UsageError(`unknown helper name '${idOrName}': register a helper of your own by id (with { name } to call it by name)`);
      }
      id = found;
    } else {
      checkHelperId(idOrName);
      id = idOrName;
    }
    if (id === TAIL_CALL_HELPER) throw new UsageError('helper 12 (tail_call) is built into the engines and cannot be replaced');
    if (typeof fn !== 'function') throw new UsageError(`helper ${id} must be a function`);
    const { name } = options;
    if (name !== undefined) this.checkHelperName(name, id);
    this.helpers.set(id, fn);
    if (name !== undefined) this.helperNames.set(name, id);
    return this;
  }

  /** Throws UsageError unless `name` may name helper `id` (see registerHelper). */
  private checkHelperName(name: unknown, id: number): void {
    if (typeof name !== 'string' || !HELPER_NAME_RE.test(name) || /^r[0-9]+$/.test(name)) {
      throw new UsageError(`helper name ${JSON.stringify(name)} must be an identifier ([A-Za-z_][A-Za-z0-9_]*) other than a register`);
    }
    const standard = helperIdByName(name);
    if (standard !== undefined && standard !== id) {
      throw new UsageError(`helper name '${name}' is the standard name of helper ${standard}, not of ${id}`);
    }
    const own = this.helperNames.get(name);
    if (own !== undefined && own !== id) throw new UsageError(`helper name '${name}' already names helper ${own}`);
  }

  /** Marks helper `id` as the unwind-on-success helper (undefined: none). */
  setUnwindHelper(id: number | undefined): this {
    if (id !== undefined) checkHelperId(id);
    this.unwindHelper = id;
    return this;
  }

  /** Sets the default instruction budget per run (undefined: unlimited). */
  setBudget(budget: number | undefined): this {
    checkInt('budget', budget, 0, Number.MAX_SAFE_INTEGER);
    this.budget = budget;
    return this;
  }

  /**
   * Freezes `map` (BPF_MAP_FREEZE: writes from JS throw, programs' writes go
   * on) when a program of this Vm next starts a run, not now: a loader
   * registers .rodata this way, and may still fill it in before the first run.
   */
  freezeBeforeRun(map: BpfMap): this {
    if (!(map instanceof BpfMap) || this.maps.byFd(map.fd) !== map) throw new UsageError('freezeBeforeRun() takes a map created by this Vm');
    if (!this.toFreeze.includes(map)) this.toFreeze.push(map);
    return this;
  }

  /** Creates a map (fds count from 1). Throws MapError for a bad definition. */
  createMap<T extends MapTypeName>(def: MapDefinition & { type: T }): MapByType[T];
  createMap(def: MapDefinition): BpfMap;
  createMap(def: MapDefinition): BpfMap {
    return this.maps.create(def);
  }

  /**
   * Validates a program: bytes are raw bytecode (8-byte slots), a string is
   * assembly. Map references (lddw map_fd / map_value / map_idx /
   * map_idx_value) become their values here: fds name this Vm's maps, indices
   * `options.maps`. Throws ValidationError / AssemblerError.
   */
  load(source: ProgramSource, options: LoadOptions = {}): LoadedProgram {
    if (typeof options !== 'object' || options === null) throw new UsageError('load() options must be an object');
    const maps = options.maps ?? [];
    const sourceLines = checkSourceLines(options.sourceLines);
    if (options.name !== undefined && typeof options.name !== 'string') throw new UsageError('load() option name must be a string');
    const name = options.name;
    if (!Array.isArray(maps) || maps.some((m: unknown) => !(m instanceof BpfMap) || this.maps.byFd(m.fd) !== m)) {
      throw new UsageError('load() option maps must be an array of maps created by this Vm');
    }
    const validateOptions = {
      maxInstructions: this.options.maxInstructions,
      helperExists: (id: number) => id === TAIL_CALL_HELPER || this.helpers.has(id),
    };
    let slots: readonly Slot[];
    if (typeof source === 'string') slots = assembleSlots(source, { resolveHelper: this.resolveHelper });
    else if (source instanceof Uint8Array) {
      // Only bytes that decode to a well-sized program are decoded here; the
      // validator reports the others without allocating for them.
      const n = source.byteLength / SLOT_SIZE;
      if (!Number.isInteger(n) || n === 0 || n > this.options.maxInstructions) return this.loaded(validateBytes(source, validateOptions), sourceLines, name);
      slots = decodeSlots(source);
    } else throw new UsageError('load() takes a Uint8Array of bytecode or a string of assembly');
    if (!hasMapReferences(slots)) return this.loaded(validateSlots(slots, validateOptions), sourceLines, name);
    const resolved = resolveMapReferences(slots, { byFd: (fd) => this.maps.byFd(fd), byIndex: maps });
    let program: Program;
    try {
      program = validateSlots(resolved.slots, validateOptions);
    } catch (e) {
      // The first failing pc wins, whichever pass found it.
      if (resolved.error !== undefined && e instanceof ValidationError && e.pc > resolved.error.pc) throw resolved.error;
      throw e;
    }
    if (resolved.error !== undefined) throw resolved.error;
    return this.loaded(program, sourceLines, name);
  }

  private loaded(program: Program, sourceLines: LoadOptions['sourceLines'], name: string | undefined): LoadedProgram {
    const prog = new LoadedProgram(this, program, sourceLines, name);
    this.loadedBy.set(program, prog);
    return prog;
  }

  /** @internal The LoadedProgram a validated Program belongs to (traces and the debugger name programs by it). */
  loadedProgram(program: Program): LoadedProgram {
    const prog = this.loadedBy.get(program);
    if (prog === undefined) throw new UsageError('program not loaded by this Vm');
    return prog;
  }

  /** @internal Whether compiled code carries a source map (VmOptions.sourceMaps). */
  get sourceMaps(): boolean {
    return this.options.sourceMaps;
  }

  /** @internal What the JIT compiles against: this Vm's memory, helpers, limits and run state. */
  jitTarget() {
    return { memory: this.memory, helpers: this.helpers, maxCallDepth: this.options.maxCallDepth, stack: this.stack, state: this.state };
  }

  /** @internal The unwind helper id compiled code depends on (part of LoadedProgram's cache key). */
  get unwindHelperId(): number | undefined {
    return this.unwindHelper;
  }

  /** @internal Compile-time options for a run with or without a budget. */
  compileOptions(budgeted: boolean, traced = false) {
    return { budget: budgeted, unwindHelper: this.unwindHelper, helperIds: new Set(this.helpers.keys()), trace: traced };
  }

  /**
   * @internal Runs a validated program on `input` (memory or a context).
   * `hook`: the debugger's, called before every instruction (interpreter only).
   */
  execute(prog: LoadedProgram, input: RunInput | undefined, options: RunOptions, hook?: InstructionHook): bigint {
    if (typeof options !== 'object' || options === null) throw new UsageError('run() options must be an object');
    const engine = checkEngine(options.engine ?? this.options.engine);
    if (options.trace !== undefined && typeof options.trace !== 'function') throw new UsageError('option trace must be a function');
    if (hook !== undefined && engine !== 'interp') throw new UsageError('the debugger runs programs on the interpreter');
    if (hook !== undefined && options.trace !== undefined) throw new UsageError('a debugged run cannot be traced too');
    const budget = options.budget ?? this.budget;
    checkInt('budget', budget, 0, Number.MAX_SAFE_INTEGER);
    const cpu = options.cpu ?? 0;
    checkInt('cpu', cpu, 0, this.options.cpus - 1);
    if (input !== undefined && !(input instanceof Uint8Array) && !isProgramContext(input)) {
      throw new UsageError('run() input must be a Uint8Array or a program context (r1, r2, packet)');
    }
    if (this.running) throw new UsageError("runs of one Vm do not nest: a helper, a trace function or a debugger's onStop cannot start a run");
    if (this.toFreeze.length > 0) this.freezePending();
    // Fresh zeroed stack each run, so a run never sees an earlier run's data.
    this.stack.bytes.fill(0);
    const region = input instanceof Uint8Array ? this.memory.map(input, { name: 'input memory' }) : undefined;
    const state = this.state;
    let context: ProgramContext;
    if (input === undefined || region !== undefined) {
      context = region === undefined ? NO_INPUT : new MemoryContext(region.base, region.size);
      state.beginWith(prog, region?.base ?? 0, 0, region?.size ?? 0, 0, this.stack.end, budget);
    } else {
      context = input as ProgramContext;
      // The JIT compiles a main function for an address and a length in r1 and r2 (codegen/analysis.ts).
      for (const [name, value] of [['r1', context.r1], ['r2', context.r2]] as const) {
        if (value < 0n || value > BigInt(MAX_ENTRY_VALUE)) {
          throw new UsageError(`run() context ${name} must be in [0, 0x${MAX_ENTRY_VALUE.toString(16)}]`);
        }
      }
      state.begin(prog, context.r1, context.r2, this.stack.end, budget);
    }
    state.packet = context.packet;
    this.services.cpu = cpu;
    this.services.context = context;
    state.services = this.services;
    state.step = engine === 'interp' ? this.interpStep : this.jitStep;
    this.runEnv = engine === 'jit' ? undefined : {
      memory: this.memory, helpers: this.helpers, unwindHelper: this.unwindHelper, budget,
      maxCallDepth: this.options.maxCallDepth, stackTop: this.stack.end, r1: context.r1, r2: context.r2, packet: context.packet,
    };
    const tracer = options.trace === undefined ? undefined
      : new Tracer(this.memory, (p) => this.loadedProgram(p), options.trace);
    // Whose user callback may end the run with its own error (CallbackFailure).
    const callback = hook ?? tracer;
    state.tracer = tracer;
    state.hook = hook ?? (tracer !== undefined && engine === 'interp' ? new InterpreterTrace(tracer) : undefined);
    this.running = true;
    let r0: bigint;
    try {
      // An unwound run returns r0 = 0 (runChain leaves 0 in both halves).
      r0 = lddwValue(runChain(state), state.r0h);
    } catch (e) {
      // A callback ended the run (unwind-on-success): r0 = 0, as anywhere else.
      if (!(e instanceof RunEnded)) {
        this.endRun(region, false);
        // The callback's own error, as it threw it (a helper running a callback may have wrapped it).
        if (callback?.thrown !== undefined) throw callback.thrown.error;
        throw e;
      }
      r0 = 0n;
    }
    this.endRun(region, true);
    // A helper swallowed the callback's error and the run went on to its end: the error still wins.
    if (callback?.thrown !== undefined) throw callback.thrown.error;
    return r0;
  }

  /** Freezes the maps freezeBeforeRun() registered (once each). */
  private freezePending(): void {
    for (const map of this.toFreeze.splice(0)) map.freeze();
  }

  /**
   * After a run, however it ended (exit, fault, budget, a helper's error):
   * the Vm is free again, the input is unmapped, and what the run left
   * pending in maps (ring-buffer reservations) is discarded. An error from
   * that last step (an onRecord callback's) is thrown only when the run
   * itself succeeded (`ok`): otherwise the run's own error wins.
   */
  private endRun(region: Region | undefined, ok: boolean): void {
    this.running = false;
    this.state.host = undefined;
    this.state.hook = undefined;
    this.state.tracer = undefined;
    if (region !== undefined) this.memory.unmap(region);
    try {
      this.maps.endRun();
    } catch (e) {
      if (ok) throw e;
    }
  }
}

/** The JIT's ChainStep: calls the module's entry with the run state's entry fields. */
function runCompiledMain(compiled: CompiledProgram, state: RunState): number {
  const { exports, runtime } = compiled;
  const r0 = exports.entry(state.r1, state.r1h, state.r2, state.r2h, state.r10, state.budget, state.executed, state.depth);
  const ret = runtime.RET;
  state.r0h = ret[1]!;
  if (ret[2] === 2) state.status = ChainStatus.Unwound;
  state.executed = runtime.CNT[0]!;
  return r0;
}

/** The slots a validated program was made of (lddw back to two slots). */
function programSlots(program: Program): Slot[] {
  return program.insns.flatMap(({ opcode, dst, src, off, imm, imm2, spec }) => {
    const first = { opcode, dst, src, off, imm };
    return spec.kind === 'lddw' ? [first, { opcode: 0, dst: 0, src: 0, off: 0, imm: imm2 }] : [first];
  });
}

/** Compiled code for one budget setting, and the unwind helper it was compiled for. */
interface CompiledFor {
  readonly unwind: number | undefined;
  readonly code: CompiledProgram;
}

export class LoadedProgram {
  readonly vm: Vm;
  readonly program: Program;
  /** Compiled code by compile options (budget checks on/off, unwind helper id). */
  private readonly cache = new Map<string, CompiledProgram>();
  /** The last compiled code per budget setting: what every run and tail call asks for, found without a key. */
  private plain: CompiledFor | undefined;
  private budgeted: CompiledFor | undefined;
  /** The interpreter's decoded form, made at the first interpreted run. */
  private prepared: PreparedProgram | undefined;
  /** For each pc, its C source line (LoadOptions.sourceLines), shown by jitSource(). */
  readonly sourceLines: readonly (SourceLine | undefined)[] | undefined;
  /** LoadOptions.name: names generated code in source maps (`ebpf-js/NAME.js`, `NAME.bpf`); 'prog' when absent. */
  readonly name: string;
  constructor(vm: Vm, program: Program, sourceLines?: readonly (SourceLine | undefined)[], name?: string) {
    this.vm = vm;
    this.program = program;
    this.sourceLines = sourceLines;
    this.name = name ?? 'prog';
  }

  /** What a source map of this program is made from. */
  private mapRequest(): SourceMapRequest {
    return this.sourceLines === undefined ? { name: this.name } : { name: this.name, sourceLines: this.sourceLines };
  }

  /** @internal The JIT's code for this program under the Vm's current options, compiled once. */
  compiled(budgeted: boolean, traced = false): CompiledProgram {
    if (traced) return this.compiledFor(budgeted, true);
    // Called on every JIT run and tail call: no key is built on this path.
    const unwind = this.vm.unwindHelperId;
    const last = budgeted ? this.budgeted : this.plain;
    if (last !== undefined && last.unwind === unwind) return last.code;
    const code = this.compiledFor(budgeted, false);
    if (budgeted) this.budgeted = { unwind, code };
    else this.plain = { unwind, code };
    return code;
  }

  /** Compiled code for these options, from the cache or compiled now (traced code only when a traced run asks). */
  private compiledFor(budgeted: boolean, traced: boolean): CompiledProgram {
    const unwind = this.vm.unwindHelperId;
    const key = `${budgeted}:${unwind ?? ''}:${traced}`;
    let code = this.cache.get(key);
    if (code === undefined) {
      code = compileProgram(this.program, this.vm.compileOptions(budgeted, traced), this.vm.jitTarget(),
        this.vm.sourceMaps ? this.mapRequest() : undefined);
      this.cache.set(key, code);
    }
    return code;
  }

  /** @internal The interpreter's decoded form of this program, made once. */
  interpreted(): PreparedProgram {
    return (this.prepared ??= prepare(this.program));
  }

  /** Compiles now (the first JIT run would otherwise do it). */
  compile(options: { budget?: boolean } = {}): this {
    this.compiled(options.budget === true);
    return this;
  }

  /**
   * The JavaScript the JIT generates, with a comment per basic block, and
   * before the code of each new C line, `file:line: text` when the program
   * was loaded with sourceLines. With `sourceMap: true`, followed by
   * `//# sourceURL=ebpf-js/NAME.js` and an inline `//# sourceMappingURL`
   * mapping this text to BPF (and C) lines. With `trace: true`, the code a
   * traced run (RunOptions.trace) compiles to.
   */
  jitSource(options: { budget?: boolean; sourceMap?: boolean; trace?: boolean } = {}): string {
    checkBoolean('sourceMap', options.sourceMap);
    checkBoolean('trace', options.trace);
    const compile = this.vm.compileOptions(options.budget === true, options.trace === true);
    const withLines = this.sourceLines === undefined ? compile : { ...compile, sourceLines: this.sourceLines };
    return jitSource(this.program, withLines, options.sourceMap === true ? this.mapRequest() : undefined);
  }

  /**
   * The Source Map v3 of the code the JIT compiles for this program (as V8
   * sees it, inside `new Function`): generated positions to `NAME.bpf` line
   * pc + 1, or to the C line where sourceLines give one. The same map is
   * inlined in the compiled code when the Vm has `sourceMaps: true`.
   */
  sourceMap(options: { budget?: boolean } = {}): SourceMapV3 {
    return compiledSourceMap(this.program, this.vm.compileOptions(options.budget === true), this.mapRequest());
  }

  /**
   * Runs once and returns r0 (u64). `input` is input memory, mapped without
   * copying (r1 = its address, r2 = its length; the program's writes land in
   * it), or a program context such as an XdpContext (r1 = the context).
   */
  run(input?: RunInput, options: RunOptions = {}): bigint {
    return this.vm.execute(this, input, options);
  }

  /** The program in assembly syntax, one instruction per line. */
  disassemble(): string {
    return disassemble(programSlots(this.program));
  }
}
