// .BTF.ext: per ELF section, function info (which BTF FUNC starts at which
// instruction), line info (instruction -> source file, line text, line and
// column) and CO-RE relocations. Names and strings are offsets into the .BTF
// string section. Instruction offsets are in bytes from the start of the ELF
// section, as clang writes them (libbpf divides by 8 when loading), and must
// be multiples of 8.
//
// Records may be longer than the ones known here (a newer format); the
// extra bytes are skipped, as libbpf does. Each record block is checked
// against the block's length before anything is read or allocated.

import { UsageError } from '../errors.js';
import type { Btf } from './btf.js';
import { BTF_EXT_SECTION, SectionReader } from './error.js';
import { BTF_MAGIC } from './parse.js';

export interface FuncInfo { insnOff: number; typeId: number }
export interface LineInfo { insnOff: number; file: string; line: string; lineNum: number; col: number }
export interface CoreRelo { insnOff: number; typeId: number; accessStr: string; kind: number }
export interface BtfExt {
  funcInfo: Map<string, FuncInfo[]>;
  lineInfo: Map<string, LineInfo[]>;
  coreRelos: Map<string, CoreRelo[]>;
}

/** libbpf's enum bpf_core_relo_kind, for messages. */
export const CORE_RELO_KINDS: readonly string[] = [
  'field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64', 'field_rshift_u64',
  'type_id_local', 'type_id_target', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
];

export function coreReloKindName(kind: number): string {
  return CORE_RELO_KINDS[kind] ?? `kind ${kind}`;
}

const HEADER_SIZE = 24;
const CORE_HEADER_SIZE = 32;

/** Parses .BTF.ext against its .BTF. Throws BtfError (section '.BTF.ext') on malformed input. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  if (!(bytes instanceof Uint8Array)) throw new UsageError('.BTF.ext must be given as a Uint8Array');
  const r = new SectionReader(bytes, BTF_EXT_SECTION);
  const magic = r.u16(0, 'magic');
  if (magic !== BTF_MAGIC) r.fail(`bad magic 0x${magic.toString(16)} (want 0xeb9f)`, 0);
  const version = r.u8(2, 'version');
  if (version !== 1) r.fail(`version ${version} is not 1`, 2);
  const hdrLen = r.u32(4, 'hdr_len');
  if (hdrLen < HEADER_SIZE) r.fail(`hdr_len ${hdrLen} is shorter than the ${HEADER_SIZE}-byte header`, 4);
  r.need(0, hdrLen, 'header (hdr_len)');
  const block = (field: number, name: string): { start: number; end: number } => {
    const off = r.u32(field, `${name}_off`);
    const len = r.u32(field + 4, `${name}_len`);
    const data = bytes.byteLength - hdrLen;
    if (off > data || len > data - off) r.fail(`${name} [${off}, ${off + len}) lies outside the ${data} data bytes`, field);
    return { start: hdrLen + off, end: hdrLen + off + len };
  };
  const ints = (at: number, what: string): number => r.u32(at, what);
  const str = (at: number, what: string): string => btf.strings.get(r.u32(at, what), r, at, what);
  const typeId = (at: number): number => {
    const id = r.u32(at, 'type_id');
    if (id >= btf.types.length) r.fail(`type_id ${id} is not a type (there are ${btf.types.length})`, at);
    return id;
  };
  const insnOff = (at: number): number => {
    const off = r.u32(at, 'insn_off');
    if (off % 8 !== 0) r.fail(`insn_off ${off} is not a multiple of 8`, at);
    return off;
  };
  const funcInfo = readBlocks(r, block(8, 'func_info'), 8, 'func_info', str,
    (at): FuncInfo => ({ insnOff: insnOff(at), typeId: typeId(at + 4) }));
  const lineInfo = readBlocks(r, block(16, 'line_info'), 16, 'line_info', str, (at): LineInfo => {
    const lineCol = ints(at + 12, 'line_col');
    return { insnOff: insnOff(at), file: str(at + 4, 'file name'), line: str(at + 8, 'line'), lineNum: lineCol >>> 10, col: lineCol & 0x3ff };
  });
  const coreRelos = hdrLen >= CORE_HEADER_SIZE
    ? readBlocks(r, block(24, 'core_relo'), 16, 'core_relo', str, (at): CoreRelo => ({
      insnOff: insnOff(at), typeId: typeId(at + 4), accessStr: str(at + 8, 'access string'), kind: ints(at + 12, 'kind'),
    }))
    : new Map<string, CoreRelo[]>();
  return { funcInfo, lineInfo, coreRelos };
}

/**
 * One info block: u32 record size, then per ELF section { u32 name offset,
 * u32 count, count records }. An empty block (length 0) has no sections.
 */
function readBlocks<T>(
  r: SectionReader, b: { start: number; end: number }, minRecord: number, what: string,
  str: (at: number, what: string) => string, record: (at: number) => T,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  if (b.start === b.end) return out;
  if (b.end - b.start < 4) r.fail(`${what}: block of ${b.end - b.start} bytes has no record size`, b.start);
  const size = r.u32(b.start, `${what} record size`);
  if (size < minRecord || size % 4 !== 0) r.fail(`${what}: record size ${size} (need a multiple of 4, at least ${minRecord})`, b.start);
  let pos = b.start + 4;
  while (pos < b.end) {
    if (b.end - pos < 8) r.fail(`${what}: truncated section header (${b.end - pos} bytes left)`, pos);
    const section = str(pos, 'section name');
    const count = r.u32(pos + 4, `${what} count`);
    if (count === 0) r.fail(`${what}: section ${section} has no records`, pos + 4);
    if (count * size > b.end - pos - 8) r.fail(`${what}: ${count} records of ${size} bytes run past the block`, pos + 4);
    const list = out.get(section) ?? [];
    for (let i = 0; i < count; i++) list.push(record(pos + 8 + i * size));
    out.set(section, list);
    pos += 8 + count * size;
  }
  return out;
}

/** The line entry covering byte offset `insnOff` (the last entry at or before it), from one section's sorted list. */
export function lineAt(lines: readonly LineInfo[], insnOff: number): LineInfo | undefined {
  let lo = 0;
  let hi = lines.length - 1;
  let found: LineInfo | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const l = lines[mid]!;
    if (l.insnOff <= insnOff) { found = l; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}
