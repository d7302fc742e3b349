// The runnable examples of the README, run as a user would, on each engine.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AVAILABLE_ENGINES } from '../lib/vm.js';
import { ROOT } from './cli-helpers.js';
import { expectedFor, readPcap, TRAFFIC } from './cli-traffic.js';

describe.each(AVAILABLE_ENGINES)('fixtures/examples/tail-calls.mjs on %s', (engine) => {
  it('prints the handler verdict, the empty-slot fallback and the count', () => {
    const r = spawnSync(process.execPath, ['fixtures/examples/tail-calls.mjs', engine], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['1n', '255n', '1n']);
  });
});

/** The README's first example, word for word. */
const FIRST_EXAMPLE = 'npx ebpf-js run fixtures/elf/xdp_stats.o --pcap fixtures/pcap/traffic.pcap';

describe("the README's first example", () => {
  it('is the command the README shows', () => {
    // Once the README has the example, it must be this very command.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    if (readme.includes('fixtures/pcap/traffic.pcap')) expect(readme).toContain(`$ ${FIRST_EXAMPLE}\n`);
    expect(existsSync(join(ROOT, TRAFFIC))).toBe(true);
  });

  it.each(AVAILABLE_ENGINES)('counts the verdicts xdp_stats.c gives the capture (%s)', (engine) => {
    // What the C code means, worked out packet by packet in JS (test/cli-traffic.ts).
    const want = expectedFor(readPcap(join(ROOT, TRAFFIC)).packets);
    expect(want.verdicts).toEqual({ XDP_PASS: 2617, XDP_DROP: 454, XDP_ABORTED: 2 });
    const [cmd, ...args] = FIRST_EXAMPLE.split(' ');
    const r = spawnSync(cmd!, [...args, ...(engine === 'jit' ? [] : ['--engine', engine])], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    for (const [verdict, n] of Object.entries(want.verdicts)) {
      expect(r.stdout).toMatch(new RegExp(`^  ${verdict} +${n.toLocaleString('en-US')} +[\\d.]+%$`, 'm'));
    }
    expect(r.stdout).toContain(`passed ${want.passed.toLocaleString('en-US')}, dropped ${(want.packets - want.passed).toLocaleString('en-US')}\n`);
    expect(r.stdout).toContain(`    telnet_dropped = ${want.telnetDropped}\n`);
    expect(r.stdout).toContain(`    blocked_dropped = ${want.blockedDropped}\n`);
    expect(r.stdout).toContain(`    0: { packets: ${want.perProto.tcp.packets}, bytes: ${want.perProto.tcp.bytes} }\n`);
    expect(r.stdout).toContain(`trace_printk (${want.printk.length} lines):\n  ${want.printk[0]}\n`);
  });
});
