// A mutex in one Int32 word of a SharedArrayBuffer, for maps several threads
// change at once (the index of a shared hash map, the ring of a shared
// queue). The futex-style design of Drepper's "Futexes Are Tricky": 0 free,
// 1 held, 2 held with possible waiters; an uncontended lock and unlock are
// one compareExchange and one sub, the waiter sleeps in Atomics.wait.
//
// Critical sections are short (a few typed-array reads and writes), so a
// short spin comes first. A thread that dies holding the lock would hang its
// peers for ever; instead a waiter gives up after LOCK_TIMEOUT_MS with
// MapError EBUSY (what Linux's hash maps answer when a bucket lock is busy).

import { EBUSY } from '../errno.js';
import { MapError } from './error.js';

const SPINS = 64;
const WAIT_SLICE_MS = 20;
export const LOCK_TIMEOUT_MS = 10_000;

/** Takes the lock at `words[at]`; `what` names the map in the timeout error. */
export function lock(words: Int32Array, at: number, what: string): void {
  let c = Atomics.compareExchange(words, at, 0, 1);
  if (c === 0) return;
  for (let spin = 0; spin < SPINS && c === 1; spin++) {
    c = Atomics.compareExchange(words, at, 0, 1);
    if (c === 0) return;
  }
  if (c !== 2) c = Atomics.exchange(words, at, 2);
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  while (c !== 0) {
    sleep(words, at);
    c = Atomics.exchange(words, at, 2);
    if (c !== 0 && Date.now() > deadline) {
      throw new MapError(EBUSY, `${what}: lock held by another thread for more than ${LOCK_TIMEOUT_MS} ms`);
    }
  }
}

/** Releases the lock taken by `lock`, waking one waiter if there may be one. */
export function unlock(words: Int32Array, at: number): void {
  if (Atomics.sub(words, at, 1) !== 1) {
    Atomics.store(words, at, 0);
    Atomics.notify(words, at, 1);
  }
}

/**
 * Waits while the word is 2 (a slice at a time, so the deadline is checked).
 * Where Atomics.wait is not allowed (a browser's main thread) it throws, and
 * the caller's loop spins instead.
 */
function sleep(words: Int32Array, at: number): void {
  try {
    Atomics.wait(words, at, 2, WAIT_SLICE_MS);
  } catch {
    // spin: the loop retries at once
  }
}
