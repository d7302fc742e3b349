// The host side of the standard helpers, one per Vm: clocks, the random
// generator, the current "task" (pid, tgid, comm) and where trace_printk
// lines go. Everything a helper would ask the kernel for comes from here,
// so a test (or a replay) can make a run fully deterministic by passing a
// seed and fixed clocks.

import { UsageError } from '../errors.js';

/** Linux's CONFIG_HZ default (Kconfig's HZ_250): jiffies per second. */
export const JIFFIES_HZ = 250;
/** Lines `printkLines` keeps without a `printk` sink: the newest; older ones are dropped and counted. */
export const PRINTK_KEEP = 10_000;
/** TASK_COMM_LEN: a task name holds at most 15 bytes and a NUL. */
export const TASK_COMM_LEN = 16;

export interface HelperEnvOptions {
  /** Seed of get_prandom_u32's generator; without one, each env starts from a random seed. */
  readonly seed?: number;
  /** ktime_get_ns: a monotonic clock in nanoseconds. Default: the host's monotonic clock. */
  readonly clock?: () => bigint;
  /** ktime_get_boot_ns. Default: the same clock as `clock` (JS cannot see suspend time). */
  readonly bootClock?: () => bigint;
  /**
   * Receives each trace_printk line (without its final newline). Default:
   * collected in `printkLines` (the last PRINTK_KEEP of them).
   */
  readonly printk?: (line: string) => void;
  /** get_current_pid_tgid: the thread id (low half). Default: the host process id. */
  readonly pid?: number;
  /** get_current_pid_tgid: the process id (high half). Default: the host process id. */
  readonly tgid?: number;
  /** get_current_comm: the task name, truncated to 15 bytes of UTF-8. Default: 'ebpf-js'. */
  readonly comm?: string;
}

export class HelperEnv {
  readonly pid: number;
  readonly tgid: number;
  /** The comm bytes without a NUL (at most TASK_COMM_LEN - 1). */
  readonly comm: Uint8Array;
  /**
   * trace_printk lines, when no `printk` sink was given: the newest
   * PRINTK_KEEP, oldest first. Callers may read and clear it.
   */
  readonly printkLines: string[] = [];
  /** Lines dropped from the front of `printkLines` to keep it at PRINTK_KEEP. */
  printkDropped = 0;
  private readonly clock: () => bigint;
  private readonly bootClock: () => bigint;
  private readonly sink: ((line: string) => void) | undefined;
  /** xorshift32 state: never 0 (0 is the generator's fixed point). */
  private state: number;

  constructor(options: HelperEnvOptions = {}) {
    this.clock = options.clock ?? monotonicClock();
    this.bootClock = options.bootClock ?? this.clock;
    this.sink = options.printk;
    const hostPid = hostProcessId();
    this.pid = checkId(options.pid ?? hostPid, 'pid');
    this.tgid = checkId(options.tgid ?? hostPid, 'tgid');
    this.comm = commBytes(options.comm ?? 'ebpf-js');
    this.state = seedState(options.seed ?? randomSeed());
  }

  /** ktime_get_ns. */
  ktimeNs(): bigint {
    return BigInt.asUintN(64, this.clock());
  }

  /** ktime_get_boot_ns. */
  bootNs(): bigint {
    return BigInt.asUintN(64, this.bootClock());
  }

  /** jiffies64: the monotonic clock counted in ticks of 1/JIFFIES_HZ s. */
  jiffies(): bigint {
    return (this.ktimeNs() * BigInt(JIFFIES_HZ)) / 1_000_000_000n;
  }

  /** get_prandom_u32: the next value of a xorshift32 generator. */
  randomU32(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  /** Delivers one trace_printk line. */
  printk(line: string): void {
    if (this.sink !== undefined) {
      this.sink(line);
      return;
    }
    const lines = this.printkLines;
    lines.push(line);
    // A loop (not one shift) in case a caller pushed lines of its own.
    while (lines.length > PRINTK_KEEP) {
      lines.shift();
      this.printkDropped++;
    }
  }
}

/**
 * The host's monotonic nanosecond clock: process.hrtime.bigint where it
 * exists (Node, Deno's Node compatibility), else performance.now(). On
 * Linux hrtime reads CLOCK_MONOTONIC, the clock ktime_get_ns reads.
 */
function monotonicClock(): () => bigint {
  const proc = (globalThis as { process?: { hrtime?: { bigint?: () => bigint } } }).process;
  const hrtime = proc?.hrtime;
  if (hrtime !== undefined && typeof hrtime.bigint === 'function') return () => hrtime.bigint!();
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  if (perf !== undefined) return () => BigInt(Math.round(perf.now() * 1e6));
  return () => BigInt(Date.now()) * 1_000_000n;
}

function hostProcessId(): number {
  const pid = (globalThis as { process?: { pid?: unknown } }).process?.pid;
  return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : 1;
}

function checkId(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new UsageError(`HelperEnv: ${name} must be an integer in [0, 2^32), got ${value}`);
  }
  return value;
}

function commBytes(comm: string): Uint8Array {
  const bytes = new TextEncoder().encode(comm);
  let n = Math.min(bytes.length, TASK_COMM_LEN - 1);
  // Never cut a UTF-8 sequence in half: back up to a lead byte.
  while (n < bytes.length && n > 0 && (bytes[n]! & 0xc0) === 0x80) n--;
  const end = bytes.indexOf(0);
  return bytes.slice(0, end >= 0 && end < n ? end : n);
}

/** Mixes the seed (splitmix32's finalizer) so nearby seeds give unrelated streams; never 0. */
function seedState(seed: number): number {
  let z = (Math.trunc(seed) + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z = (z ^ (z >>> 16)) >>> 0;
  return z === 0 ? 0x6d2b79f5 : z;
}

function randomSeed(): number {
  const crypto = (globalThis as { crypto?: { getRandomValues?(a: Uint32Array): Uint32Array } }).crypto;
  if (crypto?.getRandomValues !== undefined) return crypto.getRandomValues(new Uint32Array(1))[0]!;
  return Math.floor(Math.random() * 2 ** 32);
}
