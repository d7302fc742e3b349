// The differential fuzzer: random valid programs (test/fuzz/gen.ts) run on
// every available engine and on the reference interpreter must agree
// (test/fuzz/diff.ts). `npm test` runs DEFAULT_RUNS programs from a fixed
// seed; `npm run fuzz -- --runs N --seed S [--path P]` (test/fuzz/cli.mjs)
// runs this file with FUZZ_RUNS / FUZZ_SEED / FUZZ_PATH set, and then only
// the differential property runs.
//
// Also here: unit tests of the generator (every program validates; every
// instruction form, jump condition and atomic op occurs; runs end both
// normally and in errors) and of the comparator (a wrong r0, memory byte or
// error field is caught), and a check that a failure shrinks to a small
// program and is reported with its disassembly and the way to replay it.

import { writeFileSync, writeSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../lib/asm.js';
import { decodeSlots, OPCODES, type OpSpec } from '../lib/isa.js';
import { validateBytes } from '../lib/validate.js';
import {
  compareEngines, defaultPairs, vmEngine, type Engine, type EnginePair, type Outcome,
} from './fuzz/diff.js';
import { describeCase, fuzzCase, HELPER_IDS, MAX_SLOTS, type FuzzCase } from './fuzz/gen.js';

const DEFAULT_SEED = 0x0ebbf;
const DEFAULT_RUNS = 2_000;

interface Settings {
  readonly runs: number;
  readonly seed: number;
  readonly path: string | undefined;
  /** Set by `npm run fuzz`: a long run, progress printed, generator tests skipped. */
  readonly fuzzMode: boolean;
  /** Where `npm run fuzz` wants the failure report (JSON). */
  readonly reportFile: string | undefined;
}

function intFromEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer (got ${text})`);
  return n;
}

function readSettings(): Settings {
  const runs = intFromEnv('FUZZ_RUNS');
  const seed = intFromEnv('FUZZ_SEED');
  const path = process.env['FUZZ_PATH'];
  return {
    runs: runs ?? DEFAULT_RUNS,
    seed: seed ?? DEFAULT_SEED,
    path: path === undefined || path === '' ? undefined : path,
    fuzzMode: runs !== undefined || seed !== undefined,
    reportFile: process.env['FUZZ_REPORT'] || undefined,
  };
}

const SETTINGS = readSettings();
const VALIDATE = { helperExists: (id: number) => HELPER_IDS.includes(id) };

/** A one-word name for an outcome: 'result' or the error code. */
function outcomeName(o: Outcome): string {
  return o.kind === 'error' ? (o.facts['code'] ?? 'error') : o.kind;
}

interface FuzzRun {
  readonly failed: boolean;
  /** The failure report (empty when nothing failed). */
  readonly report: string;
  readonly seed: number;
  readonly path: string | null;
  readonly counterexample: FuzzCase | undefined;
  /** How often each outcome occurred (reference engine), by outcomeName. */
  readonly outcomes: ReadonlyMap<string, number>;
}

/**
 * Runs the differential property and, on failure, builds the report: what
 * differed, the shrunk program disassembled, and the command replaying it.
 */
function runFuzz(options: {
  seed: number;
  runs: number;
  path?: string | undefined;
  pairs?: readonly EnginePair[];
  progress?: (done: number) => void;
}): FuzzRun {
  const outcomes = new Map<string, number>();
  let done = 0;
  const property = fc.property(fuzzCase(), (c) => {
    const r = compareEngines(c.bytes, c.mem, { budget: c.budget, ...(options.pairs ? { pairs: options.pairs } : {}) });
    if (!r.ok) throw new Error(r.detail);
    const name = outcomeName(r.outcome);
    outcomes.set(name, (outcomes.get(name) ?? 0) + 1);
    done++;
    options.progress?.(done);
  });
  const details = fc.check(property, {
    seed: options.seed,
    numRuns: options.runs,
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  const base = { seed: details.seed, path: details.counterexamplePath, outcomes };
  if (!details.failed) return { ...base, failed: false, report: '', counterexample: undefined };
  const counterexample = details.counterexample?.[0];
  const detail = counterexample === undefined
    ? String(details.errorInstance)
    : compareEngines(counterexample.bytes, counterexample.mem, {
      budget: counterexample.budget, ...(options.pairs ? { pairs: options.pairs } : {}),
    }).detail;
  const report = [
    `differential fuzz failure after ${details.numRuns} program(s), shrunk ${details.numShrinks} time(s)`,
    `seed ${details.seed}, path ${details.counterexamplePath ?? '(none)'}`,
    detail,
    counterexample === undefined ? '(no counterexample)' : describeCase(counterexample),
    `reproduce: npm run fuzz -- --seed ${details.seed} --path ${details.counterexamplePath ?? ''}`,
  ].join('\n');
  return { ...base, failed: true, report, counterexample };
}

describe('differential fuzzing: every engine agrees with the interpreter', () => {
  const { runs, seed, path, fuzzMode } = SETTINGS;
  const timeout = fuzzMode ? 7 * 24 * 3600_000 : 60_000;
  it(`${runs} random programs (seed ${seed}${path === undefined ? '' : `, path ${path}`})`, () => {
    const start = Date.now();
    const every = Math.max(1_000, Math.ceil(runs / 20));
    const fuzzRun = runFuzz({
      seed,
      runs,
      path,
      progress: fuzzMode
        ? (done) => {
          if (done % every === 0) {
            const s = (Date.now() - start) / 1000;
            // Straight to fd 2: console output only leaves the worker once the test yields.
            writeSync(2, `fuzz: ${done}/${runs} programs, ${s.toFixed(1)} s, ${Math.round(done / s)}/s\n`);
          }
        }
        : undefined,
    });
    if (fuzzRun.failed) {
      if (SETTINGS.reportFile !== undefined) {
        writeFileSync(SETTINGS.reportFile, JSON.stringify({ seed: fuzzRun.seed, path: fuzzRun.path, report: fuzzRun.report }));
      }
      throw new Error(fuzzRun.report);
    }
    if (fuzzMode) {
      console.log(`fuzz: ${runs} programs agree (seed ${seed}) in ${((Date.now() - start) / 1000).toFixed(1)} s; outcomes:`,
        Object.fromEntries(fuzzRun.outcomes));
      return;
    }
    // Both kinds of ending occur, and the errors the generator aims at.
    const names = [...fuzzRun.outcomes.keys()];
    expect(names).toContain('result');
    for (const code of ['MEMORY_ACCESS', 'BUDGET_EXCEEDED', 'CALL_DEPTH_EXCEEDED', 'BAD_CALLX_TARGET']) {
      expect(names, `outcome ${code}`).toContain(code);
    }
    expect(fuzzRun.outcomes.get('result')!).toBeGreaterThan(runs / 4);
  }, timeout);
});

/** The specs used by the generated programs, with every program validated on the way. */
function sampleSpecs(cases: readonly FuzzCase[]): Map<OpSpec, number> {
  const used = new Map<OpSpec, number>();
  for (const c of cases) {
    for (const insn of validateBytes(c.bytes, VALIDATE).insns) used.set(insn.spec, (used.get(insn.spec) ?? 0) + 1);
  }
  return used;
}

function label(s: OpSpec): string {
  return `${s.mnemonic}/${s.kind}/${s.source}/${s.width}`;
}

describe.skipIf(SETTINGS.fuzzMode)('generator', () => {
  // The programs the differential test runs by default (same seed, same count), sampled once.
  let sampled: FuzzCase[] | undefined;
  const cases = (): FuzzCase[] => (sampled ??= fc.sample(fuzzCase(), { seed: DEFAULT_SEED, numRuns: DEFAULT_RUNS }));

  it('generates valid programs of 5 to 80 slots, with and without budgets', () => {
    const all = cases();
    const invalid = all.filter((c) => {
      try {
        validateBytes(c.bytes, VALIDATE);
        return false;
      } catch {
        return true;
      }
    });
    expect(invalid.map(describeCase)).toEqual([]);
    const sizes = all.map((c) => c.slots.length);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_SLOTS);
    expect(all.some((c) => c.budget === undefined)).toBe(true);
    expect(all.some((c) => c.budget !== undefined)).toBe(true);
    expect(all.some((c) => c.mem.length === 0)).toBe(true);
  });

  it('covers every instruction form but kfunc calls and loader-resolved lddw', () => {
    const used = sampleSpecs(cases());
    const expected = OPCODES.filter((s) => s.kind !== 'call_kfunc' && (s.kind !== 'lddw' || s.lddwSrc === 0 || s.lddwSrc === 4));
    const kinds = new Set(expected.map((s) => s.kind));
    expect([...kinds].filter((k) => ![...used.keys()].some((s) => s.kind === k))).toEqual([]);
    // Listed per family, so a gap names what is missing.
    const missing = (pred: (s: OpSpec) => boolean): string[] => expected.filter((s) => pred(s) && !used.has(s)).map(label);
    expect(missing((s) => s.kind === 'jcond' || s.kind === 'ja'), 'jump conditions').toEqual([]);
    expect(missing((s) => s.kind === 'atomic'), 'atomic ops').toEqual([]);
    expect(missing(() => true), 'instruction forms').toEqual([]);
  });

  it('jumps backwards in every jump form, and calls through code addresses and helper ids', () => {
    const all = cases();
    const backward = new Set<string>();
    let callxCode = 0;
    for (const c of all) {
      const program = validateBytes(c.bytes, VALIDATE);
      program.insns.forEach((insn, i) => {
        const { kind, width } = insn.spec;
        const offset = kind === 'ja' && width === 32 ? insn.imm : insn.off;
        if ((kind === 'ja' || kind === 'jcond') && offset < 0) backward.add(label(insn.spec));
        const prev = program.insns[i - 1];
        if (kind === 'callx' && prev?.spec.kind === 'lddw' && prev.spec.lddwSrc === 4) callxCode++;
      });
      expect(program.functions.length).toBeGreaterThanOrEqual(1);
    }
    const jumps = OPCODES.filter((s) => s.kind === 'ja' || s.kind === 'jcond').map(label);
    expect(jumps.filter((l) => !backward.has(l))).toEqual([]);
    expect(callxCode).toBeGreaterThan(0);
    expect(all.some((c) => validateBytes(c.bytes, VALIDATE).functions.length >= 3)).toBe(true);
  });

  it('is deterministic: the same seed gives the same bytes', () => {
    const a = fc.sample(fuzzCase(), { seed: 7, numRuns: 50 });
    const b = fc.sample(fuzzCase(), { seed: 7, numRuns: 50 });
    expect(a.map((c) => Array.from(c.bytes))).toEqual(b.map((c) => Array.from(c.bytes)));
  });
});

// ---------------------------------------------------------------------------
// The comparator, against engines that are wrong on purpose.

/** An engine that runs the interpreter and then alters what it did. */
function alter(name: string, change: (o: Outcome) => Outcome): Engine {
  const interp = vmEngine('interp');
  return { name, run: (bytes, mem, budget) => change(interp.run(bytes, mem, budget)) };
}

function against(candidate: Engine): EnginePair[] {
  return [{ reference: vmEngine('interp'), candidate }];
}

describe.skipIf(SETTINGS.fuzzMode)('compareEngines', () => {
  // Stores 0x2a at mem[1], returns 7.
  const writes = assemble('mov %r0, 7\nstb [%r1+1], 42\nexit');
  // Loads past the end of a 4-byte input at pc 1.
  const faults = assemble('mov %r0, 1\nldxdw %r0, [%r1+0]\nexit');
  const mem = Uint8Array.of(1, 2, 3, 4);

  it('agrees with itself, and leaves the input untouched', () => {
    const r = compareEngines(writes, mem, { pairs: against(vmEngine('interp')) });
    expect(r).toMatchObject({ ok: true, detail: 'r0 = 0x7' });
    expect(r.outcome).toMatchObject({ kind: 'result', r0: 7n, memory: Uint8Array.of(1, 42, 3, 4) });
    expect(mem).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(compareEngines(faults, mem).ok).toBe(true);
  });

  it('compares every available engine with the interpreter', () => {
    expect(defaultPairs(['interp']).map((p) => [p.reference.name, p.candidate.name])).toEqual([['interp', 'interp']]);
    expect(defaultPairs(['interp', 'jit']).map((p) => [p.reference.name, p.candidate.name])).toEqual([['interp', 'jit']]);
  });

  it('detects a different r0', () => {
    const wrong = alter('fake', (o) => (o.kind === 'result' ? { ...o, r0: o.r0 + 1n } : o));
    const r = compareEngines(writes, mem, { pairs: against(wrong) });
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('fake vs interp: r0 differs: 0x7 vs 0x8');
  });

  it('detects different memory', () => {
    const wrong = alter('fake', (o) => {
      if (o.kind !== 'result') return o;
      const memory = o.memory.slice();
      memory[3] ^= 1;
      return { ...o, memory };
    });
    const r = compareEngines(writes, mem, { pairs: against(wrong) });
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('memory differs first at byte 3: 0x4 vs 0x5');
  });

  it('detects a different error pc, address or class, and an error on one side only', () => {
    const field = (k: string, v: string): Engine =>
      alter('fake', (o) => (o.kind === 'error' ? { ...o, facts: { ...o.facts, [k]: v } } : o));
    const pc = compareEngines(faults, mem, { pairs: against(field('pc', '2')) });
    expect(pc.ok).toBe(false);
    expect(pc.detail).toContain('error differs: pc: 1 vs 2');
    expect(compareEngines(faults, mem, { pairs: against(field('address', '0x0')) }).detail).toContain('address:');
    expect(compareEngines(faults, mem, { pairs: against(field('class', 'ExecutionError')) }).detail)
      .toContain('class: MemoryAccessError vs ExecutionError');
    const noFault = alter('fake', () => ({ kind: 'result', r0: 1n, memory: mem.slice() }));
    expect(compareEngines(faults, mem, { pairs: against(noFault) }).detail).toContain('only the reference failed');
  });

  it('detects a different budget error', () => {
    const loop = assemble('mov %r0, 0\nadd %r0, 1\nja -2\nexit');
    expect(compareEngines(loop, mem, { budget: 10 }).outcome).toMatchObject({ kind: 'error', facts: { code: 'BUDGET_EXCEEDED', budget: '10' } });
    const wrong = alter('fake', (o) => (o.kind === 'error' ? { ...o, facts: { ...o.facts, pc: '1' } } : o));
    expect(compareEngines(loop, mem, { budget: 10, pairs: against(wrong) }).ok).toBe(false);
  });

  it('never accepts a crash, even on both sides', () => {
    const crash: Engine = { name: 'crash', run: () => ({ kind: 'crash', message: 'TypeError: x is undefined' }) };
    expect(compareEngines(writes, mem, { pairs: [{ reference: crash, candidate: crash }] }).ok).toBe(false);
    expect(compareEngines(writes, mem, { pairs: against(crash) }).detail).toContain('crash: TypeError');
  });

  it('shrinks a failure to a small valid program and reports how to replay it', () => {
    // A fake engine that gets every arsh32 wrong.
    const arsh32 = OPCODES.filter((s) => s.alu === 'arsh' && s.width === 32).map((s) => s.opcode);
    const wrong: Engine = {
      name: 'fake',
      run: (bytes, m, budget) => {
        const o = vmEngine('interp').run(bytes, m, budget);
        const has = decodeSlots(bytes).some((s) => arsh32.includes(s.opcode));
        return has && o.kind === 'result' ? { ...o, r0: o.r0 ^ 1n } : o;
      },
    };
    const run = runFuzz({ seed: 1, runs: 2_000, pairs: against(wrong) });
    expect(run.failed).toBe(true);
    const c = run.counterexample!;
    expect(() => validateBytes(c.bytes, VALIDATE)).not.toThrow();
    expect(c.slots.length).toBeLessThanOrEqual(8);
    expect(run.report).toContain('arsh32 %r');
    expect(run.report).toContain('fake vs interp: r0 differs');
    expect(run.report).toContain(`reproduce: npm run fuzz -- --seed 1 --path ${run.path!}`);
    // Replaying the path gives the same counterexample at once.
    const replay = runFuzz({ seed: 1, runs: 2_000, path: run.path!, pairs: against(wrong) });
    expect(replay.failed).toBe(true);
    expect(Array.from(replay.counterexample!.bytes)).toEqual(Array.from(c.bytes));
  });
});
