// `ebpf-js run prog.o --pcap CAPTURE ...` through the built CLI, as a user
// runs it, checked against test/cli-traffic.ts's account of what
// xdp_stats.o does to each packet of fixtures/pcap/traffic.pcap.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, cli, denoBinary } from './cli-helpers.js';
import { expectedFor, PROTO_INDEX, readPcap, TRAFFIC, writePcap, XDP_STATS, type Expected, type RawPacket } from './cli-traffic.js';

const ENGINES = ['interp', 'jit'] as const;

let tmp: string;
let packets: RawPacket[];
let expected: Expected;
beforeAll(() => {
  expect(existsSync(CLI), `${CLI} missing: run npm run build`).toBe(true);
  tmp = mkdtempSync(join(tmpdir(), 'ebpf-js-cli-capture-'));
  packets = readPcap(TRAFFIC).packets;
  expected = expectedFor(packets);
});

/** The "NAME  COUNT  SHARE%" lines of the summary, as { NAME: COUNT }. */
function verdictLines(stdout: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of stdout.matchAll(/^ {2}((?:XDP|TC_ACT)_[A-Z]+) +([\d,]+) +[\d.]+%$/gm)) out[m[1]!] = Number(m[2]!.replace(/,/g, ''));
  return out;
}

describe.each(ENGINES)('run --pcap on %s', (engine) => {
  it('prints verdict counts, passed/dropped, packets/s, maps, globals and trace_printk', () => {
    const r = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--engine', engine]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^xdp_stats \\(section xdp\\) over ${TRAFFIC}: ${engine}, 1 worker\\n`));
    expect(r.stdout).toMatch(/^3,073 packets in \d+\.\d{3} s, [\d,]+ packets\/s$/m);
    expect(verdictLines(r.stdout)).toEqual(expected.verdicts);
    expect(r.stdout).toContain(`passed ${expected.passed.toLocaleString('en-US')}, dropped ${(expected.packets - expected.passed).toLocaleString('en-US')}`);
    // The ARRAY's struct counters decoded through BTF, one line per protocol.
    for (const [proto, index] of Object.entries(PROTO_INDEX)) {
      const c = expected.perProto[proto as keyof typeof PROTO_INDEX];
      expect(r.stdout).toContain(`    ${index}: { packets: ${c.packets}, bytes: ${c.bytes} }`);
    }
    expect(r.stdout).toContain(`    telnet_dropped = ${expected.telnetDropped}\n`);
    expect(r.stdout).toContain(`    blocked_dropped = ${expected.blockedDropped}\n`);
    expect(r.stdout).toContain(`    ipv6_packets = ${expected.ipv6Packets}\n`);
    // .rodata (configuration, format strings) only with --dump-maps.
    expect(r.stdout).not.toContain('blocked_port');
    expect(r.stdout).toContain(`trace_printk (${expected.printk.length} lines):\n${expected.printk.map((l) => `  ${l}`).join('\n')}\n`);
    // stderr is a pipe here: no progress bar, no escape codes.
    expect(r.stderr).not.toMatch(/\r|\x1b/);
  });

  it('--json prints one JSON document with the same numbers', () => {
    const r = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--engine', engine, '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      program: 'xdp_stats', section: 'xdp', capture: TRAFFIC, engine, workers: 1,
      packets: expected.packets, verdicts: expected.verdicts, passed: expected.passed, dropped: expected.packets - expected.passed,
      globals: { '.bss': { telnet_dropped: expected.telnetDropped, blocked_dropped: expected.blockedDropped, ipv6_packets: expected.ipv6Packets } },
      printk: expected.printk,
    });
    expect(j.packets_per_second).toBeGreaterThan(0);
    expect(j.elapsed_ns).toBeGreaterThan(0);
    expect(j.results).toBeUndefined();
    const stats = j.maps.find((m: { name: string }) => m.name === 'proto_stats');
    expect(stats.type).toBe('array');
    expect(stats.entries).toEqual(Object.entries(PROTO_INDEX).map(([proto, key]) => ({ key, value: expected.perProto[proto as keyof typeof PROTO_INDEX] })));
  });

  it('--verbose prints one line per packet: number, time, length, verdict', () => {
    const r = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--engine', engine, '--verbose']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => /^ *\d+ +\d+\.\d{6} +\d+ +XDP_/.test(l));
    expect(lines).toHaveLength(packets.length);
    lines.forEach((line, i) => {
      const [number, time, length, verdict] = line.trim().split(/ +/);
      expect(Number(number)).toBe(i);
      expect(Number(length)).toBe(packets[i]!.data.length);
      expect(verdict).toBe(expected.each[i]!.verdict);
      expect(Math.abs(Number(time) - Number(packets[i]!.tsNs - packets[0]!.tsNs) / 1e9)).toBeLessThan(1e-6);
    });
    // The summary follows the packet lines.
    expect(r.stdout.indexOf('verdicts:')).toBeGreaterThan(r.stdout.lastIndexOf(lines.at(-1)!));
  });
});

describe('run --pcap output files and options', () => {
  it('--write-pass and --write-drop split the capture by verdict, packets as captured', () => {
    const pass = join(tmp, 'pass.pcap');
    const drop = join(tmp, 'drop.pcap');
    const r = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--write-pass', pass, '--write-drop', drop]);
    expect(r.status).toBe(0);
    const passed = readPcap(pass);
    const dropped = readPcap(drop);
    expect(passed.linkType).toBe(1);
    expect(dropped.linkType).toBe(1);
    expect(passed.packets.length + dropped.packets.length).toBe(packets.length);
    const wantPass = packets.filter((_, i) => expected.each[i]!.verdict === 'XDP_PASS');
    const wantDrop = packets.filter((_, i) => expected.each[i]!.verdict !== 'XDP_PASS');
    const same = (got: RawPacket[], want: RawPacket[]) => {
      expect(got.length).toBe(want.length);
      got.forEach((p, i) => {
        expect(Buffer.from(p.data).equals(Buffer.from(want[i]!.data))).toBe(true);
        expect(p.tsNs).toBe(want[i]!.tsNs);
        expect(p.origLen).toBe(want[i]!.origLen);
      });
    };
    same(passed.packets, wantPass);
    same(dropped.packets, wantDrop);
  });

  it('--dump-maps adds .rodata and zero slots; --workers 2 ends with the same counters and shows each worker', () => {
    const dump = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--dump-maps']);
    expect(dump.status).toBe(0);
    expect(dump.stdout).toContain('  .rodata:\n    blocked_port = 23\n    blocked_net = 3405803776\n    blocked_mask = 4294967040\n');
    const two = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--workers', '2', '--json']);
    expect(two.status).toBe(0);
    const j = JSON.parse(two.stdout);
    expect(j).toMatchObject({ workers: 2, packets: expected.packets, verdicts: expected.verdicts });
    expect(j.globals['.bss']).toEqual({ telnet_dropped: expected.telnetDropped, blocked_dropped: expected.blockedDropped, ipv6_packets: expected.ipv6Packets });
    expect(j.maps[0].entries.map((e: { value: unknown }) => e.value)).toEqual(Object.keys(PROTO_INDEX).map((p) => expected.perProto[p as keyof typeof PROTO_INDEX]));
    expect(j.per_worker).toHaveLength(2);
    expect(j.per_worker.reduce((s: number, w: { packets: number }) => s + w.packets, 0)).toBe(expected.packets);
    const text = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--workers', '2']);
    expect(text.stdout).toMatch(/^workers:\n {2}worker 0: [\d,]+ packets, busy \d+\.\d{3} s, [\d,]+ packets\/s\n {2}worker 1: /m);
  });

  it('--json --verbose lists every packet in `results`', () => {
    const j = JSON.parse(cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--json', '--verbose']).stdout);
    expect(j.results).toHaveLength(packets.length);
    expect(j.results.map((r: { verdict: string }) => r.verdict)).toEqual(expected.each.map((e) => e.verdict));
    expect(j.results[0]).toEqual({ packet: 0, time: 0, length: packets[0]!.data.length, verdict: 'XDP_PASS', r0: '0x2', pass: true });
    expect(j.results.filter((r: { pass: boolean }) => r.pass)).toHaveLength(expected.passed);
  });

  it('ring-buffer records are read as the run goes: counted, and listed per packet with --verbose', () => {
    // packet_events submits {u64 timestamp, u32 len, u16 proto, u8 head_len, u8 pad, u8 head[16]} per packet.
    const j = JSON.parse(cli(['run', 'fixtures/elf/ringbuf.o', '--program', 'packet_events', '--pcap', TRAFFIC, '--json', '--verbose']).stdout);
    expect(j.records).toEqual({ events: packets.length });
    expect(j.globals['.bss']).toEqual({ dropped_events: 0 });
    expect(j.maps.find((m: { name: string }) => m.name === 'events')).toMatchObject({ type: 'ringbuf', note: '0 records unread' });
    j.results.slice(0, 50).forEach((r: { records: { map: string; data: string }[] }, i: number) => {
      const bytes = Buffer.from(r.records[0]!.data.replace(/ /g, ''), 'hex');
      const p = packets[i]!.data;
      expect(r.records).toHaveLength(1);
      expect(bytes.readUInt32LE(8)).toBe(p.length);
      expect(bytes.readUInt16LE(12)).toBe((p[12]! << 8) | p[13]!);
      expect(bytes.subarray(16, 16 + Math.min(16, p.length)).equals(Buffer.from(p.subarray(0, 16)))).toBe(true);
    });
    const text = cli(['run', 'fixtures/elf/ringbuf.o', '--program', 'packet_events', '--pcap', TRAFFIC, '--verbose']).stdout;
    expect(text).toMatch(/^ {6}0 +0\.000000 +75 {2}XDP_PASS\n {11}record events \(32 bytes\): ([0-9a-f]{2} ){31}[0-9a-f]{2}\n {6}1 /);
    expect(text).toContain('records read:\n  events: 3,073\n');
  });

  it('program arrays show the programs in their slots', () => {
    const r = cli(['run', 'fixtures/elf/tail_dispatch.o', '--program', 'dispatch', '--pcap', TRAFFIC]);
    expect(r.stdout).toContain('  jump_table (prog_array):\n    0: program prog_a\n    1: program prog_b\n');
  });

  it('a tc program gets TC_ACT_* names', () => {
    // tc_http (fixtures/elf/README.md): TCP to port 80 and non-TCP pass (TC_ACT_OK), other TCP and short packets are shot.
    const tc = (f: Uint8Array): string => {
      if (f.length < 14) return 'TC_ACT_SHOT';
      if (f[12] !== 8 || f[13] !== 0) return 'TC_ACT_OK';
      if (f.length < 34) return 'TC_ACT_SHOT';
      if (f[23] !== 6) return 'TC_ACT_OK';
      const l4 = 14 + (f[14]! & 15) * 4;
      if (l4 + 20 > f.length) return 'TC_ACT_SHOT';
      return ((f[l4 + 2]! << 8) | f[l4 + 3]!) === 80 ? 'TC_ACT_OK' : 'TC_ACT_SHOT';
    };
    const want: Record<string, number> = {};
    for (const p of packets) want[tc(p.data)] = (want[tc(p.data)] ?? 0) + 1;
    const r = cli(['run', 'fixtures/elf/socket_filter.o', '--section', 'tc', '--pcap', TRAFFIC]);
    expect(r.status).toBe(0);
    expect(verdictLines(r.stdout)).toEqual(want);
    expect(r.stdout).toContain(`passed ${want.TC_ACT_OK!.toLocaleString('en-US')}, `);
  });

  it('a socket filter gets unnamed verdicts (r0 in hex) counted as pass/drop by r0', () => {
    const r = cli(['run', 'fixtures/elf/socket_filter.o', '--program', 'http_filter', '--pcap', TRAFFIC, '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    // http_filter keeps IPv4 TCP to port 80 (r0 = the length) and drops the rest (0).
    const http = packets.filter((p) => p.data.length >= 38 && p.data[12] === 8 && p.data[13] === 0 && p.data[23] === 6 && ((p.data[36]! << 8) | p.data[37]!) === 80);
    expect(j.passed).toBe(http.length);
    expect(j.verdicts['0x0']).toBe(packets.length - http.length);
  });
});

describe('fixtures/pcap', () => {
  it('traffic.pcap is what make.mjs generates (through the built PcapWriter)', () => {
    const out = join(tmp, 'traffic.pcap');
    const r = spawnSync(process.execPath, ['fixtures/pcap/make.mjs', out], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote ${out}: 3073 packets, 1159257 bytes\n`);
    expect(readFileSync(out).equals(readFileSync(join(ROOT, TRAFFIC)))).toBe(true);
  });
});

describe('the filter command and pipes', () => {
  it('main dispatches filter: the saved -ddd program accepts what xdp_stats drops', () => {
    // fixtures/pcap/telnet-or-blocked.ddd is tcpdump -ddd 'tcp dst port 23 or src net 203.0.113.0/24'.
    const r = cli(['filter', '--cbpf', 'fixtures/pcap/telnet-or-blocked.ddd', TRAFFIC]);
    expect(r.status).toBe(0);
    const numbers = r.stdout.trim().split('\n').map((l) => Number(l.trim().split(/ +/)[0]));
    expect(numbers).toEqual(packets.map((_, i) => i).filter((i) => expected.each[i]!.verdict === 'XDP_DROP'));
    expect(cli(['help']).stdout).toContain('filter "EXPR" CAPTURE');
  });

  it('a reader that stops early (| head) ends the run quietly', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" run ${XDP_STATS} --pcap ${TRAFFIC} --verbose | head -2; echo "status \${PIPESTATUS[0]}"`],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toMatch(/^ +0 +0\.000000 +\d+ +XDP_PASS\n +1 .*\nstatus 0\n$/);
    expect(r.stderr).toBe('');
  });
});

const deno = denoBinary();
if (deno === undefined) console.warn('cli-capture.test.ts: Deno cases skipped: the deno npm package is not installed (npm install provides it)');

describe.skipIf(deno === undefined)('run --pcap under Deno 2', () => {
  it('gives the same report with one thread and with two Web Workers', () => {
    for (const workers of ['1', '2']) {
      const r = spawnSync(deno!, ['run', '--allow-read', '--allow-env', CLI, 'run', XDP_STATS, '--pcap', TRAFFIC, '--json', '--workers', workers],
        { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } });
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j).toMatchObject({ workers: Number(workers), packets: expected.packets, verdicts: expected.verdicts, printk: expected.printk });
      expect(j.globals['.bss']).toEqual({ telnet_dropped: expected.telnetDropped, blocked_dropped: expected.blockedDropped, ipv6_packets: expected.ipv6Packets });
    }
  });
});

describe('run --pcap errors', () => {
  it('a missing capture, a non-object and options without --pcap are usage errors (exit 2)', () => {
    const missing = cli(['run', XDP_STATS, '--pcap', join(tmp, 'nope.pcap')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^ebpf-js: cannot read .*nope\.pcap: ENOENT\n$/);
    const asm = cli(['run', 'fixtures/examples/http-filter.asm', '--pcap', TRAFFIC]);
    expect(asm.status).toBe(2);
    expect(asm.stderr).toMatch(/--pcap runs an ELF object/);
    expect(cli(['run', XDP_STATS, '--verbose']).stderr).toMatch(/^ebpf-js: --verbose needs --pcap/);
    expect(cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--mem-hex', '00']).stderr).toMatch(/--mem-hex does not go with --pcap/);
    expect(cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--workers', '0']).stderr).toMatch(/--workers must be an integer >= 1/);
    const many = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--workers', '100000']);
    expect([many.status, many.stdout]).toEqual([2, '']);
    expect(many.stderr).toMatch(/^ebpf-js: --workers must be at most \d+\n$/);
    // Output files: writable, not the input, not each other; checked before the run.
    const unwritable = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--write-pass', join(tmp, 'no-such-dir', 'p.pcap')]);
    expect([unwritable.status, unwritable.stdout]).toEqual([2, '']);
    expect(unwritable.stderr).toMatch(/^ebpf-js: cannot write .*p\.pcap: ENOENT\n$/);
    expect(cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--write-drop', `./${TRAFFIC}`]).stderr).toMatch(/is the input capture/);
    const same = join(tmp, 'same.pcap');
    expect(cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--write-pass', same, '--write-drop', same]).stderr).toMatch(/name the same file/);
    expect(readPcap(join(ROOT, TRAFFIC)).packets).toHaveLength(3073);
  });

  it.each(ENGINES)('a truncated capture: the packets before the cut are counted, the error names the packet (%s)', (engine) => {
    // Cut inside the data of packet 1000.
    const good = 1000;
    let at = 24;
    for (let i = 0; i < good; i++) at += 16 + packets[i]!.data.length;
    const cut = join(tmp, `cut-${engine}.pcap`);
    writeFileSync(cut, readFileSync(TRAFFIC).subarray(0, at + 16 + 5));
    const want = expectedFor(packets.slice(0, good));
    const r = cli(['run', XDP_STATS, '--pcap', cut, '--engine', engine]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^ebpf-js: .*at packet ${good}, byte offset ${at}\\n$`));
    expect(r.stdout).toMatch(/^1,000 packets before the error in /m);
    expect(verdictLines(r.stdout)).toEqual(want.verdicts);
    const j = JSON.parse(cli(['run', XDP_STATS, '--pcap', cut, '--engine', engine, '--json']).stdout);
    expect(j).toMatchObject({ packets: good, verdicts: want.verdicts, error: expect.stringMatching(`at packet ${good}`) });
  });

  it('a program fault names the packet and the C line, after counting the packets before it', () => {
    // xdp_firewall reads its context as an xdp_md; with --ctx raw the packet bytes are that
    // xdp_md: packet 2 says data = 0, data_end = 256, and reading the Ethernet header faults.
    const faulty = join(tmp, 'fault.pcap');
    writePcap(faulty, [packets[0]!.data, packets[1]!.data, new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])]);
    const r = cli(['run', 'fixtures/elf/xdp_firewall.o', '--pcap', faulty, '--ctx', 'raw']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ebpf-js: invalid memory load .* at packet 2, byte offset \d+ \(xdp_firewall, .*xdp_firewall\.c:54: if \(eth->h_proto/);
    expect(r.stdout).toMatch(/^2 packets before the error/m);
    expect(verdictLines(r.stdout)).toEqual({ XDP_ABORTED: 2 });
    // The JSON report has the maps and the per-worker numbers of the two packets run (lib/capture's partial result).
    const j = JSON.parse(cli(['run', 'fixtures/elf/xdp_firewall.o', '--pcap', faulty, '--ctx', 'raw', '--json']).stdout);
    expect(j).toMatchObject({ packets: 2, verdicts: { XDP_ABORTED: 2 }, per_worker: [{ worker: 0, packets: 2 }], error: expect.stringMatching(/at packet 2/) });
    expect(Array.isArray(j.maps)).toBe(true);
  });
});
