// `ebpf-js inspect prog.o [--json]`: what an object holds once loaded — its
// programs (section, kind, instructions), maps (type, sizes, entries,
// flags), global data sections with their variables' values (through BTF),
// a BTF summary and the license.

import { isDataSectionName, loadObject } from '../elf/index.js';
import { UsageError } from '../errors.js';
import { Vm } from '../vm.js';
import { parse } from './args.js';
import { readInput } from './io.js';

export const INSPECT_USAGE = 'usage: ebpf-js inspect FILE.o [--json]';

/** JSON for decoded values: bigints as decimal strings. */
function show(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export function inspectCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError(INSPECT_USAGE);
  const obj = loadObject(new Vm(), readInput(positionals[0]!));
  const programs = [...obj.programs.values()].map((p) => ({
    name: p.name, section: p.section, kind: p.kind, insns: p.prog.program.slotCount,
  }));
  const all = [...obj.maps.values()].map((m) => m.describe());
  const maps = all.filter((m) => !isDataSectionName(m.name));
  const data = all.filter((m) => isDataSectionName(m.name)).map((m) => ({
    name: m.name, size: m.valueSize, readonly: (m.flags & 0x80) !== 0, variables: obj.globals(m.name),
  }));
  const btf = obj.btf === undefined ? null : { types: obj.btf.types.length - 1 };
  if (values.json === true) {
    out(JSON.stringify({ license: obj.license ?? null, btf, programs, maps, data }, show, 2));
    return 0;
  }
  out(`license: ${obj.license ?? '(none)'}`);
  out(`btf: ${btf === null ? '(none)' : `${btf.types} types`}`);
  out(`programs (${programs.length}):`);
  for (const p of programs) out(`  ${p.name}  section ${p.section}  kind ${p.kind}  ${p.insns} insns`);
  out(`maps (${maps.length}):`);
  for (const m of maps) {
    const flags = m.flags === 0 ? '' : `  flags 0x${m.flags.toString(16)}`;
    out(`  ${m.name}  ${m.type}  key ${m.keySize}  value ${m.valueSize}  max_entries ${m.maxEntries}${flags}`);
  }
  out(`global data (${data.length}):`);
  for (const d of data) {
    out(`  ${d.name}  ${d.size} bytes${d.readonly ? '  read-only to programs' : ''}`);
    for (const [name, value] of Object.entries(d.variables)) out(`    ${name} = ${typeof value === 'bigint' ? value : JSON.stringify(value, show)}`);
  }
  return 0;
}
