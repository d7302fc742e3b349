// What a run's maps and global variables hold at its end, for the report of
// `ebpf-js run --pcap`: keys and values decoded through the object's BTF
// where it has types for them (BpfObject.decode / globals), else shown as
// bytes. Per-CPU values are summed (and listed per CPU with `all`). Without
// `all` (the summary), all-zero array slots are left out, at most
// SUMMARY_ENTRIES entries per map are shown, and .rodata (configuration and
// format strings) is skipped; with `all` (--dump-maps) everything is there.

import { isDataSectionName, type BpfObject } from '../elf/index.js';
import type { BpfMap } from '../maps/index.js';

/** Entries per map the summary shows; --dump-maps shows all. */
export const SUMMARY_ENTRIES = 20;

export interface MapEntryView {
  /** The array index, or the decoded key (bytes as hex when it does not decode). */
  readonly key: unknown;
  /** The decoded value; for per-CPU maps, the sum over CPUs when values add up, else per CPU. */
  readonly value: unknown;
  /** Per-CPU maps: each CPU's value. */
  readonly perCpu?: readonly unknown[];
  /** Program arrays and maps of maps: `value` names the program or map in the slot. */
  readonly ref?: boolean;
}

export interface MapView {
  readonly name: string;
  readonly type: string;
  readonly entries: readonly MapEntryView[];
  /** Entries left out: all-zero array slots (summary only). */
  readonly zeroSlots: number;
  /** Entries left out past SUMMARY_ENTRIES (summary only). */
  readonly more: number;
  /** Why the contents are not listed (ring buffers, program arrays ...). */
  readonly note?: string;
}

export interface GlobalsView {
  readonly name: string;
  readonly variables: Readonly<Record<string, unknown>>;
}

export interface MapsReport {
  readonly maps: readonly MapView[];
  readonly globals: readonly GlobalsView[];
}

type Entries = () => Iterable<[unknown, unknown]>;

/** The maps and globals of `obj` (or of the bare `maps` when there is no object), as the report shows them. */
export function mapsReport(obj: BpfObject | undefined, maps: Iterable<BpfMap>, all: boolean): MapsReport {
  const views: MapView[] = [];
  const globals: GlobalsView[] = [];
  for (const map of maps) {
    if (obj !== undefined && isDataSectionName(map.name)) {
      if (!all && map.name.startsWith('.rodata')) continue;
      const variables = obj.globals(map.name);
      if (Object.keys(variables).length > 0) globals.push({ name: map.name, variables });
      continue;
    }
    views.push(mapView(obj, map, all));
  }
  return { maps: views, globals };
}

function mapView(obj: BpfObject | undefined, map: BpfMap, all: boolean): MapView {
  const base = { name: map.name, type: map.typeName };
  const entries = (map as unknown as { entries?: Entries }).entries;
  if (map.typeName === 'ringbuf' || map.typeName === 'perf_event_array') {
    // Records are read as the run goes (the report's "records read").
    return { ...base, entries: [], zeroSlots: 0, more: 0, note: `${map.size} record${map.size === 1 ? '' : 's'} unread` };
  }
  if (typeof entries !== 'function') return { ...base, entries: [], zeroSlots: 0, more: 0, note: `${map.size} elements (contents not listed for ${map.typeName})` };
  const isArray = map.typeName === 'array' || map.typeName === 'percpu_array';
  const out: MapEntryView[] = [];
  let zeroSlots = 0;
  let more = 0;
  for (const [key, value] of entries.call(map)) {
    const bytes = valueBytes(value);
    if (bytes === undefined) {
      // Program arrays and maps of maps: the slot holds a program or a map.
      out.push({ key: showKey(obj, map, key), value: slotName(obj, value), ref: true });
      continue;
    }
    if (!all && isArray && bytes.every((b) => b.every((x) => x === 0))) {
      zeroSlots++;
      continue;
    }
    if (!all && out.length >= SUMMARY_ENTRIES) {
      more++;
      continue;
    }
    const decoded = bytes.map((b) => decodeOr(obj, map.name, 'value', b));
    if (!Array.isArray(value)) out.push({ key: showKey(obj, map, key), value: decoded[0] });
    else out.push({ key: showKey(obj, map, key), value: sumValues(decoded) ?? decoded, perCpu: decoded });
  }
  return { ...base, entries: out, zeroSlots, more };
}

/** A value as a list of byte strings (one per CPU), or undefined when it is not bytes. */
function valueBytes(value: unknown): Uint8Array[] | undefined {
  if (value instanceof Uint8Array) return [value];
  if (Array.isArray(value) && value.every((v) => v instanceof Uint8Array)) return value as Uint8Array[];
  return undefined;
}

function showKey(obj: BpfObject | undefined, map: BpfMap, key: unknown): unknown {
  return key instanceof Uint8Array ? decodeOr(obj, map.name, 'key', key) : key;
}

function decodeOr(obj: BpfObject | undefined, mapName: string, which: 'key' | 'value', bytes: Uint8Array): unknown {
  let decoded: unknown;
  try {
    decoded = obj?.decode(mapName, which, bytes);
  } catch {
    decoded = undefined; // Malformed BTF: the bytes still say what is there.
  }
  return decoded ?? bytes;
}

/** What a program array or map-of-maps slot holds: the program's function name or the map's name. */
function slotName(obj: BpfObject | undefined, value: unknown): string {
  for (const p of obj?.programs.values() ?? []) if (p.prog === value) return `program ${p.name}`;
  if (typeof value === 'object' && value !== null && 'name' in value && typeof value.name === 'string') return `map ${value.name}`;
  return 'program';
}

/**
 * The sum of per-CPU values when they add up: numbers and bigints, and
 * objects or arrays of them with the same shape; undefined otherwise.
 */
export function sumValues(values: readonly unknown[]): unknown {
  if (values.length === 0) return undefined;
  if (values.every((v) => typeof v === 'bigint')) return (values as bigint[]).reduce((a, b) => a + b, 0n);
  if (values.every((v) => typeof v === 'number')) return (values as number[]).reduce((a, b) => a + b, 0);
  if (values.every((v) => Array.isArray(v) && v.length === (values[0] as unknown[]).length)) {
    const sums = (values[0] as unknown[]).map((_, i) => sumValues(values.map((v) => (v as unknown[])[i])));
    return sums.every((s) => s !== undefined) ? sums : undefined;
  }
  if (values.every((v) => isPlainObject(v))) {
    const keys = Object.keys(values[0] as object);
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const s = sumValues(values.map((v) => (v as Record<string, unknown>)[k]));
      if (s === undefined) return undefined;
      out[k] = s;
    }
    return out;
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** A decoded value as text: `{ packets: 3, bytes: 180 }`, `"eth0"`, bytes as hex. */
export function formatValue(v: unknown): string {
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) return hexBytes(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (isPlainObject(v)) {
    const parts = Object.entries(v).map(([k, x]) => `${k}: ${formatValue(x)}`);
    return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
  }
  return String(v);
}

/**
 * A decoded value for JSON: bigints as numbers when they are exact
 * (counters), else as decimal strings; bytes as a hex string.
 */
export function jsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return hexBytes(v);
  if (Array.isArray(v)) return v.map(jsonValue);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]));
  return v;
}

function hexBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}
