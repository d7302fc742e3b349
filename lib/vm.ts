// The public entry point: a Vm holds helpers, options and memory; `load`
// validates a program once; `run` executes it on the chosen engine.
//
//   const vm = new Vm({ helpers: { 1: myHelper } });
//   const prog = vm.load('mov %r0, 42\nexit');
//   prog.run(); // 42n

import { compileProgram, jitSource, type CompiledProgram } from '../codegen/compile.js';
import { assembleSlots } from './asm.js';
import { disassemble } from './disasm.js';
import { UsageError } from './errors.js';
import { interpret, prepare, type PreparedProgram } from './interpreter.js';
import { lddwValue, type Slot } from './isa.js';
import { Memory, type Region } from './memory.js';
import type { Program } from './program.js';
import { DEFAULT_MAX_CALL_DEPTH, FRAME_SIZE, type HelperFn, type RunEnv } from './runtime.js';
import { validateBytes, validateSlots } from './validate.js';

export type EngineName = 'interp' | 'jit';
export const ENGINES: readonly EngineName[] = ['interp', 'jit'];
/** Engines that can run programs. Tests run every one. */
export const AVAILABLE_ENGINES: readonly EngineName[] = ['interp', 'jit'];

export interface VmOptions {
  /** Engine used by `run` unless a run says otherwise. Default 'jit'; 'interp' is the reference interpreter. */
  engine?: EngineName;
  /** Longest program accepted, in instructions (slots). Default 1,000,000, like Linux. */
  maxInstructions?: number;
  /** Maximum instructions executed per run; exceeding it throws BudgetExceededError. Default: unlimited. */
  budget?: number;
  /** Maximum stack frames (main + nested local calls). Default 8, like Linux. */
  maxCallDepth?: number;
  /** Helpers by id. */
  helpers?: Record<number, HelperFn> | ReadonlyMap<number, HelperFn>;
  /** Helper id whose 0 result ends the program at once with r0 = 0 (uBPF's unwind-on-success). */
  unwindHelper?: number;
}

export interface RunOptions {
  engine?: EngineName;
  /** Overrides the Vm's budget for this run. */
  budget?: number;
}

export type ProgramSource = Uint8Array | string;

function checkInt(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`option ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}

function checkEngine(engine: unknown): EngineName {
  if (engine === 'interp' || engine === 'jit') return engine;
  throw new UsageError(`unknown engine ${String(engine)}; expected one of ${ENGINES.join(', ')}`);
}

function checkHelperId(id: number): void {
  checkInt('helper id', id, 0, 0x7fffffff);
}

export class Vm {
  readonly memory = new Memory();
  private readonly helpers = new Map<number, HelperFn>();
  private readonly options: Readonly<Required<Omit<VmOptions, 'helpers' | 'budget' | 'unwindHelper'>>>;
  private budget: number | undefined;
  private unwindHelper: number | undefined;
  /** Stack frames for every run of this Vm's programs (runs do not nest). */
  private readonly stack: Region;

  constructor(options: VmOptions = {}) {
    checkInt('maxInstructions', options.maxInstructions, 1, 0x7fffffff);
    checkInt('budget', options.budget, 0, Number.MAX_SAFE_INTEGER);
    checkInt('maxCallDepth', options.maxCallDepth, 1, 64);
    if (options.unwindHelper !== undefined) checkHelperId(options.unwindHelper);
    this.options = {
      engine: checkEngine(options.engine ?? 'jit'),
      maxInstructions: options.maxInstructions ?? 1_000_000,
      maxCallDepth: options.maxCallDepth ?? DEFAULT_MAX_CALL_DEPTH,
    };
    this.budget = options.budget;
    this.unwindHelper = options.unwindHelper;
    const given = options.helpers instanceof Map ? options.helpers : Object.entries(options.helpers ?? {});
    for (const [id, fn] of given) this.registerHelper(Number(id), fn);
    this.stack = this.memory.map(new Uint8Array(this.options.maxCallDepth * FRAME_SIZE), { name: 'stack' });
  }

  /** Registers (or replaces) helper `id`. Programs loaded afterwards may call it. */
  registerHelper(id: number, fn: HelperFn): this {
    checkHelperId(id);
    if (typeof fn !== 'function') throw new UsageError(`helper ${id} must be a function`);
    this.helpers.set(id, fn);
    return this;
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
   * Validates a program: bytes are raw bytecode (8-byte slots), a string is
   * assembly. Throws ValidationError / AssemblerError.
   */
  load(source: ProgramSource): LoadedProgram {
    const validateOptions = {
      maxInstructions: this.options.maxInstructions,
      helperExists: (id: number) => this.helpers.has(id),
    };
    let program: Program;
    if (typeof source === 'string') program = validateSlots(assembleSlots(source), validateOptions);
    else if (source instanceof Uint8Array) program = validateBytes(source, validateOptions);
    else throw new UsageError('load() takes a Uint8Array of bytecode or a string of assembly');
    return new LoadedProgram(this, program);
  }

  /** @internal What the JIT compiles against: this Vm's memory, helpers and limits. */
  jitTarget() {
    return { memory: this.memory, helpers: this.helpers, maxCallDepth: this.options.maxCallDepth, stack: this.stack };
  }

  /** @internal What compiled code depends on besides the program: the cache key of LoadedProgram. */
  compileKey(budgeted: boolean): string {
    return `${budgeted}:${this.unwindHelper ?? ''}`;
  }

  /** @internal Compile-time options for a run with or without a budget. */
  compileOptions(budgeted: boolean) {
    return { budget: budgeted, unwindHelper: this.unwindHelper, helperIds: new Set(this.helpers.keys()) };
  }

  /** @internal Runs a validated program with r1/r2 pointing at `mem`. */
  execute(prog: LoadedProgram, mem: Uint8Array | undefined, options: RunOptions): bigint {
    const engine = checkEngine(options.engine ?? this.options.engine);
    const budget = options.budget ?? this.budget;
    checkInt('budget', budget, 0, Number.MAX_SAFE_INTEGER);
    if (mem !== undefined && !(mem instanceof Uint8Array)) throw new UsageError('run() memory must be a Uint8Array');
    // Fresh zeroed stack each run, so a run never sees an earlier run's data.
    this.stack.bytes.fill(0);
    const region = mem === undefined ? undefined : this.memory.map(mem, { name: 'input memory' });
    try {
      const env: RunEnv = {
        memory: this.memory,
        helpers: this.helpers,
        unwindHelper: this.unwindHelper,
        budget,
        maxCallDepth: this.options.maxCallDepth,
        stackTop: this.stack.end,
        r1: region === undefined ? 0n : BigInt(region.base),
        r2: region === undefined ? 0n : BigInt(region.size),
        packet: { address: region?.base ?? 0, length: region?.size ?? 0 },
      };
      return engine === 'interp' ? interpret(prog.interpreted(), env) : runCompiled(prog.compiled(budget !== undefined), env);
    } finally {
      if (region !== undefined) this.memory.unmap(region);
    }
  }
}

/** Runs compiled code; r0 comes back as its low half, the high half in RET[1]. */
function runCompiled(compiled: CompiledProgram, env: RunEnv): bigint {
  const { entry, runtime } = compiled;
  runtime.setPacket(env.packet.address, env.packet.length);
  // r1 and r2 are below 2^32 (an address and a length): their high halves are 0.
  const r0 = entry(Number(env.r1) | 0, 0, Number(env.r2) | 0, 0, env.stackTop, env.budget ?? Infinity);
  return lddwValue(r0, runtime.RET[1]!);
}

/** The slots a validated program was made of (lddw back to two slots). */
function programSlots(program: Program): Slot[] {
  return program.insns.flatMap(({ opcode, dst, src, off, imm, imm2, spec }) => {
    const first = { opcode, dst, src, off, imm };
    return spec.kind === 'lddw' ? [first, { opcode: 0, dst: 0, src: 0, off: 0, imm: imm2 }] : [first];
  });
}

export class LoadedProgram {
  readonly vm: Vm;
  readonly program: Program;
  /** Compiled code by compile options (budget checks on/off, unwind helper id). */
  private readonly cache = new Map<string, CompiledProgram>();
  /** The interpreter's decoded form, made at the first interpreted run. */
  private prepared: PreparedProgram | undefined;
  constructor(vm: Vm, program: Program) {
    this.vm = vm;
    this.program = program;
  }

  /** @internal The JIT's code for this program under the Vm's current options, compiled once. */
  compiled(budgeted: boolean): CompiledProgram {
    // Called on every JIT run: look up before building any options.
    const key = this.vm.compileKey(budgeted);
    let c = this.cache.get(key);
    if (c === undefined) {
      c = compileProgram(this.program, this.vm.compileOptions(budgeted), this.vm.jitTarget());
      this.cache.set(key, c);
    }
    return c;
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

  /** The JavaScript the JIT generates, with a comment per basic block. */
  jitSource(options: { budget?: boolean } = {}): string {
    return jitSource(this.program, this.vm.compileOptions(options.budget === true));
  }

  /**
   * Runs once. `mem` (optional) is mapped without copying: r1 = its address,
   * r2 = its length, and the program's writes land in it. Returns r0 (u64).
   */
  run(mem?: Uint8Array, options: RunOptions = {}): bigint {
    return this.vm.execute(this, mem, options);
  }

  /** The program in assembly syntax, one instruction per line. */
  disassemble(): string {
    return disassemble(programSlots(this.program));
  }
}
