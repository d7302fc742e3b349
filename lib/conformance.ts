// Runs `.data` test cases (the bpf_conformance format) on an engine and
// reports pass/fail per file. Used by `ebpf-js conformance` and by our tests.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { conformanceHelpers, CONFORMANCE_UNWIND_HELPER } from './conformance-helpers.js';
import { errorMatches, parseDataFile, type DataCase } from './datafile.js';
import { EbpfError } from './errors.js';
import { Vm, type EngineName } from './vm.js';

export interface CaseOutcome {
  passed: boolean;
  /** Why it failed, or what it checked. */
  detail: string;
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/**
 * A Vm set up as the conformance suite expects: its helpers 0-5 (5
 * unwinding) and none of Linux's standard set, whose ids they share.
 */
export function conformanceVm(engine: EngineName, budget?: number): Vm {
  return new Vm({
    engine,
    standardHelpers: false,
    helpers: conformanceHelpers(),
    unwindHelper: CONFORMANCE_UNWIND_HELPER,
    ...(budget === undefined ? {} : { budget }),
  });
}

/** Loads and runs one case. `-- raw` wins over `-- asm` when both are given. */
export function runCase(c: DataCase, engine: EngineName, budget?: number): CaseOutcome {
  if (c.raw === undefined && c.asm === undefined) return { passed: false, detail: 'no -- asm or -- raw section' };
  if (c.result === undefined && c.error === undefined) return { passed: false, detail: 'no -- result or -- error section' };
  let r0: bigint;
  try {
    const vm = conformanceVm(engine, budget);
    const prog = vm.load(c.raw ?? c.asm!);
    // A copy, so a case can be run again with the same input.
    r0 = prog.run(c.mem === undefined ? undefined : c.mem.slice());
  } catch (e) {
    if (!(e instanceof EbpfError)) {
      return { passed: false, detail: `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` };
    }
    if (c.error === undefined) return { passed: false, detail: `unexpected error: ${e.message}` };
    if (!errorMatches(c.error, e.message)) {
      return { passed: false, detail: `error "${e.message}" does not match expected "${c.error}"` };
    }
    return { passed: true, detail: `error: ${e.message}` };
  }
  if (c.error !== undefined) return { passed: false, detail: `expected error "${c.error}", got r0 = ${hex(r0)}` };
  if (r0 !== c.result) return { passed: false, detail: `expected ${hex(c.result!)}, got ${hex(r0)}` };
  return { passed: true, detail: `r0 = ${hex(r0)}` };
}

/** Every `.data` file under the given files/folders, recursively, sorted. */
export function findDataFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name));
    } else if (p.endsWith('.data')) {
      out.push(p);
    }
  };
  for (const p of paths) walk(p);
  return out;
}

/** Instruction budget for a case, so a broken case cannot hang the runner. */
export const DEFAULT_CASE_BUDGET = 10_000_000;

export function runDataFile(path: string, engine: EngineName, budget = DEFAULT_CASE_BUDGET): CaseOutcome {
  try {
    return runCase(parseDataFile(readFileSync(path, 'utf8')), engine, budget);
  } catch (e) {
    if (e instanceof EbpfError) return { passed: false, detail: e.message };
    throw e;
  }
}
