// Values of `extern ... __kconfig` variables, encoded as libbpf encodes
// them (tools/lib/bpf/libbpf.c: find_kcfg_type, set_kcfg_value_tri,
// set_kcfg_value_num, set_kcfg_value_str). The C type of the extern decides
// the encoding:
//   bool (1-byte BTF INT with BOOL encoding)   'y' -> 1, 'n' -> 0 ('m' is an error); 0 / 1
//   enum libbpf_tristate (4 bytes)             'n' -> 0 (TRI_NO), 'y' -> 1 (TRI_YES), 'm' -> 2 (TRI_MODULE)
//   char (any 1-byte int)                      the character 'y' / 'n' / 'm', or a number 0..255
//   integers of 2, 4, 8 bytes                  the number, which must fit the type (signed or not)
//   char[N]                                    the string's UTF-8 bytes, truncated to N - 1, NUL-terminated
// JS values: `true`/`false` mean 'y'/'n'; strings 'y'/'n'/'m' are tristate
// values; other strings are numbers (decimal, 0x hex, optionally negative)
// except for char arrays, which take any string as it is.

import type { Btf } from '../btf/index.js';
import { UsageError } from '../errors.js';

export type KconfigValue = string | number | boolean | bigint;
export type KcfgType = 'bool' | 'tristate' | 'char' | 'int' | 'char_arr';

/** LINUX_KERNEL_VERSION when the kconfig option does not give one: KERNEL_VERSION(6, 8, 0). */
export const DEFAULT_KERNEL_VERSION = (6 << 16) + (8 << 8) + 0;

/** What libbpf knows how to fill in: the type's class, size, alignment and signedness; undefined when unsupported. */
export function kcfgType(btf: Btf, typeId: number): { type: KcfgType; size: number; align: number; signed: boolean } | undefined {
  const t = btf.resolved(typeId);
  switch (t.kind) {
    case 'int':
      if (t.bool) return t.size === 1 ? { type: 'bool', size: 1, align: 1, signed: false } : undefined;
      if (t.size === 1) return { type: 'char', size: 1, align: 1, signed: t.signed };
      if (![2, 4, 8].includes(t.size)) return undefined;
      return { type: 'int', size: t.size, align: t.size, signed: t.signed };
    case 'enum': case 'enum64':
      if (t.name !== 'libbpf_tristate' || t.size !== 4) return undefined;
      return { type: 'tristate', size: 4, align: 4, signed: false };
    case 'array': {
      if (t.nelems === 0 || kcfgType(btf, t.type)?.type !== 'char') return undefined;
      return { type: 'char_arr', size: t.nelems, align: 1, signed: false };
    }
    default:
      return undefined;
  }
}

const TRISTATE = /^[ynm]$/;
const NUMBER = /^-?(0x[0-9a-f]+|[0-9]+)$/i;

/** Writes `value` for extern `name` of class `kcfg` into `out` (its slot); UsageError naming `kconfig.NAME` when it does not fit. */
export function encodeKconfig(name: string, kcfg: { type: KcfgType; size: number; signed: boolean }, value: KconfigValue, out: Uint8Array): void {
  const bad = (why: string): never => {
    throw new UsageError(`kconfig.${name}: ${why}`);
  };
  if (kcfg.type === 'char_arr') {
    if (typeof value !== 'string') bad(`${typeof value} ${String(value)} for a char[${kcfg.size}] extern; give a string`);
    const bytes = new TextEncoder().encode(value as string);
    out.fill(0);
    out.set(bytes.subarray(0, kcfg.size - 1));
    return;
  }
  const tri = typeof value === 'boolean' ? (value ? 'y' : 'n') : typeof value === 'string' && TRISTATE.test(value) ? value : undefined;
  if (tri !== undefined) {
    switch (kcfg.type) {
      case 'bool':
        if (tri === 'm') bad("'m' (module) for a bool extern; use enum libbpf_tristate or char");
        out[0] = tri === 'y' ? 1 : 0;
        return;
      case 'tristate':
        new DataView(out.buffer, out.byteOffset, 4).setUint32(0, tri === 'y' ? 1 : tri === 'm' ? 2 : 0, true);
        return;
      case 'char':
        out[0] = tri.charCodeAt(0);
        return;
      default:
        bad(`'${tri}' for an integer extern; give a number`);
    }
  }
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) bad(`${value} is not an integer`);
    n = BigInt(value);
  } else if (typeof value === 'string' && NUMBER.test(value.trim())) {
    const s = value.trim();
    n = s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
  } else {
    return bad(`${JSON.stringify(value)} is not 'y', 'n', 'm', a boolean, a number or a numeric string`);
  }
  if (kcfg.type === 'tristate') bad(`the number ${n} for an enum libbpf_tristate extern; give 'y', 'n' or 'm'`);
  if (kcfg.type === 'bool' && n !== 0n && n !== 1n) bad(`${n} for a bool extern; give 0, 1, true or false`);
  const bits = BigInt(kcfg.size * 8);
  const fits = kcfg.signed ? n >= -(1n << (bits - 1n)) && n < 1n << (bits - 1n) : n >= 0n && n < 1n << bits;
  // libbpf accepts any u64 bit pattern for 8-byte externs; a negative number there is its two's complement.
  if (!fits && !(kcfg.size === 8 && n >= -(1n << 63n) && n < 1n << 64n)) bad(`${n} does not fit a ${kcfg.signed ? 'signed' : 'unsigned'} ${kcfg.size}-byte extern`);
  const u = BigInt.asUintN(Number(bits), n);
  for (let i = 0; i < kcfg.size; i++) out[i] = Number((u >> BigInt(8 * i)) & 0xffn);
}

/**
 * Kconfig values from text: a kernel `.config` (or /proc/config.gz
 * unpacked) or `NAME=VALUE` arguments. `# CONFIG_X is not set` means 'n';
 * a double-quoted value is a string (\" and \\ undone); anything else is
 * kept as written ('y', '250', '0x10') for encodeKconfig to interpret.
 * Blank lines and other comments are skipped; any other line is a
 * UsageError naming `what` and the line number.
 */
export function parseKconfigText(text: string, what = 'kconfig'): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const unset = /^# (\w+) is not set$/.exec(line);
    if (unset !== null) {
      out[unset[1]!] = 'n';
      return;
    }
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\w+)=(.*)$/.exec(line);
    if (m === null) throw new UsageError(`${what} line ${i + 1}: expected NAME=VALUE, got ${JSON.stringify(line.slice(0, 80))}`);
    const value = m[2]!;
    out[m[1]!] = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\(["\\])/g, '$1') : value;
  });
  return out;
}
