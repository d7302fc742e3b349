// Value storage inside the VM's memory: one region per map, holding
// fixed-size elements, so a lookup can hand the program an address it reads
// and writes with ordinary loads and stores, and JS sees the same bytes.
//
// Each element holds one copy of the value per CPU (one for ordinary maps),
// each copy rounded up to 8 bytes as Linux lays values out. Elements never
// move: an address stays valid for as long as its element is in use.

import { ENOMEM } from '../errno.js';
import { EbpfError } from '../errors.js';
import type { Memory, Region } from '../memory.js';
import { MapError } from './error.js';

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
  /** Elements handed out at least once; those below it and not in `free` are in use. */
  private used = 0;
  private readonly free: number[] = [];

  /**
   * `count` elements of `copies` values each (the caller has checked the
   * total against MAX_MAP_STORAGE). `readonly` makes the region read-only for
   * programs (BPF_F_RDONLY_PROG); JS writes go to the bytes directly.
   */
  constructor(memory: Memory, name: string, valueSize: number, count: number, copies: number, readonly = false) {
    this.valueSize = valueSize;
    this.count = count;
    this.stride = Math.ceil(valueSize / 8) * 8;
    this.elementSize = this.stride * copies;
    this.region = mapRegion(memory, new Uint8Array(this.elementSize * count), name, readonly);
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

  /** A free element, or undefined when all `count` are in use. */
  allocate(): number | undefined {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    return this.used < this.count ? this.used++ : undefined;
  }

  /** Gives an element back (its address may be handed out again by a later allocate). */
  release(element: number): void {
    this.free.push(element);
  }

  /** Forgets every allocation (the bytes stay as they are). */
  reset(): void {
    this.used = 0;
    this.free.length = 0;
  }
}
