// Runs a handful of lowered statements outside the full JIT pipeline, for unit
// tests of instruction lowering: declares the register pairs, temporaries and
// runtime bindings the conventions (codegen/context.ts) promise, executes the
// statements once and returns every register afterwards.
import { generate } from 'astring';
import type { Stmt } from '../codegen/ast.js';
import { RT, STACK_OFFSET, STATE, TEMPS, hi, lo } from '../codegen/context.js';

export interface Regs {
  /** Low/high halves as int32, r0..r9; r10 a number. */
  [name: string]: number;
}

/** u64 BigInt -> { rN, rNh } int32 halves. */
export function split(reg: number, value: bigint): Regs {
  const v = BigInt.asUintN(64, value);
  return { [lo(reg)]: Number(v & 0xffffffffn) | 0, [hi(reg)]: Number(v >> 32n) | 0 };
}

/** { rN, rNh } -> u64 BigInt. */
export function join(regs: Regs, reg: number): bigint {
  return (BigInt((regs[hi(reg)] ?? 0) >>> 0) << 32n) | BigInt((regs[lo(reg)] ?? 0) >>> 0);
}

const REG_NAMES = [...Array.from({ length: 10 }, (_, r) => [lo(r), hi(r)]).flat(), 'r10'];

/**
 * Executes `stmts` with registers set from `init` (missing ones are 0) and
 * runtime bindings taken from `rt` (keys are the RT/STATE binding names, e.g.
 * { V: [...], FAULT: fn }). Returns all registers and the STATE variables.
 * A `return` inside the statements ends the snippet: its value is `returned`.
 */
export function runSnippet(stmts: Stmt[], init: Regs = {}, rt: Record<string, unknown> = {}): Regs & { returned?: number } {
  const bindings = [...Object.values(RT), ...Object.values(STATE)];
  const body = generate({ type: 'Program', sourceType: 'script', body: stmts } as never);
  const src = [
    '"use strict";',
    `let ${bindings.map((b) => `${b} = rt.${b}`).join(', ')};`,
    `let ${REG_NAMES.map((n) => `${n} = init.${n} ?? 0`).join(', ')};`,
    `let ${TEMPS.map((t) => `${t} = 0`).join(', ')};`,
    `const ${STACK_OFFSET} = r10 - (rt.${RT.stackBase} ?? 0);`,
    `const returned = (() => {\n${body}\n})();`,
    `return { returned, ${[...REG_NAMES, ...Object.values(STATE)].join(', ')} };`,
  ].join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('rt', 'init', src)(rt, init) as Regs & { returned?: number };
}
