// The memory model: a 32-bit virtual address space made of regions.
//
// An address is a 32-bit number. Its top 8 bits pick a 16 MiB slot; a region
// starts at a slot boundary and may span several slots. Slot 0 is never
// mapped, so NULL and small offsets from it fault. Every access is checked
// against the bounds of the region its first byte falls in; a miss throws
// MemoryAccessError and touches nothing. Regions wrap the caller's bytes
// without copying them, so writes are seen by the caller.
//
// A region is writable, read-only, or read-only with writable byte ranges
// (a context struct with a few writable fields): the slot tables, which the
// engines check inline, only know writable or not, so a store into such a
// range misses there and goes to the engines' fault path, which asks
// `resolve` and performs the store when it lies inside one range. A region
// over a SharedArrayBuffer is `shared`: atomic instructions there use JS
// Atomics (lib/atomics.ts), as another thread may use the same bytes.
//
// What it does not do: alignment checks (eBPF allows unaligned access) or
// any notion of pointer provenance (a pointer is just a number).

import { MemoryAccessError, UsageError, type AccessKind } from './errors.js';

export const SLOT_SHIFT = 24;
export const SLOT_BYTES = 1 << SLOT_SHIFT;
const SLOT_COUNT = 256;
/**
 * Slots 0xfe and 0xff are never mapped either: map pointers (what lddw
 * map_fd loads, see maps/types.ts) live in 0xfe and code addresses (lddw
 * src=4, used by callx) in 0xff, so neither can name real bytes and
 * dereferencing one faults (see code-address.ts).
 */
const MAPPABLE_END = 0xfe;

/** A byte range [start, end) of a region, as offsets from its first byte. */
export type ByteRange = readonly [start: number, end: number];

export interface RegionOptions {
  /** Shown in error messages and listings. */
  readonly name: string;
  readonly readonly?: boolean;
  /**
   * Byte ranges of an otherwise read-only region that stores may write (a
   * context struct's writable fields). Giving them makes the region
   * read-only in the slot tables, so the engines' inline store checks fail
   * there and their fault path (Memory.resolve) lets a store through when it
   * lies entirely inside one range. Atomic instructions are refused anyway.
   */
  readonly writable?: readonly ByteRange[];
  /**
   * Names what a faulting store at `offset` hits, for the error ("__sk_buff.len");
   * undefined: the region's name is used.
   */
  readonly describe?: (offset: number) => string | undefined;
}

export class Region {
  readonly base: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly name: string;
  readonly readonly: boolean;
  /** Writable byte ranges of a read-only region (RegionOptions.writable); empty otherwise. */
  readonly writable: readonly ByteRange[];
  /** Whether the bytes live in a SharedArrayBuffer: atomic instructions then use Atomics (lib/atomics.ts). */
  readonly shared: boolean;
  /** The options it was mapped with, so Memory.remap can map new bytes the same way. */
  readonly options: RegionOptions;
  private readonly describeAt: ((offset: number) => string | undefined) | undefined;
  /** Atomics' views of a shared region's buffer, made at the first atomic instruction on it. */
  private words: Int32Array | undefined;
  private dwords: BigInt64Array | undefined;
  constructor(base: number, bytes: Uint8Array, options: RegionOptions) {
    this.base = base;
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.name = options.name;
    this.writable = checkRanges(options.name, options.writable, bytes.byteLength, options.readonly);
    this.readonly = (options.readonly ?? false) || this.writable.length > 0;
    this.shared = typeof SharedArrayBuffer !== 'undefined' && bytes.buffer instanceof SharedArrayBuffer;
    this.describeAt = options.describe;
    this.options = options;
  }
  /** Whether a store of `size` bytes at `offset` lies entirely inside one writable range. */
  mayStore(offset: number, size: number): boolean {
    for (const [start, end] of this.writable) if (offset >= start && offset + size <= end) return true;
    return false;
  }
  /** The whole buffer as int32s (index: (bytes.byteOffset + offset) / 4), for Atomics. */
  int32s(): Int32Array {
    return (this.words ??= new Int32Array(this.bytes.buffer, 0, this.bytes.buffer.byteLength >> 2));
  }
  /** The whole buffer as int64s (index: (bytes.byteOffset + offset) / 8), for Atomics. */
  int64s(): BigInt64Array {
    return (this.dwords ??= new BigInt64Array(this.bytes.buffer, 0, Math.floor(this.bytes.buffer.byteLength / 8)));
  }
  /** What the byte at `offset` belongs to, for errors: a field's name, or the region's. */
  describe(offset: number): string {
    return this.describeAt?.(offset) ?? this.name;
  }
  get size(): number {
    return this.bytes.byteLength;
  }
  /** One past the last valid address. */
  get end(): number {
    return this.base + this.bytes.byteLength;
  }
}

/** The writable option, checked: integer ranges inside the region, on a region not declared writable (readonly: false). */
function checkRanges(name: string, ranges: readonly ByteRange[] | undefined, size: number, readonly: boolean | undefined): readonly ByteRange[] {
  if (ranges === undefined) return [];
  if (!Array.isArray(ranges)) throw new UsageError(`region ${name}: writable must be an array of [start, end] ranges`);
  if (readonly === false && ranges.length > 0) throw new UsageError(`region ${name}: writable ranges need a read-only region`);
  return ranges.map((r: unknown) => {
    const ok = Array.isArray(r) && r.length === 2 && r.every((n) => Number.isInteger(n)) && 0 <= r[0] && r[0] < r[1] && r[1] <= size;
    if (!ok) throw new UsageError(`region ${name}: writable range ${JSON.stringify(r)} is not [start, end) with 0 <= start < end <= ${size}`);
    return [r[0], r[1]] as const;
  });
}

/** Why a store of `size` bytes at `offset` in read-only `region` fails, naming the field it hits. */
function readOnlyReason(region: Region, offset: number, size: number, atomic: boolean): string {
  if (atomic && region.writable.length > 0) return `atomic access to ${region.describe(offset)} is not allowed`;
  for (let k = offset; k < offset + size; k++) {
    if (!region.mayStore(k, 1)) return `${region.describe(k)} is read-only`;
  }
  // Every byte is writable, but not within one range: a store across two fields.
  return `store across ${region.describe(offset)} and ${region.describe(offset + size - 1)}`;
}

/** The view unmapped slots point at, so the view table holds only DataViews. */
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/**
 * Per-slot lookup tables for compiled code (the JIT reads them directly,
 * so they are updated in place by map/unmap). For slot i: views[i] is the
 * DataView of the region covering it, bases[i] its base address, ends[i]
 * one past its last address (0 when unmapped, so every access fails the
 * `address + size <= end` test), writeEnds[i] the same for stores (0 when
 * read-only).
 */
export interface SlotTables {
  readonly views: DataView[];
  readonly bases: Float64Array;
  readonly ends: Float64Array;
  readonly writeEnds: Float64Array;
  /**
   * The same bounds for int32-only checks (the JIT's): how many bytes from
   * the slot's first address on may be loaded (region end - slot start, 0
   * when unmapped). An access starts less than 2^24 bytes into its slot and
   * is at most 8 bytes long, so a limit is capped at 2^30 without changing
   * any check's outcome, which keeps it an int32.
   */
  readonly limits: Int32Array;
  /** Same for stores: 0 if unmapped or read-only. */
  readonly writeLimits: Int32Array;
  /** 1 where the slot's region is shared (Region.shared): the JIT's atomics then call the runtime. */
  readonly shared: Uint8Array;
  /** Where the slot's first byte is in the region's view (slot start - region base). */
  readonly offsets: Uint32Array;
}

/** How many slots a region of `size` bytes occupies (an empty one still takes one). */
function slotsFor(size: number): number {
  return Math.max(1, Math.ceil(size / SLOT_BYTES));
}

/** The cap of SlotTables.limits. */
const LIMIT_CAP = 2 ** 30;

export class Memory {
  /** Region owning each 16 MiB slot; index 0 stays empty (NULL). */
  private readonly slots: (Region | undefined)[] = new Array(SLOT_COUNT).fill(undefined);
  readonly tables: SlotTables = {
    views: Array.from({ length: SLOT_COUNT }, () => EMPTY_VIEW), // packed, not holey: no hole check per access
    bases: new Float64Array(SLOT_COUNT),
    ends: new Float64Array(SLOT_COUNT),
    writeEnds: new Float64Array(SLOT_COUNT),
    limits: new Int32Array(SLOT_COUNT),
    writeLimits: new Int32Array(SLOT_COUNT),
    shared: new Uint8Array(SLOT_COUNT),
    offsets: new Uint32Array(SLOT_COUNT),
  };

  private setSlot(s: number, region: Region | undefined): void {
    this.slots[s] = region;
    const t = this.tables;
    t.views[s] = region?.view ?? EMPTY_VIEW;
    t.bases[s] = region?.base ?? 0;
    t.ends[s] = region?.end ?? 0;
    t.writeEnds[s] = region === undefined || region.readonly ? 0 : region.end;
    const start = s * SLOT_BYTES;
    t.limits[s] = region === undefined ? 0 : Math.min(region.end - start, LIMIT_CAP);
    t.writeLimits[s] = region === undefined || region.readonly ? 0 : t.limits[s]!;
    t.offsets[s] = region === undefined ? 0 : start - region.base;
    t.shared[s] = region?.shared === true ? 1 : 0;
  }

  /**
   * Maps `bytes` (not copied) at the lowest free run of slots large enough.
   * Throws UsageError when the address space is full.
   */
  map(bytes: Uint8Array, options: RegionOptions): Region {
    const need = slotsFor(bytes.byteLength);
    for (let first = 1; first + need <= MAPPABLE_END; first++) {
      let free = true;
      for (let s = first; s < first + need; s++) {
        if (this.slots[s] !== undefined) {
          free = false;
          first = s; // the loop's ++ moves past the occupied slot
          break;
        }
      }
      if (!free) continue;
      const region = new Region(first * SLOT_BYTES, bytes, options);
      for (let s = first; s < first + need; s++) this.setSlot(s, region);
      return region;
    }
    throw new UsageError(`cannot map region ${options.name} (${bytes.byteLength} bytes): address space full`);
  }

  /**
   * Unmaps `region` (a no-op when it is not mapped). Visits only the slots
   * the region was given, not the whole table: vm.run maps and unmaps its
   * input memory on every run.
   */
  unmap(region: Region): void {
    const first = region.base >>> SLOT_SHIFT;
    const last = Math.min(first + slotsFor(region.size), SLOT_COUNT);
    for (let s = first; s < last; s++) {
      if (this.slots[s] === region) this.setSlot(s, undefined);
    }
  }

  /**
   * Maps `bytes` in place of the mapped `region`, with its options: at the
   * same base when they need no more slots than it holds (the slots it no
   * longer needs are freed), else where map() puts them. `region` is
   * unmapped afterwards. For a context reused from packet to packet, whose
   * packet region must end where each packet ends. On UsageError (address
   * space full, or writable ranges past the new end) `region` stays mapped.
   */
  remap(region: Region, bytes: Uint8Array): Region {
    const first = region.base >>> SLOT_SHIFT;
    if (this.slots[first] !== region) throw new UsageError(`cannot remap region ${region.name}: not mapped`);
    const had = slotsFor(region.size);
    if (slotsFor(bytes.byteLength) > had) {
      this.unmap(region);
      try {
        return this.map(bytes, region.options);
      } catch (e) {
        for (let s = first; s < first + had; s++) this.setSlot(s, region);
        throw e;
      }
    }
    const next = new Region(region.base, bytes, region.options);
    const need = slotsFor(bytes.byteLength);
    for (let s = first; s < first + had; s++) this.setSlot(s, s < first + need ? next : undefined);
    return next;
  }

  /** The region mapped at a 32-bit address's slot, if any. */
  regionAt(address: number): Region | undefined {
    return this.slots[address >>> SLOT_SHIFT];
  }

  /**
   * Whether a store of `size` bytes at 32-bit address `address` (any number:
   * outside [0, 2^32) is false) lands inside a writable range of a read-only
   * region: the stores the slot tables refuse but resolve allows.
   */
  mayStoreAt(address: number, size: number): boolean {
    if (!(address >= 0 && address < 0x1_0000_0000)) return false;
    const region = this.slots[address >>> SLOT_SHIFT];
    return region !== undefined && region.readonly && address + size <= region.end && region.mayStore(address - region.base, size);
  }

  /** All mapped regions, by base address. */
  regions(): Region[] {
    return [...new Set(this.slots.filter((r): r is Region => r !== undefined))];
  }

  /**
   * The region holding [address, address + size), or a MemoryAccessError.
   * The address is a u64 register value: anything at or above 2^32 faults.
   * A store to a read-only region passes only inside one of its writable
   * ranges, and never when `atomic` (Linux refuses atomics on a context).
   */
  resolve(address: bigint, size: number, kind: AccessKind, pc: number, atomic = false): Region {
    if (address < 0n || address > 0xffffffffn) {
      throw new MemoryAccessError(pc, address, size, kind, 'outside the 32-bit address space');
    }
    const a = Number(address);
    const region = this.slots[a >>> SLOT_SHIFT];
    if (region === undefined) {
      throw new MemoryAccessError(pc, address, size, kind, a < SLOT_BYTES ? 'NULL region' : 'unmapped');
    }
    if (a + size > region.end) {
      throw new MemoryAccessError(pc, address, size, kind, `past the end of ${region.name}`);
    }
    if (kind === 'store' && region.readonly) {
      const off = a - region.base;
      if (!atomic && region.mayStore(off, size)) return region;
      throw new MemoryAccessError(pc, address, size, kind, readOnlyReason(region, off, size, atomic));
    }
    return region;
  }

  /** Little-endian load of 1, 2, 4 or 8 bytes, zero-extended. */
  load(address: bigint, size: 1 | 2 | 4 | 8, pc: number): bigint {
    const region = this.resolve(address, size, 'load', pc);
    const off = Number(address) - region.base;
    const v = region.view;
    switch (size) {
      case 1: return BigInt(v.getUint8(off));
      case 2: return BigInt(v.getUint16(off, true));
      case 4: return BigInt(v.getUint32(off, true));
      case 8: return v.getBigUint64(off, true);
    }
  }

  /** Little-endian store of the low 1, 2, 4 or 8 bytes of `value`. */
  store(address: bigint, size: 1 | 2 | 4 | 8, value: bigint, pc: number): void {
    const region = this.resolve(address, size, 'store', pc);
    const off = Number(address) - region.base;
    const v = region.view;
    switch (size) {
      case 1: v.setUint8(off, Number(value & 0xffn)); break;
      case 2: v.setUint16(off, Number(value & 0xffffn), true); break;
      case 4: v.setUint32(off, Number(value & 0xffffffffn), true); break;
      case 8: v.setBigUint64(off, BigInt.asUintN(64, value), true); break;
    }
  }

  /** A view (not a copy) of `length` bytes at `address`, for helpers. */
  view(address: bigint, length: number, kind: AccessKind, pc: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0) {
      throw new MemoryAccessError(pc, address, Math.max(0, Number.isFinite(length) ? length : 0), kind, 'bad length');
    }
    const region = this.resolve(address, Math.max(length, 1), kind, pc);
    const off = Number(address) - region.base;
    return region.bytes.subarray(off, off + length);
  }

  /** A copy of `length` bytes at `address`. */
  read(address: bigint, length: number, pc: number): Uint8Array {
    return this.view(address, length, 'load', pc).slice();
  }

  /** Copies `bytes` to `address`. */
  write(address: bigint, bytes: Uint8Array, pc: number): void {
    this.view(address, bytes.byteLength, 'store', pc).set(bytes);
  }

  /**
   * The bytes of the NUL-terminated string at `address` (without the NUL),
   * reading at most `maxLength` bytes and never past the region's end.
   */
  readCString(address: bigint, maxLength: number, pc: number): Uint8Array {
    const region = this.resolve(address, 1, 'load', pc);
    const off = Number(address) - region.base;
    const limit = Math.min(region.size, off + maxLength);
    let end = off;
    while (end < limit && region.bytes[end] !== 0) end++;
    if (end === region.size && end < off + maxLength) {
      throw new MemoryAccessError(pc, address, end - off + 1, 'load', `unterminated string in ${region.name}`);
    }
    return region.bytes.slice(off, end);
  }
}
