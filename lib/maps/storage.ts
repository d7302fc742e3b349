// Where a map's fixed storage comes from. Maps that can be shared between
// threads (arrays, hash maps, queues and stacks) take every buffer they keep
// their state in from here, in a fixed order:
// - private: fresh ArrayBuffers (one thread, the default);
// - share: fresh SharedArrayBuffers, recorded so the registry can describe
//   them to other threads (sharedState);
// - attach: the buffers another thread's registry recorded for the same map,
//   in the same order, each checked for its exact size.
// Maps that stay per thread (ring buffers, perf event arrays, fd arrays)
// never call it. The regions a map maps are recorded too, so a map whose
// construction fails half-way can be unmapped again.

import { EINVAL } from '../errno.js';
import type { Region } from '../memory.js';
import { MapError } from './error.js';

export type MapBuffer = ArrayBuffer | SharedArrayBuffer;

export class MapStorage {
  /** Whether the buffers are SharedArrayBuffers. */
  readonly shared: boolean;
  private readonly what: string;
  /** attach: the buffers to hand out, in order; else undefined. */
  private readonly given: readonly unknown[] | undefined;
  private readonly taken: SharedArrayBuffer[] = [];
  private readonly mappedRegions: Region[] = [];

  /** `attach`: another thread's buffers for this map (validated as they are taken). */
  constructor(what: string, shared: boolean, attach?: readonly unknown[]) {
    this.what = what;
    this.shared = shared || attach !== undefined;
    this.given = attach;
  }

  /** A zeroed buffer of `byteLength` bytes (or the attached one, which must be that size). */
  buffer(byteLength: number, part: string): MapBuffer {
    if (this.given !== undefined) {
      const k = this.taken.length;
      const b = this.given[k];
      if (!(b instanceof SharedArrayBuffer)) {
        throw new MapError(EINVAL, `${this.what}: the shared state has no SharedArrayBuffer for its ${part} (buffer ${k})`);
      }
      if (b.byteLength !== byteLength) {
        throw new MapError(EINVAL, `${this.what}: the shared ${part} (buffer ${k}) is ${b.byteLength} bytes, expected ${byteLength}`);
      }
      this.taken.push(b);
      return b;
    }
    if (!this.shared) return new ArrayBuffer(byteLength);
    const b = new SharedArrayBuffer(byteLength);
    this.taken.push(b);
    return b;
  }

  /** Records a region mapped for the map (unmapped if the map cannot be completed). */
  mapped(region: Region): void {
    this.mappedRegions.push(region);
  }

  /** The regions mapped so far. */
  regions(): readonly Region[] {
    return this.mappedRegions;
  }

  /** The SharedArrayBuffers taken, in order (empty when private). */
  buffers(): readonly SharedArrayBuffer[] {
    return this.taken;
  }

  /** attach: MapError unless the map took every buffer it was given. */
  finish(): void {
    if (this.given !== undefined && this.given.length !== this.taken.length) {
      throw new MapError(EINVAL,
        `${this.what}: the shared state has ${this.given.length} buffer(s) for this map, it uses ${this.taken.length}`);
    }
  }
}
