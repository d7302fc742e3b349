// The playground's page logic without a browser (lib/playground/app:
// session.ts, recording.ts, hex.ts): loading assembly with maps from JSON
// and ELF objects, runs on both engines in each context, typed errors,
// recorded debug runs and how the Step buttons move through them.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AssemblerError, MemoryAccessError, UsageError } from '../lib/errors.js';
import { formatHex, formatU64, hexDump, parseHex } from '../lib/playground/app/hex.js';
import { Debugger } from '../lib/debug/debugger.js';
import {
  breakpointKey, changedRegisters, continueFrom, record, reverseContinueFrom, stepOverFrom, type Recording, type StopPlace,
} from '../lib/playground/app/recording.js';
import { EXAMPLE_ASM, EXAMPLE_INPUT, EXAMPLE_MAPS, SAMPLE_PACKETS, tcpSyn } from '../lib/playground/app/samples.js';
import { DEFAULT_BUDGET, errorView, parseBudget, parseMaps, Session } from '../lib/playground/app/session.js';
import { AVAILABLE_ENGINES } from '../lib/vm.js';
import { WRITE_EACH_BYTE } from './playground-programs.js';

const fixture = (name: string) => new Uint8Array(readFileSync(`fixtures/elf/${name}`));

/** An endless loop. */
const FOREVER = 'mov %r0, 0\nl:\nadd %r0, 1\nja l\n';


/** Writes its input every way there is: a store, a subprogram's store, a helper (probe_read), a bpf_loop callback, an atomic. */
const WRITERS = `
  mov %r6, %r1
  stdw [%r10-8], 0x1122
  stb [%r6+3], 0xaa
  mov %r1, %r6
  call local fn
  mov %r1, %r6
  add %r1, 32
  mov %r2, 8
  mov %r3, %r10
  add %r3, -8
  call 4
  mov %r1, 3
  lddw %r2, func cb
  mov %r3, %r6
  mov %r4, 0
  call 181
  mov %r2, 5
  lock add32 [%r6+48], %r2
  mov %r0, 0
  exit
fn:
  stb [%r1+20], 7
  stdw [%r10-16], 3
  exit
cb:
  mov %r4, %r2
  add %r4, %r1
  mov %r5, %r1
  add %r5, 1
  stxb [%r4+40], %r5
  mov %r0, 0
  exit
`;

function places(rec: Recording): StopPlace[] {
  return Array.from({ length: rec.length }, (_, k) => rec.place(k));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('hex', () => {
  it('parses what people paste, refuses the rest', () => {
    expect([...parseHex('01 02\n0x03,0x04 # comment\nAbcd')]).toEqual([1, 2, 3, 4, 0xab, 0xcd]);
    expect(parseHex('  ').length).toBe(0);
    expect(() => parseHex('0g')).toThrow(UsageError);
    expect(() => parseHex('123')).toThrow(/odd number/);
  });

  it('formats, dumps with changed bytes marked, shows u64 signed', () => {
    const bytes = Uint8Array.from({ length: 20 }, (_, i) => i + 0x40);
    expect(formatHex(bytes).split('\n')).toHaveLength(2);
    expect([...parseHex(formatHex(bytes))]).toEqual([...bytes]);
    const before = bytes.slice();
    before[17] = 0;
    const rows = hexDump(bytes, before);
    expect(rows.map((r) => r.offset)).toEqual([0, 16]);
    expect(rows[1]!.bytes.map((b) => b.changed)).toEqual([false, true, false, false]);
    expect(rows[0]!.text).toBe('@ABCDEFGHIJKLMNO');
    expect(hexDump(bytes, undefined, 8)).toHaveLength(3);
    expect(formatU64(0xffffffffffffffffn)).toEqual({ hex: '0xffffffffffffffff', dec: '18446744073709551615 (-1)' });
    expect(formatU64(5n)).toEqual({ hex: '0x5', dec: '5' });
  });
});

describe.each(AVAILABLE_ENGINES)('session on %s', (engine) => {
  it('runs the page example: r0, memory written, maps counting runs', () => {
    const s = Session.fromAssembly(EXAMPLE_ASM, EXAMPLE_MAPS);
    const input = parseHex(EXAMPLE_INPUT);
    const first = s.run('prog', engine, 'memory', input);
    expect(first.r0).toBe(36n);
    expect(first.error).toBeUndefined();
    expect([...first.after]).toEqual([36, 2, 3, 4, 5, 6, 7, 8]);
    expect([...input]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // the run wrote a copy
    s.run('prog', engine, 'memory', input);
    const [counts] = s.maps().maps;
    expect(counts!.name).toBe('counts');
    expect(counts!.entries).toEqual([{ key: 0, value: new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0]) }]);
    expect(counts!.zeroSlots).toBe(3);
  });

  it('reports a run-time fault as a typed error with its pc, and the input as it was left', () => {
    const s = Session.fromAssembly('stb [%r1], 7\nldxdw %r0, [%r1+100]\nexit\n');
    const out = s.run('prog', engine, 'memory', new Uint8Array(4));
    expect(out.r0).toBeUndefined();
    expect(out.error).toMatchObject({ name: 'MemoryAccessError', code: 'MEMORY_ACCESS', pc: 1, internal: false });
    expect([...out.after]).toEqual([7, 0, 0, 0]);
  });

  it('ends a program that loops forever with BudgetExceededError, by default and with a budget given', () => {
    // (A jump to itself, `ja -1`, is refused at load: the loop needs a second instruction.)
    expect(() => Session.fromAssembly('ja -1\n')).toThrow(/infinite loop/);
    for (const text of [FOREVER, 'l:\nmov %r1, 1\nja l\n']) {
      const s = Session.fromAssembly(text);
      const small = s.run('prog', engine, 'memory', new Uint8Array(8), 1000);
      expect(small.error, text).toMatchObject({ name: 'BudgetExceededError', code: 'BUDGET_EXCEEDED', internal: false });
      expect(small.error!.message).toContain('budget of 1000');
      expect(small.r0).toBeUndefined();
    }
    const s = Session.fromAssembly(FOREVER);
    const out = s.run('prog', engine, 'memory', new Uint8Array(8));
    expect(out.error).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(out.error!.message).toContain(`budget of ${DEFAULT_BUDGET}`);
    // The session still runs programs after a run that hit its budget.
    expect(Session.fromAssembly('mov %r0, 7\nexit\n').run('prog', engine, 'memory', new Uint8Array(0), 2).r0).toBe(7n);
  });

  it('runs an XDP object on a packet: verdict, maps and globals decoded through BTF', () => {
    const s = Session.fromObject(fixture('xdp_stats.o'), 'xdp_stats.o');
    expect(s.programs.map((p) => [p.name, p.kind, p.context])).toEqual([['xdp_stats', 'xdp', 'xdp']]);
    const out = s.run('xdp_stats', engine, 'xdp', tcpSyn(23));
    expect(out).toMatchObject({ r0: 1n, verdict: 'XDP_DROP' });
    expect([...out.after]).toEqual([...tcpSyn(23)]);
    const report = s.maps();
    expect(report.maps.find((m) => m.name === 'proto_stats')!.entries).toEqual([{ key: 0, value: { packets: 1n, bytes: 54n } }]);
    expect(report.globals.find((g) => g.name === '.bss')!.variables).toMatchObject({ telnet_dropped: 1n });
    expect(out.printk).toEqual(['telnet SYN from 10.0.0.1 port 40000']);
    expect(s.run('xdp_stats', engine, 'xdp', tcpSyn(80))).toMatchObject({ r0: 2n, verdict: 'XDP_PASS', printk: [] });
  });

  it('runs socket filters of an object with several programs on an skb', () => {
    const s = Session.fromObject(fixture('socket_filter.o'));
    expect(s.programs.length).toBeGreaterThan(1);
    const filter = s.program('http_filter');
    expect(filter.context).toBe('skb');
    expect(s.run('http_filter', engine, 'skb', tcpSyn(80)).r0).toBe(54n);
    expect(s.run('http_filter', engine, 'skb', tcpSyn(23)).r0).toBe(0n);
    expect(s.run('http_filter', engine, 'skb', SAMPLE_PACKETS['UDP to port 53']!()).r0).toBe(0n);
  });
});

describe('session', () => {
  it('loading errors are typed: assembly, maps JSON, map definitions, unknown programs', () => {
    expect(() => Session.fromAssembly('frob %r1\n')).toThrow(AssemblerError);
    expect(() => parseMaps('{')).toThrow(/maps: not JSON/);
    expect(() => parseMaps('{"type":"array"}')).toThrow(/JSON array of map definitions/);
    expect(parseMaps('  ')).toEqual([]);
    expect(() => Session.fromAssembly('exit', '[{"type":"nonsense"}]')).toThrowError(expect.objectContaining({ code: expect.any(String) }));
    expect(() => Session.fromAssembly('mov %r0, 0\nexit\n').program('other')).toThrow(UsageError);
    expect(parseBudget('')).toBe(DEFAULT_BUDGET);
    expect(parseBudget(' 1_000 ')).toBe(1000);
    for (const bad of ['0', '-5', '1.5', 'lots', '1e3', '99999999999999999999']) expect(() => parseBudget(bad), bad).toThrow(UsageError);
    const internal = errorView(new TypeError('boom'));
    expect(internal).toMatchObject({ code: 'INTERNAL', internal: true });
    expect(errorView(new MemoryAccessError(3, 16n, 4, 'load'))).toMatchObject({ pc: 3, internal: false });
  });

  it('shows listings with C lines, generated JavaScript and the CFG', () => {
    const s = Session.fromObject(fixture('xdp_stats.o'));
    const listing = s.listing('xdp_stats');
    expect(listing[0]).toMatchObject({ pc: 0, source: expect.stringContaining('xdp_stats.c:') });
    // An lddw is one line covering two pcs.
    const lddw = listing.findIndex((l) => l.text.startsWith('lddw'));
    expect(listing[lddw + 1]!.pc).toBe(listing[lddw]!.pc + 2);
    expect(s.jitSource('xdp_stats')).toContain('xdp_stats.c');
    // What Run compiles: the budgeted variant (instruction counting), as every page run has a budget.
    expect(s.jitSource('xdp_stats')).toBe(s.program('xdp_stats').prog.jitSource({ budget: true }));
    expect(s.jitSource('xdp_stats')).not.toBe(s.program('xdp_stats').prog.jitSource());
    expect(s.cfgSvg('xdp_stats')).toMatch(/^<svg [^>]*>/);
  });

  it('records a debug run: a stop per instruction, registers and memory at each', () => {
    const s = Session.fromAssembly('mov %r2, 5\nstb [%r1+1], 9\ncall local fn\nmov %r0, %r2\nexit\nfn:\nmov %r0, 1\nadd %r0, %r1\nexit\n');
    const rec = record(s, 'prog', 'memory', new Uint8Array(4));
    expect(rec.truncated).toBe(false);
    expect(rec.cutOff).toBeUndefined();
    expect(rec.outcome).toMatchObject({ engine: 'interp', r0: 5n });
    expect(places(rec).map((x) => [x.pc, x.frame])).toEqual([[0, 1], [1, 1], [2, 1], [5, 2], [6, 2], [7, 2], [3, 1], [4, 1]]);
    expect(rec.snapshot(1).registers[2]).toBe(5n);
    expect([...rec.snapshot(1).input]).toEqual([0, 0, 0, 0]);
    expect([...rec.snapshot(2).input]).toEqual([0, 9, 0, 0]);
    expect([...rec.snapshot(7).input]).toEqual([0, 9, 0, 0]);
    expect([...rec.snapshot(0).input]).toEqual([0, 0, 0, 0]);
    expect(rec.snapshot(0).stack.length).toBe(512);
    expect(rec.snapshot(0).text).toBe('mov %r2, 5');
    expect(() => rec.snapshot(8)).toThrow(RangeError);
    expect([...changedRegisters(rec.snapshot(0), rec.snapshot(1))]).toEqual([2]);
    // Navigation: step over the call, breakpoints forwards and backwards.
    expect(stepOverFrom(rec, 2)).toBe(6);
    expect(stepOverFrom(rec, 7)).toBe(7);
    const bps = new Set([breakpointKey('prog', 6), breakpointKey('prog', 3)]);
    expect(continueFrom(rec, 0, bps)).toBe(4);
    expect(continueFrom(rec, 4, bps)).toBe(6);
    expect(continueFrom(rec, 6, bps)).toBe(7);
    expect(reverseContinueFrom(rec, 7, bps)).toBe(6);
    expect(reverseContinueFrom(rec, 4, bps)).toBe(0);
  });

  it('cuts a long run off at the stop limit, and records up to a fault', () => {
    const s = Session.fromAssembly('loop:\nadd %r0, 1\nja loop\n');
    const rec = record(s, 'prog', 'memory', new Uint8Array(0), { limit: 50 });
    expect(rec.truncated).toBe(true);
    expect(rec.cutOff).toBe('stops');
    expect(rec.length).toBe(50);
    expect(rec.outcome.r0).toBeUndefined();
    expect(rec.outcome.error).toBeUndefined();
    const faulty = Session.fromAssembly('mov %r0, 1\nldxb %r0, [%r1+8]\nexit\n');
    const f = record(faulty, 'prog', 'memory', new Uint8Array(2));
    expect(places(f).map((x) => x.pc)).toEqual([0, 1]);
    expect(f.outcome.error).toMatchObject({ code: 'MEMORY_ACCESS', pc: 1 });
  });

  it('cuts a recording off at its byte limit, and a debug run has a budget too', () => {
    const s = Session.fromAssembly(WRITE_EACH_BYTE);
    const rec = record(s, 'prog', 'memory', new Uint8Array(64 * 1024), { byteLimit: 1024 * 1024 });
    expect(rec.cutOff).toBe('bytes');
    expect(rec.length).toBeGreaterThan(1000);
    expect(rec.length).toBeLessThan(100_000);
    expect(rec.bytes).toBeLessThan(2 * 1024 * 1024);
    expect(rec.outcome.error).toBeUndefined();
    const budgeted = record(Session.fromAssembly(FOREVER), 'prog', 'memory', new Uint8Array(0), { budget: 500 });
    expect(budgeted.cutOff).toBeUndefined();
    expect(budgeted.outcome.error).toMatchObject({ name: 'BudgetExceededError', code: 'BUDGET_EXCEEDED' });
    // The stops of the 500 instructions run, and of the one the budget did not let run.
    expect(budgeted.length).toBe(501);
  });

  it('cuts a recording off when comparing the input after helper calls reaches its limit; every stop kept is whole', () => {
    // Each helper call makes the whole input be compared: 64 KiB x 40 calls passes a 2.5 MiB limit.
    const s = Session.fromAssembly(`
      mov %r6, %r1
      mov %r7, 0
    loop:
      call 7
      stxb [%r6], %r0
      add %r6, 1
      add %r7, 1
      jlt %r7, 1000, loop
      mov %r0, 0
      exit`);
    const rec = record(s, 'prog', 'memory', new Uint8Array(64 * 1024), { compareLimit: 2.5 * 1024 * 1024 });
    expect(rec.cutOff).toBe('compare');
    // Stops 0-1, then 5 per iteration: the stop after the 41st call is where the limit is passed, and is not kept.
    expect(rec.length).toBe(2 + 5 * 40 + 1);
    const last = rec.snapshot(rec.length - 1);
    expect(last.pc).toBe(2);
    expect(last.input.subarray(0, 40).every((b, i) => b === Number(rec.registers(2 + 5 * i + 1)[0]! & 0xffn))).toBe(true);
    expect(record(s, 'prog', 'memory', new Uint8Array(64 * 1024)).cutOff).toBeUndefined();
  });

  it('records per-stop changes: a loop writing each byte of a 64 KiB input once holds little memory', () => {
    const size = 64 * 1024;
    const rec = record(Session.fromAssembly(WRITE_EACH_BYTE), 'prog', 'memory', new Uint8Array(size));
    expect(rec.cutOff).toBe('stops');
    expect(rec.length).toBe(100_000);
    // A copy of the input per changed stop was ~14,000 x 64 KiB = 0.9 GB.
    expect(rec.bytes).toBeLessThan(8 * 1024 * 1024);
    // The same run under the debugger directly, reading the input and the stack frame at some stops.
    const at = [0, 1, 6, 7, 8, 700, 50_000, 99_998, 99_999];
    const direct = new Map<number, { input: Uint8Array; stack: Uint8Array; r1: bigint }>();
    const s2 = Session.fromAssembly(WRITE_EACH_BYTE);
    let k = 0;
    let base = 0n;
    expect(() => new Debugger(s2.program('prog').prog).run(new Uint8Array(size), (stop) => {
      if (k === 0) base = stop.register(1);
      if (at.includes(k)) direct.set(k, { input: stop.readMemory(base, size), stack: stop.stack(), r1: stop.register(1) });
      if (++k === 100_000) throw new RangeError('enough');
      return 'step';
    }, { stopAtEntry: true })).toThrow('enough');
    // Forwards, backwards and jumping about: each path through the checkpoints gives the same bytes.
    for (const i of [...at, ...[...at].reverse(), 50_000, 7, 99_999, 0]) {
      const snap = rec.snapshot(i);
      const want = direct.get(i)!;
      expect(equalBytes(snap.input, want.input), `input at stop ${i}`).toBe(true);
      expect(equalBytes(snap.stack, want.stack), `stack at stop ${i}`).toBe(true);
      expect(snap.registers[1]).toBe(want.r1);
    }
    // Stepping one stop at a time, forwards then back, over a stretch with writes.
    for (let i = 700; i < 760; i++) expect(rec.snapshot(i + 1).input[Math.floor((i + 1) / 7)] ?? 0, `stop ${i + 1}`).toBeLessThanOrEqual(1);
    expect(rec.snapshot(99_999).input.filter((b) => b === 1).length).toBe(direct.get(99_999)!.input.filter((b) => b === 1).length);
  });

  it('rebuilds every stop exactly: stores, a local call, a helper and a callback writing the input, the stack', () => {
    const s = Session.fromAssembly(WRITERS);
    const input = Uint8Array.from({ length: 64 }, (_, i) => i);
    const rec = record(s, 'prog', 'memory', input);
    expect(rec.outcome.error).toBeUndefined();
    const direct: Array<{ input: Uint8Array; stack: Uint8Array }> = [];
    let base = 0n;
    new Debugger(Session.fromAssembly(WRITERS).program('prog').prog).run(input.slice(), (stop) => {
      if (direct.length === 0) base = stop.register(1);
      direct.push({ input: stop.readMemory(base, input.length), stack: stop.stack() });
      return 'step';
    }, { stopAtEntry: true });
    expect(rec.length).toBe(direct.length);
    const order = [...direct.keys(), ...[...direct.keys()].reverse()];
    for (const i of order) {
      const snap = rec.snapshot(i);
      expect([...snap.input], `input at stop ${i}`).toEqual([...direct[i]!.input]);
      expect(equalBytes(snap.stack, direct[i]!.stack), `stack at stop ${i}`).toBe(true);
    }
    // What each writer left: the store, the local call's store, probe_read's 8 bytes, the callback's 3 and the atomic add.
    const last = rec.snapshot(rec.length - 1).input;
    expect(last[3]).toBe(0xaa);
    expect(last[20]).toBe(7);
    expect([...last.subarray(32, 40)]).toEqual([0x22, 0x11, 0, 0, 0, 0, 0, 0]);
    expect([...last.subarray(40, 44)]).toEqual([1, 2, 3, 43]);
    expect(last[48]).toBe(48 + 5);
    expect([...rec.outcome.after]).toEqual([...last]);
  });

  it('records an XDP run, registers pointing at the context', () => {
    const s = Session.fromObject(fixture('xdp_stats.o'));
    const rec = record(s, 'xdp_stats', 'xdp', tcpSyn(23));
    expect(rec.outcome).toMatchObject({ r0: 1n, verdict: 'XDP_DROP' });
    expect(rec.registers(0)[1]).not.toBe(0n);
    expect(rec.snapshot(0).line).toContain('xdp_stats.c');
    expect(rec.snapshot(rec.length - 1).text).toBe('exit');
    // The packet as the recording saw it: unchanged by this program at every stop.
    expect([...rec.snapshot(rec.length - 1).input]).toEqual([...tcpSyn(23)]);
    expect(rec.outcome.printk).toHaveLength(1);
  });
});
