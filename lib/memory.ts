// The memory model: a 32-bit virtual address space made of regions.
//
// An address is a 32-bit number. Its top 8 bits pick a 16 MiB slot; a region
// starts at a slot boundary and may span several slots. Slot 0 is never
// mapped, so NULL and small offsets from it fault. Every access is checked
// against the bounds of the region its first byte falls in; a miss throws
// MemoryAccessError and touches nothing. Regions wrap the caller's bytes
// without copying them, so writes are seen by the caller.
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

export interface RegionOptions {
  /** Shown in error messages and listings. */
  readonly name: string;
  readonly readonly?: boolean;
}

export class Region {
  readonly base: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly name: string;
  readonly readonly: boolean;
  constructor(base: number, bytes: Uint8Array, options: RegionOptions) {
    this.base = base;
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.name = options.name;
    this.readonly = options.readonly ?? false;
  }
  get size(): number {
    return this.bytes.byteLength;
  }
  /** One past the last valid address. */
  get end(): number {
    return this.base + this.bytes.byteLength;
  }
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
  /** Where the slot's first byte is in the region's view (slot start - region base). */
  readonly offsets: Uint32Array;
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
  }

  /**
   * Maps `bytes` (not copied) at the lowest free run of slots large enough.
   * Throws UsageError when the address space is full.
   */
  map(bytes: Uint8Array, options: RegionOptions): Region {
    const need = Math.max(1, Math.ceil(bytes.byteLength / SLOT_BYTES));
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

  unmap(region: Region): void {
    for (let s = 0; s < SLOT_COUNT; s++) {
      if (this.slots[s] === region) this.setSlot(s, undefined);
    }
  }

  /** All mapped regions, by base address. */
  regions(): Region[] {
    return [...new Set(this.slots.filter((r): r is Region => r !== undefined))];
  }

  /**
   * The region holding [address, address + size), or a MemoryAccessError.
   * The address is a u64 register value: anything at or above 2^32 faults.
   */
  resolve(address: bigint, size: number, kind: AccessKind, pc: number): Region {
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
      throw new MemoryAccessError(pc, address, size, kind, `${region.name} is read-only`);
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
