// Value storage inside the VM's memory: one region per map, holding
// fixed-size elements, so a lookup can hand the program an address it reads
// and writes with ordinary loads and stores, and JS sees the same bytes.
//
// Each element holds one copy of the value per CPU (one for ordinary maps),
// each copy rounded up to 8 bytes as Linux lays values out. Elements never
// move: an address stays valid for as long as its element is in use. The
// bytes may be a SharedArrayBuffer that other threads map too (storage.ts).

import { ENOMEM } from '../errno.js';
import { EbpfError } from '../errors.js';
import type { Memory, Region } from '../memory.js';
import { MapError } from './error.js';
import type { MapStorage } from './storage.js';

/** Maps `bytes` as a region of `memory`, or MapError ENOMEM when the address space is full. */
export function mapRegion(memory: Memory, bytes: Uint8Array, name: string, readonly = false): Region {
  try {
    return memory.map(bytes, { name, readonly });
  } catch (e) {
    if (e instanceof EbpfError) throw new MapError(ENOMEM, `${name}: ${e.message}`);
    throw e;
  }
}

export class ValueStore {
  readonly region: Region;
  /** Bytes of one CPU's copy: the value size rounded up to 8. */
  readonly stride: number;
  /** Bytes of one element (all CPUs' copies). */
  readonly elementSize: number;
  readonly valueSize: number;
  readonly count: number;

  /**
   * `count` elements of `copies` values each (the caller has checked the
   * total against MAX_MAP_STORAGE), in a buffer from `storage` (shared
   * between threads when it is). `readonly` makes the region read-only for
   * programs (BPF_F_RDONLY_PROG); JS writes go to the bytes directly. Which
   * elements are in use is the owner's business (hash-index.ts for hash maps).
   */
  constructor(memory: Memory, name: string, valueSize: number, count: number, copies: number, readonly: boolean,
    storage: MapStorage) {
    this.valueSize = valueSize;
    this.count = count;
    this.stride = Math.ceil(valueSize / 8) * 8;
    this.elementSize = this.stride * copies;
    const bytes = new Uint8Array(storage.buffer(this.elementSize * count, 'values'));
    this.region = mapRegion(memory, bytes, name, readonly);
    storage.mapped(this.region);
  }

  /** Address of `cpu`'s copy of element `element`. */
  address(element: number, cpu: number): number {
    return this.region.base + element * this.elementSize + cpu * this.stride;
  }

  /** A view (not a copy) of `cpu`'s copy of element `element`, valueSize bytes. */
  view(element: number, cpu: number): Uint8Array {
    const start = element * this.elementSize + cpu * this.stride;
    return this.region.bytes.subarray(start, start + this.valueSize);
  }

  /** Zeroes every copy of an element (padding included). */
  clear(element: number): void {
    this.region.bytes.fill(0, element * this.elementSize, (element + 1) * this.elementSize);
  }
}
