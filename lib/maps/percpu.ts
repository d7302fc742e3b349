// JS-side input of per-CPU maps: one value for every CPU, or one per CPU.

import { UsageError } from '../errors.js';
import { toBytes, type BytesInput } from './codec.js';

/**
 * `cpus` byte arrays from a JS value: a single value is repeated for every
 * CPU; an array must have exactly one value per CPU (a Uint8Array is always a
 * single value, never a list).
 */
export function perCpuValues(
  value: BytesInput | readonly BytesInput[],
  cpus: number,
  valueSize: number,
  mapName: string,
): Uint8Array[] {
  if (!Array.isArray(value)) {
    const bytes = toBytes(value as BytesInput, valueSize, `map ${mapName}: value`);
    return Array.from({ length: cpus }, () => bytes);
  }
  if (value.length !== cpus) {
    throw new UsageError(`map ${mapName}: expected one value per CPU (${cpus}), got ${value.length}`);
  }
  return value.map((v, cpu) => toBytes(v, valueSize, `map ${mapName}: value for cpu ${cpu}`));
}
