// PROG_ARRAY: the table bpf_tail_call jumps through. Slots hold whatever the
// registry's `isProgram` accepts (the Vm accepts its own loaded programs);
// JS sets, replaces and clears them between runs (fd-array.ts).

import { EINVAL } from '../errno.js';
import type { MapContext } from './base.js';
import type { ValidDefinition } from './definition.js';
import { MapError } from './error.js';
import { FdArray } from './fd-array.js';

export class ProgArrayMap extends FdArray<unknown> {
  private readonly isProgram: (value: unknown) => boolean;

  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx);
    this.isProgram = ctx.isProgram;
  }

  /**
   * The program bpf_tail_call(ctx, this map, index) jumps to, or undefined
   * when the index is past the end or the slot is empty (the tail call fails).
   */
  target(index: number): unknown | undefined {
    return index < this.maxEntries ? this.slot(index) : undefined;
  }

  protected accept(value: unknown): unknown {
    if (!this.isProgram(value)) {
      throw new MapError(EINVAL, `map ${this.name}: a prog_array slot takes a program loaded into the same VM`);
    }
    return value;
  }
}
