// Smoke test: the built library and CLI run under Deno 2 (the `deno` npm
// package provides the binary).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COUNTER, COUNTER_MAPS } from './capture-programs.js';
import { CLI, ROOT, cli, denoBinary } from './cli-helpers.js';


const deno = denoBinary();
if (deno === undefined) console.warn('deno.test.ts skipped: the deno npm package is not installed (npm install provides it)');

// Skipped only when the devDependency is missing; `npm install` installs it.
describe.skipIf(deno === undefined)('Deno 2', () => {
  const run = (args: string[]) =>
    spawnSync(deno!, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } });

  it('runs the CLI on the README example', () => {
    const r = run(['run', '--allow-read', '--allow-env', CLI, 'run', 'fixtures/examples/http-filter.asm', '--mem', 'fixtures/examples/http-syn.bin']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0x1\n');
    expect(r.status).toBe(0);
  });

  it('imports the library and runs a program with a JS helper', () => {
    // Inside the checkout, as a user's script would be: Deno resolves the
    // library's npm imports (acorn, astring) through the nearest package.json.
    const dir = mkdtempSync(join(ROOT, '.deno-smoke-'));
    const script = join(dir, 'smoke.mjs');
    const index = new URL('../dist/lib/index.js', import.meta.url).href;
    writeFileSync(script, [
      `import { Vm, MemoryAccessError } from ${JSON.stringify(index)};`,
      `const vm = new Vm({ helpers: { 7: (a, b) => a * b } });`,
      `const prog = vm.load('mov %r1, 6\\nmov %r2, 7\\ncall 7\\nexit');`,
      `console.log(prog.run().toString());`,
      `try { vm.load('ldxb %r0, [%r1]\\nexit').run(); } catch (e) { console.log(e instanceof MemoryAccessError, e.pc); }`,
    ].join('\n'));
    const r = run(['run', '--allow-read', script]);
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('42\ntrue 0\n');
  });

  it('traces on both engines and steps with the debugger, as under Node', () => {
    for (const engine of ['interp', 'jit']) {
      const args = ['run', 'fixtures/elf/xdp_firewall.o', '--mem', 'fixtures/examples/http-syn.bin', '--trace', '--engine', engine];
      const r = run(['run', '--allow-read', '--allow-env', CLI, ...args]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(cli(args).stdout);
      expect(r.stdout.split('\n').length).toBeGreaterThan(20);
    }
    const dir = mkdtempSync(join(ROOT, '.deno-debug-'));
    const script = join(dir, 'debug.mjs');
    const index = new URL('../dist/lib/index.js', import.meta.url).href;
    writeFileSync(script, [
      `import { Vm, Debugger } from ${JSON.stringify(index)};`,
      `const prog = new Vm().load('mov %r0, 1\\nl:\\nlsh %r0, 1\\njlt %r0, 16, l\\nexit');`,
      `const dbg = new Debugger(prog); dbg.breakAt(2); const seen = [];`,
      `const r0 = dbg.run(undefined, (stop) => { seen.push(stop.pc + ':' + stop.register(0)); });`,
      `console.log(seen.join(' '), r0.toString());`,
    ].join('\n'));
    const r = run(['run', '--allow-read', script]);
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2:2 2:4 2:8 2:16 16\n');
  });

  it('reports errors with the same exit status as Node', () => {
    const args = ['run', 'fixtures/examples/missing.asm'];
    const r = run(['run', '--allow-read', '--allow-env', CLI, ...args]);
    expect(r.status).toBe(cli(args).status);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot read/);
  });
  it('runs a capture over Web Workers', () => {
    // One thread and 2 workers agree on the shared counters; a fault names its packet and no thread is left behind.
    // The global Worker is wrapped to count the Web Workers started: 2 per 2-worker run, 0 for one thread.
    const dir = mkdtempSync(join(ROOT, '.deno-capture-'));
    const script = join(dir, 'capture.mjs');
    const capture = new URL('../dist/lib/capture/index.js', import.meta.url).href;
    writeFileSync(script, [
      `const WebWorker = globalThis.Worker; let started = 0;`,
      `globalThis.Worker = class extends WebWorker { constructor(url, options) { super(url, options); if (options?.type === 'module') started++; } };`,
      `const { runCapture } = await import(${JSON.stringify(capture)});`,
      `const packets = (bad) => Array.from({ length: 1500 }, (_, i) => {`,
      `  const data = new Uint8Array(60 + (i % 9)); data[0] = i === bad ? 0x77 : i & 0x3f; data[12] = 8;`,
      `  return { index: i, offset: 24 + i, timestampNs: 0n, linkType: 1, interfaceId: 0, data, origLen: data.length };`,
      `});`,
      `const spec = { kind: 'bpf', code: ${JSON.stringify(COUNTER)}, maps: ${JSON.stringify(COUNTER_MAPS)}, type: 'xdp' };`,
      `for (const workers of [1, 2]) {`,
      `  const order = [];`,
      `  const r = await runCapture({ spec, workers }, packets(-1), (p) => order.push(p.packet.index));`,
      `  const totals = r.vm.maps.byName('totals').get(0);`,
      `  const perCpu = r.vm.maps.byName('per_cpu').get(0, 'u64');`,
      `  const total = new DataView(totals.buffer, totals.byteOffset).getBigUint64(0, true);`,
      `  console.log([workers, JSON.stringify([...r.counts]), total, perCpu.reduce((a, b) => a + b, 0n), order.every((x, i) => x === i), started].join(' '));`,
      `  started = 0;`,
      `}`,
      `await runCapture({ spec, workers: 2 }, packets(1200)).catch((e) => console.log(e.name, e.packetNumber));`,
    ].join('\n'));
    const r = run(['run', '--allow-read', '--allow-env', script]);
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([
      '1 [["XDP_DROP",750],["XDP_PASS",750]] 1500 1500 true 0',
      '2 [["XDP_DROP",750],["XDP_PASS",750]] 1500 1500 true 2',
      'PacketError 1200',
      '',
    ].join('\n'));
    expect(r.status).toBe(0);
  });

  it('thread.ts starts Web Workers: init, transfers, queued messages, errors; the process exits on its own', () => {
    const dir = mkdtempSync(join(ROOT, '.deno-thread-'));
    const dist = (path: string) => JSON.stringify(new URL(`../dist/lib/capture/${path}`, import.meta.url).href);
    // The echo thread listens only after a delay: messages sent before that are queued, not lost.
    writeFileSync(join(dir, 'echo.mjs'), [
      `import { threadPort } from ${dist('thread.js')};`,
      `const { init, port } = await threadPort();`,
      `await new Promise((r) => setTimeout(r, 50));`,
      `port.on('message', (m) => { const sum = new Uint8Array(m.buf).reduce((a, x) => a + x, init.add); port.postMessage({ n: m.n, sum, buf: m.buf }, [m.buf]); });`,
    ].join('\n'));
    writeFileSync(join(dir, 'throws.mjs'), `import { threadPort } from ${dist('thread.js')};\nawait threadPort();\nthrow new Error('boom');\n`);
    writeFileSync(join(dir, 'main.mjs'), [
      `import { startThread, threadKind } from ${dist('thread.js')};`,
      `import { WorkerPool } from ${dist('pool.js')};`,
      `const url = (name) => new URL(name, import.meta.url);`,
      `const got = [];`,
      `let echo;`,
      `await new Promise((resolve, reject) => {`,
      `  echo = startThread(url('./echo.mjs'), { add: 100 }, { message: (m) => { got.push(m); if (got.length === 4) resolve(); }, error: reject, exit: reject });`,
      `  for (const n of [1, 2]) { const buf = new Uint8Array([n, 2, 3]).buffer; echo.post({ n, buf }, [buf]); got.push(buf.byteLength); }`,
      `});`,
      `console.log(threadKind(), echo.kind, JSON.stringify(got.map((m) => typeof m === 'number' ? m : [m.n, m.sum, m.buf.byteLength])));`,
      `await echo.terminate();`,
      `const [t, e] = await new Promise((resolve) => { const t = startThread(url('./throws.mjs'), null, { message() {}, error: (e) => resolve([t, e]), exit() {} }); });`,
      `console.log(e instanceof Error, /boom/.test(e.message));`,
      `await t.terminate();`,
      `const pool = new WorkerPool(url('./missing.mjs'), [{}, {}], () => {});`,
      `console.log(pool.threadKind, await pool.started().catch((x) => x.name));`,
      `await pool.terminate();`,
    ].join('\n'));
    const r = run(['run', '--allow-read', '--allow-env', join(dir, 'main.mjs')]);
    rmSync(dir, { recursive: true, force: true });
    expect(r.stdout).toBe(['web web [0,0,[1,106,3],[2,107,3]]', 'true true', 'web WorkerError', ''].join('\n'));
    // Exited by itself (spawnSync's timeout would kill it and leave status null).
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
  });
});
