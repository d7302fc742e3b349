// Load-time checks: turns raw slots into a Program the engines can trust, or
// throws a ValidationError naming the first bad instruction (pc + its
// disassembly). Everything an engine would otherwise have to guard against at
// run time for every execution (unknown opcodes, reserved fields, registers
// past r10, writes to r10, jumps outside the program or into an lddw, unknown
// helpers, code that runs off the end) is rejected here, once.
//
// What this does NOT do: no data-flow analysis (pointer types, initialised
// registers, bounded loops), unlike the Linux verifier. Memory safety comes
// from the run-time bounds checks of lib/memory.ts, termination from budgets.
//
// Order of checks, so that the reported error does not depend on how the
// checks happen to be coded: first every instruction on its own, in pc order
// (the first failing pc wins); then the function structure (jumps between
// functions, fall-through into the next function or off the end), again in pc
// order. Within one instruction: opcode, operand form, fields, r10 writes,
// the lddw pair, then targets and helpers.

import { formatInstruction } from './disasm.js';
import { UsageError, ValidationError } from './errors.js';
import {
  branchTarget,
  checkFields,
  decodeSlots,
  fieldMatches,
  FP_REG,
  LDDW_FORMS,
  LDDW_OPCODE,
  lookupSpec,
  SLOT_SIZE,
  slotCount,
  SPECS_BY_OPCODE,
  writesDst,
  writesSrc,
  type Field,
  type Instruction,
  type Kind,
  type OpSpec,
  type Slot,
} from './isa.js';
import type { Program } from './program.js';

export interface ValidateOptions {
  /**
   * Longest program accepted, in 8-byte slots. Default 1,000,000: Linux's
   * BPF_COMPLEXITY_LIMIT_INSNS, the size limit for privileged loaders.
   */
  maxInstructions?: number;
  /** Whether `call <id>` (src 0) names a helper the VM provides. */
  helperExists: (id: number) => boolean;
}

export const DEFAULT_MAX_INSTRUCTIONS = 1_000_000;

/** lddw's opcode: the one instruction that spans two slots. */
/** lddw src (BPF_PSEUDO_FUNC) whose imm is a pc-relative code address. */
const LDDW_SRC_FUNC = LDDW_FORMS.indexOf('func');

// Per-slot flags, kept in one Uint8Array so the checks stay linear without an
// object per slot.
/** The slot is the second half of an lddw: no jump or call may land on it. */
const SECOND_SLOT = 1;
/** The slot is the entry of a BPF function (pc 0, a call target, a code address). */
const FUNCTION_ENTRY = 2;

/**
 * When no spec of an opcode accepts the discriminating field, the opcode is
 * known but the operand form is not: the code says which form went wrong.
 */
const DISCRIMINATOR_CODES: Readonly<Partial<Record<Kind, string>>> = Object.freeze({
  end: 'BAD_ENDIAN_SIZE',
  bswap: 'BAD_ENDIAN_SIZE',
  atomic: 'BAD_ATOMIC_OP',
  lddw: 'BAD_LDDW_SRC',
  call: 'BAD_CALL_SRC',
  call_local: 'BAD_CALL_SRC',
  call_kfunc: 'BAD_CALL_SRC',
  alu: 'BAD_OFFSET',
  movsx: 'BAD_OFFSET',
});

/**
 * Validates raw bytecode (8-byte little-endian slots). The length is checked
 * before anything is decoded, so an oversized input costs no allocation.
 */
export function validateBytes(bytes: Uint8Array, options: ValidateOptions): Program {
  const max = checkOptions(options);
  const len = bytes.byteLength;
  if (len === 0) throw new ValidationError('EMPTY_PROGRAM', 'empty program: no instructions', 0, '');
  if (len % SLOT_SIZE !== 0) {
    throw new ValidationError(
      'BAD_LENGTH',
      `program length ${len} bytes is not a multiple of ${SLOT_SIZE} (${len % SLOT_SIZE} trailing bytes)`,
      Math.floor(len / SLOT_SIZE),
      '',
    );
  }
  const n = len / SLOT_SIZE;
  if (n > max) {
    // Decode only the first slot past the limit, for the error's disassembly.
    const extra = decodeSlots(bytes.subarray(max * SLOT_SIZE, (max + 1) * SLOT_SIZE));
    throw tooLong(extra, 0, max, n, max);
  }
  return checkProgram(decodeSlots(bytes), max, options.helperExists);
}

/** Validates decoded slots (from `decodeSlots` or the assembler). */
export function validateSlots(slots: readonly Slot[], options: ValidateOptions): Program {
  const max = checkOptions(options);
  return checkProgram(slots, max, options.helperExists);
}

/** Options are the caller's mistake, not the program's: UsageError. */
function checkOptions(options: ValidateOptions): number {
  if (typeof options !== 'object' || options === null) throw new UsageError('validate options must be an object');
  if (typeof options.helperExists !== 'function') {
    throw new UsageError('validate options.helperExists must be a function (id: number) => boolean');
  }
  const max = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new UsageError(`validate options.maxInstructions must be a positive integer (got ${String(max)})`);
  }
  return max;
}

function checkProgram(slots: readonly Slot[], max: number, helperExists: (id: number) => boolean): Program {
  const n = slots.length;
  if (n === 0) throw new ValidationError('EMPTY_PROGRAM', 'empty program: no instructions', 0, '');
  if (n > max) throw tooLong(slots, max, max, n, max);

  const flags = markSecondSlots(slots);
  flags[0] |= FUNCTION_ENTRY;
  const insns: Instruction[] = [];
  const byPc: (Instruction | undefined)[] = new Array<Instruction | undefined>(n).fill(undefined);
  const helpersUsed = new Set<number>();

  for (let pc = 0; pc < n; ) {
    const slot = slots[pc]!;
    checkEncoding(slots, pc);
    const spec = specOf(slots, pc);
    checkOperands(slots, pc, spec);
    let imm2 = 0;
    if (spec.kind === 'lddw') imm2 = checkLddwPair(slots, pc, spec);
    const insn: Instruction = {
      opcode: slot.opcode,
      dst: slot.dst,
      src: slot.src,
      off: slot.off,
      imm: slot.imm,
      pc,
      spec,
      imm2,
    };
    switch (spec.kind) {
      case 'ja':
      case 'jcond':
        checkJump(slots, insn, flags);
        break;
      case 'call':
        // Negative ids are never helpers (uBPF rejects them too); asking the
        // VM would only invite a sign confusion in its lookup.
        if (insn.imm < 0 || !helperExists(insn.imm)) fail(slots, pc, 'UNKNOWN_HELPER', `call to unknown helper ${insn.imm}`);
        helpersUsed.add(insn.imm);
        break;
      case 'call_local':
        flags[checkCodeTarget(slots, pc, branchTarget(insn), 'local call', flags)] |= FUNCTION_ENTRY;
        break;
      case 'call_kfunc':
        fail(slots, pc, 'KFUNC_UNSUPPORTED', `calls to kernel functions (kfunc, btf id ${insn.imm}) are not supported`);
        break;
      case 'lddw':
        if (spec.lddwSrc === LDDW_SRC_FUNC) {
          // Same pc-relative encoding as a local call: target = pc + 1 + imm.
          flags[checkCodeTarget(slots, pc, pc + 1 + insn.imm, 'code address', flags)] |= FUNCTION_ENTRY;
        }
        break;
      default:
        break;
    }
    insns.push(insn);
    byPc[pc] = insn;
    pc += slotCount(spec);
  }

  const functions: number[] = [];
  for (let pc = 0; pc < n; pc++) if ((flags[pc]! & FUNCTION_ENTRY) !== 0) functions.push(pc);
  checkStructure(slots, insns, functions);
  return { insns, byPc, slotCount: n, functions, helpersUsed };
}

/**
 * Which slots are lddw second halves, from the opcodes alone: a jump checked
 * at pc 3 must know about an lddw at pc 9 before pc 9 itself is checked.
 */
function markSecondSlots(slots: readonly Slot[]): Uint8Array {
  const n = slots.length;
  const flags = new Uint8Array(n);
  for (let pc = 0; pc < n; pc++) {
    if (slots[pc]!.opcode === LDDW_OPCODE && pc + 1 < n) {
      flags[pc + 1] = SECOND_SLOT;
      pc++;
    }
  }
  return flags;
}

/**
 * Slots from `decodeSlots` always fit their bit fields; slots built by other
 * code (the assembler, a caller) might not, and an engine would then compute
 * with an imm no encoding can hold. Cheap integer-width tests, no allocation.
 */
function checkEncoding(slots: readonly Slot[], pc: number): void {
  const s = slots[pc]!;
  const bad =
    (s.opcode & 0xff) !== s.opcode ? 'opcode' :
    (s.dst & 0x0f) !== s.dst ? 'dst' :
    (s.src & 0x0f) !== s.src ? 'src' :
    ((s.off << 16) >> 16) !== s.off ? 'off' :
    (s.imm | 0) !== s.imm ? 'imm' : undefined;
  if (bad !== undefined) {
    const width = { opcode: 'an unsigned 8-bit', dst: 'a 4-bit', src: 'a 4-bit', off: 'a signed 16-bit', imm: 'a signed 32-bit' }[bad];
    fail(slots, pc, 'BAD_ENCODING', `field ${bad} = ${String(s[bad])} is not ${width} integer`);
  }
}

/**
 * Specs by opcode byte, as an array: most opcodes have a single form with no
 * discriminating field, found here without lookupSpec's Map and field tests.
 * (Built once from the ISA table, never changed.)
 */
const ONLY_FORM: readonly (OpSpec | undefined)[] = Object.freeze(Array.from({ length: 256 }, (_, opcode) => {
  const family = SPECS_BY_OPCODE.get(opcode);
  return family?.length === 1 && family[0]!.discriminator === undefined ? family[0] : undefined;
}));

/** The spec a slot encodes, or the error saying why there is none. */
function specOf(slots: readonly Slot[], pc: number): OpSpec {
  const slot = slots[pc]!;
  // The opcode passed checkEncoding: a byte.
  const spec = ONLY_FORM[slot.opcode] ?? lookupSpec(slot);
  if (spec !== undefined) return spec;
  const family = SPECS_BY_OPCODE.get(slot.opcode);
  if (family === undefined) {
    fail(slots, pc, 'UNKNOWN_OPCODE', `unknown opcode 0x${slot.opcode.toString(16).padStart(2, '0')}`);
  }
  return failForm(slots, pc, family);
}

/** A known opcode whose discriminating field (size, offset, src, atomic op) matches none of its forms. */
function failForm(slots: readonly Slot[], pc: number, family: readonly OpSpec[]): never {
  const slot = slots[pc]!;
  const first = family[0]!;
  const field: Field = first.discriminator ?? 'imm';
  const value = slot[field];
  const allowed = [...new Set(family.map((s) => s.fields[field]))];
  const code = DISCRIMINATOR_CODES[first.kind] ?? 'RESERVED_FIELD';
  const name = first.mnemonic.replace(/\d+$/, '');
  switch (code) {
    case 'BAD_ENDIAN_SIZE':
      return fail(slots, pc, code, `invalid ${name} size ${value} (must be ${orList(allowed)})`);
    case 'BAD_ATOMIC_OP':
      return fail(slots, pc, code,
        `invalid atomic operation imm 0x${(value >>> 0).toString(16)} (must be one of ${orList(allowed.map(hex))})`);
    case 'BAD_LDDW_SRC':
      return fail(slots, pc, code, `invalid lddw src ${value} (must be ${orList(allowed)})`);
    case 'BAD_CALL_SRC':
      return fail(slots, pc, code, `invalid call src ${value} (0 helper, 1 local call, 2 kfunc)`);
    case 'BAD_OFFSET':
      return fail(slots, pc, code, `invalid offset ${value} for ${first.mnemonic} (must be ${orList(allowed)})`);
    default:
      return fail(slots, pc, code, `field ${field} must be ${orList(allowed)} (is ${value})`);
  }
}

/** Field rules (registers, reserved zeros) and the r10 write ban. */
function checkOperands(slots: readonly Slot[], pc: number, spec: OpSpec): void {
  const slot = slots[pc]!;
  const rules = spec.fields;
  // The four rules tested by name first (checkFields loops over field names,
  // much slower per instruction); it names the field when one fails.
  const fits = fieldMatches(rules.dst, slot.dst) && fieldMatches(rules.src, slot.src)
    && fieldMatches(rules.off, slot.off) && fieldMatches(rules.imm, slot.imm);
  const field = fits ? undefined : checkFields(spec, slot);
  if (field !== undefined) {
    const rule = spec.fields[field];
    const value = slot[field];
    if (rule === 'reg') fail(slots, pc, 'BAD_REGISTER', `invalid ${field} register r${value} (registers are r0-r10)`);
    fail(slots, pc, 'RESERVED_FIELD',
      rule === 0 ? `reserved field ${field} must be 0 (is ${value})` : `field ${field} must be ${String(rule)} (is ${value})`);
  }
  // r10 is the frame pointer: engines assume it never changes within a frame.
  if (writesDst(spec) && slot.dst === FP_REG) fail(slots, pc, 'WRITE_R10', 'cannot write r10 (the frame pointer is read-only)');
  if (writesSrc(spec) && slot.src === FP_REG) {
    fail(slots, pc, 'WRITE_R10', 'atomic fetch cannot write its old value to r10 (the frame pointer is read-only)');
  }
}

/** The second slot of an lddw and its pseudo source. Returns the second imm. */
function checkLddwPair(slots: readonly Slot[], pc: number, spec: OpSpec): number {
  const second = slots[pc + 1];
  if (second === undefined) fail(slots, pc, 'INCOMPLETE_LDDW', 'incomplete lddw: the program ends before its second slot');
  // The second slot carries only imm; anything else there is a corrupted
  // instruction stream (or an lddw the assembler split), as in Linux.
  const bad = second.opcode !== 0 ? 'opcode' : second.dst !== 0 ? 'dst' : second.src !== 0 ? 'src' : second.off !== 0 ? 'off' : undefined;
  if (bad !== undefined) {
    fail(slots, pc, 'BAD_LDDW_SECOND', `invalid lddw second slot at pc ${pc + 1}: ${bad} must be 0 (is ${String(second[bad])})`);
  }
  if ((second.imm | 0) !== second.imm) {
    fail(slots, pc, 'BAD_ENCODING', `lddw second slot imm = ${String(second.imm)} is not a signed 32-bit integer`);
  }
  const src = spec.lddwSrc ?? 0;
  if (src !== 0 && src !== LDDW_SRC_FUNC) {
    fail(slots, pc, 'UNRESOLVED_LDDW',
      `unresolved lddw src ${src} (${LDDW_FORMS[src]}): map and BTF references must first be resolved by the ELF loader`);
  }
  return second.imm;
}

/** ja/jcond: no jump to itself, target inside the program and not inside an lddw. */
function checkJump(slots: readonly Slot[], insn: Instruction, flags: Uint8Array): void {
  const target = branchTarget(insn);
  // A jump to itself never makes progress: `ja -1` spins forever, and a
  // conditional one spins as soon as it is taken once (nothing changes its
  // operands). uBPF and rbpf reject both.
  if (target === insn.pc) fail(slots, insn.pc, 'INFINITE_LOOP', 'infinite loop: the jump targets itself');
  if (target < 0 || target >= slots.length) {
    fail(slots, insn.pc, 'JUMP_OUT_OF_BOUNDS', `jump out of bounds (target ${target}, program has ${slots.length} slots)`);
  }
  if ((flags[target]! & SECOND_SLOT) !== 0) {
    fail(slots, insn.pc, 'JUMP_INTO_LDDW', `jump into the second slot of the lddw at pc ${target - 1} (target ${target})`);
  }
}

/** A local call or code address: must be an instruction start inside the program. */
function checkCodeTarget(slots: readonly Slot[], pc: number, target: number, what: string, flags: Uint8Array): number {
  if (target < 0 || target >= slots.length) {
    fail(slots, pc, 'CALL_OUT_OF_RANGE', `${what} target ${target} is outside the program (${slots.length} slots)`);
  }
  if ((flags[target]! & SECOND_SLOT) !== 0) {
    fail(slots, pc, 'CALL_OUT_OF_RANGE', `${what} target ${target} is the second slot of the lddw at pc ${target - 1}`);
  }
  return target;
}

/**
 * Each BPF function [entry, next entry) must be self-contained: the JIT
 * compiles each to its own JS function, so a jump between them or a
 * fall-through into the next one has no translation.
 */
function checkStructure(slots: readonly Slot[], insns: readonly Instruction[], functions: readonly number[]): void {
  const n = slots.length;
  let fn = 0;
  let start = 0;
  let end = functions[1] ?? n;
  for (const insn of insns) {
    if (insn.pc === end) {
      fn++;
      start = end;
      end = functions[fn + 1] ?? n;
    }
    const kind = insn.spec.kind;
    if (kind === 'ja' || kind === 'jcond') {
      const target = branchTarget(insn);
      if (target < start || target >= end) {
        fail(slots, insn.pc, 'JUMP_ACROSS_FUNCTION',
          `jump to pc ${target} leaves its function (pc ${start}-${end - 1}) for the function starting at pc ${functionOf(functions, target)}`);
      }
    }
    // exit and ja are the only instructions that never continue with the next slot.
    if (insn.pc + slotCount(insn.spec) === end && kind !== 'exit' && kind !== 'ja') {
      fail(slots, insn.pc, 'FALL_OFF_END',
        end === n
          ? 'the last instruction falls through past the end of the program (it must be exit or ja)'
          : `the last instruction of the function at pc ${start} falls through into function at pc ${end} (it must be exit or ja)`);
    }
  }
}

/** Entry of the function containing `pc` (functions sorted, functions[0] = 0). */
function functionOf(functions: readonly number[], pc: number): number {
  let lo = 0;
  let hi = functions.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (functions[mid]! <= pc) lo = mid;
    else hi = mid - 1;
  }
  return functions[lo]!;
}

function tooLong(slots: readonly Slot[], index: number, pc: number, n: number, max: number): ValidationError {
  return new ValidationError('PROGRAM_TOO_LONG', `program too long (${n} slots, limit ${max})`, pc, disassemble(slots, index, pc));
}

/** Throws the ValidationError for the instruction at `pc`, with its disassembly. */
function fail(slots: readonly Slot[], pc: number, code: string, message: string): never {
  throw new ValidationError(code, message, pc, disassemble(slots, pc, pc));
}

/** The disassembly of slots[index] (an lddw gets its second imm when there is one). */
function disassemble(slots: readonly Slot[], index: number, pc: number): string {
  const slot = slots[index];
  if (slot === undefined) return '';
  const next = slot.opcode === LDDW_OPCODE ? slots[index + 1] : undefined;
  return next === undefined ? formatInstruction(slot, pc) : formatInstruction(slot, pc, next.imm);
}

function hex(v: number | string): string {
  return typeof v === 'number' ? `0x${(v >>> 0).toString(16)}` : v;
}

/** "a", "a or b", "a, b or c": allowed values in messages. */
function orList(values: readonly (number | string)[]): string {
  const parts = values.map(String);
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}
