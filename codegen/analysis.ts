// Register analysis for the JIT: what is known about each register's value
// at each instruction, so lowering can pick a cheaper representation (a
// register whose high half is provably 0 is a plain uint32 number, and
// 64-bit operations on it need no carry or high-half work).
//
// This first version knows nothing (every register may use all 64 bits):
// lowering must stay correct with these hints, which only ever remove work.

import type { FunctionCfg } from './cfg.js';

export interface RegisterHints {
  /** Is the high half of `reg` known to be 0 just before the instruction at `pc` executes? */
  highZero(pc: number, reg: number): boolean;
}

export const NO_HINTS: RegisterHints = { highZero: () => false };

export function analyzeFunction(_cfg: FunctionCfg): RegisterHints {
  return NO_HINTS;
}
