// How a C source line (.BTF.ext line info) is written wherever the runtime
// names one: errors, traces, graphs. One place, so they all say it alike.

import type { SourceLine } from './vm-options.js';

/** `file.c:LINE: text`, the text without its indentation. */
export function sourceLineText(line: SourceLine): string {
  return `${line.file}:${line.lineNum}: ${line.line.trim()}`;
}
