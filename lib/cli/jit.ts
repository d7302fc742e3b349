// `ebpf-js jit FILE [--budget] [--helpers linux|conformance] [--section NAME | --program NAME]`:
// prints the JavaScript the JIT generates for a program, with a comment per
// basic block giving its pc range and disassembly. The helper set decides
// which calls load, as for `run`. FILE may be an ELF object (clang -target
// bpf -c): --section or --program picks the program as for `run`, and where
// the object has .BTF.ext line info, the C source line (`file:line: text`)
// stands before the code of each new line. --source-map appends
// `//# sourceURL=ebpf-js/NAME.js` and an inline source map (base64 JSON)
// from the printed code to BPF lines (NAME.bpf, line pc + 1) and C lines.

import { basename } from 'node:path';
import { loadObject } from '../elf/index.js';
import { UsageError } from '../errors.js';
import { parse } from './args.js';
import { isAssemblyPath, readInput, readText } from './io.js';
import { isElf, pickProgram } from './run-object.js';
import { runVm } from './run.js';

const USAGE = 'usage: ebpf-js jit FILE [--budget] [--source-map] [--helpers linux|conformance] [--section NAME | --program NAME]';

export function jitCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parse(args, {
    budget: { type: 'boolean' }, 'source-map': { type: 'boolean' }, helpers: { type: 'string' }, section: { type: 'string' }, program: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const file = positionals[0]!;
  const vm = runVm(values.helpers, 'jit', undefined, () => {});
  const bytes = isAssemblyPath(file) ? undefined : readInput(file);
  let prog;
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  if (bytes !== undefined && isElf(bytes)) {
    prog = pickProgram(loadObject(vm, bytes), { section: str('section'), program: str('program') }).prog;
  } else {
    if (values.section !== undefined || values.program !== undefined) throw new UsageError('--section and --program take an ELF object');
    prog = vm.load(bytes ?? readText(file), { name: basename(file).replace(/\.[^.]*$/, '') });
  }
  out(prog.jitSource({ budget: values.budget === true, sourceMap: values['source-map'] === true }).replace(/\n$/, ''));
  return 0;
}
