// Loading a ProgramSpec into a Vm: the same steps on the calling thread and
// in every worker, so that each thread makes the same maps in the same order
// (which is how a worker's Vm attaches to the shared maps: the k-th map it
// creates is the k-th shared one).

import { cbpfToEbpf, checkCbpf, parseCbpf } from '../cbpf/index.js';
import { pickProgram } from '../cli/run-object.js';
import { loadObject, programKind, type BpfObject } from '../elf/index.js';
import { contextFor } from '../elf/kinds.js';
import { UsageError } from '../errors.js';
import type { LoadedProgram, Vm } from '../vm.js';
import type { CaptureContextKind, ProgramSpec } from './types.js';

export interface LoadedSpec {
  readonly prog: LoadedProgram;
  /** Program kind (lib/elf/kinds.ts) or section name: what verdict names and `pass` follow; undefined for raw code. */
  readonly kind: string | undefined;
  readonly ctx: CaptureContextKind;
  /** Which fields an skb context lets the program write. */
  readonly skbKind: 'tc' | 'socket';
  /** Whether __sk_buff.len is the packet's wire length (classic BPF, as libpcap's filter sees it). */
  readonly wireLen: boolean;
  readonly object: BpfObject | undefined;
}

export function checkSpec(spec: unknown): asserts spec is ProgramSpec {
  if (typeof spec !== 'object' || spec === null) throw new UsageError('capture spec must be an object');
  const s = spec as {
    kind?: unknown; bytes?: unknown; text?: unknown; code?: unknown; maps?: unknown; type?: unknown; program?: unknown; section?: unknown; load?: unknown;
  };
  switch (s.kind) {
    case 'elf':
      if (!(s.bytes instanceof Uint8Array)) throw new UsageError('an elf spec needs bytes (a Uint8Array)');
      for (const k of ['program', 'section'] as const) {
        if (s[k] !== undefined && typeof s[k] !== 'string') throw new UsageError(`elf spec ${k} must be a string`);
      }
      if (s.load !== undefined && (typeof s.load !== 'object' || s.load === null)) throw new UsageError('elf spec load must be loadObject options');
      return;
    case 'cbpf':
      if (typeof s.text !== 'string') throw new UsageError('a cbpf spec needs text (tcpdump -ddd or -dd output)');
      return;
    case 'bpf':
      if (typeof s.code !== 'string' && !(s.code instanceof Uint8Array)) throw new UsageError('a bpf spec needs code (assembly text or bytecode)');
      if (s.maps !== undefined && !Array.isArray(s.maps)) throw new UsageError('bpf spec maps must be an array of map definitions');
      if (s.type !== undefined && typeof s.type !== 'string') throw new UsageError('bpf spec type must be a string');
      return;
    default:
      throw new UsageError(`capture spec kind must be 'elf', 'cbpf' or 'bpf', got ${String(s.kind)}`);
  }
}

function checkContext(ctx: unknown): CaptureContextKind | undefined {
  if (ctx === undefined || ctx === 'xdp' || ctx === 'skb' || ctx === 'raw') return ctx;
  throw new UsageError(`capture ctx must be 'xdp', 'skb' or 'raw', got ${String(ctx)}`);
}

/** Loads `spec` into `vm` (its maps, then its program). Errors are the loaders' own (ElfError, ValidationError, CbpfError ...). */
export function loadSpec(vm: Vm, spec: ProgramSpec, ctxOption: unknown): LoadedSpec {
  checkSpec(spec);
  const ctx = checkContext(ctxOption);
  switch (spec.kind) {
    case 'elf': {
      const object = loadObject(vm, spec.bytes, spec.load);
      const picked = pickProgram(object, { program: spec.program, section: spec.section });
      return {
        prog: picked.prog, kind: picked.kind === 'unknown' ? picked.section : picked.kind,
        ctx: ctx ?? contextFor(picked.kind), skbKind: picked.kind === 'tc' ? 'tc' : 'socket', object, wireLen: false,
      };
    }
    case 'cbpf': {
      const insns = parseCbpf(spec.text);
      checkCbpf(insns);
      return { prog: vm.load(cbpfToEbpf(insns)), kind: 'socket', ctx: ctx ?? 'skb', skbKind: 'socket', object: undefined, wireLen: true };
    }
    case 'bpf': {
      const maps = (spec.maps ?? []).map((def) => vm.createMap(def));
      const known = spec.type === undefined ? 'unknown' : programKind(spec.type);
      const kind = known === 'unknown' ? spec.type : known;
      return {
        prog: vm.load(spec.code, { maps }), kind, ctx: ctx ?? contextFor(known), skbKind: kind === 'tc' ? 'tc' : 'socket', object: undefined,
        wireLen: false,
      };
    }
  }
}
