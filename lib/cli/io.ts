// File reading for the CLI, with errors a user can act on.

import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

export function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const reason = e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : 'unreadable';
    throw new UsageError(`cannot read ${path}: ${reason}`);
  }
}

export function readText(path: string): string {
  return new TextDecoder().decode(readInput(path));
}

/** Assembly files are told apart from raw bytecode by their extension. */
export function isAssemblyPath(path: string): boolean {
  return /\.(asm|s)$/i.test(path);
}
