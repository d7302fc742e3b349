// Shared by the ELF tests: fixture objects, packets, and runs in an XDP or
// __sk_buff context.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkbContext, type SkbOptions } from '../lib/skb.js';
import { XdpContext } from '../lib/xdp.js';
import type { LoadedProgram, Vm } from '../lib/vm.js';
import { ElfError } from '../lib/errors.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'elf');
export const FIXTURE_NAMES = [
  'calls', 'config_counters', 'kconfig', 'legacy_maps', 'map_in_map', 'ringbuf', 'socket_filter', 'tail_dispatch', 'xdp_firewall',
] as const;

/** Values for every strong __kconfig extern of kconfig.o (harmless for the other fixtures). */
export const FIXTURE_KCONFIG = { CONFIG_BPF_JIT: 'y', CONFIG_BPF_SYSCALL: true, CONFIG_HZ: 250, CONFIG_DEFAULT_HOSTNAME: 'ebpf-js' } as const;

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, `${name}.o`)));
}

export function runXdp(vm: Vm, prog: LoadedProgram, packet: Uint8Array, engine: 'interp' | 'jit', ingressIfindex = 1): bigint {
  const ctx = new XdpContext(vm.memory, packet, { ingressIfindex });
  try {
    return prog.run(ctx, { engine });
  } finally {
    ctx.release();
  }
}

export function runSkb(vm: Vm, prog: LoadedProgram, packet: Uint8Array, engine: 'interp' | 'jit', options: SkbOptions = {},
  inspect?: (ctx: SkbContext) => void): bigint {
  const ctx = new SkbContext(vm.memory, packet, options);
  try {
    const r0 = prog.run(ctx, { engine });
    inspect?.(ctx);
    return r0;
  } finally {
    ctx.release();
  }
}

/** An Ethernet frame: EtherType, then `payload`. */
export function ether(type: number, payload: number[] = []): Uint8Array {
  return new Uint8Array([...new Array(12).fill(0xaa), type >> 8, type & 0xff, ...payload]);
}

/** IPv4 (ihl 5) + TCP header to `dport`, from `src` (4 bytes). */
export function ipv4Tcp(dport: number, src = [10, 0, 0, 1], proto = 6, extra = 0): Uint8Array {
  const ip = [0x45, 0, 0, 40, 0, 0, 0, 0, 64, proto, 0, 0, ...src, 10, 0, 0, 2];
  const tcp = [0x30, 0x39, dport >> 8, dport & 0xff, ...new Array(16).fill(0)];
  return ether(0x0800, [...ip, ...tcp, ...new Array(extra).fill(0)]);
}

/** The ElfError `fn` throws (fails the test when it throws something else or nothing). */
export function elfError(fn: () => unknown): ElfError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ElfError) return e;
    throw e;
  }
  throw new Error('expected an ElfError');
}

/** A copy of ELF object `bytes` with symbol `name`'s 24-byte entry passed to `patch` (DataView, entry offset). */
export function patchSymbol(bytes: Uint8Array, name: string, patch: (view: DataView, at: number) => void): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const shoff = Number(view.getBigUint64(0x28, true));
  const shnum = view.getUint16(0x3c, true);
  const header = (i: number) => shoff + i * 64;
  for (let i = 0; i < shnum; i++) {
    if (view.getUint32(header(i) + 4, true) !== 2) continue; // SHT_SYMTAB
    const strtab = Number(view.getBigUint64(header(view.getUint32(header(i) + 40, true)) + 24, true));
    const offset = Number(view.getBigUint64(header(i) + 24, true));
    const size = Number(view.getBigUint64(header(i) + 32, true));
    for (let at = offset; at < offset + size; at += 24) {
      const start = strtab + view.getUint32(at, true);
      const end = out.indexOf(0, start);
      if (new TextDecoder().decode(out.subarray(start, end)) === name) {
        patch(view, at);
        return out;
      }
    }
  }
  throw new Error(`no symbol ${name}`);
}
