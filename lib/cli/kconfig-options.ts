// The --kconfig NAME=VALUE (repeatable) and --kconfig-file FILE options of
// `inspect` and `run`: values for an object's `extern ... __kconfig`
// variables (see lib/elf/kconfig.ts).

import { parseKconfigText } from '../elf/index.js';
import { readText } from './io.js';

/** parseArgs option specs for both options. */
export const KCONFIG_ARGS = {
  kconfig: { type: 'string', multiple: true },
  'kconfig-file': { type: 'string' },
} as const;

/** The options as loadObject's kconfig option (arguments win over the file). */
export function kconfigOptions(values: Record<string, unknown>): Record<string, string> {
  const file = values['kconfig-file'];
  const fromFile = typeof file === 'string' ? parseKconfigText(readText(file), file) : {};
  const args = (values.kconfig ?? []) as string[];
  return { ...fromFile, ...parseKconfigText(args.join('\n'), '--kconfig') };
}
