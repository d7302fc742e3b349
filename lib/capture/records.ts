// Ring-buffer and perf-event records of a capture run: every record map of
// the Vm gets a listener (which consumes the records as they are committed,
// so rings do not fill up) handing the bytes to `deliver`.

import { PerfEventArrayMap, RingBufMap } from '../maps/index.js';
import type { Vm } from '../vm.js';

/** Subscribes to every record map of `vm`; returns the function that unsubscribes. */
export function subscribeRecords(vm: Vm, deliver: (map: string, data: Uint8Array) => void): () => void {
  const stops: (() => void)[] = [];
  for (const map of vm.maps.list()) {
    const name = map.name;
    if (map instanceof RingBufMap) stops.push(map.onRecord((data) => deliver(name, data)));
    else if (map instanceof PerfEventArrayMap) stops.push(map.onRecord((record) => deliver(name, record.data)));
  }
  return () => {
    for (const stop of stops) stop();
  };
}
