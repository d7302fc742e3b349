// The playground's static file server (lib/cli/playground.ts): files under
// its root with the right Content-Type, 404 for what is not there, paths
// that climb out of the root refused however they are spelled, GET and HEAD
// only, loopback Host names only when bound to loopback; and the command's
// argument checks and start/stop.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.js';
import { isLoopback, mimeType, playgroundCommand, resolveRequestPath, startPlaygroundServer, type PlaygroundServer } from '../lib/cli/playground.js';

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

/** A raw request: the path goes out exactly as given (no URL normalization), as an attacker would send it. */
function get(port: number, path: string, options: { method?: string; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, method: options.method ?? 'GET', headers: { host: options.host ?? `127.0.0.1:${port}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('playground server', () => {
  let dir = '';
  let root = '';
  let server: PlaygroundServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ebpf-playground-server-'));
    root = join(dir, 'site');
    mkdirSync(join(root, 'lib'), { recursive: true });
    mkdirSync(join(root, 'vendor'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'style.css'), 'body {}');
    writeFileSync(join(root, 'lib', 'vm.js'), 'export {};');
    writeFileSync(join(root, 'vendor', 'astring.mjs'), 'export {};');
    writeFileSync(join(root, 'cfg.svg'), '<svg/>');
    writeFileSync(join(root, 'blob.bin'), 'x');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    symlinkSync(join(dir, 'secret.txt'), join(root, 'link.txt'));
    server = await startPlaygroundServer({ root, port: 0 });
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on a free port of 127.0.0.1 when asked for port 0', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it('serves files with their MIME types, / as index.html', async () => {
    const cases: Array<[string, string, string]> = [
      ['/', 'text/html; charset=utf-8', '<!doctype html><title>t</title>'],
      ['/index.html', 'text/html; charset=utf-8', '<!doctype html><title>t</title>'],
      ['/style.css', 'text/css; charset=utf-8', 'body {}'],
      ['/lib/vm.js', 'text/javascript; charset=utf-8', 'export {};'],
      ['/vendor/astring.mjs?v=1', 'text/javascript; charset=utf-8', 'export {};'],
      ['/cfg.svg', 'image/svg+xml', '<svg/>'],
      ['/blob.bin', 'application/octet-stream', 'x'],
    ];
    for (const [path, type, body] of cases) {
      const r = await get(server.port, path);
      expect(r, path).toEqual({ status: 200, type, body });
    }
    const head = await get(server.port, '/style.css', { method: 'HEAD' });
    expect(head).toEqual({ status: 200, type: 'text/css; charset=utf-8', body: '' });
  });

  it('answers 404 for what is not there, folders included', async () => {
    for (const path of ['/missing.js', '/lib/', '/lib', '/vendor/nothing.mjs']) {
      const r = await get(server.port, path);
      expect(r.status, path).toBe(404);
    }
  });

  it('refuses paths that climb out of the root, however spelled', async () => {
    for (const path of ['/../secret.txt', '/lib/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/lib/..%2f..%2fsecret.txt',
      '/..%5csecret.txt', '/%00index.html']) {
      const r = await get(server.port, path);
      expect(r.status, path).toBe(403);
      expect(r.body).not.toContain('secret');
    }
    // A symbolic link inside the root that leads out of it.
    expect((await get(server.port, '/link.txt')).status).toBe(403);
    expect((await get(server.port, '/%E0%A4%A')).status).toBe(400);
  });

  it('serves GET and HEAD only, and only to loopback Host names', async () => {
    const post = await get(server.port, '/', { method: 'POST' });
    expect(post.status).toBe(405);
    expect((await get(server.port, '/', { host: 'evil.example:80' })).status).toBe(403);
    expect((await get(server.port, '/', { host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('takes only loopback literals and localhost as Host, not names that start like them', async () => {
    // Names DNS could point anywhere (DNS rebinding), and malformed literals.
    for (const host of ['127.evil.com', '127.0.0.1.nip.io', `127.0.0.1.nip.io:${server.port}`, '127.0.0.256', '127.1', '127.0.0.1.',
      '127.0.0.1x', 'localhost.evil.com', 'foo.localhost', 'localhost.', '[::2]', '[::1].evil.com', '128.0.0.1', '0x7f.0.0.1']) {
      expect((await get(server.port, '/', { host })).status, `Host: ${host}`).toBe(403);
    }
    for (const host of ['127.0.0.1', `127.0.0.1:${server.port}`, '127.1.2.255', '127.255.255.255:80', 'LOCALHOST', `[::1]:${server.port}`, '[::1]']) {
      expect((await get(server.port, '/', { host })).status, `Host: ${host}`).toBe(200);
    }
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('127.300.0.1')).toBe(false);
    expect(isLoopback('0.0.0.0')).toBe(false);
  });

  it('resolveRequestPath maps request paths under the root', () => {
    expect(resolveRequestPath(root, '/a/b.js?x#y')).toBe(join(root, 'a', 'b.js'));
    expect(resolveRequestPath(root, '/a/')).toBe(join(root, 'a', 'index.html'));
    expect(resolveRequestPath(root, '/a/../b.js')).toBe(403);
    expect(resolveRequestPath(root, 'relative')).toBe(403);
    expect(mimeType('X.HTML')).toBe('text/html; charset=utf-8');
  });

  it('a taken port is a UsageError naming it', async () => {
    await expect(startPlaygroundServer({ root, port: server.port })).rejects.toThrow(new RegExp(`port ${server.port} is in use`));
    expect(() => startPlaygroundServer({ root, port: 70000 })).toThrow(UsageError);
  });

  it('the command checks its options, prints the URL and stops when told', async () => {
    await expect(playgroundCommand(['--port', 'x'], () => {})).rejects.toThrow(UsageError);
    await expect(playgroundCommand(['--port', '70000'], () => {})).rejects.toThrow(UsageError);
    await expect(playgroundCommand(['page.html'], () => {})).rejects.toThrow(/takes no files/);
    await expect(playgroundCommand(['--bogus'], () => {})).rejects.toThrow(UsageError);
    await expect(playgroundCommand([], () => {}, { root: join(dir, 'nowhere') })).rejects.toThrow(/playground is not built/);

    const lines: string[] = [];
    let stop = () => {};
    const until = new Promise<void>((resolve) => { stop = resolve; });
    const done = playgroundCommand(['--port', '0', '--host', '127.0.0.1'], (s) => lines.push(s), { until, root });
    await expect.poll(() => lines.length).toBe(1);
    const m = /^ebpf-js playground: http:\/\/127\.0\.0\.1:(\d+)\/ \(Ctrl-C stops it\)$/.exec(lines[0]!);
    expect(m, lines[0]).not.toBeNull();
    expect((await get(Number(m![1]), '/style.css')).status).toBe(200);
    stop();
    expect(await done).toBe(0);
    expect(lines[1]).toBe('ebpf-js playground: stopped');
    await expect(get(Number(m![1]), '/style.css')).rejects.toThrow(/ECONNREFUSED/);
  });
});
