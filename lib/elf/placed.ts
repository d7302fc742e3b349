// Maps placed in the object's sections: what a relocation against a symbol
// in `.maps`, `maps` or a data section names, and how map creation failures
// become ElfErrors that name the section.

import { EbpfError, ElfError } from '../errors.js';
import type { BpfMap, MapDefinition } from '../maps/index.js';
import type { Vm } from '../vm.js';

export interface PlacedMap {
  readonly map: BpfMap;
  readonly section: number;
  /** Byte range of the definition (or of the data) in its section. */
  readonly offset: number;
  readonly size: number;
  /** Global data: lddw gets an address in the value (map_value), not the map (map_fd). */
  readonly isData: boolean;
  /** BTF-defined maps with a `values` array: its byte offset inside the definition (static initializers land there). */
  readonly valuesOffset?: number;
  /** BTF type ids of the key and value (BTF-defined maps declared with __type). */
  readonly keyType?: number;
  readonly valueType?: number;
}

/** vm.createMap, with a bad definition reported as an ElfError at `where` / `at`. */
export function createMapAt(vm: Vm, def: MapDefinition, where: string, at: number): BpfMap {
  try {
    return vm.createMap(def);
  } catch (e) {
    if (e instanceof EbpfError && !(e instanceof ElfError)) throw new ElfError(`map ${def.name ?? ''}: ${e.message}`, where, at);
    throw e;
  }
}
