// Public API of ebpf-js. This module only re-exports.

export { Vm, LoadedProgram, ENGINES, AVAILABLE_ENGINES } from './vm.js';
export type { VmOptions, RunOptions, EngineName, ProgramSource } from './vm.js';
export type { HelperFn, HelperContext } from './runtime.js';
export { FRAME_SIZE } from './runtime.js';
export { assemble, assembleSlots } from './asm.js';
export { disassemble, formatInstruction } from './disasm.js';
export { validateBytes, validateSlots } from './validate.js';
export type { ValidateOptions } from './validate.js';
export { Memory, Region } from './memory.js';
export { OPCODES, decodeSlots, encodeSlots } from './isa.js';
export type { Slot, Instruction, OpSpec } from './isa.js';
export type { Program } from './program.js';
export { parseDataFile } from './datafile.js';
export type { DataCase } from './datafile.js';
export { conformanceHelpers } from './conformance-helpers.js';
export {
  EbpfError,
  ValidationError,
  AssemblerError,
  ElfError,
  MemoryAccessError,
  BudgetExceededError,
  HelperError,
  ExecutionError,
  JitError,
  UsageError,
} from './errors.js';
