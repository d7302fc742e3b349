// Program kinds from SEC() names, as libbpf's section_defs table names them
// (tools/lib/bpf/libbpf.c). The kind says which context a program expects;
// the name after the first '/' (an attach point) does not matter here.

export type ProgramKind =
  | 'socket' | 'xdp' | 'tc' | 'kprobe' | 'kretprobe' | 'uprobe' | 'uretprobe' | 'tracepoint' | 'raw_tracepoint'
  | 'perf_event' | 'cgroup_skb' | 'cgroup_sock' | 'cgroup_sock_addr' | 'cgroup_sysctl' | 'cgroup_sockopt'
  | 'cgroup_dev' | 'sock_ops' | 'sk_skb' | 'sk_msg' | 'sk_lookup' | 'lwt' | 'flow_dissector' | 'lirc_mode2'
  | 'fentry' | 'fexit' | 'fmod_ret' | 'ext' | 'lsm' | 'iter' | 'syscall' | 'struct_ops' | 'netfilter'
  | 'sk_reuseport' | 'unknown';

const CGROUP_SOCK_ADDR = ['bind4', 'bind6', 'connect4', 'connect6', 'connect_unix', 'sendmsg4', 'sendmsg6', 'sendmsg_unix',
  'recvmsg4', 'recvmsg6', 'recvmsg_unix', 'getpeername4', 'getpeername6', 'getpeername_unix', 'getsockname4',
  'getsockname6', 'getsockname_unix'];

/**
 * SEC prefixes, every entry of libbpf's section_defs (libbpf 1.5); the
 * longest that matches the name whole or up to a '/' or '.' wins. libbpf is
 * stricter (SEC("xdp/foo") has no type there); a name it knows always
 * gets its kind here. Sleepable variants ('.s') follow from the '.' rule.
 */
const PREFIXES: readonly (readonly [string, ProgramKind])[] = [
  ['socket', 'socket'], ['sk_reuseport', 'sk_reuseport'], ['sk_reuseport/migrate', 'sk_reuseport'],
  ['xdp.frags', 'xdp'], ['xdp', 'xdp'],
  ['tc', 'tc'], ['classifier', 'tc'], ['action', 'tc'], ['tcx', 'tc'], ['netkit', 'tc'],
  ['kprobe.multi', 'kprobe'], ['kretprobe.multi', 'kretprobe'], ['kprobe.session', 'kprobe'], ['kprobe', 'kprobe'],
  ['kretprobe', 'kretprobe'], ['ksyscall', 'kprobe'], ['kretsyscall', 'kretprobe'],
  ['uprobe.multi', 'uprobe'], ['uretprobe.multi', 'uretprobe'], ['uprobe.session', 'uprobe'], ['uprobe', 'uprobe'],
  ['uretprobe', 'uretprobe'], ['usdt', 'uprobe'],
  ['tracepoint', 'tracepoint'], ['tp', 'tracepoint'],
  ['raw_tracepoint.w', 'raw_tracepoint'], ['raw_tp.w', 'raw_tracepoint'],
  ['raw_tracepoint', 'raw_tracepoint'], ['raw_tp', 'raw_tracepoint'], ['tp_btf', 'raw_tracepoint'],
  ['fentry', 'fentry'], ['fmod_ret', 'fmod_ret'], ['fexit', 'fexit'], ['freplace', 'ext'],
  ['lsm', 'lsm'], ['lsm_cgroup', 'lsm'], ['iter', 'iter'], ['syscall', 'syscall'],
  ['perf_event', 'perf_event'],
  ['lwt_in', 'lwt'], ['lwt_out', 'lwt'], ['lwt_xmit', 'lwt'], ['lwt_seg6local', 'lwt'],
  ['sockops', 'sock_ops'], ['sk_skb', 'sk_skb'], ['sk_msg', 'sk_msg'], ['lirc_mode2', 'lirc_mode2'],
  ['flow_dissector', 'flow_dissector'],
  ['cgroup_skb', 'cgroup_skb'], ['cgroup/skb', 'cgroup_skb'],
  ['cgroup/sock', 'cgroup_sock'], ['cgroup/sock_create', 'cgroup_sock'], ['cgroup/sock_release', 'cgroup_sock'],
  ['cgroup/post_bind4', 'cgroup_sock'], ['cgroup/post_bind6', 'cgroup_sock'],
  ...CGROUP_SOCK_ADDR.map((name) => [`cgroup/${name}`, 'cgroup_sock_addr'] as const),
  ['cgroup/sysctl', 'cgroup_sysctl'], ['cgroup/getsockopt', 'cgroup_sockopt'], ['cgroup/setsockopt', 'cgroup_sockopt'],
  ['cgroup/dev', 'cgroup_dev'],
  ['struct_ops', 'struct_ops'], ['sk_lookup', 'sk_lookup'], ['netfilter', 'netfilter'],
];

/** The kind of a program in section `section` ('unknown' when libbpf would not know it either). */
export function programKind(section: string): ProgramKind {
  let best: readonly [string, ProgramKind] | undefined;
  for (const entry of PREFIXES) {
    const [prefix] = entry;
    const next = section[prefix.length];
    // 'xdp', 'kprobe/sys_open', 'xdp.frags' match 'xdp'/'kprobe'; 'xdpfoo' does not.
    if (!section.startsWith(prefix) || (next !== undefined && next !== '/' && next !== '.')) continue;
    if (best === undefined || prefix.length > best[0].length) best = entry;
  }
  return best?.[1] ?? 'unknown';
}

/** Kinds whose context is a struct __sk_buff (socket filters, tc, and the other skb hooks). */
const SKB_KINDS: ReadonlySet<ProgramKind> = new Set(['socket', 'tc', 'cgroup_skb', 'sk_skb', 'lwt', 'flow_dissector']);

/**
 * The context a program of `kind` runs with over packets: an xdp_md, an
 * __sk_buff, or (every other kind, whose context is no packet) the packet
 * bytes themselves as memory.
 */
export function contextFor(kind: ProgramKind): 'xdp' | 'skb' | 'raw' {
  if (kind === 'xdp') return 'xdp';
  return SKB_KINDS.has(kind) ? 'skb' : 'raw';
}
