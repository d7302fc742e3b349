// Parsing a .BTF section: the header, the string section, and each type
// record, with every offset, length, kind and type id checked. Nothing is
// allocated in proportion to a count read from the input before that count
// was checked against the bytes that must hold it.
//
// What it does not check (the kernel's verifier does, loading is not ours):
// that a struct's members fit its size, that INT encodings are sensible
// beyond their size and bit range, or that names are valid C identifiers.
// Code that follows types (Btf.resolve, sizeOf, decodeValue) guards cycles.

import { UsageError } from '../errors.js';
import { BTF_SECTION, SectionReader } from './error.js';
import { BTF_KINDS, referencedIds, type BtfKindName, type BtfMember, type BtfType } from './types.js';
import { Btf } from './btf.js';

export const BTF_MAGIC = 0xeb9f;
const HEADER_SIZE = 24;
const RECORD = 12;

const KIND_NAMES: readonly (BtfKindName | undefined)[] = (() => {
  const names: (BtfKindName | undefined)[] = [];
  for (const [name, n] of Object.entries(BTF_KINDS)) names[n] = name as BtfKindName;
  return names;
})();

const DECODER = new TextDecoder('utf-8');

/** The strings of a BTF string section. */
export class StringTable {
  constructor(private readonly bytes: Uint8Array) {}
  /** The NUL-terminated string at `index`; `r` and `at` say where the index was read, for the error. */
  get(index: number, r: SectionReader, at: number, what = 'name'): string {
    if (index >= this.bytes.byteLength) {
      r.fail(`${what} offset ${index} is outside the string section (${this.bytes.byteLength} bytes)`, at);
    }
    // The section's last byte was checked to be NUL, so this always finds one.
    const end = this.bytes.indexOf(0, index);
    return DECODER.decode(this.bytes.subarray(index, end));
  }
}

interface Header { typeStart: number; typeEnd: number; strStart: number; strEnd: number }

function readHeader(r: SectionReader): Header {
  const magic = r.u16(0, 'magic');
  if (magic !== BTF_MAGIC) {
    r.fail(magic === 0x9feb ? 'big-endian BTF is not supported' : `bad magic 0x${magic.toString(16)} (want 0xeb9f)`, 0);
  }
  const version = r.u8(2, 'version');
  if (version !== 1) r.fail(`version ${version} is not 1`, 2);
  const hdrLen = r.u32(4, 'hdr_len');
  if (hdrLen < HEADER_SIZE) r.fail(`hdr_len ${hdrLen} is shorter than the ${HEADER_SIZE}-byte header`, 4);
  r.need(0, hdrLen, 'header (hdr_len)');
  // A longer header (a newer format) is fine only when its extra bytes are zero, as the kernel requires.
  for (let i = HEADER_SIZE; i < hdrLen; i++) if (r.bytes[i] !== 0) r.fail('unknown non-zero header field', i);
  const typeOff = r.u32(8, 'type_off');
  const typeLen = r.u32(12, 'type_len');
  const strOff = r.u32(16, 'str_off');
  const strLen = r.u32(20, 'str_len');
  const data = r.bytes.byteLength - hdrLen;
  if (typeOff % 4 !== 0) r.fail(`type_off ${typeOff} is not 4-byte aligned`, 8);
  if (typeLen % 4 !== 0) r.fail(`type_len ${typeLen} is not a multiple of 4`, 12);
  if (typeOff > data || typeLen > data - typeOff) {
    r.fail(`type section [${typeOff}, ${typeOff + typeLen}) lies outside the ${data} data bytes`, 8);
  }
  if (strOff > data || strLen > data - strOff) {
    r.fail(`string section [${strOff}, ${strOff + strLen}) lies outside the ${data} data bytes`, 16);
  }
  if (typeLen > 0 && strLen > 0 && typeOff < strOff + strLen && strOff < typeOff + typeLen) {
    r.fail('type and string sections overlap', 16);
  }
  const strStart = hdrLen + strOff;
  const strEnd = strStart + strLen;
  if (strLen === 0 || r.bytes[strStart] !== 0) r.fail('string section must start with an empty string', strStart);
  if (r.bytes[strEnd - 1] !== 0) r.fail('string section does not end with NUL', strEnd - 1);
  return { typeStart: hdrLen + typeOff, typeEnd: hdrLen + typeOff + typeLen, strStart, strEnd };
}

/** Parses a .BTF section. Throws BtfError (an ElfError, section '.BTF') on malformed input. */
export function parseBtf(bytes: Uint8Array): Btf {
  if (!(bytes instanceof Uint8Array)) throw new UsageError('BTF must be given as a Uint8Array');
  const r = new SectionReader(bytes, BTF_SECTION);
  const h = readHeader(r);
  const strings = new StringTable(bytes.subarray(h.strStart, h.strEnd));
  const types: BtfType[] = [{ kind: 'void', id: 0, name: '', offset: 0 }];
  let pos = h.typeStart;
  while (pos < h.typeEnd) {
    const t = readType(r, strings, pos, h.typeEnd, types.length);
    types.push(t.type);
    pos = t.next;
  }
  for (const t of types) {
    for (const ref of referencedIds(t)) {
      if (ref >= types.length) r.fail(`type ${t.id} (${t.kind}) refers to type ${ref}, but there are ${types.length} types`, t.offset);
    }
  }
  return new Btf(types, strings, r);
}

function readType(r: SectionReader, s: StringTable, at: number, end: number, id: number): { type: BtfType; next: number } {
  if (end - at < RECORD) r.fail(`type ${id}: truncated record (${end - at} bytes left)`, at);
  const nameOff = r.u32(at, 'name_off');
  const info = r.u32(at + 4, 'info');
  const sizeOrType = r.u32(at + 8, 'size/type');
  const vlen = info & 0xffff;
  const kindNum = (info >>> 24) & 0x1f;
  const kflag = info >>> 31 === 1;
  if ((info & 0x60ff0000) !== 0) r.fail(`type ${id}: reserved info bits set (0x${info.toString(16)})`, at + 4);
  const kind = KIND_NAMES[kindNum];
  if (kind === undefined) r.fail(`type ${id}: unknown kind ${kindNum}`, at + 4);
  const name = s.get(nameOff, r, at);
  const base = { id, name, offset: at };
  const extra = at + RECORD;
  /** Checks that `n` records of `size` bytes fit before the end of the type section. */
  const room = (n: number, size: number): void => {
    if (n * size > end - extra) r.fail(`type ${id} (${kind}): ${n} records of ${size} bytes run past the type section`, at);
  };
  const noVlen = (): void => { if (vlen !== 0) r.fail(`type ${id} (${kind}): vlen ${vlen} must be 0`, at + 4); };
  const enumSize = (): void => {
    if (![1, 2, 4, 8].includes(sizeOrType)) r.fail(`type ${id} (${kind}): size ${sizeOrType} is not 1, 2, 4 or 8`, at + 8);
  };
  switch (kind) {
    case 'int': {
      noVlen();
      room(1, 4);
      const enc = r.u32(extra, 'int encoding');
      const bits = enc & 0xff;
      const bitOffset = (enc >>> 16) & 0xff;
      const encoding = (enc >>> 24) & 0xf;
      if (![1, 2, 4, 8, 16].includes(sizeOrType)) r.fail(`type ${id} (int): size ${sizeOrType} is not 1, 2, 4, 8 or 16`, at + 8);
      if ((enc & 0xf000ff00) !== 0 || bits === 0 || bits + bitOffset > sizeOrType * 8) {
        r.fail(`type ${id} (int): bad encoding 0x${enc.toString(16)} for size ${sizeOrType}`, extra);
      }
      return {
        type: { ...base, kind, size: sizeOrType, bits, bitOffset, signed: (encoding & 1) !== 0, char: (encoding & 2) !== 0, bool: (encoding & 4) !== 0 },
        next: extra + 4,
      };
    }
    case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
      noVlen();
      return { type: { ...base, kind, type: sizeOrType }, next: extra };
    case 'array': {
      noVlen();
      room(1, 12);
      return {
        type: { ...base, kind, type: r.u32(extra, 'array type'), indexType: r.u32(extra + 4, 'index type'), nelems: r.u32(extra + 8, 'nelems') },
        next: extra + 12,
      };
    }
    case 'struct': case 'union': {
      room(vlen, 12);
      const members: BtfMember[] = [];
      for (let i = 0; i < vlen; i++) {
        const m = extra + i * 12;
        const off = r.u32(m + 8, 'member offset');
        members.push({
          name: s.get(r.u32(m, 'member name'), r, m, 'member name'),
          type: r.u32(m + 4, 'member type'),
          bitOffset: kflag ? off & 0xffffff : off,
          bitfieldSize: kflag ? off >>> 24 : 0,
        });
      }
      return { type: { ...base, kind, size: sizeOrType, members }, next: extra + vlen * 12 };
    }
    case 'enum': {
      enumSize();
      room(vlen, 8);
      const values = [];
      for (let i = 0; i < vlen; i++) {
        const e = extra + i * 8;
        const v = kflag ? r.i32(e + 4, 'enum value') : r.u32(e + 4, 'enum value');
        values.push({ name: s.get(r.u32(e, 'enumerator name'), r, e, 'enumerator name'), value: v });
      }
      return { type: { ...base, kind, size: sizeOrType, signed: kflag, values }, next: extra + vlen * 8 };
    }
    case 'enum64': {
      enumSize();
      room(vlen, 12);
      const values = [];
      for (let i = 0; i < vlen; i++) {
        const e = extra + i * 12;
        const raw = (BigInt(r.u32(e + 8, 'enum64 hi')) << 32n) | BigInt(r.u32(e + 4, 'enum64 lo'));
        values.push({ name: s.get(r.u32(e, 'enumerator name'), r, e, 'enumerator name'), value: kflag ? BigInt.asIntN(64, raw) : raw });
      }
      return { type: { ...base, kind, size: sizeOrType, signed: kflag, values }, next: extra + vlen * 12 };
    }
    case 'fwd':
      noVlen();
      return { type: { ...base, kind, union: kflag }, next: extra };
    case 'func':
      if (vlen > 2) r.fail(`type ${id} (func): linkage ${vlen} is not static, global or extern`, at + 4);
      return { type: { ...base, kind, type: sizeOrType, linkage: vlen }, next: extra };
    case 'func_proto': {
      room(vlen, 8);
      const params = [];
      for (let i = 0; i < vlen; i++) {
        const p = extra + i * 8;
        params.push({ name: s.get(r.u32(p, 'parameter name'), r, p, 'parameter name'), type: r.u32(p + 4, 'parameter type') });
      }
      return { type: { ...base, kind, returnType: sizeOrType, params }, next: extra + vlen * 8 };
    }
    case 'var': {
      noVlen();
      room(1, 4);
      const linkage = r.u32(extra, 'var linkage');
      if (linkage > 2) r.fail(`type ${id} (var): linkage ${linkage} is not static, global or extern`, extra);
      return { type: { ...base, kind, type: sizeOrType, linkage }, next: extra + 4 };
    }
    case 'datasec': {
      room(vlen, 12);
      const vars = [];
      for (let i = 0; i < vlen; i++) {
        const v = extra + i * 12;
        vars.push({ type: r.u32(v, 'var type'), offset: r.u32(v + 4, 'var offset'), size: r.u32(v + 8, 'var size') });
      }
      return { type: { ...base, kind, size: sizeOrType, vars }, next: extra + vlen * 12 };
    }
    case 'float':
      noVlen();
      if (![2, 4, 8, 12, 16].includes(sizeOrType)) r.fail(`type ${id} (float): size ${sizeOrType} is not 2, 4, 8, 12 or 16`, at + 8);
      return { type: { ...base, kind, size: sizeOrType }, next: extra };
    case 'decl_tag': {
      noVlen();
      room(1, 4);
      const componentIdx = r.i32(extra, 'component_idx');
      if (componentIdx < -1) r.fail(`type ${id} (decl_tag): component_idx ${componentIdx} is below -1`, extra);
      return { type: { ...base, kind, type: sizeOrType, componentIdx }, next: extra + 4 };
    }
  }
}
