// `ebpf-js filter` (lib/cli/filter.ts), called as a function: saved classic
// programs (fixtures/cbpf) over a small capture made here, -w, --json,
// engines, and its errors; with tcpdump installed, expressions too (skipped
// with the reason printed otherwise).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CbpfError } from '../lib/cbpf/index.js';
import { compileExpression, filterCommand } from '../lib/cli/filter.js';
import { UsageError } from '../lib/errors.js';
import { openCapture, PcapError } from '../lib/pcap/index.js';
import { AVAILABLE_ENGINES } from '../lib/vm.js';
import { pcapBytes } from './pcap-helpers.js';

const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
if (!hasTcpdump) console.log('cbpf-cli tcpdump tests skipped: tcpdump not found');

const dir = mkdtempSync(join(tmpdir(), 'ebpf-cbpf-cli-'));
const HTTP_DDD = 'fixtures/cbpf/http.ddd';
const HTTP_DD = 'fixtures/cbpf/http.dd';

function tcp4(dport: number, vlan = false): number[] {
  const eth = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...(vlan ? [0x81, 0, 0, 100] : []), 8, 0];
  return [...eth, ...ipv4Tcp(dport)];
}
function ipv4Tcp(dport: number): number[] {
  return [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    0x30, 0x39, dport >> 8, dport & 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 2, 0xff, 0xff, 0, 0, 0, 0];
}
const udp53 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0, 53, 0, 8, 0, 0];
const arp = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 6, 7, 8, 9, 10, 11, 8, 6, 0, 1, 8, 0, 6, 4, 0, 1, ...Array<number>(20).fill(0)];

/** 0: tcp 80, 1: udp 53, 2: tcp 8080, 3: arp, 4: tcp 80 in a VLAN (not "tcp port 80"), 5: tcp 80. */
const FRAMES = [tcp4(80), udp53, tcp4(8080), arp, tcp4(80, true), tcp4(80)].map((b) => Uint8Array.from(b));

function writeCapture(name: string, frames: readonly Uint8Array[], linkType = 1): string {
  const path = join(dir, name);
  writeFileSync(path, pcapBytes(frames.map((data, i) => ({ data, timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 250_000_000n })), { linkType }));
  return path;
}

const CAP = writeCapture('small.pcap', FRAMES);

async function filter(args: string[], options: { tcpdump?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await filterCommand(args, (s) => out.push(s), (s) => err.push(s), options);
  return { status, out, err };
}

async function filterError(args: string[], options: { tcpdump?: string } = {}): Promise<Error> {
  try {
    await filter(args, options);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`filter ${args.join(' ')} succeeded`);
}

describe('ebpf-js filter --cbpf', () => {
  it('prints the accepted packets (number, time, length) and the count on stderr', async () => {
    const r = await filter(['--cbpf', HTTP_DDD, CAP]);
    expect(r.status).toBe(0);
    expect(r.out).toEqual([
      '      0      0.000000     54',
      '      5      1.250000     54',
    ]);
    expect(r.err).toEqual([expect.stringMatching(/^2 of 6 packets matched fixtures\/cbpf\/http\.ddd \(jit, \d+ packets\/s\)$/)]);
  });

  it('gives the same result for the -dd form and on both engines', async () => {
    const ref = (await filter(['--cbpf', HTTP_DDD, CAP])).out;
    for (const engine of AVAILABLE_ENGINES) {
      expect((await filter(['--cbpf', HTTP_DD, CAP, '--engine', engine])).out).toEqual(ref);
    }
  });

  it('runs the other saved program (SYNs from outside 10.1.0.0/24)', async () => {
    const r = await filter(['--cbpf', 'fixtures/cbpf/syn-from-outside.ddd', CAP]);
    expect(r.out.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([0, 2, 5]);
  });

  it('writes the accepted packets as captured with -w', async () => {
    const outPath = join(dir, 'matched.pcap');
    const r = await filter(['--cbpf', HTTP_DDD, CAP, '-w', outPath]);
    expect(r.out).toEqual([]);
    expect(r.err[0]).toMatch(/^2 of 6 packets matched/);
    const written = [];
    for await (const p of openCapture(outPath)) written.push(p);
    expect(written.map((p) => p.data)).toEqual([FRAMES[0], FRAMES[5]]);
    expect(written.map((p) => p.timestampNs)).toEqual([1_700_000_000_000_000_000n, 1_700_000_001_250_000_000n]);
    expect(written[0]!.linkType).toBe(1);
  });

  it('writes an empty capture when nothing matches', async () => {
    const none = writeCapture('none.pcap', [FRAMES[1]!, FRAMES[3]!]);
    const outPath = join(dir, 'empty.pcap');
    const r = await filter(['--cbpf', HTTP_DDD, none, '-w', outPath]);
    expect(r.err[0]).toMatch(/^0 of 2 packets matched/);
    const written = [];
    for await (const p of openCapture(outPath)) written.push(p);
    expect(written).toEqual([]);
  });

  it('prints one JSON document with --json', async () => {
    const r = await filter(['--cbpf', HTTP_DDD, CAP, '--json']);
    const doc = JSON.parse(r.out.join('\n'));
    expect(doc).toMatchObject({ filter: null, cbpf: HTTP_DDD, capture: CAP, engine: 'jit', packets: 6, matched: 2 });
    expect(doc.matches).toEqual([{ number: 0, time: 0, length: 54 }, { number: 5, time: 1.25, length: 54 }]);
  });

  it('runs on the packets as captured: a raw-IP capture needs a program compiled for raw IP', async () => {
    const raw = writeCapture('raw.pcap', [Uint8Array.from(ipv4Tcp(80)), Uint8Array.from(ipv4Tcp(81))], 101);
    // http.ddd reads the EtherType at offset 12: in a raw IP packet that is the source address.
    expect((await filter(['--cbpf', HTTP_DDD, raw])).out).toEqual([]);
    // "ip proto 6 and dst port 80" for raw IP: protocol at byte 9, destination port at 22.
    const rawProgram = join(dir, 'raw-http.ddd');
    writeFileSync(rawProgram, '6\n48 0 0 9\n21 0 3 6\n40 0 0 22\n21 0 1 80\n6 0 0 262144\n6 0 0 0\n');
    const r = await filter(['--cbpf', rawProgram, raw, '--json']);
    expect(JSON.parse(r.out.join('\n'))).toMatchObject({ packets: 2, matched: 1, matches: [{ number: 0, time: 0, length: 40 }], skipped: 0 });
  });

  it('reports a bad program with its line, usage mistakes as UsageError', async () => {
    const bad = join(dir, 'bad.ddd');
    writeFileSync(bad, '2\n40 0 0 12\n6 0 0\n');
    const e = await filterError(['--cbpf', bad, CAP]);
    expect(e).toBeInstanceOf(CbpfError);
    expect((e as CbpfError).line).toBe(3);
    expect(e.message).toBe(`${bad}: expected "code jt jf k" (four decimal numbers), got '6 0 0' at line 3`);
    const refused = join(dir, 'refused.ddd');
    writeFileSync(refused, '1\n40 0 0 12\n');
    expect((await filterError(['--cbpf', refused, CAP])).message).toMatch(/refused\.ddd: the last instruction must be a return at pc 0/);
    expect(await filterError(['--cbpf', HTTP_DDD, 'tcp', CAP])).toEqual(new UsageError('give an expression or --cbpf FILE, not both'));
    expect((await filterError([CAP])).message).toMatch(/^usage: ebpf-js filter/);
    expect((await filterError(['--cbpf', HTTP_DDD])).message).toMatch(/^usage: ebpf-js filter/);
    expect((await filterError(['--cbpf', join(dir, 'missing.ddd'), CAP])).message).toMatch(/^cannot read .*missing\.ddd: ENOENT/);
    const noOut = join(dir, 'never.pcap');
    expect(await filterError(['--cbpf', HTTP_DDD, join(dir, 'missing.pcap'), '-w', noOut])).toEqual(
      new UsageError(`cannot read ${join(dir, 'missing.pcap')}: ENOENT`));
    expect(existsSync(noOut)).toBe(false);
    expect((await filterError(['--cbpf', HTTP_DDD, dir])).message).toBe(`cannot read ${dir}: a directory, not a capture`);
    // -w the input itself: refused before the input is opened for writing (which would empty it).
    const before = readFileSync(CAP);
    expect(await filterError(['--cbpf', HTTP_DDD, CAP, '-w', CAP])).toEqual(new UsageError(`-w ${CAP} is the input capture: write the packets elsewhere`));
    expect(readFileSync(CAP).equals(before)).toBe(true);
    expect((await filterError(['--cbpf', HTTP_DDD, CAP, '--engine', 'fast'])).message).toMatch(/--engine must be one of/);
  });

  it('prints every match before a truncated capture\'s error, then throws it', async () => {
    const whole = readFileSync(CAP);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 10));
    const out: string[] = [];
    const err: string[] = [];
    let error: unknown;
    try {
      await filterCommand(['--cbpf', HTTP_DDD, cut], (s) => out.push(s), (s) => err.push(s));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PcapError);
    expect((error as PcapError).packetNumber).toBe(5);
    expect(out).toEqual(['      0      0.000000     54']);
    expect(err).toEqual([expect.stringMatching(/^1 of 5 packets matched .* before the error/)]);
  });

  it('says how to go on when tcpdump is missing', async () => {
    const e = await filterError(['tcp port 80', CAP], { tcpdump: 'ebpf-js-no-such-tcpdump' });
    expect(e).toEqual(new UsageError('tcpdump not found: install tcpdump or pass --cbpf FILE'));
  });
});

describe.skipIf(!hasTcpdump)('ebpf-js filter EXPR (tcpdump)', () => {
  it('compiles with tcpdump -ddd and matches what the saved program matches', async () => {
    const r = await filter(['tcp port 80', CAP]);
    expect(r.out).toEqual((await filter(['--cbpf', HTTP_DDD, CAP])).out);
    expect(r.err[0]).toMatch(/^2 of 6 packets matched "tcp port 80"/);
    expect((await filter(['vlan and tcp port 80', CAP])).out).toEqual(['      4      1.000000     58']);
  });

  it('reports expressions tcpdump refuses, and never passes them through a shell', async () => {
    const marker = join(dir, 'pwned');
    const e = await filterError([`tcp port 80; touch ${marker}`, CAP]);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/^tcpdump cannot compile "tcp port 80; touch .*": tcpdump: .*syntax error/);
    expect(existsSync(marker)).toBe(false);
    expect(await filterError(['$(touch ' + marker + ')', CAP])).toBeInstanceOf(UsageError);
    expect(existsSync(marker)).toBe(false);
  });

  it('takes expressions that start with a dash after --', async () => {
    // "-1 < 0" would otherwise be read as options, by us and by tcpdump.
    expect(compileExpression('len - 1 > 100')).toMatch(/^\d+\n/);
    const r = await filter(['--', 'len - 1 > 54', CAP]);
    expect(r.out.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([4]);
  });

  it('agrees with tcpdump -r on the fixture capture', async () => {
    const traffic = 'fixtures/pcap/traffic.pcap';
    if (!existsSync(traffic)) {
      console.log('fixtures/pcap/traffic.pcap absent: comparison skipped');
      return;
    }
    // Both write the accepted packets; tcpdump's --number counts printed packets, not input ones.
    const read = async (path: string) => {
      const packets = [];
      for await (const p of openCapture(path)) packets.push({ t: p.timestampNs, data: p.data });
      return packets;
    };
    for (const expr of ['tcp port 80', 'udp and not port 53', 'icmp6 or arp']) {
      const ours = join(dir, 'ours.pcap');
      const theirs = join(dir, 'theirs.pcap');
      await filter([expr, traffic, '-w', ours]);
      expect(spawnSync('tcpdump', ['-r', traffic, '-w', theirs, '--', expr]).status).toBe(0);
      const want = await read(theirs);
      expect(want.length).toBeGreaterThan(0);
      expect(await read(ours), expr).toEqual(want);
    }
  });
});
