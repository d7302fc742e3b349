// What a debugger's onStop callback sees: the run paused before the
// instruction at `pc`. Everything is read from the live run when asked for
// (registers, the stack, memory), so a Stop is only good while the callback
// runs: once it returns the run moves on and every member throws a
// UsageError, rather than quietly showing a later state.
//
// What it does not do: change the run (registers and memory are read-only
// here) or decide what happens next (the callback's command does).

import { formatInstruction } from '../disasm.js';
import { UsageError } from '../errors.js';
import type { Memory } from '../memory.js';
import { FRAME_SIZE } from '../runtime.js';
import type { SourceLine } from '../vm-options.js';
import { callStack, type CallFrame, type Describe, type Execution } from './execution.js';

/** Why the run stopped: the run's first instruction (stopAtEntry), a breakpoint, or a step/next/finish command. */
export type StopReason = 'entry' | 'breakpoint' | 'step';

/** Number of registers, r0..r10. */
const REGISTERS = 11;

export class Stop {
  private current = true;
  private readonly at: Execution;

  constructor(
    private readonly why: StopReason,
    private readonly executions: readonly Execution[],
    private readonly memory: Memory,
    private readonly describe: Describe,
  ) {
    this.at = executions[executions.length - 1]!;
  }

  /** @internal The callback returned: from now on every member throws. */
  expire(): void {
    this.current = false;
  }

  private live(): Execution {
    if (!this.current) throw new UsageError('stop is no longer current: the run has moved on (use a Stop only inside onStop)');
    return this.at;
  }

  get reason(): StopReason {
    this.live();
    return this.why;
  }

  /** The pc of the instruction about to run. */
  get pc(): number {
    return this.live().pc;
  }

  /** Frame number of the running function: 1 for the run's main function, one more per local call or callback. */
  get frame(): number {
    return this.live().frame;
  }

  /** The running program's name (a tail call changes it). */
  get program(): string {
    return this.describe(this.live().program).name;
  }

  /** The C line of the instruction about to run, when the program has source lines. */
  get line(): SourceLine | undefined {
    const x = this.live();
    return this.describe(x.program).sourceLines?.[x.pc];
  }

  /** The instruction about to run, in assembly syntax. */
  get text(): string {
    const x = this.live();
    const insn = x.program.byPc[x.pc]!;
    return formatInstruction(insn, x.pc, insn.spec.kind === 'lddw' ? insn.imm2 : undefined);
  }

  /** r0..r10 as u64 values. */
  registers(): bigint[] {
    const x = this.live();
    return Array.from({ length: REGISTERS }, (_, n) => x.register(n));
  }

  /** Register n (0..10) as a u64. */
  register(n: number): bigint {
    const x = this.live();
    if (!Number.isInteger(n) || n < 0 || n >= REGISTERS) throw new UsageError(`register must be 0..10, not ${String(n)}`);
    return x.register(n);
  }

  /** A copy of the running function's stack frame: the 512 bytes below r10 (r10 - 512 first). */
  stack(): Uint8Array {
    const x = this.live();
    return this.memory.read(x.register(10) - BigInt(FRAME_SIZE), FRAME_SIZE, x.pc);
  }

  /** A copy of `length` bytes at `address`; MemoryAccessError where nothing is mapped. */
  readMemory(address: bigint | number, length: number): Uint8Array {
    const x = this.live();
    if (typeof address === 'number' ? !Number.isSafeInteger(address) || address < 0 : typeof address !== 'bigint') {
      throw new UsageError('readMemory() address must be a bigint or a non-negative integer');
    }
    if (!Number.isSafeInteger(length) || length < 0) throw new UsageError('readMemory() length must be a non-negative integer');
    return this.memory.read(BigInt(address), length, x.pc);
  }

  /** The active functions, innermost first: local calls, callbacks inside helper calls, tail-call targets. */
  get callStack(): CallFrame[] {
    this.live();
    return callStack(this.executions, this.describe);
  }
}
