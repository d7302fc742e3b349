// The standard Linux helpers, by Linux's id. Each module holds one concern;
// this file only gathers them and resolves names.
//
// Names are Linux's, without the `bpf_` prefix (`map_lookup_elem`);
// helperIdByName accepts both spellings. tail_call (12) is listed so that its
// name resolves, but the engines implement it.

import { controlHelpers } from './control.js';
import { mapHelpers } from './maps.js';
import { memoryHelpers } from './memory.js';
import { packetHelpers } from './packet.js';
import { perfHelpers } from './perf.js';
import { printkHelpers } from './printk.js';
import { queueHelpers } from './queue.js';
import { ringbufHelpers } from './ringbuf.js';
import { stringHelpers } from './string.js';
import { taskHelpers } from './task.js';
import { timeHelpers } from './time.js';
import type { StandardHelper } from './common.js';

export type { StandardHelper } from './common.js';
export { HelperEnv, JIFFIES_HZ, PRINTK_KEEP, TASK_COMM_LEN, type HelperEnvOptions } from './env.js';

const ALL: readonly StandardHelper[] = Object.freeze(
  [
    ...controlHelpers, ...mapHelpers, ...memoryHelpers, ...packetHelpers, ...perfHelpers, ...printkHelpers,
    ...queueHelpers, ...ringbufHelpers, ...stringHelpers, ...taskHelpers, ...timeHelpers,
  ].sort((a, b) => a.id - b.id),
);

const BY_NAME: ReadonlyMap<string, number> = new Map(ALL.map((h) => [h.name, h.id]));

/** Every standard helper, by increasing id (a new array each call; the entries are frozen). */
export function standardHelpers(): StandardHelper[] {
  return [...ALL];
}

/** The id of a standard helper named 'map_lookup_elem' or 'bpf_map_lookup_elem'; undefined if none. */
export function helperIdByName(name: string): number | undefined {
  return BY_NAME.get(name.startsWith('bpf_') ? name.slice(4) : name);
}
