// Public API of ebpf-js. This module only re-exports.

export { Vm, LoadedProgram, ENGINES, AVAILABLE_ENGINES } from './vm.js';
export type { VmOptions, RunOptions, LoadOptions, EngineName, ProgramSource, RunInput, SourceMapV3 } from './vm.js';
export type { HelperFn, HelperContext, RunServices, ProgramContext, XdpBuffer } from './runtime.js';
export { FRAME_SIZE } from './runtime.js';
export {
  TAIL_CALL_HELPER, DEFAULT_MAX_TAIL_CALLS, TAIL_CALL_BAD_INDEX, TAIL_CALL_LIMIT, TAIL_CALL_EMPTY,
} from './tail-call.js';
export * from './maps/index.js';
export { standardHelpers, helperIdByName, HelperEnv, JIFFIES_HZ, TASK_COMM_LEN, PRINTK_KEEP } from './helpers/index.js';
export type { StandardHelper, HelperEnvOptions } from './helpers/index.js';
export { XdpContext, XDP_MD, XDP_MD_SIZE, XDP_PACKET_HEADROOM, xdpFieldAt } from './xdp.js';
export type { XdpOptions } from './xdp.js';
export * as errno from './errno.js';
export { assemble, assembleSlots } from './asm.js';
export { disassemble, formatInstruction } from './disasm.js';
export { validateBytes, validateSlots } from './validate.js';
export type { ValidateOptions } from './validate.js';
export { Memory, Region } from './memory.js';
export type { RegionOptions, ByteRange } from './memory.js';
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
export { loadObject, BpfObject, programKind, contextFor, DEFAULT_KERNEL_VERSION, parseKconfigText } from './elf/index.js';
export type {
  ObjectProgram, LoadObjectOptions, ObjectExtern, KconfigValue, GlobalVariable, SourceLine, ProgramKind,
} from './elf/index.js';
export {
  parseCbpf, checkCbpf, cbpfToEbpf, CbpfError, formatCbpfInsn, SKF_AD, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF,
  CBPF_MAX_INSNS, CBPF_MEMWORDS,
} from './cbpf/index.js';
export type { CbpfInsn } from './cbpf/index.js';
export * from './pcap/index.js';
export { runCapture, PacketError, WorkerError, WorkerFault, MAX_WORKERS, partialResult, SKIPPED_EXAMPLES } from './capture/index.js';
export type {
  ProgramSpec, CaptureJob, CaptureResult, PacketResult, CaptureRecord, CaptureContextKind, WorkerStats, CaptureInput,
  CaptureInputItem, SkippedPacket,
} from './capture/index.js';
export { SkbContext, SK_BUFF_SIZE, SKB, SKB_WRITABLE, skbFieldAt } from './skb.js';
export type { SkbOptions, SkbPacketOptions } from './skb.js';
export * from './retcodes.js';
export { buildCfgGraph, renderCfg, renderDot, renderSvg, renderMermaid, CFG_FORMATS } from './cfg-render/index.js';
export type { CfgGraph, CfgFormat } from './cfg-render/index.js';
export type { TraceEvent, TraceAccess, TraceRegister, TraceCallback } from './trace/types.js';
export { TraceText, eventJson, instructionText } from './trace/format.js';
export { Debugger, Stop } from './debug/debugger.js';
export type {
  Breakpoint, BreakpointLocation, CallFrame, DebugRunOptions, OnStop, StepCommand, StopReason,
} from './debug/debugger.js';
