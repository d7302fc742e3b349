// `ebpf-js jit FILE`: prints the JavaScript the JIT generates for a program,
// with a comment per basic block giving its pc range and disassembly.

import { UsageError } from '../errors.js';
import { conformanceVm } from '../conformance.js';
import { parse } from './args.js';
import { isAssemblyPath, readInput, readText } from './io.js';

export function jitCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parse(args, { budget: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('usage: ebpf-js jit FILE [--budget]');
  const file = positionals[0]!;
  const vm = conformanceVm('jit');
  const prog = vm.load(isAssemblyPath(file) ? readText(file) : readInput(file));
  out(prog.jitSource({ budget: values.budget === true }).replace(/\n$/, ''));
  return 0;
}
