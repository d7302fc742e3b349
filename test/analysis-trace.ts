// Test support for the register analysis: runs a program on a small
// reference stepper (BigInt registers, lib/ops.ts semantics, the memory and
// calling conventions of lib/interpreter.ts) in a real Vm's memory, and
// reports the registers just before and just after every instruction it
// executes. test/analysis.test.ts checks every fact of codegen/analysis.ts
// against those values: a fact that is ever wrong at run time fails there.
//
// It is a copy of the reference semantics on purpose (lib/interpreter.ts is
// tuned for speed and exposes no per-instruction hook); its results are
// compared with the real interpreter's, so a slip here shows too.

import { codeAddress, codeTarget } from '../lib/code-address.js';
import { EbpfError } from '../lib/errors.js';
import { branchTarget, lddwValue, type Instruction } from '../lib/isa.js';
import type { Region } from '../lib/memory.js';
import {
  BYTE_ORDER, atomicOp, byteOrderOf, cmpxchgMatches, evalAlu, immOperand, movsx, neg, signExtend, testJmp, u64,
} from '../lib/ops.js';
import type { Program } from '../lib/program.js';
import { FRAME_SIZE, type HelperContext, type RunServices } from '../lib/runtime.js';
import { normalizeHelperResult } from '../lib/interpreter.js';
import type { Vm } from '../lib/vm.js';

/** Registers r0..r10 as canonical u64. */
export type Regs = readonly bigint[];

export interface Observer {
  /** Just before the instruction at `pc` executes. */
  before(pc: number, regs: Regs): void;
  /** Just after the straight-line (or call) instruction at `pc` completed. */
  after(pc: number, regs: Regs): void;
}

export interface TraceResult {
  /** r0 at the end, or the error the run stopped with. */
  readonly r0?: bigint;
  readonly error?: EbpfError;
  /** The step limit was reached first. */
  readonly truncated?: boolean;
}

const BYTES = { 8: 1, 16: 2, 32: 4, 64: 8 } as const;

interface Frame {
  readonly callPc: number;
  readonly saved: readonly bigint[];
  readonly r10: bigint;
}

/**
 * Runs `program` as `vm` would (its memory, helpers, unwind helper and call
 * depth; `mem` mapped as the input, r1/r2 its address and length), for at
 * most `maxSteps` instructions, telling `observer` every register state.
 */
export function trace(vm: Vm, program: Program, mem: Uint8Array | undefined, observer: Observer, maxSteps: number): TraceResult {
  const { memory, helpers, maxCallDepth, stack } = vm.jitTarget();
  const unwindHelper = vm.compileOptions(false).unwindHelper;
  stack.bytes.fill(0);
  const region: Region | undefined = mem === undefined ? undefined : memory.map(mem, { name: 'input memory' });
  const regs: bigint[] = new Array<bigint>(11).fill(0n);
  regs[1] = region === undefined ? 0n : BigInt(region.base);
  regs[2] = region === undefined ? 0n : BigInt(region.size);
  regs[10] = BigInt(stack.end);
  const frames: Frame[] = [];
  const functions = new Set(program.functions);
  const packet = { address: region?.base ?? 0, length: region?.size ?? 0 };

  const addr = (base: bigint, off: number): bigint => u64(base + BigInt(off));

  /** Returns true when the helper's result ends the run. */
  const callHelper = (id: number, pc: number): boolean => {
    const fn = helpers.get(id)!;
    // The helpers traced here use memory only: the run's services are not modelled.
    const ctx: HelperContext = {
      memory, pc, id,
      get run(): RunServices {
        throw new Error('analysis-trace: helpers get no run services here');
      },
    };
    regs[0] = normalizeHelperResult(fn(regs[1]!, regs[2]!, regs[3]!, regs[4]!, regs[5]!, ctx), pc, id);
    return id === unwindHelper && regs[0] === 0n;
  };
  const callLocal = (target: number, pc: number): number => {
    if (frames.length + 2 > maxCallDepth) throw new EbpfError('CALL_DEPTH_EXCEEDED', 'call depth');
    frames.push({ callPc: pc, saved: regs.slice(1, 10), r10: regs[10]! });
    regs[0] = regs[6] = regs[7] = regs[8] = regs[9] = 0n;
    regs[10] = regs[10]! - BigInt(FRAME_SIZE);
    return target;
  };

  try {
    let pc = 0;
    for (let steps = 0; steps < maxSteps; steps++) {
      const insn: Instruction = program.byPc[pc]!;
      const { spec, dst, src, off, imm } = insn;
      observer.before(pc, regs);
      const width = spec.width === 32 ? 32 : 64;
      let next = pc + 1;
      let done = true; // the instruction completes here (an `after` state exists)
      switch (spec.kind) {
        case 'alu':
          regs[dst] = evalAlu(spec.alu!, width, regs[dst]!, spec.source === 'reg' ? regs[src]! : immOperand(imm));
          break;
        case 'movsx': regs[dst] = movsx(regs[src]!, off, width); break;
        case 'neg': regs[dst] = neg(regs[dst]!, width); break;
        case 'end': case 'bswap':
          regs[dst] = BYTE_ORDER[byteOrderOf(spec)!](regs[dst]!, spec.width as 16 | 32 | 64);
          break;
        case 'lddw':
          regs[dst] = insn.spec.lddwSrc === 4 ? BigInt(codeAddress(pc + 1 + imm)) : lddwValue(imm, insn.imm2);
          next = pc + 2;
          break;
        case 'ldx':
          regs[dst] = memory.load(addr(regs[src]!, off), BYTES[spec.width], pc);
          break;
        case 'ldsx':
          regs[dst] = signExtend(memory.load(addr(regs[src]!, off), BYTES[spec.width], pc), spec.width);
          break;
        case 'st':
          memory.store(addr(regs[dst]!, off), BYTES[spec.width], immOperand(imm), pc);
          break;
        case 'stx':
          memory.store(addr(regs[dst]!, off), BYTES[spec.width], regs[src]!, pc);
          break;
        case 'atomic': {
          const size = BYTES[spec.width];
          const a = addr(regs[dst]!, off);
          memory.resolve(a, size, 'store', pc);
          const old = memory.load(a, size, pc);
          if (spec.atomic === 'cmpxchg') {
            if (cmpxchgMatches(old, regs[0]!, width)) memory.store(a, size, regs[src]!, pc);
            regs[0] = old;
          } else {
            memory.store(a, size, atomicOp(spec.atomic!, old, regs[src]!, width), pc);
            if (spec.fetch === true) regs[src] = old;
          }
          break;
        }
        case 'ldabs': case 'ldind': {
          const size = BYTES[spec.width];
          const offset = (spec.kind === 'ldind' ? regs[src]! : 0n) + BigInt(imm);
          if (offset < 0n || offset + BigInt(size) > BigInt(packet.length)) return { r0: 0n };
          const raw = memory.load(BigInt(packet.address) + offset, size, pc);
          regs[0] = size === 1 ? raw : BYTE_ORDER.be(raw, (size * 8) as 16 | 32);
          break;
        }
        case 'call':
          if (callHelper(imm, pc)) return { r0: 0n };
          break;
        case 'call_local':
          next = callLocal(branchTarget(insn), pc);
          done = false;
          break;
        case 'callx': {
          const value = regs[dst]!;
          const target = codeTarget(value);
          if (target !== undefined && functions.has(target)) {
            next = callLocal(target, pc);
            done = false;
          } else if (value < 0x1_0000_0000n && helpers.has(Number(value))) {
            if (callHelper(Number(value), pc)) return { r0: 0n };
          } else {
            throw new EbpfError('BAD_CALLX_TARGET', 'callx target');
          }
          break;
        }
        case 'ja':
          next = branchTarget(insn);
          done = false;
          break;
        case 'jcond':
          if (testJmp(spec.jmp!, width, regs[dst]!, spec.source === 'reg' ? regs[src]! : immOperand(imm))) next = branchTarget(insn);
          done = false;
          break;
        case 'exit': {
          const frame = frames.pop();
          if (frame === undefined) return { r0: regs[0] };
          for (let r = 1; r <= 9; r++) regs[r] = frame.saved[r - 1]!;
          regs[10] = frame.r10;
          // The call completes now: its after-state is the caller's, with r0 the result.
          observer.after(frame.callPc, regs);
          next = frame.callPc + 1;
          done = false;
          break;
        }
        case 'call_kfunc':
          throw new EbpfError('UNSUPPORTED_INSTRUCTION', 'kfunc');
      }
      if (done) observer.after(pc, regs);
      pc = next;
    }
    return { truncated: true };
  } catch (e) {
    if (e instanceof EbpfError) return { error: e };
    throw e;
  } finally {
    if (region !== undefined) memory.unmap(region);
  }
}
