#!/usr/bin/env node
// The benchmark (`npm run bench`): the C programs of fixtures/bench/, as
// clang-compiled BPF objects, on every engine, against the same C compiled
// natively. Prints one table row per program (native, interpreter and JIT
// time per run, their ratios to native, load/compile cost per instruction)
// with geometric means, then the compile-throughput lines (a synthetic
// 10,000-instruction program from bytes to callable function, and a
// 1,000,000-instruction program that loads and runs), then what a tail call
// and a map lookup cost (runtime-bench.mjs), then packets/s over a capture
// for an XDP and a classic BPF filter, and tcpdump's own (capture-bench.mjs).
//
// Every engine's result must equal the native result (else MISMATCH and
// exit status 1). Timings are printed, never asserted.
//
//   node test/bench/bench.mjs [--min-ms N] [--warmup-ms N] [--only a,b] [--no-native]
//                             [--no-build] [--dist DIR] [--write-inputs DIR]
//
// --min-ms: time per measurement (default 300); --warmup-ms: minimum warm-up
// before it (default 500, extended while the engine keeps getting faster,
// up to 4x); --only: some programs (the table's names; `capture` for the
// capture rows, which --only without it skips, as it skips the runtime costs);
// --dist DIR: benchmark another build of ebpf-js (a folder holding
// lib/index.js, e.g. another checkout's dist/), which implies --no-build.
// --write-inputs DIR: only write each program's input to DIR/NAME.bin (for
// `ebpf-js run fixtures/... --mem`, or `native NAME=DIR/NAME.bin`) and exit.
//
// Inputs are generated here, deterministically, and written to files that
// the native harness (fixtures/bench/native.c) reads, so both sides run on
// the same bytes without a second generator in C.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runtimeRows } from './runtime-bench.mjs';
import { captureRows, FILTER as CAPTURE_FILTER } from './capture-bench.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BENCH = join(ROOT, 'fixtures', 'bench');

// ---------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const opts = { minMs: 300, warmupMs: 500, only: undefined, native: true, build: true, dist: join(ROOT, 'dist') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--min-ms') opts.minMs = Number(argv[++i]);
    else if (a === '--warmup-ms') opts.warmupMs = Number(argv[++i]);
    else if (a === '--only') opts.only = (argv[++i] ?? '').split(',');
    else if (a === '--no-native') opts.native = false;
    else if (a === '--no-build') opts.build = false;
    // Internal: the child process that runs the 1,000,000-instruction program.
    else if (a === '--huge') opts.huge = argv[++i];
    else if (a === '--write-inputs') opts.writeInputs = resolve(argv[++i] ?? '');
    else if (a === '--dist') {
      opts.dist = resolve(argv[++i] ?? '');
      opts.build = false;
    }
    else {
      console.error(`bench: unknown argument ${a}\nusage: bench.mjs [--min-ms N] [--warmup-ms N] [--only a,b] [--no-native] [--no-build] [--dist DIR] [--write-inputs DIR]`);
      process.exit(2);
    }
  }
  const unknown = (opts.only ?? []).filter((name) => name !== CAPTURE && !PROGRAMS.some((p) => p.name === name));
  if (unknown.length > 0) {
    console.error(`bench: unknown program(s) ${unknown.join(', ')}; known: ${PROGRAMS.map((p) => p.name).join(', ')}, ${CAPTURE}`);
    process.exit(2);
  }
  if (!(opts.minMs > 0) || !(opts.warmupMs > 0)) {
    console.error('bench: --min-ms and --warmup-ms must be positive numbers');
    process.exit(2);
  }
  return opts;
}

// ---------------------------------------------------------------------------
// Build dist/ first when it is missing or older than a source file.

function sourcesNewerThanDist() {
  const stale = [];
  for (const dir of ['lib', 'codegen']) {
    const walk = (d) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
          const out = join(ROOT, 'dist', relative(ROOT, p)).replace(/\.ts$/, '.js');
          if (!existsSync(out) || statSync(out).mtimeMs < statSync(p).mtimeMs) stale.push(relative(ROOT, p));
        }
      }
    };
    if (existsSync(join(ROOT, dir))) walk(join(ROOT, dir));
  }
  return stale;
}

function ensureBuilt() {
  const stale = sourcesNewerThanDist();
  if (stale.length === 0) return;
  console.log(`bench: building dist/ (${stale.length} source file(s) newer than their build, e.g. ${stale[0]})`);
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    // tsc still emits on type errors; what it emitted may well run.
    if (!existsSync(join(ROOT, 'dist', 'lib', 'index.js'))) {
      console.error('bench: npm run build failed and there is no dist/lib/index.js');
      process.exit(1);
    }
    console.log('bench: warning: npm run build reported errors; benchmarking what it emitted');
  }
}

// ---------------------------------------------------------------------------
// Deterministic inputs

/** xorshift32: the one random source of every input (seeded per program). */
function rng(seed) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
  return {
    u32: next,
    byte: () => next() & 0xff,
    /** Integer in [0, n). */
    below: (n) => Math.floor((next() / 2 ** 32) * n),
    bytes: (n) => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
}

/** A capture of `count` synthetic packets in pktparse's record format. */
function packetCapture(count, seed) {
  const r = rng(seed);
  const out = [];
  const be16 = (x) => [(x >> 8) & 0xff, x & 0xff];
  const random = (n) => Array.from({ length: n }, r.byte);
  const payload = () => random(r.below(160));
  const tcp = () => {
    // Flags: mostly ACK, some SYN, SYN+ACK, FIN; sometimes options (doff 8).
    const flags = [0x10, 0x18, 0x02, 0x12, 0x11][r.below(5)];
    const doff = r.below(4) === 0 ? 8 : 5;
    const ports = [...be16(1024 + r.below(60000)), ...be16([80, 443, 22, 8080][r.below(4)])];
    return [6, [...ports, ...random(8), doff << 4, flags, ...random(6), ...random((doff - 5) * 4), ...payload()]];
  };
  const udp = () => {
    const body = payload();
    const dport = r.below(3) === 0 ? 53 : 1024 + r.below(60000);
    return [17, [...be16(1024 + r.below(60000)), ...be16(dport), ...be16(8 + body.length), 0, 0, ...body]];
  };
  const icmp = (v6) => [v6 ? 58 : 1, [[0, 8, 3, 11][r.below(4)], 0, 0, 0, ...random(4), ...payload()]];
  const l4 = (v6) => {
    const k = r.below(10);
    return k < 5 ? tcp() : k < 9 ? udp() : icmp(v6);
  };
  const ipv4 = () => {
    const [proto, body] = l4(false);
    const options = r.below(8) === 0 ? random(4 * (1 + r.below(3))) : [];
    const ihl = 5 + options.length / 4;
    // 1 in 16 is a fragment: first (MF set) or a later one (offset > 0).
    const fragword = r.below(16) !== 0 ? 0x4000 : r.below(2) === 0 ? 0x2000 : 0x2000 | (1 + r.below(100));
    const total = ihl * 4 + body.length;
    return [0x0800, [0x40 | ihl, 0, ...be16(total), ...random(2), ...be16(fragword), 64, proto, 0, 0, ...random(8), ...options, ...body]];
  };
  const ipv6 = () => {
    let [proto, body] = l4(true);
    // Sometimes one or two extension headers (hop-by-hop, destination options), or a fragment header.
    const ext = r.below(4);
    if (ext === 3) [proto, body] = [44, [proto, 0, ...random(6), ...body]];
    for (let e = 0; e < ext && ext < 3; e++) {
      const len = r.below(2);
      [proto, body] = [[0, 60][e], [proto, len, ...random(6 + 8 * len), ...body]];
    }
    return [0x86dd, [0x60, ...random(3), ...be16(body.length), proto, 64, ...random(32), ...body]];
  };
  for (let i = 0; i < count; i++) {
    const k = r.below(20);
    let [etype, l3] = k < 11 ? ipv4() : k < 17 ? ipv6() : k < 19 ? [0x0806, random(28)] : [0x88cc, random(40)];
    // 1 in 8 has one VLAN tag, 1 in 32 two (802.1ad outside 802.1Q).
    const tags = r.below(32) === 0 ? 2 : r.below(8) === 0 ? 1 : 0;
    let frame = [...random(12)];
    if (tags === 2) frame.push(...be16(0x88a8), ...be16(r.below(4096)));
    if (tags >= 1) frame.push(...be16(0x8100), ...be16(r.below(4096)));
    frame.push(...be16(etype), ...l3);
    // 1 in 25 is cut short (a snap length), possibly inside a header.
    if (r.below(25) === 0) frame = frame.slice(0, r.below(frame.length));
    out.push(frame.length & 0xff, frame.length >> 8, ...frame);
    while (out.length % 4 !== 0) out.push(0);
  }
  return Uint8Array.from(out);
}

/** The --only name of the capture rows (capture-bench.mjs). */
const CAPTURE = 'capture';

/**
 * The benchmark set, in table order. Input sizes are chosen so that a
 * native run takes roughly 10-200 µs.
 */
const PROGRAMS = [
  { name: 'csum', what: 'internet checksum, 128 KiB', input: () => rng(1).bytes(128 * 1024) },
  { name: 'pktparse', what: 'packet headers, 2000 packets', input: () => packetCapture(2000, 2) },
  { name: 'fnv1a', what: 'FNV-1a 64, 16 KiB', input: () => rng(3).bytes(16 * 1024) },
  { name: 'xxmix', what: 'xxhash-like 64-bit mix, 256 KiB', input: () => rng(4).bytes(256 * 1024) },
  { name: 'divmod', what: 'gcd, div/mod 64+32, 256 pairs', input: () => divmodInput(256, 5) },
  { name: 'sort', what: 'insertion sort on stack, 32x64 u32', input: () => rng(6).bytes(32 * 64 * 4) },
  { name: 'prng', what: 'xorshift64* + splitmix64, 20000 it.', input: () => prngInput(20000, 7) },
  { name: 'crc32', what: 'CRC-32, nibble table on stack, 8 KiB', input: () => rng(8).bytes(8 * 1024) },
  { name: 'scan', what: '4-byte pattern scan, 32 KiB', input: () => scanInput(32 * 1024, 9) },
];

/** Pairs of u64 (a, b) with b spread over many magnitudes so gcd takes 1 to ~40 steps. */
function divmodInput(pairs, seed) {
  const r = rng(seed);
  const out = new Uint8Array(pairs * 16);
  const v = new DataView(out.buffer);
  for (let i = 0; i < pairs; i++) {
    const a = (BigInt(r.u32()) << 32n) | BigInt(r.u32());
    const shift = BigInt(r.below(64));
    const b = ((BigInt(r.u32()) << 32n) | BigInt(r.u32())) >> shift;
    v.setBigUint64(16 * i, a, true);
    v.setBigUint64(16 * i + 8, b, true);
  }
  return out;
}

function prngInput(iterations, seed) {
  const r = rng(seed);
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint32(0, r.u32(), true);
  v.setUint32(4, r.u32(), true);
  v.setUint32(8, iterations, true);
  return out;
}

/** Text over a 4-letter alphabet, with the pattern "abca" in front: plenty of partial matches. */
function scanInput(n, seed) {
  const r = rng(seed);
  const out = Uint8Array.from({ length: n }, () => 0x61 + r.below(4));
  out.set([0x61, 0x62, 0x63, 0x61]);
  return out;
}

// ---------------------------------------------------------------------------
// Timing

const now = () => Number(process.hrtime.bigint());

/**
 * Median over batches of the mean time of `fn`, in ns per call, after a
 * warm-up long enough for V8 to have optimized the code: at least
 * `warmupMs` (and 3 calls), then rounds of a quarter of that until a round's
 * fastest call is within 5% of the best seen before it, for at most four
 * times `warmupMs` in all. Then at least 7 batches filling `minMs`. The
 * native harness uses the same statistic (with a short warm-up).
 * Returns { ns, steady }: steady is false when the warm-up hit its cap.
 */
function measure(fn, minMs, warmupMs) {
  const round = (ms) => {
    let best = Infinity;
    let n = 0;
    const r0 = now();
    do {
      const c0 = now();
      fn();
      best = Math.min(best, now() - c0);
      n++;
    } while (n < 3 || now() - r0 < ms * 1e6);
    return { best, perCall: (now() - r0) / n };
  };
  const w0 = now();
  let { best, perCall } = round(warmupMs);
  let steady = false;
  while (!steady && now() - w0 < 4 * warmupMs * 1e6) {
    const r = round(warmupMs / 4);
    steady = r.best >= 0.95 * best;
    best = Math.min(best, r.best);
    perCall = r.perCall;
  }
  const budget = minMs * 1e6;
  const batch = Math.max(1, Math.round(budget / 7 / perCall));
  const means = [];
  const t0 = now();
  while (means.length < 7 || (now() - t0 < budget && means.length < 1000)) {
    const b0 = now();
    for (let i = 0; i < batch; i++) fn();
    means.push((now() - b0) / batch);
  }
  means.sort((a, b) => a - b);
  return { ns: means[means.length >> 1], steady };
}

function geomean(values) {
  const v = values.filter((x) => Number.isFinite(x) && x > 0);
  return v.length === 0 ? NaN : Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length);
}

// ---------------------------------------------------------------------------
// Native baseline

function commandExists(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Compiles native.c with `cc -O2` into `tmp`: { exe } or { why } when there is no native baseline. */
function buildNative(tmp) {
  if (!commandExists('cc')) return { why: 'no cc' };
  const exe = join(tmp, 'native');
  const cc = spawnSync('cc', ['-O2', '-o', exe, join(BENCH, 'native.c')], { encoding: 'utf8' });
  if (cc.status !== 0) return { why: `cc -O2 native.c failed: ${cc.stderr.trim().split('\n')[0]}` };
  return { exe };
}

/**
 * Runs one program natively on `input` (written to a file in `tmp`):
 * { ns, result }. One process per program, run just before the engines
 * measure the same program, so that a change in machine load between
 * measurements skews the ratios less.
 */
function runNative(exe, tmp, name, input, minMs) {
  const file = join(tmp, `${name}.bin`);
  writeFileSync(file, input);
  const run = spawnSync(exe, ['--min-ms', String(minMs), `${name}=${file}`], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`native harness failed on ${name}: ${run.stderr.trim()}`);
  const [, ns, result] = run.stdout.trim().split(' ');
  return { ns: Number(ns), result: BigInt(result) };
}

// ---------------------------------------------------------------------------
// Engines

/**
 * Bytes to callable function, in ns: a fresh load, then the JIT's compile
 * (LoadedProgram.compile when the build has it), else one run on empty
 * memory, which every program here leaves after a few instructions (its
 * input is too short), so a JIT compiling at the first run is counted too.
 * For the interpreter, load (validation) is all there is.
 */
function timeLoad(Vm, code, engine) {
  const vm = new Vm();
  const t0 = now();
  const prog = vm.load(code);
  if (engine === 'jit' && typeof prog.compile === 'function') prog.compile();
  else prog.run(new Uint8Array(0), { engine });
  return now() - t0;
}

function hex(x) {
  return `0x${x.toString(16)}`;
}

// ---------------------------------------------------------------------------
// Synthetic programs for compile throughput

/** One 8-byte slot. */
function slot(out, pc, opcode, dst, src, off, imm) {
  const v = new DataView(out.buffer, out.byteOffset + pc * 8, 8);
  v.setUint8(0, opcode);
  v.setUint8(1, (src << 4) | dst);
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
}

/**
 * A straight-line program of exactly `n` slots (n >= 4) that runs every
 * instruction once on a 16-byte input (returns 0 at once on empty input),
 * and its result computed in JS. Blocks of 8: a byte load from the input, ALU
 * ops, a 64-bit multiply, a stack store and load, and a forward branch.
 * Each `variant` has other constants, so a JIT's output differs too and V8
 * cannot answer a repeated compile from its cache.
 */
function syntheticProgram(n, variant) {
  const M = (1n << 64n) - 1n;
  const input = Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff);
  const code = new Uint8Array(n * 8);
  const stack = new Map();
  let r0 = 0n;
  slot(code, 0, 0xb7, 0, 0, 0, 0); // mov r0, 0
  slot(code, 1, 0x55, 2, 0, 1, 0); // jne r2, 0, +1
  slot(code, 2, 0x95, 0, 0, 0, 0); // exit
  let pc = 3;
  for (let k = 0; pc + 8 <= n - 1; k++, pc += 8) {
    const byteOff = k & 15;
    const store = -8 * (1 + (k & 7));
    const load = -8 * (1 + ((k + 3) & 7));
    const mul = (0x9e3779b1 + 2 * k + 0x1000 * variant) | 1 | 0;
    slot(code, pc, 0x71, 3, 1, byteOff, 0); //        ldxb r3, [r1+byteOff]
    slot(code, pc + 1, 0x0f, 0, 3, 0, 0); //          add r0, r3
    slot(code, pc + 2, 0x27, 0, 0, 0, mul); //        mul r0, imm
    slot(code, pc + 3, 0x7b, 10, 0, store, 0); //     stxdw [r10+store], r0
    slot(code, pc + 4, 0x79, 4, 10, load, 0); //      ldxdw r4, [r10+load]
    slot(code, pc + 5, 0xaf, 0, 4, 0, 0); //          xor r0, r4
    slot(code, pc + 6, 0x2d, 0, 3, 1, 0); //          jgt r0, r3, +1
    slot(code, pc + 7, 0x07, 0, 0, 0, k & 0x7fff); // add r0, k
    const r3 = BigInt(input[byteOff]);
    r0 = (r0 + r3) & M;
    r0 = (r0 * BigInt.asUintN(64, BigInt(mul))) & M;
    stack.set(store, r0);
    r0 ^= stack.get(load) ?? 0n;
    if (!(r0 > r3)) r0 = (r0 + BigInt(k & 0x7fff)) & M;
  }
  for (; pc < n - 1; pc++) {
    slot(code, pc, 0xa7, 0, 0, 0, pc); // xor r0, pc
    r0 ^= BigInt(pc);
  }
  slot(code, n - 1, 0x95, 0, 0, 0, 0); // exit
  return { code, input, expected: r0 };
}

/**
 * The 1,000,000-instruction program, in a child process: an engine that runs
 * out of memory or time there is reported, not fatal to the bench.
 */
function runHuge(dist, engine) {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [script, '--huge', engine, '--dist', dist], {
    encoding: 'utf8',
    timeout: HUGE_TIMEOUT_MS,
    maxBuffer: 1 << 20,
  });
  if (child.error?.code === 'ETIMEDOUT') return `FAILED: no result within ${HUGE_TIMEOUT_MS / 1000} s`;
  const out = child.stdout.trim();
  if (child.status === 0 && out !== '') return out;
  const why = /heap out of memory/.test(child.stderr) ? 'out of memory' : child.stderr.trim().split('\n').slice(-1)[0];
  return `FAILED (${child.signal ?? `exit ${child.status}`}): ${why ?? 'no output'}`;
}

const HUGE_TIMEOUT_MS = 45_000;

/** Child mode (--huge ENGINE): load + compile, then run, the 1,000,000-slot program; prints one line. */
async function hugeChild(dist, engine) {
  const { Vm } = await import(pathToFileURL(join(dist, 'lib', 'index.js')).href);
  const huge = syntheticProgram(1_000_000, 0);
  try {
    const t0 = now();
    const prog = new Vm().load(huge.code);
    if (engine === 'jit' && typeof prog.compile === 'function') prog.compile();
    else prog.run(new Uint8Array(0), { engine });
    const t1 = now();
    const result = prog.run(huge.input, { engine });
    const t2 = now();
    const ok = result === huge.expected ? 'ok' : `MISMATCH ${hex(result)} != expected ${hex(huge.expected)}`;
    console.log(`bytes to callable ${((t1 - t0) / 1e6).toFixed(0)} ms (${((t1 - t0) / 1e9).toFixed(3)} µs/insn), ` +
      `run ${((t2 - t1) / 1e6).toFixed(0)} ms; result ${ok}`);
  } catch (e) {
    console.log(`FAILED: ${e.name}: ${String(e.message).split('\n')[0]}`);
  }
}

// ---------------------------------------------------------------------------
// Output

function fmtTime(ns) {
  if (ns === undefined || !Number.isFinite(ns)) return 'n/a';
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e3).toFixed(ns >= 1e5 ? 0 : ns >= 1e4 ? 1 : 2)} µs`;
}
function fmtRatio(x) {
  return x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)}x`;
}
function fmtPerInsn(ns) {
  return ns === undefined || !Number.isFinite(ns) ? 'n/a' : `${(ns / 1e3).toFixed(3)}`;
}

function fmtRate(pps) {
  return pps === undefined || !Number.isFinite(pps) ? 'n/a' : `${Math.round(pps).toLocaleString('en-US')} packets/s`;
}

function printTable(headers, rows, rightAligned) {
  const cells = rows.filter((r) => r !== 'rule');
  const widths = headers.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  const line = (cells) => cells.map((s, c) => (rightAligned[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join('  ').trimEnd();
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(r === 'rule' ? widths.map((w) => '-'.repeat(w)).join('  ') : line(r));
}

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.huge !== undefined) return hugeChild(opts.dist, opts.huge);
  if (opts.writeInputs !== undefined) {
    mkdirSync(opts.writeInputs, { recursive: true });
    for (const p of PROGRAMS) writeFileSync(join(opts.writeInputs, `${p.name}.bin`), p.input());
    console.log(`wrote ${PROGRAMS.length} inputs to ${opts.writeInputs}`);
    return;
  }
  if (opts.build) ensureBuilt();
  const { Vm, AVAILABLE_ENGINES } = await import(pathToFileURL(join(opts.dist, 'lib', 'index.js')).href);
  const { programBytes } = await import(pathToFileURL(join(opts.dist, 'lib', 'elf-sections.js')).href);
  const hasJit = AVAILABLE_ENGINES.includes('jit');
  const engines = hasJit ? ['interp', 'jit'] : ['interp'];
  const programs = opts.only === undefined ? PROGRAMS : PROGRAMS.filter((p) => opts.only.includes(p.name));
  const started = now();

  console.log(`ebpf-js bench: node ${process.version}, ${process.arch}, engines: ${AVAILABLE_ENGINES.join(', ')}`);
  const load = loadavg()[0];
  if (load > availableParallelism()) {
    console.log(`warning: load average ${load.toFixed(1)} on ${availableParallelism()} CPUs: timings will be noisy`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'ebpf-js-bench-'));
  try {
    await benchmark(opts, { Vm, programBytes, engines, hasJit, programs, tmp });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\nbench took ${((now() - started) / 1e9).toFixed(1)} s`);
}

async function benchmark(opts, { Vm, programBytes, engines, hasJit, programs, tmp }) {
  // --only capture: the capture rows alone.
  if (programs.length === 0) {
    const bad = await captureSection(opts, engines, tmp);
    if (bad > 0) console.log(`${bad} MISMATCH(ES) or FAILURE(S): see above`);
    process.exitCode = bad > 0 ? 1 : 0;
    return;
  }
  const native = opts.native ? buildNative(tmp) : { why: 'disabled (--no-native)' };
  if (native.why !== undefined) console.log(`native: n/a (${native.why})`);

  // Warm the loader and every engine on a synthetic program first, so the
  // first program's compile time is not the cost of V8 compiling ebpf-js.
  const warm = syntheticProgram(1000, 99);
  for (const engine of engines) for (let i = 0; i < 5; i++) timeLoad(Vm, warm.code, engine);

  let mismatches = 0;
  const rows = [];
  const ratios = { interp: [], jit: [] };
  for (const p of programs) {
    const code = programBytes(readFileSync(join(BENCH, `${p.name}.o`)), p.name);
    const slots = code.length / 8;
    const input = p.input();
    let nat;
    if (native.exe !== undefined) {
      try {
        nat = runNative(native.exe, tmp, p.name, input, opts.minMs);
      } catch (e) {
        console.log(`  ${p.name}: native n/a (${e.message})`);
      }
    }
    const row = { name: p.name, slots, native: nat?.ns, time: {}, load: {}, notes: [] };
    let reference = nat?.result;
    for (const engine of engines) {
      try {
        row.load[engine] = timeLoad(Vm, code, engine) / slots;
        const prog = new Vm().load(code);
        const result = prog.run(input, { engine });
        if (reference === undefined) reference = result;
        if (result !== reference) {
          row.notes.push(`MISMATCH ${engine} ${hex(result)} != ${nat === undefined ? 'interp' : 'native'} ${hex(reference)}`);
          mismatches++;
        }
        const m = measure(() => prog.run(input, { engine }), opts.minMs, opts.warmupMs);
        row.time[engine] = m.ns;
        if (!m.steady) row.notes.push(`${engine} still speeding up after ${(4 * opts.warmupMs / 1e3).toFixed(1)} s of warm-up`);
        if (nat !== undefined) ratios[engine].push(row.time[engine] / nat.ns);
      } catch (e) {
        row.notes.push(`FAILED ${engine}: ${e.name}: ${String(e.message).split('\n')[0]}`);
        mismatches++;
      }
    }
    row.result = reference;
    rows.push(row);
    process.stdout.write(`  ${p.name} done\n`);
  }

  console.log('');
  const headers = ['program', 'insns', 'native', 'interp', 'jit', 'interp/nat', 'jit/nat', 'interp load', 'jit compile', 'result'];
  const right = [false, true, true, true, true, true, true, true, true, false];
  const table = rows.map((r) => [
    r.name,
    String(r.slots),
    fmtTime(r.native),
    fmtTime(r.time.interp),
    fmtTime(r.time.jit),
    fmtRatio(r.native === undefined ? undefined : r.time.interp / r.native),
    fmtRatio(r.native === undefined ? undefined : r.time.jit / r.native),
    fmtPerInsn(r.load.interp),
    fmtPerInsn(r.load.jit),
    r.result === undefined ? 'n/a' : hex(r.result) + (r.notes.length > 0 ? ' ' + r.notes.join('; ') : ''),
  ]);
  table.push('rule');
  table.push([
    'geomean', '', '', '', '',
    fmtRatio(geomean(ratios.interp)), fmtRatio(hasJit ? geomean(ratios.jit) : undefined),
    fmtPerInsn(geomean(rows.map((r) => r.load.interp))), fmtPerInsn(hasJit ? geomean(rows.map((r) => r.load.jit)) : undefined),
    '',
  ]);
  printTable(headers, table, right);
  console.log('native/interp/jit: median time per run. insns: 8-byte slots from the entry to the end of .text.');
  console.log('interp load, jit compile: µs per slot from bytes to callable, the first time these bytes are seen:');
  console.log('vm.load (validation) for the interpreter, vm.load + JIT compile for the JIT.');
  for (const p of programs) console.log(`  ${p.name.padEnd(9)} ${p.what}`);
  if (hasJit) {
    const worst = rows.filter((r) => r.native !== undefined && r.time.jit !== undefined)
      .map((r) => [r.name, r.time.jit / r.native]).sort((a, b) => b[1] - a[1])[0];
    if (worst !== undefined) console.log(`slowest JIT program: ${worst[0]} at ${fmtRatio(worst[1])} native`);
  }

  // Compile throughput.
  console.log('');
  for (const engine of engines) {
    // Seven different programs: the first compile of each is timed.
    const times = [];
    let bad = 0;
    try {
      for (let variant = 0; variant < 7; variant++) {
        const big = syntheticProgram(10_000, variant);
        times.push(timeLoad(Vm, big.code, engine));
        if (new Vm().load(big.code).run(big.input, { engine }) !== big.expected) bad++;
      }
    } catch (e) {
      mismatches++;
      console.log(`compile ${engine}: 10,000 insns: FAILED ${e.name}: ${String(e.message).split('\n')[0]}`);
      continue;
    }
    const first = times[0];
    times.sort((a, b) => a - b);
    mismatches += bad;
    console.log(`compile ${engine}: 10,000 insns, bytes to callable: first ${(first / 1e7).toFixed(3)} µs/insn, ` +
      `median of 7 programs ${(times[3] / 1e7).toFixed(3)} µs/insn; results ${bad === 0 ? 'ok' : `${bad} MISMATCH(ES)`}`);
  }
  for (const engine of engines) {
    const line = runHuge(opts.dist, engine);
    if (line.startsWith('FAILED') || line.includes('MISMATCH')) mismatches++;
    console.log(`compile ${engine}: 1,000,000 insns: ${line}`);
  }
  if (!hasJit) console.log('jit: n/a (not in AVAILABLE_ENGINES yet)');

  // Runtime costs: tail calls and map lookups (skipped with --only, which picks table programs).
  if (opts.only === undefined) {
    console.log('');
    try {
      const lib = await import(pathToFileURL(join(opts.dist, 'lib', 'index.js')).href);
      const rowsRt = runtimeRows(lib, engines, (fn) => measure(fn, opts.minMs, opts.warmupMs));
      for (const r of rowsRt) console.log(`${r.what.padEnd(30)} ${r.engine.padEnd(6)} ${r.ns.toFixed(0).padStart(5)} ns each`);
      console.log('(run time with the operation minus the same run without it, divided by the number of operations)');
    } catch (e) {
      mismatches++;
      console.log(`runtime costs: FAILED ${e.name}: ${String(e.message).split('\n')[0]}`);
    }
  }
  // Packets/s over a capture (with --only, only when it names `capture`).
  if (opts.only === undefined || opts.only.includes(CAPTURE)) mismatches += await captureSection(opts, engines, tmp);
  if (mismatches > 0) console.log(`${mismatches} MISMATCH(ES) or FAILURE(S): see above`);
  process.exitCode = mismatches > 0 ? 1 : 0;
}

/** The capture rows (capture-bench.mjs); returns the number of mismatches and failures. */
async function captureSection(opts, engines, tmp) {
  let mismatches = 0;
  console.log('');
  try {
    const { rows: capRows, notes, packets, bytes } = await captureRows(ROOT, opts.dist, engines, tmp, opts.minMs);
    console.log(`capture: FILE = fixtures/pcap/traffic.pcap x10 (${packets.toLocaleString('en-US')} packets, ${(bytes / 1e6).toFixed(1)} MB), ` +
      `FILTER = "${CAPTURE_FILTER}", one core (workers: 1)`);
    printTable(['program', 'engine', 'from file', 'in memory'], capRows.map((r) => [
      r.what, r.engine, fmtRate(r.fromFile), fmtRate(r.inMemory),
    ]), [false, false, true, true]);
    console.log('packets/s, best run: from file = read and parse the pcap + run (what tcpdump -r does); in memory = packets already parsed');
    for (const n of notes) {
      if (n.startsWith('MISMATCH')) mismatches++;
      console.log(n);
    }
  } catch (e) {
    mismatches++;
    console.log(`capture: FAILED ${e.name}: ${String(e.message).split('\n')[0]}`);
  }
  return mismatches;
}

await main();
