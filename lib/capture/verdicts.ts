// What a program's r0 means for a packet: its name (lib/retcodes.ts), whether
// the packet goes on ("pass"), and the key it is counted under. Worked out
// once per distinct r0, so the per-packet path is one map lookup.
//
// Pass: XDP_PASS, XDP_TX and XDP_REDIRECT pass (the packet leaves the
// program alive); every other XDP code drops. tc: TC_ACT_SHOT, STOLEN,
// QUEUED and TRAP take the packet away, every other code lets it go on.
// Socket filters, classic BPF and the rest: r0 (as the u32 Linux reads) is
// the number of bytes to keep, 0 drops.

import { verdictKind, verdictName, type VerdictKind } from '../retcodes.js';

const XDP_PASSING = new Set([2, 3, 4]);
/** TC_ACT_SHOT, STOLEN, QUEUED, TRAP. */
const TC_DROPPING = new Set([2, 4, 5, 8]);

interface Verdict {
  readonly name: string | undefined;
  readonly pass: boolean;
  /** The key counts() reports it under. */
  readonly key: string;
  count: number;
}

export class VerdictRules {
  /** The meaning of the last r0 given to count(). */
  name: string | undefined;
  pass = false;
  passed = 0;
  private readonly kind: VerdictKind | undefined;
  /** By r0 when it fits a u32 (nearly always), else by its hex. */
  private readonly small = new Map<number, Verdict>();
  private readonly large = new Map<string, Verdict>();

  constructor(kind: string | undefined) {
    this.kind = kind === undefined ? undefined : verdictKind(kind);
  }

  /** Counts one packet's r0; sets `name` and `pass` to its meaning. */
  count(r0: bigint): void {
    let v: Verdict | undefined;
    if (r0 <= 0xffffffffn) {
      const key = Number(r0);
      v = this.small.get(key);
      if (v === undefined) this.small.set(key, (v = this.meaning(r0)));
    } else {
      const key = r0.toString(16);
      v = this.large.get(key);
      if (v === undefined) this.large.set(key, (v = this.meaning(r0)));
    }
    v.count++;
    this.name = v.name;
    this.pass = v.pass;
    if (v.pass) this.passed++;
  }

  /** Counts by verdict name, or r0 in hex when it has none; in order of r0. */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    const all = [...[...this.small].sort((a, b) => a[0] - b[0]).map(([, v]) => v), ...this.large.values()];
    for (const v of all) out.set(v.key, (out.get(v.key) ?? 0) + v.count);
    return out;
  }

  private meaning(r0: bigint): Verdict {
    const name = this.kind === undefined ? undefined : verdictName(this.kind, r0);
    const low = Number(r0 & 0xffffffffn);
    const pass = this.kind === 'xdp' ? XDP_PASSING.has(low) : this.kind === 'tc' ? !TC_DROPPING.has(low) : low !== 0;
    return { name, pass, key: name ?? `0x${r0.toString(16)}`, count: 0 };
  }
}
