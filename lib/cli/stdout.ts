// The command line's standard output, written synchronously. A trace or a
// --verbose capture run can print gigabytes while a program runs, and a run
// cannot wait for a slow reader: process.stdout would queue in memory what a
// pipe has not taken yet (a traced 3M-instruction run piped to `tail`: 816 MB).
// Writing to the descriptor directly makes the run wait for the reader.

import { writeSync } from 'node:fs';

/** The reader of the output went away (EPIPE): the command ends quietly. */
export class OutputClosed extends Error {
  constructor() {
    super('the reader of the output went away');
    this.name = 'OutputClosed';
  }
}

/** C0 and C1 control characters but tab and line feed. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * `s` with control characters written as `\xNN`: names and C lines come from
 * object files, paths from the command line, and none of their bytes may
 * reach a terminal as an escape sequence.
 */
export function printable(s: string): string {
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Blocks the thread for `ms` milliseconds (a full non-blocking pipe: wait for the reader). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A function writing `s` (printable) and a newline to descriptor `fd` before it
 * returns. Throws OutputClosed when the reader has gone, and the write's own
 * error for anything else (ENOSPC, EIO).
 */
export function lineWriter(fd: number): (s: string) => void {
  return (s) => {
    const bytes = Buffer.from(printable(s) + '\n');
    let done = 0;
    while (done < bytes.length) {
      try {
        done += writeSync(fd, bytes, done);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') pause(1);
        else if (code === 'EPIPE') throw new OutputClosed();
        else throw e;
      }
    }
  };
}
