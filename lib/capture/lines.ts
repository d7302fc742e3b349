// trace_printk lines of a capture run, in packet order: the newest
// PRINTK_KEEP are kept (a program that prints on every packet of a huge
// capture must not grow memory without bound), older ones are counted.

import { PRINTK_KEEP } from '../helpers/index.js';

export class LineLog {
  private readonly lines: string[] = [];
  /** Where the oldest kept line is in `lines` once it is full (a ring). */
  private head = 0;
  dropped = 0;
  private readonly sink: ((line: string) => void) | undefined;

  constructor(sink: ((line: string) => void) | undefined) {
    this.sink = sink;
  }

  add(line: string): void {
    if (this.lines.length < PRINTK_KEEP) this.lines.push(line);
    else {
      this.lines[this.head] = line;
      this.head = (this.head + 1) % PRINTK_KEEP;
      this.dropped++;
    }
    this.sink?.(line);
  }

  /** The kept lines, oldest first. */
  list(): string[] {
    return [...this.lines.slice(this.head), ...this.lines.slice(0, this.head)];
  }
}
