// `ebpf-js conformance [--engine E] PATH...` runs `.data` cases and prints
// PASS/FAIL per file and a final `N passed, M failed`.
// `ebpf-js conformance-plugin [MEMHEX] [--jit|--interpret]` speaks the
// bpf_conformance plugin protocol: program as hex bytes on stdin, r0 in hex
// on stdout (exit 0), or one line of error message on stdout (exit 1).

import { readFileSync } from 'node:fs';
import { conformanceVm, DEFAULT_CASE_BUDGET, findDataFiles, runDataFile } from '../conformance.js';
import { parseHexBytes } from '../datafile.js';
import { EbpfError, UsageError } from '../errors.js';
import type { EngineName } from '../vm.js';
import { engineOption, hex, intOption, parse } from './args.js';

export function conformanceCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parse(args, {
    engine: { type: 'string' },
    budget: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (positionals.length === 0) throw new UsageError('usage: ebpf-js conformance [--engine interp|jit] [--quiet] PATH...');
  const engine = engineOption(values.engine);
  const budget = intOption('budget', values.budget, 1) ?? DEFAULT_CASE_BUDGET;
  let files: string[];
  try {
    files = findDataFiles(positionals);
  } catch (e) {
    throw new UsageError(`cannot read ${positionals.join(' ')}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const outcome = runDataFile(file, engine, budget);
    if (outcome.passed) {
      passed++;
      if (values.quiet !== true) out(`PASS ${file}`);
    } else {
      failed++;
      out(`FAIL ${file}: ${outcome.detail}`);
    }
  }
  out(`${passed} passed, ${failed} failed`);
  return failed === 0 && files.length > 0 ? 0 : 1;
}

export function conformancePluginCommand(args: string[], stdin: () => string, out: (s: string) => void): number {
  let engine: EngineName = 'jit';
  let memHex: string | undefined;
  for (const a of args) {
    if (a === '--jit') engine = 'jit';
    else if (a === '--interpret') engine = 'interp';
    else if (a.startsWith('--')) {
      out(`unknown option ${a}`);
      return 1;
    } else if (memHex === undefined) memHex = a;
    else {
      out(`unexpected argument ${a}`);
      return 1;
    }
  }
  try {
    engineOption(engine);
    const program = parseHexBytes(stdin().split('\n')[0] ?? '');
    const mem = memHex === undefined || memHex.trim() === '' ? undefined : parseHexBytes(memHex);
    const r0 = conformanceVm(engine, DEFAULT_CASE_BUDGET).load(program).run(mem);
    out(hex(r0));
    return 0;
  } catch (e) {
    if (!(e instanceof EbpfError)) throw e;
    out(e.message.replace(/\s*\n\s*/g, ' '));
    return 1;
  }
}

export function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}
