// Spawns the built CLI as a user would (node dist/lib/cli/main.js ...).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = fileURLToPath(new URL('../dist/lib/cli/main.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The deno binary of the `deno` devDependency, or undefined when it is not installed (the Deno tests then skip, saying so). */
export function denoBinary(): string | undefined {
  try {
    const bin = join(ROOT, 'node_modules', '.bin', 'deno');
    return existsSync(bin) ? bin : createRequire(import.meta.url).resolve('deno/bin.cjs');
  } catch {
    return undefined;
  }
}
