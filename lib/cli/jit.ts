// `ebpf-js jit FILE [--budget] [--helpers linux|conformance]`: prints the
// JavaScript the JIT generates for a program, with a comment per basic block
// giving its pc range and disassembly. The helper set decides which calls
// load, as for `run`.

import { UsageError } from '../errors.js';
import { parse } from './args.js';
import { isAssemblyPath, readInput, readText } from './io.js';
import { runVm } from './run.js';

export function jitCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parse(args, { budget: { type: 'boolean' }, helpers: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('usage: ebpf-js jit FILE [--budget] [--helpers linux|conformance]');
  const file = positionals[0]!;
  const vm = runVm(values.helpers, 'jit', undefined, () => {});
  const prog = vm.load(isAssemblyPath(file) ? readText(file) : readInput(file));
  out(prog.jitSource({ budget: values.budget === true }).replace(/\n$/, ''));
  return 0;
}
