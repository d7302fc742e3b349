// Standard helpers called by BPF programs, on every engine.
import { describe, expect, it } from 'vitest';
import { HelperError } from '../lib/errors.js';
import { HelperEnv } from '../lib/helpers/index.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';
import { XdpContext } from '../lib/xdp.js';

const COUNTER = `
  stw [%r10-4], 0
  lddw %r1, map_fd 1
  mov %r2, %r10
  add %r2, -4
  call 1                      # map_lookup_elem
  jeq %r0, 0, none
  ldxdw %r1, [%r0]
  add %r1, 1
  stxdw [%r0], %r1
  mov %r0, %r1
  exit
none:
  mov %r0, 0
  exit`;

const LOOP = `
  stdw [%r10-8], 0
  mov %r1, 5
  lddw %r2, func cb
  mov %r3, %r10
  add %r3, -8
  mov %r4, 0
  call 181                    # loop(5, cb, &sum, 0)
  mov %r6, %r0
  ldxdw %r0, [%r10-8]
  mul %r0, 100
  add %r0, %r6
  exit
cb:
  ldxdw %r3, [%r2]
  add %r3, %r1
  stxdw [%r2], %r3
  mov %r0, 0
  exit`;

const XDP_PUSH = `
  mov %r6, %r1
  mov %r2, -4
  call 44                     # xdp_adjust_head(ctx, -4)
  jne %r0, 0, fail
  ldxw %r2, [%r6+0]
  ldxw %r3, [%r6+4]
  mov %r4, %r2
  add %r4, 4
  jgt %r4, %r3, fail
  stw [%r2+0], 0x11223344
  mov %r0, 2
  exit
fail:
  mov %r0, 0
  exit`;

describe.each(AVAILABLE_ENGINES)('standard helpers on the %s engine', (engine) => {
  it('map_lookup_elem returns an address the program writes through', () => {
    const vm = new Vm({ engine });
    const counts = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    const prog = vm.load(COUNTER);
    expect([prog.run(), prog.run(), prog.run()]).toEqual([1n, 2n, 3n]);
    expect(counts.get(0, 'u64')).toBe(3n);
  });

  it('trace_printk formats to the Vm env and returns the length', () => {
    const vm = new Vm({ engine });
    const fmt = new TextEncoder().encode('n=%d\n\0');
    const prog = vm.load('mov %r2, 6\nmov %r3, -42\ncall 6\nexit');
    expect(prog.run(fmt)).toBe(6n);
    expect(vm.env.printkLines).toEqual(['n=-42']);
  });

  it('loop runs a BPF callback with (index, ctx) and returns the iteration count', () => {
    const prog = new Vm({ engine }).load(LOOP);
    expect(prog.run()).toBe(10n * 100n + 5n);
  });

  it('xdp_adjust_head grows the packet of an XdpContext', () => {
    const vm = new Vm({ engine });
    const xdp = new XdpContext(vm.memory, Uint8Array.from({ length: 20 }, (_, i) => i));
    expect(vm.load(XDP_PUSH).run(xdp)).toBe(2n);
    expect([...xdp.packetBytes().subarray(0, 6)]).toEqual([0x44, 0x33, 0x22, 0x11, 0, 1]);
    expect(xdp.packetBytes()).toHaveLength(24);
    xdp.release();
  });

  it('get_prandom_u32 follows the seed; get_current_pid_tgid the configured ids', () => {
    const vm = new Vm({ engine, seed: 7, pid: 5, tgid: 6 });
    expect(vm.load('call 7\nexit').run()).toBe(BigInt(new HelperEnv({ seed: 7 }).randomU32()));
    expect(vm.load('call 14\nexit').run()).toBe((6n << 32n) | 5n);
  });

  it('a non-map argument is a HelperError at the call', () => {
    const vm = new Vm({ engine });
    const err = (() => { try { vm.load('mov %r1, 5\nmov %r2, %r10\ncall 1\nexit').run(); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(HelperError);
    expect((err as HelperError).pc).toBe(2);
    expect((err as HelperError).message).toMatch(/map_lookup_elem: argument 1 \(r1 = 0x5\) is not a map/);
  });
});
