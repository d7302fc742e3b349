// A one-line progress bar for long runs over captures: packets done,
// packets/s and, when the file's size is known, how far into it the run is.
// It draws on a terminal only, and only once a run has lasted `delayMs`, so
// short runs and piped output never see it; redraws are throttled to one per
// `intervalMs` because a run calls update() once per packet.

/** Where the bar draws: process.stderr, or a fake in tests. */
export interface Terminal {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(s: string): unknown;
}

export interface ProgressOptions {
  /** Size of the input in bytes (for the percentage), when known. */
  readonly totalBytes?: number;
  /** Milliseconds before the first draw. Default 500. */
  readonly delayMs?: number;
  /** Milliseconds between draws. Default 100. */
  readonly intervalMs?: number;
  /** A millisecond clock. Default performance.now. */
  readonly now?: () => number;
}

const BAR_WIDTH = 24;

export class ProgressBar {
  private readonly term: Terminal;
  private readonly enabled: boolean;
  private readonly totalBytes: number | undefined;
  private readonly delayMs: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly start: number;
  private nextDraw: number;
  private drawn = false;

  constructor(term: Terminal, options: ProgressOptions = {}) {
    this.term = term;
    this.enabled = term.isTTY === true;
    this.totalBytes = options.totalBytes;
    this.delayMs = options.delayMs ?? 500;
    this.intervalMs = options.intervalMs ?? 100;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.nextDraw = this.start + this.delayMs;
  }

  /** Called as packets finish: `done` packets so far, `position` bytes of the input read (when known). */
  update(done: number, position?: number): void {
    if (!this.enabled) return;
    const t = this.now();
    if (t < this.nextDraw) return;
    this.nextDraw = t + this.intervalMs;
    this.draw(this.line(done, position, t));
  }

  /** Erases the bar (before the summary or other output is printed); a no-op when it is not drawn. Later updates draw it again. */
  finish(): void {
    if (!this.drawn) return;
    this.term.write('\r\x1b[K');
    this.drawn = false;
  }

  /** The text of the bar: exported through the class for tests. */
  line(done: number, position: number | undefined, t: number): string {
    const seconds = Math.max((t - this.start) / 1000, 1e-9);
    const rate = `${formatCount(Math.round(done / seconds))} packets/s`;
    const count = packetCount(done);
    if (this.totalBytes === undefined || this.totalBytes <= 0 || position === undefined) return `${count}  ${rate}`;
    const fraction = Math.min(Math.max(position / this.totalBytes, 0), 1);
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
    return `${bar} ${(fraction * 100).toFixed(0).padStart(3)}%  ${count}  ${rate}`;
  }

  private draw(text: string): void {
    // Never wider than the terminal: a wrapped line would not be overwritten by \r.
    const width = this.term.columns !== undefined && this.term.columns > 1 ? this.term.columns - 1 : text.length;
    this.term.write(`\r${text.slice(0, width)}\x1b[K`);
    this.drawn = true;
  }
}

/** 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "1 packet", "2 packets", "1,000 packets". */
export function packetCount(n: number): string {
  return `${formatCount(n)} packet${n === 1 ? '' : 's'}`;
}
