// The capture part of `npm run bench`: packets/s on one core (workers: 1)
// for a small XDP filter (fixtures/elf/xdp_stats.o) and for a classic BPF
// filter (fixtures/pcap/telnet-or-blocked.ddd, `tcpdump -ddd` of FILTER
// below, translated by lib/cbpf and run as a socket filter), on each engine,
// over fixtures/pcap/traffic.pcap repeated REPEAT times in a temporary file;
// and, when tcpdump is installed, tcpdump's own time to filter that file
// with the same expression (`tcpdump -r FILE -w /dev/null FILTER`).
//
// Two rates per program: "from file" is the whole pipeline a user runs
// (read and parse the pcap, run, count: what tcpdump's time covers too);
// "in memory" runs the packets already parsed, so it is the runtime's share.
// Each is the best of a few runs lasting at least `minMs` in all. The cBPF
// filter must accept exactly the packets tcpdump prints (else MISMATCH), and
// xdp_stats must drop exactly those packets too, on every engine.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const FILTER = 'tcp dst port 23 or src net 203.0.113.0/24';
const REPEAT = 10;

const now = () => Number(process.hrtime.bigint());

/** The capture repeated REPEAT times (one header, the records REPEAT times) in `tmp`. */
function bigCapture(root, tmp) {
  const one = readFileSync(join(root, 'fixtures', 'pcap', 'traffic.pcap'));
  const parts = [one];
  for (let i = 1; i < REPEAT; i++) parts.push(one.subarray(24));
  const file = join(tmp, 'traffic-x10.pcap');
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

/** Best packets/s of `run` (returns the packet count) over runs filling minMs (at least 2). */
async function rate(run, minMs) {
  let best = 0;
  const t0 = now();
  for (let i = 0; i < 2 || now() - t0 < minMs * 1e6; i++) {
    const s = now();
    const packets = await run();
    best = Math.max(best, (packets * 1e9) / (now() - s));
    if (i >= 20) break;
  }
  return best;
}

function tcpdumpPath() {
  const r = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? 'tcpdump' : undefined;
}

/**
 * Rows of { what, engine, fromFile, inMemory } (packets/s) and notes
 * (mismatches, tcpdump's rate or why it is missing). `dist` is the build's
 * folder; `minMs` the time per measurement.
 */
export async function captureRows(root, dist, engines, tmp, minMs) {
  const lib = (p) => import(pathToFileURL(join(dist, 'lib', p)).href);
  const { runCapture } = await lib('capture/index.js');
  const { openCapture, readCapture } = await lib('pcap/index.js');
  const file = bigCapture(root, tmp);
  const bytes = readFileSync(file);
  const parsed = [];
  for await (const p of readCapture((async function* () { yield new Uint8Array(bytes); })())) parsed.push(p);
  const inMemory = async function* () { yield* parsed; };

  const programs = [
    // xdp_stats drops what FILTER matches (telnet, 203.0.113.0/24); the cBPF filter keeps it.
    { name: 'xdp_stats.o (XDP)', matched: (r) => r.counts.get('XDP_DROP') ?? 0,
      spec: { kind: 'elf', bytes: readFileSync(join(root, 'fixtures', 'elf', 'xdp_stats.o')) } },
    { name: 'cBPF of FILTER (-ddd)', matched: (r) => r.passed,
      spec: { kind: 'cbpf', text: readFileSync(join(root, 'fixtures', 'pcap', 'telnet-or-blocked.ddd'), 'utf8') } },
  ];
  const rows = [];
  const notes = [];
  const matchedBy = {};
  for (const p of programs) {
    for (const engine of engines) {
      const job = { spec: p.spec, engine, workers: 1, outputs: false };
      const check = await runCapture(job, inMemory());
      matchedBy[`${p.name} ${engine}`] = p.matched(check);
      const fromFile = await rate(async () => (await runCapture(job, openCapture(file))).packets, minMs);
      const memory = await rate(async () => (await runCapture(job, inMemory())).packets, minMs);
      rows.push({ what: p.name, engine, fromFile, inMemory: memory });
    }
  }
  const matched = new Set(Object.values(matchedBy));
  if (matched.size !== 1) notes.push(`MISMATCH: packets matched differ: ${JSON.stringify(matchedBy)}`);

  const tcpdump = tcpdumpPath();
  if (tcpdump === undefined) {
    notes.push('tcpdump: n/a (not installed)');
  } else {
    // Same file, same expression: what tcpdump itself needs to read and filter it.
    const printed = spawnSync(tcpdump, ['-nr', file, FILTER], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const matches = printed.stdout.split('\n').filter((l) => l !== '').length;
    const ours = matchedBy[`${programs[1].name} ${engines[0]}`];
    if (matches !== ours) notes.push(`MISMATCH: tcpdump matches ${matches} packets, the cBPF filter ${ours}`);
    const best = await rate(async () => {
      const r = spawnSync(tcpdump, ['-r', file, '-w', '/dev/null', FILTER], { stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`tcpdump exited ${r.status}`);
      return parsed.length;
    }, minMs);
    rows.push({ what: 'tcpdump -r FILE -w /dev/null FILTER', engine: 'native', fromFile: best, inMemory: undefined });
  }
  return { rows, notes, packets: parsed.length, bytes: bytes.length };
}
