// Load-time validation: one test per error code (the bad program built from
// raw slots, so these tests do not depend on the assembler), the order in
// which errors are reported, accepted programs (every instruction form, the
// function structure, the size limit), a fuzz property, and the
// fixtures/errors/*.data files.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorMatches, parseDataFile } from '../lib/datafile.js';
import { formatInstruction } from '../lib/disasm.js';
import { UsageError, ValidationError } from '../lib/errors.js';
import { encodeSlots, OPCODES, SPECS_BY_OPCODE, type FieldRule, type OpSpec, type Slot } from '../lib/isa.js';
import type { Program } from '../lib/program.js';
import { DEFAULT_MAX_INSTRUCTIONS, validateBytes, validateSlots, type ValidateOptions } from '../lib/validate.js';

/** Helpers 0-5 exist, as in the conformance suite. */
const OPTS: ValidateOptions = { helperExists: (id) => id >= 0 && id <= 5 };

function s(opcode: number, fields: Partial<Omit<Slot, 'opcode'>> = {}): Slot {
  return { opcode, dst: 0, src: 0, off: 0, imm: 0, ...fields };
}

// Opcodes used below (class | source | op).
const MOV64_IMM = 0xb7;
const MOV64_REG = 0xbf;
const MOV32_REG = 0xbc;
const ADD64_IMM = 0x07;
const DIV64_IMM = 0x37;
const MOD32_REG = 0x9c;
const LE = 0xd4;
const BE = 0xdc;
const BSWAP = 0xd7;
const JA = 0x05;
const JA32 = 0x06;
const JEQ_IMM = 0x15;
const JNE32_REG = 0x5e;
const CALL = 0x85;
const EXIT = 0x95;
const LDDW = 0x18;
const LDXW = 0x61;
const STXDW = 0x7b;
const ATOMIC_DW = 0xdb;
const ATOMIC_W = 0xc3;

const exit = s(EXIT);
const mov0 = s(MOV64_IMM);
/** An lddw pair: the first slot and its second half. */
function lddw(fields: Partial<Omit<Slot, 'opcode'>> = {}, hi = 0): Slot[] {
  return [s(LDDW, fields), s(0, { imm: hi })];
}

/** Runs the validator and returns its ValidationError, failing the test if it accepts. */
function rejection(input: readonly Slot[] | Uint8Array, options: ValidateOptions = OPTS): ValidationError {
  try {
    if (input instanceof Uint8Array) validateBytes(input, options);
    else validateSlots(input, options);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('program was accepted');
}

/** The disassembly the error must carry for the instruction at pc. */
function disasmAt(slots: readonly Slot[], pc: number): string {
  const slot = slots[pc]!;
  const next = slots[pc + 1];
  return slot.opcode === LDDW && next !== undefined ? formatInstruction(slot, pc, next.imm) : formatInstruction(slot, pc);
}

/**
 * Checks class, code and pc; that `insn` is the instruction's disassembly;
 * and that the message names both. Checks the bytes path too, which must
 * agree with the slots path. Returns the message for further checks.
 */
function expectRejected(slots: readonly Slot[], code: string, pc: number, options: ValidateOptions = OPTS): string {
  const e = rejection(slots, options);
  expect({ code: e.code, pc: e.pc }).toEqual({ code, pc });
  const insn = disasmAt(slots, pc);
  expect(insn).not.toBe('');
  expect(e.insn).toBe(insn);
  expect(e.message).toContain(`at pc ${pc}: ${insn}`);
  expect(e.message).toMatch(/^[a-z]/);
  const fromBytes = rejection(encodeSlots(slots), options);
  expect(fromBytes.message).toBe(e.message);
  expect(fromBytes.code).toBe(code);
  return e.message;
}

function accept(slots: readonly Slot[], options: ValidateOptions = OPTS): Program {
  const p = validateSlots(slots, options);
  const q = validateBytes(encodeSlots(slots), options);
  expect(q.insns.length).toBe(p.insns.length);
  expect(q.functions).toEqual(p.functions);
  return p;
}

describe('error codes', () => {
  it('UNKNOWN_OPCODE: an opcode no spec has', () => {
    expect(expectRejected([mov0, s(0xff), exit], 'UNKNOWN_OPCODE', 1)).toContain('unknown opcode 0xff');
    // 0x00 only ever appears as an lddw's second slot.
    expect(expectRejected([s(0x00), exit], 'UNKNOWN_OPCODE', 0)).toContain('0x00');
  });

  it('RESERVED_FIELD: a must-be-zero field holds something else, and the message names it', () => {
    expect(expectRejected([mov0, s(EXIT, { imm: 1 })], 'RESERVED_FIELD', 1)).toContain('reserved field imm must be 0 (is 1)');
    expect(expectRejected([s(ADD64_IMM, { src: 3, imm: 1 }), exit], 'RESERVED_FIELD', 0)).toContain('field src');
    expect(expectRejected([s(JA, { dst: 1 }), exit], 'RESERVED_FIELD', 0)).toContain('field dst');
    expect(expectRejected([s(LDXW, { dst: 1, src: 2, imm: 4 }), exit], 'RESERVED_FIELD', 0)).toContain('field imm');
    expect(expectRejected([s(JA32, { off: 2 }), exit], 'RESERVED_FIELD', 0)).toContain('field off');
  });

  it('BAD_REGISTER: dst or src above r10', () => {
    expect(expectRejected([s(MOV64_REG, { src: 11 }), exit], 'BAD_REGISTER', 0)).toContain('src register r11');
    expect(expectRejected([mov0, s(ADD64_IMM, { dst: 15 }), exit], 'BAD_REGISTER', 1)).toContain('dst register r15');
    expectRejected([s(STXDW, { dst: 12, src: 1 }), exit], 'BAD_REGISTER', 0);
  });

  it('WRITE_R10: writes to the frame pointer, through dst or an atomic fetch', () => {
    expect(expectRejected([s(MOV64_IMM, { dst: 10 }), exit], 'WRITE_R10', 0)).toContain('r10');
    expectRejected([mov0, ...lddw({ dst: 10 }), exit], 'WRITE_R10', 1);
    expectRejected([s(LDXW, { dst: 10, src: 1 }), exit], 'WRITE_R10', 0);
    // fetch add writes the old value into src.
    expectRejected([s(ATOMIC_DW, { dst: 10, src: 10, off: -8, imm: 0x01 }), exit], 'WRITE_R10', 0);
    // Reading r10 and storing through it are fine; so is a non-fetch atomic and cmpxchg (writes r0).
    accept([s(MOV64_REG, { dst: 1, src: 10 }), s(STXDW, { dst: 10, src: 1, off: -8 }),
      s(ATOMIC_DW, { dst: 10, src: 10, off: -8, imm: 0x00 }), s(ATOMIC_DW, { dst: 10, src: 10, off: -8, imm: 0xf1 }), exit]);
  });

  it('JUMP_OUT_OF_BOUNDS: a target before pc 0 or past the last slot', () => {
    const msg = expectRejected([mov0, mov0, mov0, s(JA, { off: 13 }), exit], 'JUMP_OUT_OF_BOUNDS', 3);
    expect(msg).toContain('jump out of bounds (target 17, program has 5 slots) at pc 3:');
    expectRejected([mov0, s(JA, { off: -3 }), exit], 'JUMP_OUT_OF_BOUNDS', 1);
    expectRejected([s(JEQ_IMM, { off: 1 }), exit], 'JUMP_OUT_OF_BOUNDS', 0);
    expectRejected([s(JA32, { imm: 0x7fffffff }), exit], 'JUMP_OUT_OF_BOUNDS', 0);
    expectRejected([mov0, s(JNE32_REG, { dst: 1, src: 2, off: -0x8000 }), exit], 'JUMP_OUT_OF_BOUNDS', 1);
  });

  it('JUMP_INTO_LDDW: a target in the second slot of an lddw, before or after the jump', () => {
    expect(expectRejected([s(JA, { off: 1 }), ...lddw(), exit], 'JUMP_INTO_LDDW', 0)).toContain('lddw at pc 1');
    expectRejected([...lddw(), s(JEQ_IMM, { off: -2 }), exit], 'JUMP_INTO_LDDW', 2);
    expectRejected([s(JA32, { imm: 1 }), ...lddw(), exit], 'JUMP_INTO_LDDW', 0);
  });

  it('INCOMPLETE_LDDW: an lddw in the last slot', () => {
    expect(expectRejected([mov0, exit, s(LDDW)], 'INCOMPLETE_LDDW', 2)).toContain('incomplete lddw');
  });

  it('BAD_LDDW_SECOND: the second slot has an opcode, registers or an offset', () => {
    expect(expectRejected([s(LDDW), exit, exit], 'BAD_LDDW_SECOND', 0)).toContain('opcode must be 0');
    expect(expectRejected([s(LDDW), s(0, { dst: 1 }), exit], 'BAD_LDDW_SECOND', 0)).toContain('dst must be 0');
    expect(expectRejected([s(LDDW), s(0, { src: 1 }), exit], 'BAD_LDDW_SECOND', 0)).toContain('src must be 0');
    expect(expectRejected([mov0, s(LDDW), s(0, { off: 1 }), exit], 'BAD_LDDW_SECOND', 1)).toContain('second slot at pc 2');
  });

  it('BAD_LDDW_SRC: src 7..15', () => {
    expect(expectRejected([...lddw({ src: 7 }), exit], 'BAD_LDDW_SRC', 0)).toContain('invalid lddw src 7');
    expectRejected([mov0, ...lddw({ src: 15 }), exit], 'BAD_LDDW_SRC', 1);
  });

  it('UNRESOLVED_LDDW: map and BTF forms (src 1, 2, 3, 5, 6) need the ELF loader', () => {
    for (const src of [1, 2, 3, 5, 6]) {
      const msg = expectRejected([mov0, ...lddw({ src, imm: 3 }), exit], 'UNRESOLVED_LDDW', 1);
      expect(msg).toContain(`lddw src ${src}`);
      expect(msg).toContain('ELF loader');
    }
  });

  it('BAD_ENDIAN_SIZE: le/be/bswap with a size other than 16, 32, 64', () => {
    expect(expectRejected([s(LE, { imm: 8 }), exit], 'BAD_ENDIAN_SIZE', 0)).toContain('invalid le size 8 (must be 16, 32 or 64)');
    expect(expectRejected([mov0, s(BE, { imm: 0 }), exit], 'BAD_ENDIAN_SIZE', 1)).toContain('be size 0');
    expect(expectRejected([s(BSWAP, { imm: 128 }), exit], 'BAD_ENDIAN_SIZE', 0)).toContain('bswap size 128');
  });

  it('INFINITE_LOOP: ja -1, ja32 -1, and a conditional jump to itself', () => {
    expect(expectRejected([mov0, s(JA, { off: -1 }), exit], 'INFINITE_LOOP', 1)).toContain('infinite loop');
    expectRejected([s(JA32, { imm: -1 }), exit], 'INFINITE_LOOP', 0);
    expectRejected([s(JEQ_IMM, { off: -1 }), exit], 'INFINITE_LOOP', 0);
  });

  it('UNKNOWN_HELPER: call src 0 to an id the VM does not have', () => {
    expect(expectRejected([s(CALL, { imm: 99 }), exit], 'UNKNOWN_HELPER', 0)).toContain('unknown helper 99');
    expectRejected([s(CALL, { imm: -1 }), exit], 'UNKNOWN_HELPER', 0, { helperExists: () => true });
    accept([s(CALL, { imm: 99 }), exit], { helperExists: (id) => id === 99 });
  });

  it('CALL_OUT_OF_RANGE: a local call or code address outside the program or into an lddw', () => {
    expect(expectRejected([s(CALL, { src: 1, imm: 5 }), exit], 'CALL_OUT_OF_RANGE', 0)).toContain('local call target 6');
    expectRejected([mov0, s(CALL, { src: 1, imm: -3 }), exit], 'CALL_OUT_OF_RANGE', 1);
    expectRejected([s(CALL, { src: 1, imm: 2 }), exit, ...lddw(), exit], 'CALL_OUT_OF_RANGE', 0);
    // lddw src 4: target = pc + 1 + imm, like a local call.
    expect(expectRejected([...lddw({ src: 4, dst: 1, imm: 9 }), exit], 'CALL_OUT_OF_RANGE', 0)).toContain('code address target 10');
    expectRejected([...lddw({ src: 4, dst: 1, imm: -2 }), exit], 'CALL_OUT_OF_RANGE', 0);
    expectRejected([...lddw({ src: 4, dst: 1, imm: 3 }), exit, ...lddw(), exit], 'CALL_OUT_OF_RANGE', 0);
  });

  it('BAD_CALL_SRC: call with src 3..15', () => {
    expect(expectRejected([s(CALL, { src: 3 }), exit], 'BAD_CALL_SRC', 0)).toContain('invalid call src 3');
    expectRejected([mov0, s(CALL, { src: 15 }), exit], 'BAD_CALL_SRC', 1);
  });

  it('KFUNC_UNSUPPORTED: call src 2', () => {
    expect(expectRejected([s(CALL, { src: 2, imm: 1234 }), exit], 'KFUNC_UNSUPPORTED', 0)).toContain('kfunc');
  });

  it('EMPTY_PROGRAM: no bytes, no slots', () => {
    for (const input of [new Uint8Array(0), []]) {
      const e = rejection(input);
      expect({ code: e.code, pc: e.pc, insn: e.insn }).toEqual({ code: 'EMPTY_PROGRAM', pc: 0, insn: '' });
      expect(e.message).toBe('empty program: no instructions at pc 0');
    }
  });

  it('BAD_LENGTH: a byte length that is not a multiple of 8', () => {
    const e = rejection(new Uint8Array(12));
    expect({ code: e.code, pc: e.pc, insn: e.insn }).toEqual({ code: 'BAD_LENGTH', pc: 1, insn: '' });
    expect(e.message).toContain('12 bytes');
    expect(e.message).toContain('at pc 1');
    expect(rejection(new Uint8Array(7)).pc).toBe(0);
  });

  it('PROGRAM_TOO_LONG: more slots than maxInstructions, reported at the first slot past the limit', () => {
    const slots = [mov0, mov0, mov0, s(ADD64_IMM, { imm: 7 }), exit];
    const msg = expectRejected(slots, 'PROGRAM_TOO_LONG', 3, { ...OPTS, maxInstructions: 3 });
    expect(msg).toContain('program too long (5 slots, limit 3)');
    accept(slots, { ...OPTS, maxInstructions: 5 });
  });

  it('FALL_OFF_END: the last instruction, or the last of a function, can fall through', () => {
    expect(expectRejected([mov0], 'FALL_OFF_END', 0)).toContain('past the end of the program');
    expectRejected([mov0, s(JEQ_IMM, { off: -2 })], 'FALL_OFF_END', 1);
    expectRejected([s(CALL, { imm: 1 })], 'FALL_OFF_END', 0);
    expectRejected([exit, ...lddw()], 'FALL_OFF_END', 1);
    const msg = expectRejected(
      [s(CALL, { src: 1, imm: 1 }), exit, s(MOV64_IMM, { imm: 1 }), s(CALL, { src: 1, imm: 0 }), exit],
      'FALL_OFF_END', 3);
    expect(msg).toContain('falls through into function at pc 4');
  });

  it('BAD_ATOMIC_OP: an atomic imm that is no operation', () => {
    expect(expectRejected([s(ATOMIC_DW, { dst: 10, src: 1, off: -8, imm: 0x02 }), exit], 'BAD_ATOMIC_OP', 0))
      .toContain('invalid atomic operation imm 0x2');
    // xchg and cmpxchg exist only with the fetch bit.
    expectRejected([s(ATOMIC_DW, { dst: 10, src: 1, off: -8, imm: 0xe0 }), exit], 'BAD_ATOMIC_OP', 0);
    expectRejected([mov0, s(ATOMIC_W, { dst: 10, src: 1, off: -8, imm: 0xf0 }), exit], 'BAD_ATOMIC_OP', 1);
  });

  it('BAD_OFFSET: div/mod off not 0/1, mov imm off not 0, mov reg off not 0/8/16(/32)', () => {
    expect(expectRejected([s(DIV64_IMM, { off: 2, imm: 3 }), exit], 'BAD_OFFSET', 0)).toContain('(must be 0 or 1)');
    expectRejected([s(MOD32_REG, { off: -1 }), exit], 'BAD_OFFSET', 0);
    expect(expectRejected([s(MOV64_IMM, { off: 8 }), exit], 'BAD_OFFSET', 0)).toContain('(must be 0)');
    expect(expectRejected([s(MOV64_REG, { src: 1, off: 64 }), exit], 'BAD_OFFSET', 0)).toContain('(must be 0, 8, 16 or 32)');
    expect(expectRejected([s(MOV32_REG, { src: 1, off: 32 }), exit], 'BAD_OFFSET', 0)).toContain('(must be 0, 8 or 16)');
    accept([s(MOV64_REG, { src: 1, off: 32 }), s(MOV32_REG, { src: 1, off: 16 }), s(DIV64_IMM, { off: 1, imm: 3 }), exit]);
  });

  it('JUMP_ACROSS_FUNCTION: a jump whose target is in another function', () => {
    // main = pc 0-1, function at 2 = pc 2-3.
    const msg = expectRejected([s(CALL, { src: 1, imm: 1 }), s(JA, { off: 1 }), mov0, exit], 'JUMP_ACROSS_FUNCTION', 1);
    expect(msg).toContain('jump to pc 3 leaves its function (pc 0-1) for the function starting at pc 2');
    // Backwards, from a function into main, conditional.
    expectRejected([s(CALL, { src: 1, imm: 1 }), exit, s(JEQ_IMM, { off: -3 }), exit], 'JUMP_ACROSS_FUNCTION', 2);
    // A code address (lddw src 4) starts a function too.
    expectRejected([...lddw({ dst: 1, src: 4, imm: 2 }), s(JA, { off: 1 }), exit, exit], 'JUMP_ACROSS_FUNCTION', 2);
  });

  it('BAD_ENCODING: a slot (not from bytes) with a field wider than its encoding', () => {
    expect(expectRejectedSlotsOnly([s(MOV64_IMM, { imm: 2 ** 32 }), exit], 'BAD_ENCODING', 0)).toContain('field imm');
    expectRejectedSlotsOnly([mov0, s(JA, { off: 40000 }), exit], 'BAD_ENCODING', 1);
    expectRejectedSlotsOnly([s(MOV64_IMM, { dst: 16 }), exit], 'BAD_ENCODING', 0);
    expectRejectedSlotsOnly([s(0x1b7), exit], 'BAD_ENCODING', 0);
    expectRejectedSlotsOnly([s(MOV64_IMM, { imm: 1.5 }), exit], 'BAD_ENCODING', 0);
    expectRejectedSlotsOnly([mov0, s(LDDW), s(0, { imm: -(2 ** 31) - 1 }), exit], 'BAD_ENCODING', 1);
  });
});

/** As expectRejected, for slots that have no byte encoding. */
function expectRejectedSlotsOnly(slots: readonly Slot[], code: string, pc: number): string {
  const e = rejection(slots);
  expect({ code: e.code, pc: e.pc, insn: e.insn }).toEqual({ code, pc, insn: disasmAt(slots, pc) });
  expect(e.message).toContain(`at pc ${pc}: ${e.insn}`);
  return e.message;
}

describe('which error is reported', () => {
  it('the earliest failing pc wins among per-instruction checks', () => {
    expectRejected([s(JA, { off: 10 }), s(0xff), exit], 'JUMP_OUT_OF_BOUNDS', 0);
    expectRejected([s(0xff), s(JA, { off: 10 }), exit], 'UNKNOWN_OPCODE', 0);
    // A jump checked before the (later, broken) lddw it lands in.
    expectRejected([s(JA, { off: 1 }), s(LDDW, { src: 9 }), s(0), exit], 'JUMP_INTO_LDDW', 0);
  });

  it('structure checks come after every per-instruction check', () => {
    expectRejected([s(CALL, { src: 1, imm: 1 }), s(JA, { off: 1 }), mov0, s(MOV64_REG, { src: 12 }), exit], 'BAD_REGISTER', 3);
    expectRejected([mov0, s(EXIT, { dst: 1 })], 'RESERVED_FIELD', 1);
  });

  it('within one instruction: form, then fields, then r10, then targets', () => {
    expectRejected([s(LE, { dst: 11, imm: 8 }), exit], 'BAD_ENDIAN_SIZE', 0);
    expectRejected([s(MOV64_IMM, { dst: 11, src: 1 }), exit], 'BAD_REGISTER', 0);
    expectRejected([s(JA, { dst: 1, off: 100 }), exit], 'RESERVED_FIELD', 0);
    expectRejected([s(LDDW, { src: 1, dst: 10 }), exit], 'WRITE_R10', 0);
  });
});

/** A slot that satisfies every field rule of a spec. */
function exampleSlot(spec: OpSpec): Slot {
  const pick = (rule: FieldRule, reg: number): number => (rule === 'reg' ? reg : rule === 'any' ? 0 : rule);
  const f = spec.fields;
  return { opcode: spec.opcode, dst: pick(f.dst, 1), src: pick(f.src, 2), off: pick(f.off, 0), imm: pick(f.imm, 0) };
}

/** Forms the validator rejects by design: kfunc calls and unresolved map/BTF lddw. */
function rejectedByDesign(spec: OpSpec): boolean {
  return spec.kind === 'call_kfunc' || (spec.kind === 'lddw' && spec.lddwSrc !== 0 && spec.lddwSrc !== 4);
}

describe('accepted programs', () => {
  it('every instruction form of the ISA table', () => {
    const slots: Slot[] = [];
    const patch: number[] = [];
    for (const spec of OPCODES.filter((sp) => !rejectedByDesign(sp))) {
      if (spec.kind === 'call_local' || (spec.kind === 'lddw' && spec.lddwSrc === 4)) patch.push(slots.length);
      slots.push(exampleSlot(spec));
      if (spec.kind === 'lddw') slots.push(s(0, { imm: 0x11223344 }));
    }
    slots.push(exit);
    const fn = slots.length;
    slots.push(mov0, exit);
    for (const pc of patch) slots[pc] = { ...slots[pc]!, imm: fn - (pc + 1) };

    const p = accept(slots);
    const seen = new Set(p.insns.map((i) => i.spec));
    for (const spec of OPCODES) expect(seen.has(spec), spec.mnemonic).toBe(!rejectedByDesign(spec));
    expect(OPCODES.filter(rejectedByDesign).length).toBe(6);
    expect(p.functions).toEqual([0, fn]);
    expect(p.slotCount).toBe(slots.length);
    expect([...p.helpersUsed]).toEqual([0]);
  });

  it('the forms rejected by design are the kfunc call and the map/BTF lddw', () => {
    for (const spec of OPCODES.filter(rejectedByDesign)) {
      const slots = spec.kind === 'lddw' ? [exampleSlot(spec), s(0), exit] : [exampleSlot(spec), exit];
      expect(rejection(slots).code).toBe(spec.kind === 'lddw' ? 'UNRESOLVED_LDDW' : 'KFUNC_UNSUPPORTED');
    }
  });

  it('builds instructions, byPc and the lddw second imm', () => {
    const slots = [s(MOV64_IMM, { dst: 1, imm: -5 }), ...lddw({ dst: 2, imm: 0x55667788 }, 0x11223344), s(CALL, { imm: 3 }), exit];
    const p = accept(slots);
    expect(p.insns.map((i) => i.pc)).toEqual([0, 1, 3, 4]);
    expect(p.byPc.map((i) => i?.pc)).toEqual([0, 1, undefined, 3, 4]);
    expect(p.byPc[1]).toBe(p.insns[1]);
    const ld = p.insns[1]!;
    expect({ dst: ld.dst, imm: ld.imm, imm2: ld.imm2, mnemonic: ld.spec.mnemonic }).toEqual({
      dst: 2, imm: 0x55667788, imm2: 0x11223344, mnemonic: 'lddw',
    });
    expect(p.insns[0]).toMatchObject({ opcode: MOV64_IMM, dst: 1, src: 0, off: 0, imm: -5, imm2: 0 });
    expect(p.slotCount).toBe(5);
    expect([...p.helpersUsed]).toEqual([3]);
  });

  it('functions: pc 0, local call targets and code addresses, sorted and without duplicates', () => {
    const slots = [
      s(CALL, { src: 1, imm: 7 }), // 0 -> 8
      s(CALL, { src: 1, imm: 4 }), // 1 -> 6
      ...lddw({ dst: 1, src: 4, imm: 6 }), // 2 -> 9
      s(CALL, { src: 1, imm: 4 }), // 4 -> 9 again
      exit, // 5
      s(CALL, { src: 1, imm: -7 }), // 6 (function) -> 0: a call back into main is fine
      exit, // 7
      exit, // 8 (function)
      s(JA, { off: 0 }), // 9 (function), a jump within it
      exit, // 10
    ];
    expect(accept(slots).functions).toEqual([0, 6, 8, 9]);
    expect(accept([mov0, exit]).functions).toEqual([0]);
  });

  it('jumps backwards and forwards within a function, exit not last', () => {
    // The conformance suite's exit-not-last: mov; ja L2; L1: mov; exit; L2: mov; ja L1.
    accept([mov0, s(JA, { off: 2 }), mov0, exit, mov0, s(JA, { off: -4 })]);
    accept([mov0, s(JA32, { imm: 2 }), mov0, exit, mov0, s(JA32, { imm: -4 })]);
  });

  it(`a ${DEFAULT_MAX_INSTRUCTIONS}-slot program is accepted, one more slot is not`, () => {
    // (Speed is not asserted here: validation takes ~300 ms for this size.)
    const slots: Slot[] = new Array<Slot>(DEFAULT_MAX_INSTRUCTIONS).fill(s(ADD64_IMM, { imm: 1 }));
    slots[DEFAULT_MAX_INSTRUCTIONS - 1] = exit;
    const bytes = encodeSlots(slots);
    expect(validateBytes(bytes, OPTS).insns.length).toBe(DEFAULT_MAX_INSTRUCTIONS);

    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    longer.set(encodeSlots([exit]), bytes.length);
    const e = rejection(longer);
    expect({ code: e.code, pc: e.pc }).toEqual({ code: 'PROGRAM_TOO_LONG', pc: DEFAULT_MAX_INSTRUCTIONS });
    expect(e.message).toContain(`at pc ${DEFAULT_MAX_INSTRUCTIONS}: ${formatInstruction(exit, DEFAULT_MAX_INSTRUCTIONS)}`);
    expect(rejection([...slots, exit]).code).toBe('PROGRAM_TOO_LONG');
    // The option raises the limit as well as lowering it.
    expect(validateBytes(longer, { ...OPTS, maxInstructions: 2_000_000 }).slotCount).toBe(DEFAULT_MAX_INSTRUCTIONS + 1);
  });

  it('maxInstructions undefined means the default; nonsense options are a UsageError', () => {
    accept([exit], { ...OPTS, maxInstructions: undefined });
    for (const maxInstructions of [0, -1, 1.5, NaN, Infinity]) {
      expect(() => validateSlots([exit], { ...OPTS, maxInstructions })).toThrow(UsageError);
    }
    expect(() => validateBytes(new Uint8Array(8), { helperExists: undefined } as unknown as ValidateOptions)).toThrow(UsageError);
  });
});

describe('fuzz', () => {
  it('random bytes never throw anything but ValidationError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          validateBytes(bytes, OPTS);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('random programs of known opcodes: a valid Program or a ValidationError naming a real pc', () => {
    const opcodes = [...SPECS_BY_OPCODE.keys(), 0x00, 0xff];
    const slot = fc.record({
      opcode: fc.constantFrom(...opcodes),
      dst: fc.integer({ min: 0, max: 15 }),
      src: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 15 })),
      off: fc.oneof(fc.constant(0), fc.integer({ min: -4, max: 4 }), fc.constantFrom(1, 8, 16, 32)),
      imm: fc.oneof(fc.constant(0), fc.integer({ min: -4, max: 4 }), fc.constantFrom(16, 32, 64, 0x01, 0xe1, 0xf1)),
    });
    fc.assert(
      fc.property(fc.array(slot, { minLength: 1, maxLength: 12 }), (slots) => {
        let p: Program;
        try {
          p = validateBytes(encodeSlots(slots), OPTS);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
          expect(e.pc).toBeGreaterThanOrEqual(0);
          expect(e.pc).toBeLessThan(slots.length);
          expect(e.insn).toBe(disasmAt(slots, e.pc));
          return;
        }
        expect(p.functions[0]).toBe(0);
        expect(p.byPc.length).toBe(slots.length);
        const last = p.insns[p.insns.length - 1]!;
        expect(['exit', 'ja']).toContain(last.spec.kind);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('fixtures/errors/*.data', () => {
  const dir = fileURLToPath(new URL('../fixtures/errors/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.data')).sort();
  const codeOf = (text: string): string | undefined => /^# code: ([A-Z0-9_]+)$/m.exec(text)?.[1];

  it.each(files)('%s', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const c = parseDataFile(text);
    expect(c.raw).toBeDefined();
    expect(c.error).toBeTruthy();
    const e = rejection(c.raw!);
    expect(e.code).toBe(codeOf(text));
    expect(errorMatches(c.error!, e.message), `"${e.message}" vs pattern "${c.error}"`).toBe(true);
  });

  it('there is one per error code (PROGRAM_TOO_LONG would need a million-line file)', () => {
    const codes = files.map((f) => codeOf(readFileSync(join(dir, f), 'utf8')));
    expect(new Set(codes)).toEqual(new Set([
      'UNKNOWN_OPCODE', 'RESERVED_FIELD', 'BAD_REGISTER', 'WRITE_R10', 'JUMP_OUT_OF_BOUNDS', 'JUMP_INTO_LDDW',
      'INCOMPLETE_LDDW', 'BAD_LDDW_SECOND', 'BAD_LDDW_SRC', 'UNRESOLVED_LDDW', 'BAD_ENDIAN_SIZE', 'INFINITE_LOOP',
      'UNKNOWN_HELPER', 'CALL_OUT_OF_RANGE', 'BAD_CALL_SRC', 'KFUNC_UNSUPPORTED', 'EMPTY_PROGRAM', 'BAD_LENGTH',
      'FALL_OFF_END', 'BAD_ATOMIC_OP', 'BAD_OFFSET', 'JUMP_ACROSS_FUNCTION',
    ]));
  });
});
