// `ebpf-js inspect prog.o [--json] [--kconfig NAME=VALUE]... [--kconfig-file FILE]`:
// what an object holds once loaded — its programs (section, kind,
// instructions, C source files), maps (type, sizes, entries, flags, BTF key
// and value types), global data sections with their variables' values
// (through BTF), externs (__kconfig values and where they came from, weak
// __ksyms), a BTF summary and the license.

import { decodeValue, type Btf } from '../btf/index.js';
import { isDataSectionName, loadObject, type BpfObject, type ObjectExtern } from '../elf/index.js';
import { UsageError } from '../errors.js';
import { ArrayMap } from '../maps/index.js';
import { Vm } from '../vm.js';
import { parse } from './args.js';
import { readInput } from './io.js';
import { KCONFIG_ARGS, kconfigOptions } from './kconfig-options.js';

export const INSPECT_USAGE = `usage: ebpf-js inspect FILE.o [--json] [--kconfig NAME=VALUE]... [--kconfig-file FILE]
  --kconfig NAME=VALUE  a value for an extern __kconfig variable (y, n, m, a number or a string; repeatable)
  --kconfig-file FILE   values from a kernel .config (NAME=VALUE lines, "# NAME is not set" = n)`;

/** JSON for decoded values: bigints as decimal strings. */
function show(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}


export function inspectCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parse(args, {
    json: { type: 'boolean' }, ...KCONFIG_ARGS,
  });
  if (positionals.length !== 1) throw new UsageError(INSPECT_USAGE);
  const obj = loadObject(new Vm(), readInput(positionals[0]!), { kconfig: kconfigOptions(values) });
  const report = describeObject(obj);
  if (values.json === true) {
    out(JSON.stringify(report, show, 2));
    return 0;
  }
  const { btf, programs, maps, data, externs } = report;
  out(`license: ${obj.license ?? '(none)'}`);
  out(`btf: ${btf === null ? '(none)' : `${btf.types} types (${Object.entries(btf.kinds).map(([k, n]) => `${n} ${k}`).join(', ')})`}`);
  if (btf !== null && btf.datasecs.length > 0) out(`  datasecs: ${btf.datasecs.join(' ')}`);
  out(`programs (${programs.length}):`);
  for (const p of programs) {
    const lines = p.sourceFiles.length === 0 ? '' : `  lines from ${p.sourceFiles.join(', ')}`;
    out(`  ${p.name}  section ${p.section}  kind ${p.kind}  ${p.insns} insns${lines}`);
  }
  out(`maps (${maps.length}):`);
  for (const m of maps) {
    const flags = m.flags === 0 ? '' : `  flags 0x${m.flags.toString(16)}`;
    const types = m.keyType === undefined && m.valueType === undefined ? '' : `  (${m.keyType ?? '?'} -> ${m.valueType ?? '?'})`;
    out(`  ${m.name}  ${m.type}  key ${m.keySize}  value ${m.valueSize}  max_entries ${m.maxEntries}${flags}${types}`);
  }
  out(`global data (${data.length}):`);
  for (const d of data) {
    out(`  ${d.name}  ${d.size} bytes${d.readonly ? '  read-only to programs' : ''}`);
    for (const [name, value] of Object.entries(d.variables)) out(`    ${name} = ${typeof value === 'bigint' ? value : JSON.stringify(value, show)}`);
  }
  if (externs.length > 0) {
    out(`externs (${externs.length}):`);
    for (const e of externs) {
      const weak = e.weak ? ' weak' : '';
      if (e.kind === 'ksym') {
        out(`  ${e.name}  __ksym${weak}  = 0 (no kernel symbols here)`);
        continue;
      }
      const value = typeof e.seen === 'bigint' || typeof e.seen === 'number' ? String(e.seen) : JSON.stringify(e.seen);
      out(`  ${e.name}  __kconfig${weak}  ${e.type}  .kconfig+${e.offset}  = ${value} (${e.source === 'weak' ? 'not given: 0' : e.source})`);
    }
  }
  return 0;
}

function btfSummary(btf: Btf): { types: number; kinds: Record<string, number>; datasecs: string[] } {
  const kinds: Record<string, number> = {};
  for (const t of btf.types.slice(1)) kinds[t.kind] = (kinds[t.kind] ?? 0) + 1;
  const datasecs = btf.types.filter((t) => t.kind === 'datasec').map((t) => t.name);
  return { types: btf.types.length - 1, kinds, datasecs };
}

/** Everything inspect prints, as plain data (the --json output). */
export function describeObject(obj: BpfObject) {
  const programs = [...obj.programs.values()].map((p) => ({
    name: p.name, section: p.section, kind: p.kind, insns: p.prog.program.slotCount,
    sourceFiles: [...new Set((p.lineInfo ?? []).flatMap((l) => (l === undefined ? [] : [l.file])))],
  }));
  const all = [...obj.maps.values()].map((m) => m.describe());
  const typeName = (id: number | undefined) => (id === undefined || obj.btf === undefined ? undefined : obj.btf.typeName(id));
  const maps = all.filter((m) => !isDataSectionName(m.name) && m.name !== '.kconfig').map((m) => {
    const t = obj.mapTypes(m.name);
    const keyType = typeName(t.keyType);
    const valueType = typeName(t.valueType);
    return { ...m, ...(keyType === undefined ? {} : { keyType }), ...(valueType === undefined ? {} : { valueType }) };
  });
  const data = all.filter((m) => isDataSectionName(m.name)).map((m) => ({
    name: m.name, size: m.valueSize, readonly: (m.flags & 0x80) !== 0, variables: obj.globals(m.name),
  }));
  const btf = obj.btf === undefined ? null : btfSummary(obj.btf);
  // What programs read: each kconfig value decoded from the .kconfig map through its BTF type.
  const kconfigMap = obj.maps.get('.kconfig');
  const kconfig = kconfigMap instanceof ArrayMap ? kconfigMap.get(0) : undefined;
  const externs = obj.externs.map((e): ObjectExtern & { seen?: unknown } => {
    if (e.typeId === undefined || e.offset === undefined || e.size === undefined || kconfig === undefined || obj.btf === undefined) return e;
    return { ...e, seen: decodeValue(obj.btf, e.typeId, kconfig.subarray(e.offset, e.offset + e.size)) };
  });
  return { license: obj.license ?? null, btf, programs, maps, data, externs };
}
