// The inverse of decodeValue: JS values to bytes through a BTF type, so that
// JS can fill a map value or a `.rodata` configuration by field name, as
// libbpf skeletons do. Accepts what decodeValue returns (number or bigint
// for integers, enums and pointers, boolean for bool, a string for a char
// array, arrays, objects by member name; anonymous struct/union members'
// fields given directly). Members left out stay zero; unknown names, values
// out of an integer's range and strings too long for their array are
// UsageErrors (the caller's mistake); malformed BTF is a BtfError.

import { UsageError } from '../errors.js';
import type { Btf } from './btf.js';
import type { BtfComposite } from './types.js';

const MAX_DEPTH = 64;

/** `value` as sizeOf(typeId) bytes of type `typeId` (zero where `value` says nothing). */
export function encodeValue(btf: Btf, typeId: number, value: unknown): Uint8Array {
  const out = new Uint8Array(btf.sizeOf(typeId));
  encode(btf, new DataView(out.buffer), typeId, 0, value, 'value', 0);
  return out;
}

function encode(btf: Btf, view: DataView, id: number, at: number, value: unknown, path: string, depth: number): void {
  const t = btf.resolved(id);
  if (depth > MAX_DEPTH) btf.reader.fail(`type ${id}: nested more than ${MAX_DEPTH} levels (a cycle by value?)`, t.offset);
  switch (t.kind) {
    case 'int':
      if (t.bool && typeof value === 'boolean') value = value ? 1 : 0;
      writeBits(view, at * 8 + t.bitOffset, t.bits, integer(value, t.bits, t.signed, path));
      return;
    case 'enum': case 'enum64':
      writeBits(view, at * 8, t.size * 8, integer(value, t.size * 8, t.signed, path));
      return;
    case 'ptr':
      writeBits(view, at * 8, 64, integer(value, 64, false, path));
      return;
    case 'float':
      if (typeof value !== 'number' || (t.size !== 4 && t.size !== 8)) throw new UsageError(`${path}: expected a number for a ${t.size}-byte float`);
      if (t.size === 4) view.setFloat32(at, value, true); else view.setFloat64(at, value, true);
      return;
    case 'var':
      encode(btf, view, t.type, at, value, path, depth + 1);
      return;
    case 'array': {
      const size = btf.sizeOf(t.type);
      const elem = btf.resolved(t.type);
      if (typeof value === 'string' && elem.kind === 'int' && elem.size === 1) {
        const bytes = new TextEncoder().encode(value);
        if (bytes.length > t.nelems) throw new UsageError(`${path}: string of ${bytes.length} bytes does not fit char[${t.nelems}]`);
        new Uint8Array(view.buffer, at, bytes.length).set(bytes);
        return;
      }
      if (!Array.isArray(value) || value.length > t.nelems) throw new UsageError(`${path}: expected an array of at most ${t.nelems} elements`);
      value.forEach((v, i) => encode(btf, view, t.type, at + i * size, v, `${path}[${i}]`, depth + 1));
      return;
    }
    case 'struct': case 'union': {
      if (typeof value !== 'object' || value === null) throw new UsageError(`${path}: expected an object for ${btf.typeName(id)}`);
      const given = new Set(Object.keys(value));
      members(btf, view, t, at, value as Record<string, unknown>, given, path, depth);
      if (given.size > 0) throw new UsageError(`${path}: ${btf.typeName(id)} has no member ${[...given].join(', ')}`);
      return;
    }
    case 'datasec': {
      if (typeof value !== 'object' || value === null) throw new UsageError(`${path}: expected an object for datasec ${t.name}`);
      const given = new Set(Object.keys(value));
      for (const v of t.vars) {
        const vt = btf.types[v.type]!;
        if (vt.kind !== 'var' || !given.has(vt.name)) continue;
        given.delete(vt.name);
        if (at + v.offset + v.size > view.byteLength || btf.sizeOf(v.type) !== v.size) {
          btf.reader.fail(`datasec ${t.name}: variable '${vt.name}' does not fit its type or the ${view.byteLength} bytes`, t.offset);
        }
        encode(btf, view, vt.type, at + v.offset, (value as Record<string, unknown>)[vt.name], `${path}.${vt.name}`, depth + 1);
      }
      if (given.size > 0) throw new UsageError(`${path}: datasec ${t.name} has no variable ${[...given].join(', ')}`);
      return;
    }
    default:
      throw new UsageError(`${path}: a ${t.kind} cannot be written from JS`);
  }
}

/** Writes the members of `t` found in `value`, removing their names from `given` (anonymous members take their fields from `value` itself). */
function members(btf: Btf, view: DataView, t: BtfComposite, at: number, value: Record<string, unknown>, given: Set<string>, path: string, depth: number): void {
  for (const m of t.members) {
    const mt = btf.resolved(m.type);
    if (m.name === '') {
      if (m.bitfieldSize === 0 && (mt.kind === 'struct' || mt.kind === 'union')) {
        if (m.bitOffset % 8 !== 0) btf.reader.fail(`type ${t.id}: anonymous member is not byte aligned`, t.offset);
        members(btf, view, mt, at + m.bitOffset / 8, value, given, path, depth + 1);
      }
      continue;
    }
    if (!given.has(m.name)) continue;
    given.delete(m.name);
    const v = value[m.name];
    const where = `${path}.${m.name}`;
    if (m.bitfieldSize !== 0) {
      const signed = (mt.kind === 'int' || mt.kind === 'enum') && mt.signed;
      if (m.bitOffset + m.bitfieldSize > t.size * 8) btf.reader.fail(`type ${t.id}: member '${m.name}' lies past the ${t.kind}`, t.offset);
      writeBits(view, at * 8 + m.bitOffset, m.bitfieldSize, integer(typeof v === 'boolean' ? Number(v) : v, m.bitfieldSize, signed, where));
      continue;
    }
    if (m.bitOffset % 8 !== 0 || m.bitOffset / 8 + btf.sizeOf(m.type) > t.size) {
      btf.reader.fail(`type ${t.id}: member '${m.name}' is misaligned or lies past the ${t.kind}`, t.offset);
    }
    encode(btf, view, m.type, at + m.bitOffset / 8, v, where, depth + 1);
  }
}

/** `value` as a `bits`-wide two's-complement pattern, range-checked. */
function integer(value: unknown, bits: number, signed: boolean, path: string): bigint {
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
  else throw new UsageError(`${path}: expected an integer (number or bigint), got ${typeof value === 'number' ? value : typeof value}`);
  const b = BigInt(bits);
  const min = signed ? -(1n << (b - 1n)) : 0n;
  const max = signed ? (1n << (b - 1n)) - 1n : (1n << b) - 1n;
  if (v < min || v > max) throw new UsageError(`${path}: ${v} does not fit a ${signed ? 'signed' : 'unsigned'} ${bits}-bit integer`);
  return BigInt.asUintN(bits, v);
}

/** Writes `width` bits of `v` at bit `bitAt` (little-endian), leaving the other bits of the bytes touched as they were. */
function writeBits(view: DataView, bitAt: number, width: number, v: bigint): void {
  const first = Math.floor(bitAt / 8);
  const last = Math.ceil((bitAt + width) / 8);
  if (last > view.byteLength) throw new UsageError(`bits [${bitAt}, ${bitAt + width}) lie past the ${view.byteLength}-byte value`);
  let word = 0n;
  for (let i = last - 1; i >= first; i--) word = (word << 8n) | BigInt(view.getUint8(i));
  const shift = BigInt(bitAt - first * 8);
  const mask = ((1n << BigInt(width)) - 1n) << shift;
  word = (word & ~mask) | ((v << shift) & mask);
  for (let i = first; i < last; i++) {
    view.setUint8(i, Number(word & 0xffn));
    word >>= 8n;
  }
}
