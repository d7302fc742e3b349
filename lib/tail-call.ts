// bpf_tail_call (helper 12): whether a tail call succeeds, and what it
// records for the dispatch loop (run-state.ts) when it does. Both engines
// call `tailCall` with the register halves they hold, so they fail and
// succeed identically.
//
// Semantics (Linux's, see DESIGN.md "Tail calls"), checked in Linux's order:
//  1. r3 (read as u32) >= the PROG_ARRAY's max_entries: fails, not counted;
//  2. the run has already made maxTailCalls tail calls (default 33, Linux's
//     MAX_TAIL_CALL_CNT): fails;
//  3. the slot is empty: fails, not counted.
// A failure puts a negative errno in r0 and the caller goes on with its next
// instruction. Linux's helper documentation only promises "a negative error";
// the values here tell the three cases apart:
//   index out of range: -EINVAL (-22), too many tail calls: -E2BIG (-7, the
//   errno Linux's bpf_loop gives for its own iteration limit), empty slot:
//   -ENOENT (-2, what deleting an empty PROG_ARRAY slot gives).
// r2 that is not a PROG_ARRAY pointer is a HelperError: Linux's verifier
// would have rejected the program. So is an r1 that cannot be a context
// pointer (Linux requires the context there): above MAX_ENTRY_VALUE, the
// bound the JIT assumes for a main function's r1 (run-state.ts); the
// target's main gets this r1.
//
// What it does not do: run the target. On success it records the target, the
// context (r1), the caller's frame and frame number in the RunState and
// counts the call; the engine then ends the caller and the dispatch loop
// starts the target.

import { E2BIG, EINVAL, ENOENT } from './errno.js';
import { HelperError } from './errors.js';
import { MAP_TYPES, type ProgArrayMap } from './maps/index.js';
import { ChainStatus, MAX_ENTRY_VALUE, type RunState } from './run-state.js';

/** Linux's helper id of bpf_tail_call. */
export const TAIL_CALL_HELPER = 12;
/** Linux's MAX_TAIL_CALL_CNT (33 since 5.17; it was 32 before). */
export const DEFAULT_MAX_TAIL_CALLS = 33;

/** r0 after a tail call whose index is >= the map's max_entries. */
export const TAIL_CALL_BAD_INDEX = -EINVAL;
/** r0 after a tail call made when the run has already made maxTailCalls. */
export const TAIL_CALL_LIMIT = -E2BIG;
/** r0 after a tail call to an empty slot. */
export const TAIL_CALL_EMPTY = -ENOENT;

function u64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * bpf_tail_call(ctx = r1, prog_array = r2, index = r3), at `pc` in a frame
 * whose frame pointer is `r10` and number `frame` (1 = main). Returns 0 when
 * it succeeds (the caller must end now: state.status is TailCall), else the
 * negative errno for r0. Arguments are int32 register halves.
 */
export function tailCall(
  state: RunState, pc: number,
  r1: number, r1h: number, r2: number, r2h: number, r3: number,
  r10: number, frame: number,
): number {
  const map = r2h === 0 ? state.services.maps.byPointer(r2 >>> 0) : undefined;
  if (map === undefined || map.type !== MAP_TYPES.prog_array) {
    const what = map === undefined ? 'not a map' : `map ${map.name}, a ${map.typeName}`;
    throw new HelperError(`tail_call: r2 = 0x${u64(r2, r2h).toString(16)} is not a prog_array map (${what})`, pc, TAIL_CALL_HELPER);
  }
  if (r1h !== 0 || r1 >>> 0 > MAX_ENTRY_VALUE) {
    throw new HelperError(`tail_call: r1 = 0x${u64(r1, r1h).toString(16)} is not a context pointer`, pc, TAIL_CALL_HELPER);
  }
  const index = r3 >>> 0;
  if (index >= map.maxEntries) return TAIL_CALL_BAD_INDEX;
  if (state.tailCalls >= state.maxTailCalls) return TAIL_CALL_LIMIT;
  const target = (map as ProgArrayMap).target(index);
  if (target === undefined) return TAIL_CALL_EMPTY;
  state.tailCalls++;
  state.target = target;
  state.r1 = r1;
  state.r1h = r1h;
  state.r10 = r10;
  state.depth = frame;
  state.status = ChainStatus.TailCall;
  return 0;
}
