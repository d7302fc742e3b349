// `ebpf-js playground [--port N] [--host H]`: serves the playground page
// (built by `npm run playground` into dist/playground) on a local HTTP
// server until Ctrl-C. A plain static file server: GET and HEAD only, files
// under the page's folder only (a path that climbs out is refused), MIME
// types for what the page is made of, 404 for anything else.
//
// It listens on 127.0.0.1 unless told otherwise, and then also refuses
// requests whose Host header is not a loopback name, so that a web page
// elsewhere cannot reach it through DNS rebinding.
//
// What it does not do: run anything on the server side (the page runs
// programs in the browser), cache, compress or serve ranges.

import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { intOption, parse } from './args.js';

export const DEFAULT_PLAYGROUND_PORT = 8119;
export const DEFAULT_PLAYGROUND_HOST = '127.0.0.1';

export const PLAYGROUND_USAGE = `usage: ebpf-js playground [--port N] [--host H]
  Serves the playground (a page that assembles or loads a .o, runs it on
  either engine in the browser, steps through it and shows registers,
  memory, maps, the generated JavaScript and the CFG) on
  http://127.0.0.1:${DEFAULT_PLAYGROUND_PORT}/ until Ctrl-C. --port 0 takes any free port;
  --host 0.0.0.0 serves other machines too. The page is built by
  \`npm run playground\` (from a checkout, a missing build is made here).`;

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.o': 'application/octet-stream',
};

/** The Content-Type of a file by its extension (application/octet-stream when unknown). */
export function mimeType(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

export interface PlaygroundServerOptions {
  /** The folder served (dist/playground). */
  readonly root: string;
  /** Default 8119; 0 takes any free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
}

export interface PlaygroundServer {
  /** http://host:port/ as a browser opens it. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The folder of the built page: dist/playground, found from this module in dist/lib/cli (or lib/cli in a checkout). */
export function playgroundRoot(): string {
  const top = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  return basename(top) === 'dist' ? join(top, 'playground') : join(top, 'dist', 'playground');
}

/** Builds the page when it is missing and the checkout's build script is there; UsageError when it cannot be had. */
export function ensurePlayground(root: string, log: (s: string) => void): void {
  if (existsSync(join(root, 'index.html'))) return;
  const script = join(root, '..', '..', 'lib', 'playground', 'build.mjs');
  if (existsSync(script)) {
    log('ebpf-js: building the playground (npm run playground) ...');
    const r = spawnSync(process.execPath, [script, '--out', root], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status === 0 && existsSync(join(root, 'index.html'))) return;
  }
  throw new UsageError(`the playground is not built (no ${join(root, 'index.html')}): run \`npm run playground\``);
}

const LOOPBACK_NAMES = new Set(['localhost', '[::1]', '::1']);

/**
 * Whether a host name (the Host header's, lower case, without the port; or
 * the address listened on) is loopback: `localhost`, `[::1]`, or an IPv4
 * literal 127.a.b.c (each part 0-255). Nothing that DNS resolves beyond
 * `localhost` itself: `127.evil.example` or `127.0.0.1.nip.io` are names an
 * attacker's DNS can point anywhere, and `*.localhost` is not needed.
 */
export function isLoopback(host: string): boolean {
  if (LOOPBACK_NAMES.has(host)) return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((part) => Number(part) <= 255);
}

/** The Host header's name without the port. */
function hostName(header: string | undefined): string {
  if (header === undefined) return '';
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(header.trim().toLowerCase());
  return m?.[1] ?? '';
}

function send(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...extra });
  res.end(`${status} ${text}\n`);
}

/**
 * The file a request path names under `root`, or a status to answer with:
 * 400 for a path that does not decode, 403 for one that climbs out of root
 * (`..` segments, encoded or not, backslashes, NUL).
 */
export function resolveRequestPath(root: string, url: string): string | 400 | 403 {
  const raw = url.split(/[?#]/, 1)[0]!;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return 400;
  }
  if (!path.startsWith('/') || path.includes('\0') || path.includes('\\')) return 403;
  if (path.split('/').some((segment) => segment === '..')) return 403;
  const file = resolve(root, `.${path}`);
  if (file !== root && !file.startsWith(root + sep)) return 403;
  return path.endsWith('/') ? join(file, 'index.html') : file;
}

async function handle(root: string, checkHost: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (checkHost && !isLoopback(hostName(req.headers.host))) return send(res, 403, 'Forbidden (Host is not a loopback name)');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
  const file = resolveRequestPath(root, req.url ?? '/');
  if (file === 400) return send(res, 400, 'Bad Request');
  if (file === 403) return send(res, 403, 'Forbidden');
  let body: Buffer;
  try {
    // Symbolic links must not lead out of the page's folder either.
    const real = await fs.realpath(file);
    const realRoot = await fs.realpath(root);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return send(res, 403, 'Forbidden');
    const stat = await fs.stat(real);
    if (!stat.isFile()) return send(res, 404, 'Not Found');
    body = await fs.readFile(real);
  } catch {
    return send(res, 404, 'Not Found');
  }
  res.writeHead(200, {
    'Content-Type': mimeType(file), 'Content-Length': String(body.length), 'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Starts serving `root`; resolves once listening. UsageError when the port is taken or the host cannot be bound. */
export function startPlaygroundServer(options: PlaygroundServerOptions): Promise<PlaygroundServer> {
  const root = resolve(options.root);
  const host = options.host ?? DEFAULT_PLAYGROUND_HOST;
  const port = options.port ?? DEFAULT_PLAYGROUND_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`port must be an integer in [0, 65535], got ${String(port)}`);
  const checkHost = isLoopback(host);
  const server: Server = createServer((req, res) => {
    handle(root, checkHost, req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE' ? new UsageError(`port ${port} is in use: give --port N (0 takes any free port)`)
        : new UsageError(`cannot listen on ${host}:${port}: ${e.code ?? e.message}`));
    });
    server.listen(port, host, () => {
      const actual = (server.address() as AddressInfo).port;
      const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
      resolvePromise({
        url: `http://${shown}:${actual}/`,
        port: actual,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}

export interface PlaygroundCommandHooks {
  /** Stop when this settles too (tests; the command otherwise waits for SIGINT or SIGTERM). */
  readonly until?: Promise<unknown>;
  /** The folder to serve instead of the built dist/playground (tests). */
  readonly root?: string;
}

/** The command: serves until SIGINT or SIGTERM (Ctrl-C), then stops the server. */
export async function playgroundCommand(args: string[], out: (s: string) => void, hooks: PlaygroundCommandHooks = {}): Promise<number> {
  const { values, positionals } = parse(args, { port: { type: 'string' }, host: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`playground takes no files (got ${positionals.join(' ')})`);
  const port = intOption('port', values['port'], 0) ?? DEFAULT_PLAYGROUND_PORT;
  if (port > 65535) throw new UsageError('--port must be an integer in [0, 65535]');
  const host = values['host'];
  if (host !== undefined && (typeof host !== 'string' || host === '')) throw new UsageError('--host needs an address');
  const root = hooks.root ?? playgroundRoot();
  ensurePlayground(root, out);
  const server = await startPlaygroundServer({ root, port, ...(typeof host === 'string' ? { host } : {}) });
  out(`ebpf-js playground: ${server.url} (Ctrl-C stops it)`);
  const signals = ['SIGINT', 'SIGTERM'] as const;
  let onSignal: (() => void) | undefined;
  await Promise.race([
    new Promise<void>((done) => {
      onSignal = done;
      for (const s of signals) process.once(s, done);
    }),
    ...(hooks.until === undefined ? [] : [hooks.until]),
  ]);
  for (const s of signals) if (onSignal !== undefined) process.removeListener(s, onSignal);
  await server.close();
  out('ebpf-js playground: stopped');
  return 0;
}
