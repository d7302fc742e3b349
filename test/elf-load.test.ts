// loadObject on the committed fixtures (fixtures/elf/README.md says what each
// program does): programs picked by name and by section, maps and global
// data, each program run on both engines against what its C code means.

import { describe, expect, test } from 'vitest';
import { loadObject, programKind } from '../lib/elf/index.js';
import { ArrayMap, HashMap, PerCpuArrayMap, ProgArrayMap, RingBufMap } from '../lib/index.js';
import { TC_ACT_OK, TC_ACT_SHOT, XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX } from '../lib/retcodes.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';
import { ether, fixture, ipv4Tcp, runSkb, runXdp } from './elf-helpers.js';

const big = (n: number) => BigInt(n);

test('program kinds from SEC names, as libbpf names them', () => {
  const kinds = Object.fromEntries(['xdp', 'xdp.frags', 'xdp/devmap', 'socket', 'tc', 'tc/ingress', 'classifier', 'kprobe/do_exit',
    'kretprobe/x', 'tracepoint/syscalls/sys_enter_execve', 'tp/sched/x', 'raw_tracepoint/x', 'raw_tp/x', 'cgroup_skb/ingress',
    'cgroup/connect4', 'cgroup/skb', 'uprobe//bin/sh:main', 'fentry/x', 'xdpfoo', 'my_section', 'lsm/file_open']
    .map((s) => [s, programKind(s)]));
  expect(kinds).toEqual({
    xdp: 'xdp', 'xdp.frags': 'xdp', 'xdp/devmap': 'xdp', socket: 'socket', tc: 'tc', 'tc/ingress': 'tc', classifier: 'tc',
    'kprobe/do_exit': 'kprobe', 'kretprobe/x': 'kretprobe', 'tracepoint/syscalls/sys_enter_execve': 'tracepoint',
    'tp/sched/x': 'tracepoint', 'raw_tracepoint/x': 'raw_tracepoint', 'raw_tp/x': 'raw_tracepoint', 'cgroup_skb/ingress': 'cgroup_skb',
    'cgroup/connect4': 'cgroup_sock_addr', 'cgroup/skb': 'cgroup_skb', 'uprobe//bin/sh:main': 'uprobe', 'fentry/x': 'fentry',
    xdpfoo: 'unknown', my_section: 'unknown', 'lsm/file_open': 'lsm',
  });
});

describe.each(AVAILABLE_ENGINES)('fixtures on %s', (engine) => {
  test('calls: subprograms in .text and in the program section, linked per program', () => {
    const vm = new Vm();
    const obj = loadObject(vm, fixture('calls'));
    expect([...obj.programs.keys()]).toEqual(['calls_xdp', 'calls_socket']);
    const xdp = obj.program('calls_xdp');
    expect(xdp).toMatchObject({ section: 'xdp', kind: 'xdp' });
    expect(obj.program('xdp')).toBe(xdp);
    const sumMix = (bytes: number[]) => {
      const sum = bytes.slice(0, 8).reduce((a, b) => a + b, 0);
      return ((sum * 31 + (sum >> 3)) & 0xffff) & 1 ? XDP_DROP : XDP_PASS;
    };
    for (const bytes of [[1], [2], [8], [], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [255, 255, 255, 255, 255, 255, 255, 255]]) {
      expect(runXdp(vm, xdp.prog, new Uint8Array(bytes), engine)).toBe(big(sumMix(bytes)));
    }
    const sock = obj.program('socket');
    expect(sock.name).toBe('calls_socket');
    expect(runSkb(vm, sock.prog, new Uint8Array([1, 2, 3]), engine, { kind: 'socket' })).toBe(189n);
    expect(runSkb(vm, sock.prog, new Uint8Array([]), engine, { kind: 'socket' })).toBe(0n);
    const ten = new Uint8Array(10).fill(3);
    expect(runSkb(vm, sock.prog, ten, engine, { kind: 'socket' })).toBe(big((24 * 31 + 10) & 0xffff));
  });

  test('socket_filter: three programs, two sections, skb fields and LD_ABS', () => {
    const vm = new Vm();
    const obj = loadObject(vm, fixture('socket_filter'));
    expect(() => obj.program('socket')).toThrow(/socket holds 2 programs \(http_filter, http_filter_ldabs\)/);
    const http = obj.program('http_filter').prog;
    const ldabs = obj.program('http_filter_ldabs').prog;
    const tc = obj.program('tc');
    expect(tc).toMatchObject({ name: 'tc_http', kind: 'tc' });
    const to80 = ipv4Tcp(80);
    const to81 = ipv4Tcp(81);
    const udp80 = ipv4Tcp(80, undefined, 17);
    expect(runSkb(vm, http, to80, engine, { kind: 'socket' })).toBe(big(to80.length));
    for (const p of [to81, udp80, ether(0x86dd, [1, 2, 3]), to80.subarray(0, 30)]) {
      expect(runSkb(vm, http, p, engine, { kind: 'socket' })).toBe(0n);
    }
    expect(runSkb(vm, ldabs, to80, engine, { kind: 'socket' }) & 0xffffffffn).toBe(0xffffffffn);
    expect(runSkb(vm, ldabs, to81, engine, { kind: 'socket' })).toBe(0n);
    expect(runSkb(vm, ldabs, to80.subarray(0, 20), engine, { kind: 'socket' })).toBe(0n);
    let seen: { mark: number; priority: number; tcClassid: number; cb: number[] } | undefined;
    expect(runSkb(vm, tc.prog, to80, engine, {}, (ctx) => {
      seen = { mark: ctx.mark, priority: ctx.priority, tcClassid: ctx.tcClassid, cb: ctx.cb };
    })).toBe(big(TC_ACT_OK));
    expect(seen).toEqual({ mark: 0x50, priority: 6, tcClassid: 0x10001, cb: [to80.length, 0, 0, 0, 0] });
    expect(runSkb(vm, tc.prog, to81, engine)).toBe(big(TC_ACT_SHOT));
    expect(runSkb(vm, tc.prog, udp80, engine)).toBe(big(TC_ACT_OK));
    expect(runSkb(vm, tc.prog, new Uint8Array(10), engine)).toBe(big(TC_ACT_SHOT));
  });

  test('config_counters: .rodata configuration set from JS, .bss and .data counters, printk', () => {
    const lines: string[] = [];
    const vm = new Vm({ printk: (l) => lines.push(l) });
    const obj = loadObject(vm, fixture('config_counters'));
    const rodata = obj.map('.rodata') as ArrayMap;
    const data = obj.map('.data') as ArrayMap;
    expect(rodata.flags & 0x80).toBe(0x80);
    expect(obj.map('.rodata.str1.1').valueSize).toBe(3);
    expect(runXdp(vm, obj.program('config_counters').prog, new Uint8Array(100), engine)).toBe(big(XDP_PASS));
    expect(lines).toEqual(['pass 100 (ok)']);
    // The skeleton way: change the const volatile configuration before the first run (then .rodata is frozen).
    const configured = (maxLen: number, verbose: number) => {
      const lines: string[] = [];
      const vm = new Vm({ printk: (l) => lines.push(l) });
      const obj = loadObject(vm, fixture('config_counters'));
      const rodata = obj.map('.rodata') as ArrayMap;
      const cfg = rodata.get(0)!;
      new DataView(cfg.buffer).setUint32(0, maxLen, true);
      cfg[4] = verbose;
      rodata.set(0, cfg);
      return { vm, obj, lines, prog: obj.program('config_counters').prog };
    };
    const loud = configured(50, 1);
    expect([100, 60, 20].map((n) => runXdp(loud.vm, loud.prog, new Uint8Array(n), engine))).toEqual([big(XDP_DROP), big(XDP_DROP), big(XDP_PASS)]);
    expect(loud.lines).toEqual(['drop 100 > 50 on eth0', 'drop 60 > 50 on eth0', 'pass 20 (ok)']);
    const quiet = configured(50, 0);
    expect(runXdp(quiet.vm, quiet.prog, new Uint8Array(60), engine)).toBe(big(XDP_DROP));
    expect(quiet.lines).toEqual([]);
    const counters = new DataView((loud.obj.map('.bss') as ArrayMap).get(0)!.buffer);
    expect([counters.getBigUint64(0, true), counters.getBigUint64(8, true), counters.getBigUint64(16, true)])
      .toEqual([3n, 180n, 2n]); // packets at 0, total_bytes at 8, oversized at 16
    expect((loud.obj.map('.data') as ArrayMap).get(0, 'u32')).toBe(10);
    expect(obj.globals('.bss')).toEqual({ packets: 1n, total_bytes: 100n, oversized: 0n });
    expect(data.get(0, 'u32')).toBe(8);
    // Through BTF, as a skeleton reads them.
    expect(loud.obj.globals('.bss')).toEqual({ packets: 3n, total_bytes: 180n, oversized: 2n });
    expect(loud.obj.globals('.data')).toEqual({ generation: 10 });
    expect(loud.obj.globals('.rodata')).toMatchObject({ max_len: 50, verbose: 1, iface: 'eth0' });
    expect(quiet.obj.globals('.rodata')).toMatchObject({ max_len: 50, verbose: 0 });
  });

  test('legacy_maps: struct bpf_map_def maps', () => {
    const vm = new Vm();
    const obj = loadObject(vm, fixture('legacy_maps'));
    const proto = obj.map('proto_bytes');
    const eth = obj.map('ethertype_packets');
    expect(proto).toBeInstanceOf(ArrayMap);
    expect(eth).toBeInstanceOf(HashMap);
    expect(proto.describe()).toMatchObject({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 256 });
    expect(eth.describe()).toMatchObject({ type: 'hash', keySize: 2, valueSize: 8, maxEntries: 64, flags: 1 });
    const prog = obj.program('legacy_count').prog;
    const tcp = ipv4Tcp(80);
    expect(runSkb(vm, prog, tcp, engine, { kind: 'socket' })).toBe(0n);
    expect(runSkb(vm, prog, tcp, engine, { kind: 'socket' })).toBe(0n);
    expect(runSkb(vm, prog, ether(0x86dd, [0, 0]), engine, { kind: 'socket' })).toBe(0n);
    // Keys are the host-order EtherType as a u16.
    expect((eth as HashMap).get(new Uint8Array([0x00, 0x08]), 'u64')).toBe(2n);
    expect((eth as HashMap).get(new Uint8Array([0xdd, 0x86]), 'u64')).toBe(1n);
    expect((proto as ArrayMap).get(6, 'u64')).toBe(big(2 * tcp.length));
  });
});

describe.each(AVAILABLE_ENGINES)('BTF-defined maps on %s', (engine) => {
  test('xdp_firewall: HASH of blocked sources, PERCPU_ARRAY counters', () => {
    const vm = new Vm({ cpus: 2 });
    const obj = loadObject(vm, fixture('xdp_firewall'));
    const blocked = obj.map('blocked') as HashMap;
    const stats = obj.map('stats') as PerCpuArrayMap;
    expect(blocked.describe()).toMatchObject({ type: 'hash', keySize: 4, valueSize: 1, maxEntries: 1024 });
    expect(stats.describe()).toMatchObject({ type: 'percpu_array', keySize: 4, valueSize: 16, maxEntries: 3 });
    const prog = obj.program('xdp_firewall').prog;
    blocked.set(new Uint8Array([10, 0, 0, 66]), new Uint8Array([1]));
    const good = ipv4Tcp(80, [10, 0, 0, 1]);
    const bad = ipv4Tcp(80, [10, 0, 0, 66]);
    const ipv6 = ether(0x86dd, new Array(40).fill(0));
    expect(runXdp(vm, prog, good, engine)).toBe(big(XDP_PASS));
    expect(runXdp(vm, prog, good, engine)).toBe(big(XDP_PASS));
    expect(runXdp(vm, prog, bad, engine)).toBe(big(XDP_DROP));
    expect(runXdp(vm, prog, ipv6, engine)).toBe(big(XDP_PASS));
    expect(runXdp(vm, prog, new Uint8Array(10), engine)).toBe(big(XDP_ABORTED));
    expect(runXdp(vm, prog, ether(0x0800, [0x45, 0]), engine)).toBe(big(XDP_ABORTED));
    const counters = (i: number) => {
      const v = new DataView(stats.get(i)![0]!.buffer);
      return [v.getBigUint64(0, true), v.getBigUint64(8, true)];
    };
    expect(counters(0)).toEqual([2n, big(2 * good.length)]);
    expect(counters(1)).toEqual([1n, big(bad.length)]);
    expect(counters(2)).toEqual([1n, big(ipv6.length)]);
    expect(obj.decode('stats', 'value', stats.get(0)![0]!)).toEqual({ packets: 2n, bytes: big(2 * good.length) });
    expect(obj.decode('blocked', 'key', new Uint8Array([10, 0, 0, 66]))).toBe(0x4200000a);
  });

  test('tail_dispatch: a statically initialized PROG_ARRAY', () => {
    const vm = new Vm();
    const obj = loadObject(vm, fixture('tail_dispatch'));
    const table = obj.map('jump_table') as ProgArrayMap;
    expect(table.get(0)).toBe(obj.program('prog_a').prog);
    expect(table.get(1)).toBe(obj.program('prog_b').prog);
    expect(table.get(2)).toBeUndefined();
    const dispatch = obj.program('dispatch').prog;
    expect(runXdp(vm, dispatch, new Uint8Array([0, 9]), engine)).toBe(big(XDP_DROP));
    expect(runXdp(vm, dispatch, new Uint8Array([1, 9]), engine)).toBe(big(XDP_TX));
    expect(runXdp(vm, dispatch, new Uint8Array([2]), engine)).toBe(big(XDP_PASS));
    expect(runXdp(vm, dispatch, new Uint8Array([200]), engine)).toBe(big(XDP_PASS));
    expect(runXdp(vm, dispatch, new Uint8Array([]), engine)).toBe(big(XDP_ABORTED));
    expect(runXdp(vm, obj.program('prog_b').prog, new Uint8Array([0]), engine)).toBe(big(XDP_TX));
    // JS may re-point a slot.
    table.set(2, obj.program('prog_a').prog);
    expect(runXdp(vm, dispatch, new Uint8Array([2]), engine)).toBe(big(XDP_DROP));
  });

  test('map_in_map: ARRAY_OF_MAPS and HASH_OF_MAPS initialized with inner maps', () => {
    const vm = new Vm();
    const obj = loadObject(vm, fixture('map_in_map'));
    const innerA = obj.map('inner_a') as ArrayMap;
    const innerB = obj.map('inner_b') as ArrayMap;
    const prog = obj.program('map_in_map').prog;
    expect(runXdp(vm, prog, new Uint8Array([1, 2]), engine, 1)).toBe(big(XDP_PASS));
    expect(innerB.get(2, 'u64')).toBe(2n);
    expect(runXdp(vm, prog, new Uint8Array([0, 5]), engine, 1)).toBe(big(XDP_PASS));
    expect(innerA.get(1, 'u64')).toBe(1n);
    expect(innerB.get(1, 'u64')).toBe(1n);
    expect(runXdp(vm, prog, new Uint8Array([0, 5]), engine, 7)).toBe(big(XDP_PASS));
    expect(innerA.get(1, 'u64')).toBe(2n);
    expect(innerB.get(1, 'u64')).toBe(1n);
    expect(runXdp(vm, prog, new Uint8Array([2, 0]), engine, 1)).toBe(big(XDP_DROP));
    expect(runXdp(vm, prog, new Uint8Array([0]), engine, 1)).toBe(big(XDP_ABORTED));
  });

  test('ringbuf: records from an xdp and a tracepoint program', () => {
    const vm = new Vm({ pid: 1234, tgid: 99, comm: 'sh', clock: () => 5000n });
    const obj = loadObject(vm, fixture('ringbuf'));
    const events = obj.map('events') as RingBufMap;
    const packet = ether(0x0800, [1, 2, 3]);
    expect(runXdp(vm, obj.program('packet_events').prog, packet, engine)).toBe(big(XDP_PASS));
    const exec = obj.program('exec_events');
    expect(exec).toMatchObject({ section: 'tracepoint/syscalls/sys_enter_execve', kind: 'tracepoint' });
    expect(exec.prog.run(new Uint8Array(16), { engine })).toBe(0n);
    const [pkt, ex] = events.drain();
    const pv = new DataView(pkt!.buffer, pkt!.byteOffset);
    expect(pkt!.length).toBe(32);
    expect([pv.getUint32(8, true), pv.getUint16(12, true), pkt![14], pkt![15]]).toEqual([17, 0x0800, 16, 0]);
    expect([...pkt!.subarray(16, 32)]).toEqual([...packet.subarray(0, 16)]);
    const xv = new DataView(ex!.buffer, ex!.byteOffset);
    expect(ex!.length).toBe(24);
    expect([xv.getUint32(0, true), xv.getUint32(4, true)]).toEqual([1234, 99]);
    expect(new TextDecoder().decode(ex!.subarray(8, 10))).toBe('sh');
    expect((obj.map('.bss') as ArrayMap).get(0, 'u64')).toBe(0n);
  });
});

test('line info goes to the JIT: each C line as a comment in the generated code', () => {
  const p = loadObject(new Vm(), fixture('xdp_firewall')).program('xdp_firewall');
  expect(p.lineInfo).toBeDefined();
  expect(p.prog.sourceLines).toBe(p.lineInfo);
  expect(p.prog.jitSource()).toContain('// ./xdp_firewall.c:46: void *data = (void *)(long)ctx->data;');
});
