// lib/capture/thread.ts under Node: threads are worker_threads; the init
// data reaches threadPort(), transfers move (not copy) buffers, messages sent
// before the thread listens are queued, a thread that throws or exits is
// reported, and nothing is reported after terminate(). Runs the built
// library (dist/), as the capture workers do; the Deno side is in
// test/deno.test.ts.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import type * as ThreadApi from '../lib/capture/thread.js';

const THREAD = new URL('../dist/lib/capture/thread.js', import.meta.url);
const { startThread, threadKind } = (await import(THREAD.href)) as typeof ThreadApi;

const dir = mkdtempSync(join(tmpdir(), 'ebpf-capture-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): URL {
  const path = join(dir, name);
  writeFileSync(path, `import { threadPort } from ${JSON.stringify(THREAD.href)};\n${body}\n`);
  return pathToFileURL(path);
}

// Listens only after a delay, so the messages below arrive before it does.
const ECHO = script('echo.mjs', `
  const { init, port } = await threadPort();
  await new Promise((r) => setTimeout(r, 50));
  port.on('message', (m) => {
    const sum = new Uint8Array(m.buf).reduce((a, x) => a + x, init.add);
    port.postMessage({ n: m.n, sum, buf: m.buf }, [m.buf]);
  });`);

type Echo = { n: number; sum: number; buf: ArrayBuffer };
type Handlers = ThreadApi.ThreadHandlers<unknown>;
const noop: Handlers = { message() {}, error() {}, exit() {} };

describe('capture threads under Node', () => {
  test('the runtime gives worker_threads', () => {
    expect(threadKind()).toBe('worker_threads');
  });

  test('init data, transferred buffers and early messages reach the thread; answers come back in order', async () => {
    const got: Echo[] = [];
    const sent: number[] = [];
    let thread!: ThreadApi.Thread<{ n: number; buf: ArrayBuffer }>;
    await new Promise<void>((resolve, reject) => {
      thread = startThread(ECHO, { add: 100 }, {
        message: (m) => void (got.push(m as Echo) === 2 && resolve()),
        error: reject,
        exit: (code) => reject(new Error(`exit ${code}`)),
      });
      for (const n of [1, 2]) {
        const buf = new Uint8Array([n, 2, 3]).buffer;
        thread.post({ n, buf }, [buf]);
        sent.push(buf.byteLength);
      }
    });
    await thread.terminate();
    expect(thread.kind).toBe('worker_threads');
    expect(sent).toEqual([0, 0]); // moved, not copied
    expect(got.map((m) => [m.n, m.sum, m.buf.byteLength])).toEqual([[1, 106, 3], [2, 107, 3]]);
  });

  test('a thread that throws is reported through error', async () => {
    const url = script('throws.mjs', `await threadPort();\nthrow new Error('boom');`);
    let thread!: ThreadApi.Thread<unknown>;
    const e = await new Promise<Error>((resolve) => (thread = startThread(url, null, { ...noop, error: resolve })));
    await thread.terminate();
    expect(e.message).toBe('boom');
  });

  test('a thread that exits is reported through exit; a missing script through error', async () => {
    const url = script('exits.mjs', `await threadPort();\nprocess.exit(3);`);
    const code = await new Promise<number>((resolve) => startThread(url, null, { ...noop, exit: resolve }));
    expect(code).toBe(3);
    let thread!: ThreadApi.Thread<unknown>;
    const e = await new Promise<Error>((resolve) => (thread = startThread(pathToFileURL(join(dir, 'missing.mjs')), null, { ...noop, error: resolve })));
    await thread.terminate();
    expect(e.message).toMatch(/missing\.mjs/);
  });

  test('nothing is reported after terminate()', async () => {
    const events: string[] = [];
    const thread = startThread(ECHO, { add: 0 }, {
      message: () => void events.push('message'), error: () => void events.push('error'), exit: () => void events.push('exit'),
    });
    await thread.terminate();
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toEqual([]);
  });
});
