// Argument parsing shared by the subcommands: node:util's parseArgs (also in
// Deno's node compatibility), with errors turned into UsageError.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { ENGINES, type EngineName } from '../vm.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse(args: string[], options: Options): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

export function engineOption(value: string | boolean | undefined): EngineName {
  if (value === undefined) return 'jit';
  if (typeof value === 'string' && (ENGINES as readonly string[]).includes(value)) return value as EngineName;
  throw new UsageError(`--engine must be one of ${ENGINES.join(', ')}`);
}

export function intOption(name: string, value: string | boolean | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
  return n;
}

export function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}
