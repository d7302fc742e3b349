// Map keys and values (and global data) as JS values, read through their BTF
// type. The choices, so that decoding is lossless and predictable:
// - integers: number up to 4 bytes (signed per the BTF encoding), bigint for
//   8 and 16 bytes; bool -> boolean; bitfields -> number (bigint past 32 bits)
// - enums: the numeric value (number; bigint for enum64), not the name
// - floats: number; pointers: bigint (the address)
// - char arrays (elements a 1-byte int named `char` or with CHAR encoding):
//   a string when the bytes up to the first NUL are printable ASCII and every
//   byte after it is NUL (so the string plus zero fill gives the bytes back);
//   otherwise an array of numbers like any other array
// - structs: an object with a property per named member (members of
//   anonymous struct/union members appear directly, as in C); unions: every
//   member read from the same bytes; a VAR: its type; DATASEC: an object per
//   variable at the DATASEC's offsets
// - anything else (void, fwd, func, func_proto, 2-, 12- and 16-byte floats)
//   anywhere in the type: the whole result is undefined, so callers fall
//   back to the bytes.
// Malformed BTF (a member past its struct, a cycle by value, nesting past 64
// levels, more members than the bytes can hold) is a BtfError.

import { UsageError } from '../errors.js';
import type { Btf } from './btf.js';
import type { BtfType } from './types.js';

const MAX_DEPTH = 64;
const TEXT = new TextDecoder('utf-8');
const NOT_DECODABLE = Symbol('not decodable');

interface State { readonly btf: Btf; readonly view: DataView; readonly bytes: Uint8Array; budget: number }

/** Decodes `bytes` (exactly sizeOf(typeId) long, or covering every variable for a DATASEC) as type `typeId`. */
export function decodeValue(btf: Btf, typeId: number, bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new UsageError('decodeValue: bytes must be a Uint8Array');
  const t = btf.resolved(typeId);
  if (t.kind !== 'datasec') {
    const size = btf.sizeOf(typeId);
    if (bytes.byteLength !== size) {
      throw new UsageError(`decodeValue: type ${typeId} (${btf.typeName(typeId)}) is ${size} bytes, got ${bytes.byteLength}`);
    }
  }
  // Every node costs one unit; legitimate data has at most 8 bitfields per byte.
  const state: State = {
    btf, bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), budget: 1024 + 16 * bytes.byteLength,
  };
  const v = decode(state, typeId, 0, 0);
  return v === NOT_DECODABLE ? undefined : v;
}

function decode(s: State, id: number, at: number, depth: number): unknown {
  const t = s.btf.resolved(id);
  if (depth > MAX_DEPTH) s.btf.reader.fail(`type ${id}: nested more than ${MAX_DEPTH} levels (a cycle by value?)`, t.offset);
  if (--s.budget < 0) s.btf.reader.fail(`type ${id}: more members than its bytes can hold`, t.offset);
  switch (t.kind) {
    case 'int': {
      if (t.bool && t.size === 1) return s.view.getUint8(at) !== 0;
      if (t.bitOffset !== 0 || t.bits !== t.size * 8) return bits(s, at * 8 + t.bitOffset, t.bits, t.signed);
      return int(s, at, t.size, t.signed);
    }
    case 'enum': return int(s, at, t.size, t.signed);
    case 'enum64': return BigInt(int(s, at, t.size, t.signed));
    case 'float':
      if (t.size === 4) return s.view.getFloat32(at, true);
      if (t.size === 8) return s.view.getFloat64(at, true);
      return NOT_DECODABLE;
    case 'ptr': return s.view.getBigUint64(at, true);
    case 'var': return decode(s, t.type, at, depth + 1);
    case 'array': return array(s, t, at, depth);
    case 'struct': case 'union': {
      const out: Record<string, unknown> = {};
      for (const m of t.members) {
        const mt = s.btf.resolved(m.type);
        const off = m.bitOffset;
        let v: unknown;
        if (m.bitfieldSize !== 0) {
          if (off + m.bitfieldSize > t.size * 8) s.btf.reader.fail(`type ${t.id}: member '${m.name}' lies past the ${t.kind}`, t.offset);
          if (--s.budget < 0) s.btf.reader.fail(`type ${t.id}: more members than its bytes can hold`, t.offset);
          const signed = (mt.kind === 'int' || mt.kind === 'enum') && mt.signed;
          v = bits(s, at * 8 + off, m.bitfieldSize, signed);
        } else {
          if (off % 8 !== 0) s.btf.reader.fail(`type ${t.id}: member '${m.name}' is not byte aligned`, t.offset);
          const size = s.btf.sizeOf(m.type);
          if (off / 8 + size > t.size) s.btf.reader.fail(`type ${t.id}: member '${m.name}' lies past the ${t.kind}`, t.offset);
          v = decode(s, m.type, at + off / 8, depth + 1);
        }
        if (v === NOT_DECODABLE) return v;
        if (m.name !== '') define(out, m.name, v);
        else if (m.bitfieldSize === 0 && (mt.kind === 'struct' || mt.kind === 'union') && typeof v === 'object' && v !== null) {
          for (const [k, inner] of Object.entries(v)) define(out, k, inner);
        }
      }
      return out;
    }
    case 'datasec': {
      const out: Record<string, unknown> = {};
      for (const v of t.vars) {
        const vt = s.btf.types[v.type]!;
        if (vt.kind !== 'var') continue;
        if (at + v.offset + v.size > s.bytes.byteLength || s.btf.sizeOf(v.type) !== v.size) {
          s.btf.reader.fail(`datasec ${t.name}: variable '${vt.name}' [${v.offset}, ${v.offset + v.size}) does not fit its type or the ${s.bytes.byteLength} bytes`, t.offset);
        }
        const value = decode(s, vt.type, at + v.offset, depth + 1);
        if (value === NOT_DECODABLE) return value;
        define(out, vt.name, value);
      }
      return out;
    }
    default: return NOT_DECODABLE;
  }
}

function array(s: State, t: Extract<BtfType, { kind: 'array' }>, at: number, depth: number): unknown {
  const elem = s.btf.resolved(t.type);
  const size = s.btf.sizeOf(t.type);
  if (elem.kind === 'int' && elem.size === 1 && (elem.char || elem.name === 'char')) {
    const text = asText(s.bytes.subarray(at, at + t.nelems));
    if (text !== undefined) return text;
  }
  // Zero-sized elements carry nothing (and could be numerous): an empty array.
  if (size === 0) return [];
  const out: unknown[] = [];
  for (let i = 0; i < t.nelems; i++) {
    const v = decode(s, t.type, at + i * size, depth + 1);
    if (v === NOT_DECODABLE) return v;
    out.push(v);
  }
  return out;
}

/** Printable ASCII up to the first NUL with only NULs after it, else undefined. */
function asText(b: Uint8Array): string | undefined {
  let end = b.indexOf(0);
  if (end < 0) end = b.byteLength;
  for (let i = 0; i < b.byteLength; i++) {
    const c = b[i]!;
    if (i < end ? c < 0x20 || c > 0x7e : c !== 0) return undefined;
  }
  return TEXT.decode(b.subarray(0, end));
}

function int(s: State, at: number, size: number, signed: boolean): number | bigint {
  const v = s.view;
  switch (size) {
    case 1: return signed ? v.getInt8(at) : v.getUint8(at);
    case 2: return signed ? v.getInt16(at, true) : v.getUint16(at, true);
    case 4: return signed ? v.getInt32(at, true) : v.getUint32(at, true);
    case 8: return signed ? v.getBigInt64(at, true) : v.getBigUint64(at, true);
    default: {
      const raw = (v.getBigUint64(at + 8, true) << 64n) | v.getBigUint64(at, true);
      return signed ? BigInt.asIntN(128, raw) : raw;
    }
  }
}

/** `width` bits from bit `bitAt` (little-endian bit numbering, as BTF gives offsets). */
function bits(s: State, bitAt: number, width: number, signed: boolean): number | bigint {
  const first = Math.floor(bitAt / 8);
  const last = Math.ceil((bitAt + width) / 8);
  if (last > s.bytes.byteLength) s.btf.reader.fail(`bitfield at bit ${bitAt} lies past the value`, 0);
  let raw = 0n;
  for (let i = last - 1; i >= first; i--) raw = (raw << 8n) | BigInt(s.bytes[i]!);
  raw = BigInt.asUintN(width, raw >> BigInt(bitAt - first * 8));
  const v = signed ? BigInt.asIntN(width, raw) : raw;
  return width <= 32 ? Number(v) : v;
}

/** An own property even for names like `__proto__` (names come from the input). */
function define(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}
