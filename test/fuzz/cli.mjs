#!/usr/bin/env node
// `npm run fuzz -- --runs N --seed S [--path P]`: the differential fuzzer
// for longer than `npm test` runs it. Runs vitest on
// test/differential.test.ts with FUZZ_RUNS / FUZZ_SEED / FUZZ_PATH set (the
// test reads them; without them it runs its fixed seed and 2,000 programs).
// On a failure the test writes its report to FUZZ_REPORT, and this prints
// the seed and path that replay the shrunk counterexample.
//
// Defaults: 100,000 runs, a random seed (printed first, so even an
// interrupted run can be repeated).

import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const USAGE = 'usage: npm run fuzz -- [--runs N] [--seed S] [--path P]\n'
  + '  --runs N  programs to run (default 100000)\n'
  + '  --seed S  fast-check seed, a 32-bit integer (default: random, printed)\n'
  + '  --path P  replay one counterexample path from a failure report (with its --seed)';

function fail(message) {
  console.error(`fuzz: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseInteger(name, text, min, max) {
  if (text === undefined || !/^-?\d+$/.test(text)) fail(`${name} needs an integer (got ${text ?? 'nothing'})`);
  const n = Number(text);
  if (n < min || n > max) fail(`${name} must be in [${min}, ${max}] (got ${text})`);
  return n;
}

function parseArgs(argv) {
  const options = { runs: 100_000, seed: undefined, path: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--runs': options.runs = parseInteger('--runs', value(), 1, Number.MAX_SAFE_INTEGER); break;
      case '--seed': options.seed = parseInteger('--seed', value(), -0x80000000, 0xffffffff); break;
      case '--path': {
        const path = value();
        if (path === undefined || !/^\d+(:\d+)*$/.test(path)) fail(`--path needs a path like 12:0:3 (got ${path ?? 'nothing'})`);
        options.path = path;
        break;
      }
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: fail(`unknown argument ${argv[i]}`);
    }
  }
  if (options.path !== undefined && options.seed === undefined) fail('--path needs the --seed it was found with');
  return options;
}

const options = parseArgs(process.argv.slice(2));
const seed = options.seed ?? randomInt(0, 0x80000000);
console.log(`fuzz: ${options.runs} programs, seed ${seed}${options.path === undefined ? '' : `, path ${options.path}`}`);

const dir = mkdtempSync(join(tmpdir(), 'ebpf-fuzz-'));
const reportFile = join(dir, 'report.json');
const child = spawn(
  process.execPath,
  [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/differential.test.ts'],
  {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      FUZZ_RUNS: String(options.runs),
      FUZZ_SEED: String(seed),
      FUZZ_PATH: options.path ?? '',
      FUZZ_REPORT: reportFile,
    },
  },
);

child.on('exit', (code, signal) => {
  let report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch {
    report = undefined;
  }
  rmSync(dir, { recursive: true, force: true });
  if (report !== undefined) {
    console.error(`\n${report.report}\n`);
    console.error(`fuzz: FAILED (seed ${report.seed}). Replay the shrunk counterexample with:`);
    console.error(`  npm run fuzz -- --seed ${report.seed}${report.path ? ` --path ${report.path}` : ''}`);
    process.exit(1);
  }
  if (code !== 0) {
    console.error(`fuzz: vitest ${signal !== null ? `killed by ${signal}` : `exited with ${code}`} (seed ${seed}); rerun with --seed ${seed}`);
    process.exit(code === null || code === 0 ? 1 : code);
  }
  console.log(`fuzz: ${options.runs} programs passed (seed ${seed})`);
});
