// Traces of random valid programs (the differential fuzzer's generator,
// test/fuzz/gen.ts: every instruction form, local calls, callx, helpers that
// unwind, packet loads, faults, budget stops) must be the same on every
// engine, event for event, and tracing must not change a run's outcome.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conformanceVm } from '../lib/conformance.js';
import { EbpfError } from '../lib/errors.js';
import type { TraceEvent } from '../lib/trace/types.js';
import { AVAILABLE_ENGINES, type EngineName } from '../lib/vm.js';
import { describeCase, fuzzCase, type FuzzCase } from './fuzz/gen.js';

const SEED = 0x7ace;
const RUNS = 300;

interface Outcome {
  events?: TraceEvent[];
  r0?: bigint;
  error?: string;
  memory: Uint8Array;
}

function run(c: FuzzCase, engine: EngineName, traced: boolean): Outcome {
  const memory = c.mem.slice();
  const events: TraceEvent[] = [];
  const options = traced ? { trace: (e: TraceEvent) => { events.push(e); } } : {};
  const base = traced ? { events, memory } : { memory };
  try {
    return { ...base, r0: conformanceVm(engine, c.budget).load(c.bytes).run(memory, options) };
  } catch (e) {
    if (!(e instanceof EbpfError)) throw e;
    return { ...base, error: `${e.name}: ${e.message}` };
  }
}

describe('traces of random programs', () => {
  it(`are the same on every engine, and a trace changes no outcome (${RUNS} programs, seed ${SEED})`, () => {
    let events = 0;
    fc.assert(fc.property(fuzzCase(), (c) => {
      const reference = run(c, 'interp', true);
      events += reference.events!.length;
      for (const engine of AVAILABLE_ENGINES) {
        const traced = run(c, engine, true);
        expect(traced, `${engine}\n${describeCase(c)}`).toEqual(reference);
        const { events: _, ...plain } = reference;
        expect(run(c, engine, false), `${engine} untraced\n${describeCase(c)}`).toEqual(plain);
      }
    }), { seed: SEED, numRuns: RUNS });
    expect(events).toBeGreaterThan(RUNS);
  });
});
