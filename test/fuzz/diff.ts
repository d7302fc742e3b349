// Runs one program on two engines and compares what they did: the same r0
// and the same final memory, or the same error (class, code, pc and the
// error's position fields). The engine pairs are a parameter, so the
// comparison itself can be tested against a deliberately wrong engine; by
// default every engine of AVAILABLE_ENGINES is checked against 'interp', the
// reference, so the JIT is picked up as soon as it is listed there.
//
// What it does not compare: memory after an error (only where and why the run
// stopped), error messages (shown in the report, not required to match).

import { conformanceVm } from '../../lib/conformance.js';
import { EbpfError } from '../../lib/errors.js';
import { AVAILABLE_ENGINES, type EngineName } from '../../lib/vm.js';

/** What one run did. */
export type Outcome =
  | { readonly kind: 'result'; readonly r0: bigint; readonly memory: Uint8Array }
  /** An EbpfError: its class, code and position fields, as strings. */
  | { readonly kind: 'error'; readonly facts: Readonly<Record<string, string>>; readonly message: string }
  /** Anything else thrown (a TypeError, a RangeError...): a bug in the engine, never a match. */
  | { readonly kind: 'crash'; readonly message: string };

/** Something that runs a program once on its own copy of `mem`. */
export interface Engine {
  readonly name: string;
  run(bytes: Uint8Array, mem: Uint8Array, budget: number | undefined): Outcome;
}

export interface EnginePair {
  readonly reference: Engine;
  readonly candidate: Engine;
}

export interface CompareOptions {
  /** Instruction budget of both runs (undefined: unlimited). */
  budget?: number | undefined;
  /** Engine pairs to compare; default `defaultPairs()`. */
  pairs?: readonly EnginePair[];
}

export interface Comparison {
  ok: boolean;
  /** What differed (every pair that disagreed), or what both did. */
  detail: string;
  /** The reference engine's outcome (of the first pair). */
  outcome: Outcome;
}

/**
 * Fields an error carries besides class and code that must agree: the pc
 * everywhere, the access of a MemoryAccessError, the budget of a
 * BudgetExceededError, the helper of a HelperError.
 */
const ERROR_FIELDS = ['pc', 'address', 'size', 'kind', 'budget', 'helper'] as const;

/** The class, code and position fields of an error. */
export function errorFacts(e: EbpfError): Record<string, string> {
  const facts: Record<string, string> = { class: e.constructor.name, code: e.code };
  const fields = e as unknown as Record<string, unknown>;
  for (const f of ERROR_FIELDS) {
    if (f in e) facts[f] = typeof fields[f] === 'bigint' ? `0x${(fields[f] as bigint).toString(16)}` : String(fields[f]);
  }
  return facts;
}

/** Captures what running `fn` did: its r0 and `memory`, or what it threw. */
export function capture(memory: Uint8Array, fn: () => bigint): Outcome {
  try {
    const r0 = fn();
    return { kind: 'result', r0, memory };
  } catch (e) {
    if (e instanceof EbpfError) return { kind: 'error', facts: errorFacts(e), message: e.message };
    // The top of the stack says where in the engine it broke.
    const message = e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 6).join('\n') : String(e);
    return { kind: 'crash', message };
  }
}

/** A real engine: a fresh conformance Vm (helpers 0-5, 5 unwinding), load, run on a copy of the memory. */
export function vmEngine(engine: EngineName): Engine {
  return {
    name: engine,
    run(bytes, mem, budget) {
      const copy = mem.slice();
      return capture(copy, () => conformanceVm(engine, budget).load(bytes).run(copy));
    },
  };
}

/**
 * Every available engine against the interpreter. While the interpreter is
 * the only engine it is compared with itself, which still checks that runs
 * are deterministic and keeps the whole path exercised.
 */
export function defaultPairs(engines: readonly EngineName[] = AVAILABLE_ENGINES): EnginePair[] {
  const reference = vmEngine('interp');
  const others = engines.filter((e) => e !== 'interp');
  const candidates = others.length === 0 ? [reference] : others.map(vmEngine);
  return candidates.map((candidate) => ({ reference, candidate }));
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/** One line for an outcome. */
export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'result':
      return `r0 = ${hex(o.r0)}`;
    case 'error':
      return `${Object.entries(o.facts).map(([k, v]) => `${k}=${v}`).join(' ')} (${o.message})`;
    case 'crash':
      return `crash: ${o.message}`;
  }
}

/** Why two outcomes differ, or undefined when they agree. */
export function difference(ref: Outcome, cand: Outcome): string | undefined {
  if (ref.kind === 'crash' || cand.kind === 'crash') return 'an engine threw something other than an EbpfError';
  if (ref.kind !== cand.kind) return ref.kind === 'result' ? 'only the candidate failed' : 'only the reference failed';
  if (ref.kind === 'result' && cand.kind === 'result') {
    if (ref.r0 !== cand.r0) return `r0 differs: ${hex(ref.r0)} vs ${hex(cand.r0)}`;
    if (ref.memory.length !== cand.memory.length) return `memory length differs: ${ref.memory.length} vs ${cand.memory.length}`;
    const at = ref.memory.findIndex((b, i) => b !== cand.memory[i]);
    if (at >= 0) {
      return `memory differs first at byte ${at}: 0x${ref.memory[at]!.toString(16)} vs 0x${cand.memory[at]!.toString(16)}`;
    }
    return undefined;
  }
  if (ref.kind === 'error' && cand.kind === 'error') {
    const keys = [...new Set([...Object.keys(ref.facts), ...Object.keys(cand.facts)])];
    const diffs = keys.filter((k) => ref.facts[k] !== cand.facts[k]).map((k) => `${k}: ${ref.facts[k] ?? '-'} vs ${cand.facts[k] ?? '-'}`);
    return diffs.length === 0 ? undefined : `error differs: ${diffs.join(', ')}`;
  }
  return undefined;
}

/**
 * Runs `bytes` on every pair's engines, each run on a fresh copy of `mem`
 * (which is never written), and compares the outcomes.
 */
export function compareEngines(bytes: Uint8Array, mem: Uint8Array, options: CompareOptions = {}): Comparison {
  const pairs = options.pairs ?? defaultPairs();
  if (pairs.length === 0) throw new Error('compareEngines: no engine pairs');
  // Each engine runs once even when it appears in several pairs.
  const outcomes = new Map<Engine, Outcome>();
  const outcomeOf = (engine: Engine): Outcome => {
    let o = outcomes.get(engine);
    if (o === undefined) {
      o = engine.run(bytes, mem, options.budget);
      outcomes.set(engine, o);
    }
    return o;
  };
  const problems: string[] = [];
  for (const { reference, candidate } of pairs) {
    const ref = outcomeOf(reference);
    const cand = outcomeOf(candidate);
    const diff = difference(ref, cand);
    if (diff !== undefined) {
      problems.push(
        `${candidate.name} vs ${reference.name}: ${diff}\n  ${reference.name}: ${describeOutcome(ref)}\n  ${candidate.name}: ${describeOutcome(cand)}`,
      );
    }
  }
  const outcome = outcomeOf(pairs[0]!.reference);
  return problems.length === 0
    ? { ok: true, detail: describeOutcome(outcome), outcome }
    : { ok: false, detail: problems.join('\n'), outcome };
}
