// Program kinds from SEC() names, as libbpf's section_defs table names them
// (tools/lib/bpf/libbpf.c). The kind says which context a program expects;
// the name after the first '/' (an attach point) does not matter here.

export type ProgramKind =
  | 'socket' | 'xdp' | 'tc' | 'kprobe' | 'kretprobe' | 'uprobe' | 'uretprobe' | 'tracepoint' | 'raw_tracepoint'
  | 'perf_event' | 'cgroup_skb' | 'cgroup_sock' | 'cgroup_sock_addr' | 'cgroup_sysctl' | 'cgroup_sockopt'
  | 'cgroup_dev' | 'sk_skb' | 'sk_msg' | 'sk_lookup' | 'lwt' | 'flow_dissector' | 'fentry' | 'fexit' | 'lsm'
  | 'iter' | 'syscall' | 'struct_ops' | 'netfilter' | 'sk_reuseport' | 'unknown';

/** SEC prefixes; the longest that matches the name whole or up to a '/' or '.' wins. */
const PREFIXES: readonly (readonly [string, ProgramKind])[] = [
  ['socket', 'socket'],
  ['xdp.frags', 'xdp'], ['xdp', 'xdp'],
  ['tc', 'tc'], ['classifier', 'tc'], ['action', 'tc'], ['tcx', 'tc'], ['netkit', 'tc'],
  ['kprobe.multi', 'kprobe'], ['kretprobe.multi', 'kretprobe'], ['kprobe', 'kprobe'], ['kretprobe', 'kretprobe'],
  ['ksyscall', 'kprobe'], ['kretsyscall', 'kretprobe'],
  ['uprobe.multi', 'uprobe'], ['uretprobe.multi', 'uretprobe'], ['uprobe', 'uprobe'], ['uretprobe', 'uretprobe'],
  ['usdt', 'uprobe'],
  ['tracepoint', 'tracepoint'], ['tp', 'tracepoint'],
  ['raw_tracepoint.w', 'raw_tracepoint'], ['raw_tp.w', 'raw_tracepoint'],
  ['raw_tracepoint', 'raw_tracepoint'], ['raw_tp', 'raw_tracepoint'], ['tp_btf', 'raw_tracepoint'],
  ['perf_event', 'perf_event'],
  ['cgroup_skb', 'cgroup_skb'], ['cgroup/skb', 'cgroup_skb'],
  ['cgroup/ingress', 'cgroup_skb'], ['cgroup/egress', 'cgroup_skb'], ['cgroup/sock', 'cgroup_sock'],
  ['cgroup/sock_create', 'cgroup_sock'], ['cgroup/sock_release', 'cgroup_sock'], ['cgroup/post_bind', 'cgroup_sock'],
  ['cgroup/dev', 'cgroup_dev'], ['cgroup/sysctl', 'cgroup_sysctl'],
  ['cgroup/getsockopt', 'cgroup_sockopt'], ['cgroup/setsockopt', 'cgroup_sockopt'],
  ['cgroup', 'cgroup_sock_addr'],
  ['sk_skb', 'sk_skb'], ['sk_msg', 'sk_msg'], ['sk_lookup', 'sk_lookup'], ['sk_reuseport', 'sk_reuseport'],
  ['lwt_in', 'lwt'], ['lwt_out', 'lwt'], ['lwt_xmit', 'lwt'], ['lwt_seg6local', 'lwt'],
  ['flow_dissector', 'flow_dissector'],
  ['fentry', 'fentry'], ['fmod_ret', 'fexit'], ['fexit', 'fexit'], ['lsm', 'lsm'], ['lsm_cgroup', 'lsm'],
  ['iter', 'iter'], ['iter.s', 'iter'], ['syscall', 'syscall'],
  ['struct_ops', 'struct_ops'], ['struct_ops.s', 'struct_ops'], ['netfilter', 'netfilter'],
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
