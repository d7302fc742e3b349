// Names of program return codes: XDP actions (enum xdp_action) and tc
// actions (TC_ACT_* of <linux/pkt_cls.h>), with Linux's values, so that
// results can be printed and compared by name.
//
// How Linux reads r0: an XDP program's result is a u32 action (the low 32
// bits of r0); a tc classifier's is an int (the low 32 bits as signed, so
// TC_ACT_UNSPEC is -1). Other program types have no named codes: a socket
// filter returns how many bytes to keep (0 drops the packet), a tracing
// program's result is ignored or is a filter decision.
//
// What it does not do: say what Linux does with an unknown code (XDP treats
// it as XDP_ABORTED after a warning; tc as TC_ACT_OK in most hooks).

export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;
export const XDP_REDIRECT = 4;

export const TC_ACT_UNSPEC = -1;
export const TC_ACT_OK = 0;
export const TC_ACT_RECLASSIFY = 1;
export const TC_ACT_SHOT = 2;
export const TC_ACT_PIPE = 3;
export const TC_ACT_STOLEN = 4;
export const TC_ACT_QUEUED = 5;
export const TC_ACT_REPEAT = 6;
export const TC_ACT_REDIRECT = 7;
/** Hardware offload only ("trap to CPU"); a software tc program should not return it. */
export const TC_ACT_TRAP = 8;

/** XDP action names by value. */
export const XDP_ACTION_NAMES: readonly string[] = Object.freeze([
  'XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT',
]);

/** TC_ACT names by value + 1 (index 0 is TC_ACT_UNSPEC, -1). */
const TC_ACT_NAMES: readonly string[] = Object.freeze([
  'TC_ACT_UNSPEC', 'TC_ACT_OK', 'TC_ACT_RECLASSIFY', 'TC_ACT_SHOT', 'TC_ACT_PIPE', 'TC_ACT_STOLEN',
  'TC_ACT_QUEUED', 'TC_ACT_REPEAT', 'TC_ACT_REDIRECT', 'TC_ACT_TRAP',
]);

/** Program kinds whose results have names, and the libbpf section names that mean them. */
export type VerdictKind = 'xdp' | 'tc';
const KIND_ALIASES: Readonly<Record<string, VerdictKind>> = Object.freeze({
  xdp: 'xdp', tc: 'tc', classifier: 'tc', action: 'tc', sched_cls: 'tc', sched_act: 'tc', tcx: 'tc',
});

/**
 * The kind of named return codes a program kind or section name has
 * ('xdp', 'xdp.frags', 'tc', 'classifier/ingress', 'tcx/egress' ...), or
 * undefined for kinds without them (socket, kprobe, raw ...).
 */
export function verdictKind(kind: string): VerdictKind | undefined {
  const head = kind.split(/[/.]/, 1)[0]!;
  return Object.hasOwn(KIND_ALIASES, head) ? KIND_ALIASES[head] : undefined;
}

/**
 * The name of a program's result `r0` for a program kind (see verdictKind):
 * verdictName('xdp', 2n) is 'XDP_PASS', verdictName('tc', 0xffffffffn) is
 * 'TC_ACT_UNSPEC'. Undefined when the kind has no named codes or r0 is not
 * one of them.
 */
export function verdictName(kind: string, r0: bigint | number): string | undefined {
  const which = verdictKind(kind);
  if (which === undefined) return undefined;
  if (typeof r0 === 'number' && !Number.isSafeInteger(r0)) return undefined;
  const low = BigInt.asUintN(32, BigInt(r0));
  if (which === 'xdp') return low < BigInt(XDP_ACTION_NAMES.length) ? XDP_ACTION_NAMES[Number(low)] : undefined;
  const code = Number(BigInt.asIntN(32, low));
  return TC_ACT_NAMES[code + 1];
}
