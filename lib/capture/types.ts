// The public shapes of running a program over captured packets (runCapture):
// what to run (a ProgramSpec), how (a CaptureJob), what each packet gave (a
// PacketResult) and what the whole run gave (a CaptureResult).
//
// A spec is data, not a loaded program: with workers every thread loads it
// into its own Vm, so it must survive structured cloning (postMessage).

import type { BpfObject, LoadObjectOptions } from '../elf/index.js';
import type { MapDefinition } from '../maps/index.js';
import type { CapturedPacket } from '../pcap/types.js';
import type { TraceCallback } from '../trace/types.js';
import type { Vm, VmOptions } from '../vm.js';

export type ProgramSpec =
  /**
   * A clang object: the program picked as `ebpf-js run` picks it (by name, by
   * section, or the only one); `load` is loadObject's options (kconfig values, CO-RE).
   */
  | {
    readonly kind: 'elf'; readonly bytes: Uint8Array; readonly program?: string; readonly section?: string;
    readonly load?: LoadObjectOptions;
  }
  /** Classic BPF as `tcpdump -ddd` or `-dd` prints it, run as a socket filter (r0 = bytes to keep). */
  | { readonly kind: 'cbpf'; readonly text: string }
  /**
   * eBPF assembly text or bytecode. `maps` are created first, in order (fds
   * 1, 2, ...; `map_idx I` names maps[I]); `type` is the program kind the
   * verdicts and the default context follow ('xdp', 'tc', 'socket', ...;
   * default: raw bytes, r0 unnamed).
   */
  | { readonly kind: 'bpf'; readonly code: string | Uint8Array; readonly maps?: readonly MapDefinition[]; readonly type?: string };

export type CaptureContextKind = 'xdp' | 'skb' | 'raw';

/** A ring-buffer or perf-event record a program produced, delivered in packet order. */
export interface CaptureRecord {
  /** The map's name. */
  readonly map: string;
  readonly data: Uint8Array;
  /** CapturedPacket.index of the packet whose run produced it. */
  readonly packetIndex: number;
  readonly worker: number;
}

export interface CaptureJob {
  readonly spec: ProgramSpec;
  /** Default: from the program kind (xdp -> xdp, socket/tc/... -> skb, else raw; cbpf: skb as a socket filter). */
  readonly ctx?: CaptureContextKind;
  /** Default 'jit' (or the vm option's engine). */
  readonly engine?: 'interp' | 'jit';
  /** Default 1 (the calling thread); > 1: that many worker threads over shared maps. */
  readonly workers?: number;
  /**
   * Vm options (seed, budget, printk sink ...). `cpus` is set to max(workers, 1).
   * With workers, options that are functions (helpers, clock, bootClock) cannot
   * reach the threads and are a UsageError; `printk` is called on this thread.
   */
  readonly vm?: VmOptions;
  /**
   * Whether PacketResult.output holds the packet as the program left it
   * (default true). false skips that copy (and, with workers, its transfer):
   * output is then an empty array.
   */
  readonly outputs?: boolean;
  /** Called on this thread, in packet order, once the spec is loaded (and every worker attached) and before the first packet: seed maps here. */
  readonly setup?: (vm: Vm, object: BpfObject | undefined) => void | Promise<void>;
  /**
   * Receives ring-buffer and perf-event records, in packet order (each before
   * its packet's onResult). Without it, records stay in their maps as in a
   * plain Vm (and a full ring buffer refuses more).
   */
  readonly onRecord?: (record: CaptureRecord) => void;
  /**
   * What the program is given. 'ethernet' (default): every packet as an
   * Ethernet frame (toEthernet; a packet it refuses is skipped). 'captured':
   * the bytes as captured, for classic BPF compiled for the capture's own
   * link type (`tcpdump -ddd -r CAPTURE EXPR`); packets whose link type
   * differs from the first packet's are skipped.
   * Either way a cbpf spec's __sk_buff.len (cBPF `len`) is the packet's
   * length on the wire (origLen, plus the header toEthernet added or took
   * away), as libpcap's bpf_filter reads wirelen; loads stay bounded by the
   * captured bytes.
   */
  readonly frames?: 'ethernet' | 'captured';
  /**
   * Traces packets: called on this thread before each packet runs; the
   * TraceCallback it returns gets that run's events (RunOptions.trace),
   * undefined leaves the packet untraced. Only with workers: 1.
   */
  readonly trace?: (packet: CapturedPacket) => TraceCallback | undefined;
}

/** A packet runCapture did not give to the program, and why. */
export interface SkippedPacket {
  /** CapturedPacket.index. */
  readonly index: number;
  readonly offset: number;
  readonly reason: string;
}

export interface PacketResult {
  readonly packet: CapturedPacket;
  /** r0 as a u64. */
  readonly verdict: bigint;
  /** lib/retcodes.ts name for the program kind (XDP_PASS, TC_ACT_SHOT, ...). */
  readonly verdictName: string | undefined;
  /** xdp: PASS/TX/REDIRECT; tc: not SHOT/STOLEN/QUEUED/TRAP; socket, cbpf and others: low 32 bits of r0 != 0. */
  readonly pass: boolean;
  /** The packet as the program left it (adjust_head/tail; socket: truncated to r0); empty with outputs: false. */
  readonly output: Uint8Array;
  /** 0 when single-threaded. */
  readonly worker: number;
}

export interface WorkerStats {
  readonly worker: number;
  readonly packets: number;
  /** Time spent running packets (not waiting for them). */
  readonly busyNs: number;
}

export interface CaptureResult {
  readonly packets: number;
  /** Packets by verdictName, or by r0 in hex when unnamed ('0x0'). */
  readonly counts: ReadonlyMap<string, number>;
  readonly passed: number;
  readonly elapsedNs: number;
  readonly perWorker: readonly WorkerStats[];
  /** This thread's Vm: its maps hold the final (shared) map contents. */
  readonly vm: Vm;
  /** For BTF decoding of maps and globals (elf specs). */
  readonly object: BpfObject | undefined;
  /** trace_printk lines in packet order: the newest PRINTK_KEEP of them. */
  readonly printk: readonly string[];
  /** Older lines left out of `printk`. */
  readonly printkDropped: number;
  /** Packets not given to the program (see CaptureJob.frames); not in `packets` nor `counts`, no onResult. */
  readonly skipped: number;
  /** The first SKIPPED_EXAMPLES of them. */
  readonly skippedExamples: readonly SkippedPacket[];
}
