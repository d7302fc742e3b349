// The public entry point: a Vm holds helpers, options and memory; `load`
// validates a program once; `run` executes it on the chosen engine.
//
//   const vm = new Vm({ helpers: { 1: myHelper } });
//   const prog = vm.load('mov %r0, 42\nexit');
//   prog.run(); // 42n

import { assembleSlots } from './asm.js';
import { disassemble } from './disasm.js';
import { UsageError } from './errors.js';
import { interpret } from './interpreter.js';
import type { Slot } from './isa.js';
import { Memory, type Region } from './memory.js';
import type { Program } from './program.js';
import { DEFAULT_MAX_CALL_DEPTH, FRAME_SIZE, type HelperFn, type RunEnv } from './runtime.js';
import { validateBytes, validateSlots } from './validate.js';

export type EngineName = 'interp' | 'jit';
export const ENGINES: readonly EngineName[] = ['interp', 'jit'];
/** Engines that can run programs today (the JIT comes next). Tests run every one. */
export const AVAILABLE_ENGINES: readonly EngineName[] = ['interp'];

export interface VmOptions {
  /** Engine used by `run` unless a run says otherwise. Default 'interp' (the JIT is not available yet). */
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
  if (engine === 'interp') return engine;
  if (engine === 'jit') throw new UsageError('the jit engine is not available yet; use engine "interp"');
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
      engine: checkEngine(options.engine ?? 'interp'),
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

  /** @internal Runs a validated program with r1/r2 pointing at `mem`. */
  execute(program: Program, mem: Uint8Array | undefined, options: RunOptions): bigint {
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
      switch (engine) {
        case 'interp':
          return interpret(program, env);
        default:
          throw new UsageError(`engine ${engine} is not available`);
      }
    } finally {
      if (region !== undefined) this.memory.unmap(region);
    }
  }
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
  constructor(vm: Vm, program: Program) {
    this.vm = vm;
    this.program = program;
  }

  /**
   * Runs once. `mem` (optional) is mapped without copying: r1 = its address,
   * r2 = its length, and the program's writes land in it. Returns r0 (u64).
   */
  run(mem?: Uint8Array, options: RunOptions = {}): bigint {
    return this.vm.execute(this.program, mem, options);
  }

  /** The program in assembly syntax, one instruction per line. */
  disassemble(): string {
    return disassemble(programSlots(this.program));
  }
}
