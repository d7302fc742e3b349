// The clang-compiled socket filter and tc classifier of fixtures/elf/socket_filter.c
// (no relocations, so their code runs as it is) on SkbContexts, checked
// against what the C code means.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { programBytes } from '../lib/elf-sections.js';
import { TC_ACT_OK, TC_ACT_SHOT, verdictName } from '../lib/retcodes.js';
import { SkbContext, type SkbOptions } from '../lib/skb.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';
import { frame } from './skb-packets.js';

const DIR = new URL('../fixtures/elf/', import.meta.url);
const OBJECT = readFileSync(new URL('socket_filter.o', DIR));
const HAVE_CLANG = spawnSync('clang-19', ['--version']).status === 0;
if (!HAVE_CLANG) console.log('skipping the fixtures/elf rebuild check: clang-19 is not installed');

describe.skipIf(!HAVE_CLANG)('fixtures/elf/build.sh', () => {
  it('rebuilds every committed object byte for byte', () => {
    const out = mkdtempSync(join(tmpdir(), 'ebpf-js-fixtures-'));
    try {
      execFileSync('sh', [new URL('build.sh', DIR).pathname], { env: { ...process.env, OUT: out }, stdio: 'pipe' });
      const sources = readdirSync(DIR).filter((f) => f.endsWith('.c')).sort();
      expect(readdirSync(out).sort()).toEqual(sources.map((f) => f.replace(/\.c$/, '.o')));
      for (const name of readdirSync(out)) {
        expect(Buffer.compare(readFileSync(join(out, name)), readFileSync(new URL(name, DIR))), `${name}: run npm run fixtures`).toBe(0);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

function run(engine: (typeof AVAILABLE_ENGINES)[number], fn: string, packet: Uint8Array, options: SkbOptions = {}) {
  const vm = new Vm({ engine });
  const skb = new SkbContext(vm.memory, packet, options);
  try {
    return { r0: vm.load(programBytes(OBJECT, fn)).run(skb), skb };
  } finally {
    skb.release();
  }
}

describe.each(AVAILABLE_ENGINES)('socket_filter.o on %s', (engine) => {
  const http = frame({ dport: 80, payload: 10 });
  const cases: [string, Uint8Array, boolean][] = [
    ['IPv4/TCP to port 80', http, true],
    ['IPv4/TCP to port 80 with IP options', frame({ dport: 80, ihl: 6 }), true],
    ['IPv4/TCP to port 443', frame({ dport: 443 }), false],
    ['IPv4/UDP to port 80', frame({ proto: 17 }), false],
    ['IPv6', frame({ ethertype: 0x86dd }), false],
    ['truncated TCP header', http.subarray(0, 14 + 20 + 2), false],
  ];

  it.each(cases)('http_filter keeps %s: %s', (_name, packet, keep) => {
    expect(run(engine, 'http_filter', packet, { kind: 'socket' }).r0).toBe(keep ? BigInt(packet.length) : 0n);
  });

  it('http_filter drops a fragment and follows skb->protocol rather than the bytes', () => {
    expect(run(engine, 'http_filter', frame({ fragOffset: 0x2001 }), { kind: 'socket' }).r0).toBe(0n);
    expect(run(engine, 'http_filter', http, { kind: 'socket', protocol: 0x86dd }).r0).toBe(0n);
  });

  it.each(cases)('http_filter_ldabs keeps %s: %s', (_name, packet, keep) => {
    expect(run(engine, 'http_filter_ldabs', packet, { kind: 'socket' }).r0).toBe(keep ? 0xffffffffn : 0n);
  });

  it('tc_http marks HTTP, drops other TCP and runts, passes the rest', () => {
    const ok = run(engine, 'tc_http', http);
    expect(verdictName('tc', ok.r0)).toBe('TC_ACT_OK');
    expect([ok.skb.mark, ok.skb.priority, ok.skb.tcClassid, ok.skb.cb[0]]).toEqual([0x50, 6, 0x10001, http.length]);
    expect(run(engine, 'tc_http', frame({ dport: 22 })).r0).toBe(BigInt(TC_ACT_SHOT));
    expect(run(engine, 'tc_http', frame({ proto: 17 })).r0).toBe(BigInt(TC_ACT_OK));
    expect(run(engine, 'tc_http', frame({ ethertype: 0x86dd })).r0).toBe(BigInt(TC_ACT_OK));
    expect(run(engine, 'tc_http', new Uint8Array(10)).r0).toBe(BigInt(TC_ACT_SHOT));
    expect(run(engine, 'tc_http', http.subarray(0, 40)).r0).toBe(BigInt(TC_ACT_SHOT));
    const untouched = run(engine, 'tc_http', frame({ dport: 22 }));
    expect([untouched.skb.mark, untouched.skb.cb[0]]).toEqual([0, 0]);
  });
});
