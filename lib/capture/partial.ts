// The result so far, carried by an error that ends a capture run once
// packets flow (PacketError, PcapError, WorkerError, what onResult threw):
// a caller can still report the counts, the maps as they are and the
// printk lines of the packets delivered before it.
//
// With workers, `packets`, `counts`, `printk` and `skipped` cover the
// packets delivered (all before the failing one); the maps and perWorker
// may also show packets other threads had already run past it.
//
// It is a non-enumerable property of the error object, so printing the
// error does not print a whole Vm; partialResult() reads it typed.

import type { CaptureResult } from './types.js';

const KEY = 'partial';

/** Sets `partial` on `e` (when it is an object that takes it) and returns `e` for rethrowing. */
export function withPartial(e: unknown, partial: CaptureResult): unknown {
  if ((typeof e === 'object' && e !== null) || typeof e === 'function') {
    try {
      Object.defineProperty(e, KEY, { value: partial, enumerable: false, writable: true, configurable: true });
    } catch {
      // A frozen error keeps no result; it is still thrown as it is.
    }
  }
  return e;
}

/** The result so far carried by an error runCapture threw, if it carries one. */
export function partialResult(e: unknown): CaptureResult | undefined {
  if ((typeof e !== 'object' || e === null) && typeof e !== 'function') return undefined;
  const value = (e as { [KEY]?: unknown })[KEY];
  return typeof value === 'object' && value !== null && 'counts' in value && 'vm' in value ? (value as CaptureResult) : undefined;
}
