// The playground's page logic without a browser (lib/playground/app:
// session.ts, recording.ts, hex.ts): loading assembly with maps from JSON
// and ELF objects, runs on both engines in each context, typed errors,
// recorded debug runs and how the Step buttons move through them.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AssemblerError, MemoryAccessError, UsageError } from '../lib/errors.js';
import { formatHex, formatU64, hexDump, parseHex } from '../lib/playground/app/hex.js';
import {
  breakpointKey, changedRegisters, continueFrom, record, reverseContinueFrom, stepOverFrom,
} from '../lib/playground/app/recording.js';
import { EXAMPLE_ASM, EXAMPLE_INPUT, EXAMPLE_MAPS, SAMPLE_PACKETS, tcpSyn } from '../lib/playground/app/samples.js';
import { errorView, parseMaps, Session } from '../lib/playground/app/session.js';
import { AVAILABLE_ENGINES } from '../lib/vm.js';

const fixture = (name: string) => new Uint8Array(readFileSync(`fixtures/elf/${name}`));

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
    expect(s.cfgSvg('xdp_stats')).toMatch(/^<svg [^>]*>/);
  });

  it('records a debug run: a stop per instruction, registers and memory at each', () => {
    const s = Session.fromAssembly('mov %r2, 5\nstb [%r1+1], 9\ncall local fn\nmov %r0, %r2\nexit\nfn:\nmov %r0, 1\nadd %r0, %r1\nexit\n');
    const rec = record(s, 'prog', 'memory', new Uint8Array(4));
    expect(rec.truncated).toBe(false);
    expect(rec.outcome).toMatchObject({ engine: 'interp', r0: 5n });
    expect(rec.stops.map((x) => [x.pc, x.frame])).toEqual([[0, 1], [1, 1], [2, 1], [5, 2], [6, 2], [7, 2], [3, 1], [4, 1]]);
    expect(rec.stops[1]!.registers[2]).toBe(5n);
    expect([...rec.stops[1]!.input]).toEqual([0, 0, 0, 0]);
    expect([...rec.stops[2]!.input]).toEqual([0, 9, 0, 0]);
    // Unchanged bytes are shared, not copied again.
    expect(rec.stops[3]!.input).toBe(rec.stops[2]!.input);
    expect(rec.stops[0]!.stack.length).toBe(512);
    expect(rec.stops[0]!.text).toBe('mov %r2, 5');
    expect([...changedRegisters(rec.stops[0], rec.stops[1]!)]).toEqual([2]);
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
    const rec = record(s, 'prog', 'memory', new Uint8Array(0), 50);
    expect(rec.truncated).toBe(true);
    expect(rec.stops).toHaveLength(50);
    expect(rec.outcome.r0).toBeUndefined();
    expect(rec.outcome.error).toBeUndefined();
    const faulty = Session.fromAssembly('mov %r0, 1\nldxb %r0, [%r1+8]\nexit\n');
    const f = record(faulty, 'prog', 'memory', new Uint8Array(2));
    expect(f.stops.map((x) => x.pc)).toEqual([0, 1]);
    expect(f.outcome.error).toMatchObject({ code: 'MEMORY_ACCESS', pc: 1 });
  });

  it('records an XDP run, registers pointing at the context', () => {
    const s = Session.fromObject(fixture('xdp_stats.o'));
    const rec = record(s, 'xdp_stats', 'xdp', tcpSyn(23));
    expect(rec.outcome).toMatchObject({ r0: 1n, verdict: 'XDP_DROP' });
    expect(rec.stops[0]!.registers[1]).not.toBe(0n);
    expect(rec.stops[0]!.line).toContain('xdp_stats.c');
    expect(rec.stops.at(-1)!.text).toBe('exit');
    expect(rec.outcome.printk).toHaveLength(1);
  });
});
