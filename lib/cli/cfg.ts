// `ebpf-js cfg FILE [--program NAME | --section NAME] [--format dot|svg|mermaid] [-o OUT] [--kconfig ...]`:
// draws a program's control-flow graph as the JIT's analyzer sees it (basic
// blocks per BPF function, branch edges, loops, tail-call sites, local calls).
// FILE is assembly (.asm/.s), raw bytecode, or an ELF object, whose program is
// picked as `run` picks it (its BTF line info, when present, puts the C lines
// in the blocks). The program is loaded (validated) but never run.

import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { buildCfgGraph, CFG_FORMATS, renderCfg, type CfgFormat } from '../cfg-render/index.js';
import { loadObject } from '../elf/index.js';
import { UsageError } from '../errors.js';
import type { LoadedProgram } from '../vm.js';
import { parse } from './args.js';
import { isAssemblyPath, readInput, readText } from './io.js';
import { KCONFIG_ARGS, kconfigOptions } from './kconfig-options.js';
import { isElf, pickProgram } from './run-object.js';
import { runVm } from './run.js';

export const CFG_USAGE = `usage: ebpf-js cfg FILE [--program NAME | --section NAME] [--format dot|svg|mermaid] [-o OUT]
      [--kconfig NAME=VALUE]... [--kconfig-file FILE]
  Draws the control-flow graph the JIT works from: one cluster per BPF
  function, one box per basic block (pc range and disassembly), edges for
  fall-through, jumps and taken (T) / not-taken (F) branches. Back edges
  (loops) are bold blue; blocks holding a tail call or callx are orange;
  local calls are dashed edges to the callee's entry block.
  FILE: assembly (.asm/.s), raw bytecode, or an ELF object (--program or
  --section picks the program as for run). --format defaults to dot; svg
  needs no Graphviz. -o writes to OUT instead of stdout. --kconfig and
  --kconfig-file give extern __kconfig values, as for run.`;

function formatOption(value: string | boolean | undefined): CfgFormat {
  if (value === undefined) return 'dot';
  if (typeof value === 'string' && (CFG_FORMATS as readonly string[]).includes(value)) return value as CfgFormat;
  throw new UsageError(`--format must be one of ${CFG_FORMATS.join(', ')}`);
}

export function cfgCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parse(args, {
    program: { type: 'string' }, section: { type: 'string' }, format: { type: 'string' }, output: { type: 'string', short: 'o' },
    ...KCONFIG_ARGS,
  });
  if (positionals.length !== 1) throw new UsageError(CFG_USAGE);
  const format = formatOption(values.format);
  const file = positionals[0]!;
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  // Linux helpers, so programs calling helpers validate; the interpreter, so nothing is compiled.
  const vm = runVm(undefined, 'interp', undefined, () => {});
  const bytes = isAssemblyPath(file) ? undefined : readInput(file);
  let prog: LoadedProgram;
  let title: string;
  if (bytes !== undefined && isElf(bytes)) {
    const picked = pickProgram(loadObject(vm, bytes, { kconfig: kconfigOptions(values) }), { section: str('section'), program: str('program') });
    prog = picked.prog;
    title = picked.name;
  } else {
    if (values.section !== undefined || values.program !== undefined) throw new UsageError('--section and --program take an ELF object');
    prog = vm.load(bytes ?? readText(file));
    title = basename(file);
  }
  const text = renderCfg(buildCfgGraph(prog.program, title, prog.sourceLines), format);
  const output = str('output');
  if (output === undefined) {
    out(text.replace(/\n$/, ''));
    return 0;
  }
  try {
    writeFileSync(output, text);
  } catch (e) {
    throw new UsageError(`cannot write ${output}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return 0;
}
