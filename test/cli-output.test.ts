// The edges of `ebpf-js run --pcap` and `ebpf-js filter` through the built
// CLI: output files that are the input (by path, symlink or hard link),
// captures mixing link types, skipped packets, reports after an error,
// streams as captures, output that cannot be written, --workers beyond the
// CPUs, and the wording of counts and socket-filter verdicts.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, linkSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, cli } from './cli-helpers.js';
import { pcapBytes } from './pcap-helpers.js';
import { expectedFor, readPcap, TRAFFIC, XDP_STATS, type RawPacket } from './cli-traffic.js';

let tmp: string;
let packets: RawPacket[];
beforeAll(() => {
  expect(existsSync(CLI), `${CLI} missing: run npm run build`).toBe(true);
  tmp = mkdtempSync(join(tmpdir(), 'ebpf-js-cli-output-'));
  packets = readPcap(TRAFFIC).packets;
});

const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
if (!hasTcpdump) console.log('cli-output.test.ts: tcpdump cases skipped: tcpdump not found');

/** IPv4 + TCP (20 + 20 bytes) to `dport`. */
function ipv4Tcp(dport: number): Uint8Array {
  return Uint8Array.from([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    0x30, 0x39, dport >> 8, dport & 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 2, 0xff, 0xff, 0, 0, 0, 0]);
}
const ETH_IPV4 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0];
function ethTcp(dport: number): Uint8Array {
  return Uint8Array.from([...ETH_IPV4, ...ipv4Tcp(dport)]);
}

function writeCapture(name: string, frames: readonly Uint8Array[], linkType = 1): string {
  const path = join(tmp, name);
  writeFileSync(path, pcapBytes(frames.map((data, i) => ({ data, timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n })), { linkType }));
  return path;
}

/** A pcapng file with one interface per link type in `linkTypes`; each packet names its interface. */
function writePcapng(name: string, linkTypes: readonly number[], packetsIn: readonly { iface: number; data: Uint8Array }[]): string {
  const block = (type: number, body: Buffer): Buffer => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const len = 12 + padded.length;
    const head = Buffer.alloc(8);
    head.writeUInt32LE(type, 0);
    head.writeUInt32LE(len, 4);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(len, 0);
    return Buffer.concat([head, padded, tail]);
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const parts = [block(0x0a0d0d0a, shb)];
  for (const lt of linkTypes) {
    const idb = Buffer.alloc(8);
    idb.writeUInt16LE(lt, 0);
    idb.writeUInt32LE(65535, 4);
    parts.push(block(1, idb));
  }
  packetsIn.forEach((p, i) => {
    const epb = Buffer.alloc(20);
    const us = 1_700_000_000_000_000n + BigInt(i) * 1000n;
    epb.writeUInt32LE(p.iface, 0);
    epb.writeUInt32LE(Number(us >> 32n), 4);
    epb.writeUInt32LE(Number(us & 0xffffffffn), 8);
    epb.writeUInt32LE(p.data.length, 12);
    epb.writeUInt32LE(p.data.length, 16);
    parts.push(block(6, Buffer.concat([epb, Buffer.from(p.data)])));
  });
  const path = join(tmp, name);
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

describe('output files are never the input', () => {
  it('run --write-pass/--write-drop and filter -w refuse the input by path, symlink and hard link, before touching it', () => {
    const input = join(tmp, 'input.pcap');
    writeFileSync(input, readFileSync(TRAFFIC));
    const symlink = join(tmp, 'input-symlink.pcap');
    const hardlink = join(tmp, 'input-hardlink.pcap');
    symlinkSync(input, symlink);
    linkSync(input, hardlink);
    for (const out of [input, symlink, hardlink]) {
      for (const option of ['--write-pass', '--write-drop']) {
        const r = cli(['run', XDP_STATS, '--pcap', input, option, out]);
        expect([r.status, r.stdout]).toEqual([2, '']);
        expect(r.stderr).toBe(`ebpf-js: ${option} ${out} is the input capture: write the packets elsewhere\n`);
      }
      const f = cli(['filter', '--cbpf', 'fixtures/cbpf/http.ddd', input, '-w', out]);
      expect([f.status, f.stdout]).toEqual([2, '']);
      expect(f.stderr).toBe(`ebpf-js: -w ${out} is the input capture: write the packets elsewhere\n`);
    }
    // Standard input redirected from the file: `-` and /dev/stdin are that file.
    for (const dash of ['-', '/dev/stdin']) {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" run ${XDP_STATS} --pcap ${dash} --write-drop "${hardlink}" < "${input}"`], { cwd: ROOT, encoding: 'utf8' });
      expect([r.status, r.stderr]).toEqual([2, `ebpf-js: --write-drop ${hardlink} is the input capture: write the packets elsewhere\n`]);
    }
    // The input is as it was (the old filter truncated it before reading it).
    expect(readFileSync(input).equals(readFileSync(TRAFFIC))).toBe(true);
    // Two outputs that are one file through a symlink.
    const pass = join(tmp, 'pass-once.pcap');
    writeFileSync(pass, '');
    const passLink = join(tmp, 'pass-link.pcap');
    symlinkSync(pass, passLink);
    const both = cli(['run', XDP_STATS, '--pcap', input, '--write-pass', pass, '--write-drop', passLink]);
    expect([both.status, both.stderr]).toEqual([2, 'ebpf-js: --write-pass and --write-drop name the same file\n']);
    // Devices are not files: both outputs may be thrown away.
    const discard = cli(['run', XDP_STATS, '--pcap', input, '--write-pass', '/dev/null', '--write-drop', '/dev/null']);
    expect([discard.status, discard.stderr]).toEqual([0, '']);
  });
});

describe('captures mixing link types, and skipped packets', () => {
  it('--write-pass/--write-drop hold every packet as the Ethernet frame the program saw', () => {
    // Packet 0 raw IPv4 (interface 0), 1 Ethernet (interface 1), 2 raw IPv4 to port 23 (xdp_stats drops telnet).
    const raw0 = ipv4Tcp(80);
    const eth1 = ethTcp(443);
    const raw2 = ipv4Tcp(23);
    const mixed = writePcapng('mixed.pcapng', [101, 1], [{ iface: 0, data: raw0 }, { iface: 1, data: eth1 }, { iface: 0, data: raw2 }]);
    const pass = join(tmp, 'mixed-pass.pcap');
    const drop = join(tmp, 'mixed-drop.pcap');
    const r = cli(['run', XDP_STATS, '--pcap', mixed, '--write-pass', pass, '--write-drop', drop, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ packets: 3, verdicts: { XDP_PASS: 2, XDP_DROP: 1 }, skipped: 0 });
    const passed = readPcap(pass);
    const dropped = readPcap(drop);
    expect([passed.linkType, dropped.linkType]).toEqual([1, 1]);
    expect(passed.packets.map((p) => [...p.data])).toEqual([[...ETH_IPV4.map((b, i) => (i < 12 ? 0 : b)), ...raw0], [...eth1]]);
    // The raw packet's wire length grows by the 14-byte Ethernet header it was given.
    expect(passed.packets.map((p) => p.origLen)).toEqual([54, 54]);
    expect(dropped.packets.map((p) => p.data.length)).toEqual([54]);
    expect(Buffer.from(dropped.packets[0]!.data.subarray(14)).equals(Buffer.from(raw2))).toBe(true);
  });

  it('run: packets that cannot be made Ethernet frames are skipped and counted (text and JSON)', () => {
    // Linux cooked v1: a 16-byte header, then IPv4. Packet 1 is shorter than the header.
    const cooked = (ip: Uint8Array) => Uint8Array.from([0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 8, 0, ...ip]);
    const cap = writeCapture('cooked-short.pcap', [cooked(ipv4Tcp(80)), Uint8Array.from([0, 0, 0, 1, 0, 6]), cooked(ipv4Tcp(23))], 113);
    const r = cli(['run', XDP_STATS, '--pcap', cap]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^2 packets in /m);
    expect(r.stdout).toMatch(/^skipped 1 packet that is not convertible to Ethernet \(first: packet 1: .+\)$/m);
    const j = JSON.parse(cli(['run', XDP_STATS, '--pcap', cap, '--json']).stdout);
    expect(j).toMatchObject({ packets: 2, verdicts: { XDP_PASS: 1, XDP_DROP: 1 }, skipped: 1 });
    expect(j.skipped_examples).toEqual([{ packet: 1, offset: expect.any(Number), reason: expect.any(String) }]);
  });

  it('filter runs on the packets as captured: -w keeps the capture\'s link type, other link types are skipped', () => {
    // fixtures/cbpf/http.ddd is compiled for Ethernet ("tcp port 80"), the first packet's link type here.
    const mixed = writePcapng('mixed-eth-first.pcapng', [1, 101], [
      { iface: 0, data: ethTcp(80) }, { iface: 1, data: ipv4Tcp(80) }, { iface: 0, data: ethTcp(22) }, { iface: 0, data: ethTcp(80) },
    ]);
    const out = join(tmp, 'filtered.pcap');
    const r = cli(['filter', '--cbpf', 'fixtures/cbpf/http.ddd', mixed, '-w', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^2 of 3 packets matched fixtures\/cbpf\/http\.ddd \(jit, \d+ packets\/s\)\n/);
    expect(r.stderr).toMatch(/\nskipped 1 packet that is not of the first packet's link type \(first: packet 1: .+\)\n$/);
    const written = readPcap(out);
    expect(written.linkType).toBe(1);
    expect(written.packets.map((p) => [...p.data])).toEqual([[...ethTcp(80)], [...ethTcp(80)]]);
    const j = JSON.parse(cli(['filter', '--cbpf', 'fixtures/cbpf/http.ddd', mixed, '--json']).stdout);
    expect(j).toMatchObject({ packets: 3, matched: 2, skipped: 1, skipped_examples: [{ packet: 1 }] });
  });
});

describe.skipIf(!hasTcpdump)('filter EXPR is compiled for the capture\'s link type (tcpdump)', () => {
  it.each([
    ['raw IP', 101, (ip: Uint8Array) => ip],
    ['Linux cooked', 113, (ip: Uint8Array) => Uint8Array.from([0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 8, 0, ...ip])],
  ] as const)('%s: the same packets as tcpdump -r', (_name, linkType, frame) => {
    const cap = writeCapture(`link-${linkType}.pcap`, [ipv4Tcp(80), ipv4Tcp(22), ipv4Tcp(80), ipv4Tcp(8080)].map(frame), linkType);
    for (const expr of ['tcp port 80', 'tcp', 'len > 1000']) {
      const ours = join(tmp, `ours-${linkType}.pcap`);
      const theirs = join(tmp, `theirs-${linkType}.pcap`);
      const r = cli(['filter', expr, cap, '-w', ours]);
      expect(r.status, r.stderr).toBe(0);
      expect(spawnSync('tcpdump', ['-r', cap, '-w', theirs, '--', expr]).status).toBe(0);
      const want = readPcap(theirs);
      const got = readPcap(ours);
      expect(got.linkType).toBe(linkType);
      expect(got.packets.map((p) => [...p.data]), expr).toEqual(want.packets.map((p) => [...p.data]));
    }
    // The ports: 80 twice.
    expect(cli(['filter', 'tcp port 80', cap]).stdout.trim().split('\n').map((l) => Number(l.trim().split(/ +/)[0]))).toEqual([0, 2]);
  });

  it('an expression needs a capture file (tcpdump reads it); --cbpf takes a stream', () => {
    const stream = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" filter 'tcp port 80' /dev/stdin < ${TRAFFIC}`], { cwd: ROOT, encoding: 'utf8' });
    expect(stream.status).toBe(2);
    expect(stream.stderr).toMatch(/^ebpf-js: \/dev\/stdin is not a file: an expression is compiled by tcpdump -r CAPTURE/);
    const cbpf = spawnSync('bash', ['-c', `cat ${TRAFFIC} | "${process.execPath}" "${CLI}" filter --cbpf fixtures/pcap/telnet-or-blocked.ddd /dev/stdin`], { cwd: ROOT, encoding: 'utf8' });
    expect(cbpf.status, cbpf.stderr).toBe(0);
    const want = expectedFor(packets).each.filter((v) => v.verdict === 'XDP_DROP').length;
    expect(cbpf.stdout.trim().split('\n')).toHaveLength(want);
  });
});

describe('a run that ends in an error still reports what it did', () => {
  it.each([1, 2])('a truncated capture: maps, globals, printk and per-worker numbers of the packets before it (workers: %i)', (workers) => {
    const good = 1000;
    let at = 24;
    for (let i = 0; i < good; i++) at += 16 + packets[i]!.data.length;
    const cut = join(tmp, `cut-${workers}.pcap`);
    writeFileSync(cut, readFileSync(TRAFFIC).subarray(0, at + 16 + 5));
    const want = expectedFor(packets.slice(0, good));
    const r = cli(['run', XDP_STATS, '--pcap', cut, '--json', '--workers', String(workers)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^ebpf-js: .*at packet ${good}, byte offset ${at}\\n$`));
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      packets: good, verdicts: want.verdicts, printk: want.printk,
      globals: { '.bss': { telnet_dropped: want.telnetDropped, blocked_dropped: want.blockedDropped, ipv6_packets: want.ipv6Packets } },
      error: expect.stringMatching(`at packet ${good}`),
    });
    expect(j.maps.find((m: { name: string }) => m.name === 'proto_stats').entries.map((e: { value: unknown }) => e.value))
      .toEqual(Object.values(want.perProto));
    expect(j.per_worker).toHaveLength(workers);
    expect(j.per_worker.reduce((s: number, w: { packets: number }) => s + w.packets, 0)).toBe(good);
    // The text report has them too, and the summary counts the packets delivered.
    const text = cli(['run', XDP_STATS, '--pcap', cut, '--workers', String(workers)]);
    expect(text.stdout).toMatch(/^1,000 packets before the error in /m);
    expect(text.stdout).toContain(`    telnet_dropped = ${want.telnetDropped}\n`);
  });
});

describe('streams, output errors, workers, wording', () => {
  it('--pcap takes /dev/stdin and process substitution (streamed, one worker)', () => {
    const want = expectedFor(packets);
    const piped = spawnSync(process.execPath, [CLI, 'run', XDP_STATS, '--pcap', '/dev/stdin', '--json'],
      { cwd: ROOT, input: readFileSync(join(ROOT, TRAFFIC)), encoding: 'utf8', timeout: 60_000 });
    expect(piped.status, piped.stderr).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ workers: 1, packets: want.packets, verdicts: want.verdicts });
    const dash = spawnSync('bash', ['-c', `cat ${TRAFFIC} | "${process.execPath}" "${CLI}" run ${XDP_STATS} --pcap - --json`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(dash.status, dash.stderr).toBe(0);
    expect(JSON.parse(dash.stdout)).toMatchObject({ packets: want.packets, verdicts: want.verdicts });
    const sub = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" run ${XDP_STATS} --pcap <(cat ${TRAFFIC}) --json`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(sub.status, sub.stderr).toBe(0);
    expect(JSON.parse(sub.stdout)).toMatchObject({ packets: want.packets, verdicts: want.verdicts });
    const dir = cli(['run', XDP_STATS, '--pcap', tmp]);
    expect([dir.status, dir.stderr]).toEqual([2, `ebpf-js: cannot read ${tmp}: a directory, not a capture\n`]);
  });

  it.skipIf(!existsSync('/dev/full'))('output that cannot be written is one line and exit 1 (> /dev/full)', () => {
    const full = openSync('/dev/full', 'w');
    try {
      for (const args of [['run', XDP_STATS, '--pcap', TRAFFIC], ['filter', '--cbpf', 'fixtures/cbpf/http.ddd', TRAFFIC]]) {
        const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/^ebpf-js: cannot write the output: ENOSPC \(no space left on device\)\n$/m);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      }
      // An output file on a full disk: the report of the packets run, the error naming the packet being written, exit 1.
      const r = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--write-pass', '/dev/full', '--json']);
      expect(r.status).toBe(1);
      const m = /^ebpf-js: cannot write \/dev\/full: ENOSPC.* \(writing packet (\d+)\)\n$/.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      const j = JSON.parse(r.stdout);
      expect(j.packets).toBe(Number(m![1]) + 1);
      expect(j.error).toMatch(/^cannot write \/dev\/full/);
      expect(j.maps).not.toBeNull();
    } finally {
      closeSync(full);
    }
  });

  it('--workers beyond the CPUs warns on stderr and still runs', () => {
    const n = availableParallelism() + 1;
    const r = cli(['run', XDP_STATS, '--pcap', TRAFFIC, '--workers', String(n), '--json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`ebpf-js: warning: --workers ${n} is more than the ${availableParallelism()} CPU${n === 2 ? '' : 's'} available: expect it to be slower, not faster\n`);
    expect(JSON.parse(r.stdout)).toMatchObject({ workers: n, packets: packets.length });
  });

  it('"1 packet"; a socket filter\'s r0 values are kept / dropped in the text, each r0 in the JSON', () => {
    const one = writeCapture('one.pcap', [ethTcp(80)]);
    const r = cli(['run', XDP_STATS, '--pcap', one]);
    expect(r.stdout).toMatch(/^1 packet in \d+\.\d{3} s/m);
    expect(cli(['filter', '--cbpf', 'fixtures/cbpf/http.ddd', one]).stderr).toMatch(/^1 of 1 packet matched/);
    // http_filter keeps IPv4 TCP to port 80 (r0 = its length) and drops the rest.
    const http = packets.filter((p) => p.data.length >= 38 && p.data[12] === 8 && p.data[13] === 0 && p.data[23] === 6 && ((p.data[36]! << 8) | p.data[37]!) === 80);
    const text = cli(['run', 'fixtures/elf/socket_filter.o', '--program', 'http_filter', '--pcap', TRAFFIC]);
    expect(text.status).toBe(0);
    const header = 'verdicts (r0 = bytes to keep; --json counts each r0 value):\n';
    expect(text.stdout).toContain(header);
    const rows = text.stdout.slice(text.stdout.indexOf(header) + header.length).split('\n').filter((l) => /^ {2}\S/.test(l) && /%$/.test(l));
    const share = (n: number) => ((100 * n) / packets.length).toFixed(1);
    const dropped = packets.length - http.length;
    const row = (label: string, n: number) => expect.stringMatching(new RegExp(`^  ${label} +${n.toLocaleString('en-US')} +${share(n)}%$`));
    // Most frequent first.
    const want = [[row('dropped \\(r0 = 0\\)', dropped), dropped], [row('kept \\(r0 > 0\\)', http.length), http.length]] as const;
    expect(rows).toEqual([...want].sort((a, b) => b[1] - a[1]).map((w) => w[0]));
    expect(text.stdout).not.toMatch(/^ {2}0x/m);
    const j = JSON.parse(cli(['run', 'fixtures/elf/socket_filter.o', '--program', 'http_filter', '--pcap', TRAFFIC, '--json']).stdout);
    const lengths = new Map<string, number>();
    for (const p of http) lengths.set(`0x${p.data.length.toString(16)}`, (lengths.get(`0x${p.data.length.toString(16)}`) ?? 0) + 1);
    expect(j.verdicts).toEqual({ '0x0': packets.length - http.length, ...Object.fromEntries(lengths) });
  });
});
