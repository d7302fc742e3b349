// ARRAY_OF_MAPS and HASH_OF_MAPS: values are maps. A program's lookup gives
// the inner map's pointer (MAP_POINTER_BASE + fd), which it passes to the
// map helpers like any map; 0 when there is none. Programs cannot store maps
// (update is -EOPNOTSUPP: Linux's verifier refuses it).
//
// JS stores a BpfMap or its fd. It must look like the definition's inner
// template, as Linux's bpf_map_meta_equal demands: same type, key size,
// value size and flags, and, for array types, the same max_entries (unless
// the template has BPF_F_INNER_MAP). Anything else is MapError EINVAL.

import { E2BIG, EINVAL, ENOENT, EOPNOTSUPP } from '../errno.js';
import { BpfMap, type MapContext } from './base.js';
import { keyIdFunction, toBytes, u32At, type BytesInput, type KeyId, type KeyIdFn } from './codec.js';
import type { ValidDefinition } from './definition.js';
import { MapError } from './error.js';
import { FdArray } from './fd-array.js';
import { BPF_ANY, MAP_FLAGS } from './types.js';
import { checkUpdateFlags, existenceError, orThrow } from './update-flags.js';

/**
 * The check an outer map applies to a JS value: a live map of the same
 * registry (or its fd) that fits the inner template, else MapError EINVAL.
 */
function innerMapCheck(def: ValidDefinition, ctx: MapContext, outerName: string): (value: BpfMap | number) => BpfMap {
  const template = def.inner!;
  const sizedByEntries = (template.typeName === 'array' || template.typeName === 'percpu_array')
    && (template.flags & MAP_FLAGS.BPF_F_INNER_MAP) === 0;
  const ignored = ~MAP_FLAGS.BPF_F_INNER_MAP;
  return (value) => {
    const map = typeof value === 'number' ? ctx.mapByFd(value) : value;
    if (!(map instanceof BpfMap) || ctx.mapByFd(map.fd) !== map) {
      throw new MapError(EINVAL, `map ${outerName}: a value must be a live map of the same VM or its fd`);
    }
    const d = map.definition;
    const mismatch = d.type !== template.type ? 'type'
      : d.keySize !== template.keySize ? 'keySize'
        : d.valueSize !== template.valueSize ? 'valueSize'
          : (d.flags & ignored) !== (template.flags & ignored) ? 'flags'
            : sizedByEntries && d.maxEntries !== template.maxEntries ? 'maxEntries' : undefined;
    if (mismatch !== undefined) {
      throw new MapError(EINVAL, `map ${outerName}: map ${map.name} does not match the inner map template (${mismatch})`);
    }
    return map;
  };
}

export class ArrayOfMapsMap extends FdArray<BpfMap, BpfMap | number> {
  private readonly check: (value: BpfMap | number) => BpfMap;

  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx);
    this.check = innerMapCheck(def, ctx, this.name);
  }

  override lookup(key: Uint8Array, cpu: number): number {
    this.checkKey(key);
    return this.slot(u32At(key))?.pointer ?? 0;
  }

  /** Takes a BpfMap or an fd (for set); always stores the BpfMap. */
  protected accept(value: BpfMap | number): BpfMap {
    return this.check(value);
  }
}

/**
 * HASH_OF_MAPS: keys as in a hash map (bytes, or numbers when 4 or 8 bytes
 * wide), values maps. JS set(key, map | fd, flags = BPF_ANY) follows the hash
 * update rules (EEXIST, ENOENT, E2BIG when full, EINVAL); delete is 0 or -ENOENT.
 */
export class HashOfMapsMap extends BpfMap {
  private readonly index = new Map<KeyId, { readonly key: Uint8Array; readonly map: BpfMap }>();
  private readonly keyId: KeyIdFn;
  private readonly check: (value: BpfMap | number) => BpfMap;

  constructor(def: ValidDefinition, ctx: MapContext) {
    super(def, ctx);
    this.check = innerMapCheck(def, ctx, this.name);
    this.keyId = keyIdFunction(def.keySize);
  }

  override lookup(key: Uint8Array, cpu: number): number {
    this.checkKey(key);
    return this.index.get(this.keyId(key))?.map.pointer ?? 0;
  }

  override updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    return -EOPNOTSUPP;
  }

  override deleteElem(key: BytesInput): number {
    return this.index.delete(this.keyId(this.jsKey(key))) ? 0 : -ENOENT;
  }

  override get size(): number {
    return this.index.size;
  }

  override forget(map: BpfMap): void {
    for (const [id, entry] of this.index) if (entry.map === map) this.index.delete(id);
  }

  get(key: BytesInput): BpfMap | undefined {
    return this.index.get(this.keyId(this.jsKey(key)))?.map;
  }

  set(key: BytesInput, value: BpfMap | number, flags: number = BPF_ANY): this {
    this.assertWritable('set');
    const bytes = this.jsKey(key);
    const id = this.keyId(bytes);
    const exists = this.index.has(id);
    const result = checkUpdateFlags(flags) || existenceError(flags, exists)
      || (!exists && this.index.size >= this.maxEntries ? -E2BIG : 0);
    orThrow(result, this.name, 'set');
    this.index.set(id, { key: bytes.slice(), map: this.check(value) });
    return this;
  }

  has(key: BytesInput): boolean {
    return this.index.has(this.keyId(this.jsKey(key)));
  }

  clear(): void {
    this.assertWritable('clear');
    this.index.clear();
  }

  *keys(): IterableIterator<Uint8Array> {
    for (const entry of this.index.values()) yield entry.key.slice();
  }

  *values(): IterableIterator<BpfMap> {
    for (const entry of this.index.values()) yield entry.map;
  }

  *entries(): IterableIterator<[Uint8Array, BpfMap]> {
    for (const entry of this.index.values()) yield [entry.key.slice(), entry.map];
  }

  [Symbol.iterator](): IterableIterator<[Uint8Array, BpfMap]> {
    return this.entries();
  }

  private jsKey(key: BytesInput): Uint8Array {
    return toBytes(key, this.keySize, `map ${this.name}: key`);
  }
}
