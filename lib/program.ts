// A validated program: what the validator hands to the engines. Engines never
// see raw bytes; everything here has passed `validate`.

import type { Instruction } from './isa.js';

export interface Program {
  /** Instructions in pc order (an lddw is one entry covering two slots). */
  readonly insns: readonly Instruction[];
  /** Instruction starting at each slot; undefined for the second slot of an lddw. */
  readonly byPc: readonly (Instruction | undefined)[];
  /** Number of 8-byte slots. */
  readonly slotCount: number;
  /**
   * Entry pcs of the BPF functions, sorted, 0 first: targets of `call local`
   * and of lddw src=4 (code addresses).
   */
  readonly functions: readonly number[];
  /** Helper ids named by `call` instructions. */
  readonly helpersUsed: ReadonlySet<number>;
}
