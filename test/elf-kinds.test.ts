// Program kinds for every SEC name of libbpf's section_defs table (libbpf
// 1.5, tools/lib/bpf/libbpf.c), with the attach-point suffixes libbpf
// expects, and names libbpf does not know.

import { expect, test } from 'vitest';
import { programKind } from '../lib/elf/index.js';

const LIBBPF: Record<string, string> = {
  socket: 'socket', 'sk_reuseport/migrate': 'sk_reuseport', sk_reuseport: 'sk_reuseport',
  'kprobe/do_sys_open': 'kprobe', 'uprobe//bin/sh:main': 'uprobe', 'uprobe.s//bin/sh:main': 'uprobe',
  'kretprobe/do_sys_open': 'kretprobe', 'uretprobe//bin/sh:main': 'uretprobe', 'uretprobe.s//bin/sh:main': 'uretprobe',
  'kprobe.multi/do_*': 'kprobe', 'kretprobe.multi/do_*': 'kretprobe', 'kprobe.session/do_*': 'kprobe',
  'uprobe.multi//bin/sh:*': 'uprobe', 'uretprobe.multi//bin/sh:*': 'uretprobe', 'uprobe.multi.s//bin/sh:*': 'uprobe',
  'uretprobe.multi.s//bin/sh:*': 'uretprobe', 'uprobe.session//bin/sh:*': 'uprobe', 'uprobe.session.s//bin/sh:*': 'uprobe',
  'ksyscall/openat': 'kprobe', 'kretsyscall/openat': 'kretprobe', 'usdt/libc:probe': 'uprobe', 'usdt.s/libc:probe': 'uprobe',
  'tc/ingress': 'tc', 'tc/egress': 'tc', 'tcx/ingress': 'tc', 'tcx/egress': 'tc', tc: 'tc', classifier: 'tc', action: 'tc',
  'netkit/primary': 'tc', 'netkit/peer': 'tc',
  'tracepoint/syscalls/sys_enter_execve': 'tracepoint', 'tp/sched/sched_switch': 'tracepoint',
  'raw_tracepoint/sched_switch': 'raw_tracepoint', 'raw_tp/sched_switch': 'raw_tracepoint',
  'raw_tracepoint.w/sched_switch': 'raw_tracepoint', 'raw_tp.w/sched_switch': 'raw_tracepoint', 'tp_btf/sched_switch': 'raw_tracepoint',
  'fentry/do_exit': 'fentry', 'fmod_ret/do_exit': 'fmod_ret', 'fexit/do_exit': 'fexit', 'fentry.s/do_exit': 'fentry',
  'fmod_ret.s/do_exit': 'fmod_ret', 'fexit.s/do_exit': 'fexit', 'freplace/handler': 'ext',
  'lsm/file_open': 'lsm', 'lsm.s/file_open': 'lsm', 'lsm_cgroup/socket_bind': 'lsm',
  'iter/task': 'iter', 'iter.s/task': 'iter', syscall: 'syscall',
  'xdp.frags/devmap': 'xdp', 'xdp/devmap': 'xdp', 'xdp.frags/cpumap': 'xdp', 'xdp/cpumap': 'xdp', 'xdp.frags': 'xdp', xdp: 'xdp',
  perf_event: 'perf_event', lwt_in: 'lwt', lwt_out: 'lwt', lwt_xmit: 'lwt', lwt_seg6local: 'lwt',
  sockops: 'sock_ops', 'sk_skb/stream_parser': 'sk_skb', 'sk_skb/stream_verdict': 'sk_skb', 'sk_skb/verdict': 'sk_skb',
  sk_skb: 'sk_skb', sk_msg: 'sk_msg', lirc_mode2: 'lirc_mode2', flow_dissector: 'flow_dissector',
  'cgroup_skb/ingress': 'cgroup_skb', 'cgroup_skb/egress': 'cgroup_skb', 'cgroup/skb': 'cgroup_skb',
  'cgroup/sock_create': 'cgroup_sock', 'cgroup/sock_release': 'cgroup_sock', 'cgroup/sock': 'cgroup_sock',
  'cgroup/post_bind4': 'cgroup_sock', 'cgroup/post_bind6': 'cgroup_sock',
  'cgroup/bind4': 'cgroup_sock_addr', 'cgroup/bind6': 'cgroup_sock_addr', 'cgroup/connect4': 'cgroup_sock_addr',
  'cgroup/connect6': 'cgroup_sock_addr', 'cgroup/connect_unix': 'cgroup_sock_addr', 'cgroup/sendmsg4': 'cgroup_sock_addr',
  'cgroup/sendmsg6': 'cgroup_sock_addr', 'cgroup/sendmsg_unix': 'cgroup_sock_addr', 'cgroup/recvmsg4': 'cgroup_sock_addr',
  'cgroup/recvmsg6': 'cgroup_sock_addr', 'cgroup/recvmsg_unix': 'cgroup_sock_addr', 'cgroup/getpeername4': 'cgroup_sock_addr',
  'cgroup/getpeername6': 'cgroup_sock_addr', 'cgroup/getpeername_unix': 'cgroup_sock_addr', 'cgroup/getsockname4': 'cgroup_sock_addr',
  'cgroup/getsockname6': 'cgroup_sock_addr', 'cgroup/getsockname_unix': 'cgroup_sock_addr',
  'cgroup/sysctl': 'cgroup_sysctl', 'cgroup/getsockopt': 'cgroup_sockopt', 'cgroup/setsockopt': 'cgroup_sockopt',
  'cgroup/dev': 'cgroup_dev', 'struct_ops/bpf_cubic_init': 'struct_ops', 'struct_ops.s/init': 'struct_ops', struct_ops: 'struct_ops',
  sk_lookup: 'sk_lookup', netfilter: 'netfilter',
};

test('every libbpf SEC name has its kind', () => {
  const got = Object.fromEntries(Object.keys(LIBBPF).map((s) => [s, programKind(s)]));
  expect(got).toEqual(LIBBPF);
});

test('names libbpf does not know are unknown', () => {
  for (const s of ['xdpfoo', 'my_section', 'cgroup/unknown_hook', 'cgroup', 'tcp', 'sockopsx', '.text', 'kprobes/x', '']) {
    expect(programKind(s), s).toBe('unknown');
  }
});
