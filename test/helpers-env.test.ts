import { describe, expect, it } from 'vitest';
import { HelperError, UsageError } from '../lib/errors.js';
import { HelperEnv, helperIdByName, JIFFIES_HZ, standardHelpers } from '../lib/helpers/index.js';
import { makeWorld } from './helpers-world.js';

const EINVAL = -22n;
const E2BIG = -7n;

describe('HelperEnv', () => {
  it('gives the same random sequence for the same seed, another for another seed', () => {
    const seq = (seed: number) => { const e = new HelperEnv({ seed }); return Array.from({ length: 8 }, () => e.randomU32()); };
    expect(seq(42)).toEqual(seq(42));
    expect(seq(42)).not.toEqual(seq(43));
    for (const v of [...seq(0), ...seq(-1), ...seq(2 ** 40)]) {
      expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff).toBe(true);
    }
    expect(new Set(seq(0)).size).toBe(8); // seed 0 is not xorshift's stuck state
  });

  it('reads time from the given clocks; jiffies count 1/250 s of the monotonic clock', () => {
    let now = 4_000_000_000n;
    const env = new HelperEnv({ clock: () => now });
    expect(env.ktimeNs()).toBe(4_000_000_000n);
    expect(env.bootNs()).toBe(4_000_000_000n); // the boot clock defaults to the same clock
    expect(env.jiffies()).toBe(4n * BigInt(JIFFIES_HZ));
    now += 3_999_999n;
    expect(env.jiffies()).toBe(1000n);
    now += 1n;
    expect(env.jiffies()).toBe(1001n);
    expect(new HelperEnv({ clock: () => 1n, bootClock: () => 99n }).bootNs()).toBe(99n);
  });

  it('has a default clock that never goes backwards', () => {
    const env = new HelperEnv();
    let last = env.ktimeNs();
    for (let i = 0; i < 100; i++) {
      const t = env.ktimeNs();
      expect(t >= last).toBe(true);
      last = t;
    }
  });

  it('cuts comm to 15 bytes without splitting a UTF-8 character; rejects bad ids', () => {
    expect(new TextDecoder().decode(new HelperEnv({ comm: 'a-very-long-task-name' }).comm)).toBe('a-very-long-tas');
    expect(new HelperEnv({ comm: 'abcdefghijklmné' }).comm).toHaveLength(14);
    expect(() => new HelperEnv({ pid: -1 })).toThrow(UsageError);
    expect(() => new HelperEnv({ tgid: 2 ** 32 })).toThrow(UsageError);
  });
});

describe('task and time helpers', () => {
  it('get_current_pid_tgid puts tgid in the high half', () => {
    expect(makeWorld().call(14)).toBe((200n << 32n) | 100n);
  });

  it('get_current_comm copies the name, NUL-padded, cut to size - 1', () => {
    const w = makeWorld();
    w.scratch.bytes.fill(0xaa, 0, 32);
    expect(w.call(16, w.at(0), 8)).toBe(0n);
    expect([...w.bytes(0, 9)]).toEqual([0x74, 0x65, 0x73, 0x74, 0, 0, 0, 0, 0xaa]);
    expect(w.call(16, w.at(16), 3)).toBe(0n);
    expect([...w.bytes(16, 4)]).toEqual([0x74, 0x65, 0, 0xaa]);
    expect(() => w.call(16, w.at(4090), 16)).toThrow(/past the end/);
  });

  it('get_smp_processor_id, get_prandom_u32, ktime_get_ns, jiffies64, ktime_get_boot_ns', () => {
    const w = makeWorld({ cpu: 3, env: { seed: 9, clock: () => 8_000_000_000n, bootClock: () => 5n } });
    expect(w.call(8)).toBe(3n);
    const expected = new HelperEnv({ seed: 9 });
    expect(w.call(7)).toBe(BigInt(expected.randomU32()));
    expect(w.call(7)).toBe(BigInt(expected.randomU32()));
    expect(w.call(5)).toBe(8_000_000_000n);
    expect(w.call(118)).toBe(2000n);
    expect(w.call(125)).toBe(5n);
  });
});

describe('loop', () => {
  function loopWorld(stopAt = -1) {
    const calls: (readonly bigint[])[] = [];
    const w = makeWorld({
      callFunction: (address, args) => {
        calls.push([address, ...args]);
        return BigInt(args[0]) === BigInt(stopAt) ? 1n : 0n;
      },
    });
    return { w, calls };
  }

  it('calls the callback with (index, ctx) nr_loops times and returns nr_loops', () => {
    const { w, calls } = loopWorld();
    expect(w.call(181, 4, 0xff000010n, 0x1234, 0)).toBe(4n);
    expect(calls).toEqual([0n, 1n, 2n, 3n].map((i) => [0xff000010n, i, 0x1234n]));
  });

  it('stops when the callback returns non-zero, counting that iteration', () => {
    const { w, calls } = loopWorld(2);
    expect(w.call(181, 10, 0xff000010n, 0, 0)).toBe(3n);
    expect(calls).toHaveLength(3);
  });

  it('rejects flags (-EINVAL, checked first) and more than 2^23 loops (-E2BIG) without calling', () => {
    const { w, calls } = loopWorld();
    expect(w.call(181, (1 << 23) + 1, 0xff000010n, 0, 1)).toBe(EINVAL);
    expect(w.call(181, (1 << 23) + 1, 0xff000010n, 0, 0)).toBe(E2BIG);
    expect(w.call(181, 0, 0xff000010n, 0, 0)).toBe(0n);
    expect(w.call(181, 1n << 32n, 0xff000010n, 0, 0)).toBe(0n); // nr_loops is a u32
    expect(calls).toEqual([]);
  });
});

describe('standard helper table', () => {
  const ISSUE_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 12, 14, 16, 25, 26, 28, 44, 65, 87, 88, 89, 112, 113, 114, 115,
    118, 125, 130, 131, 132, 133, 134, 165, 181, 182];

  it('lists every helper of the issue once, by increasing id', () => {
    const ids = standardHelpers().map((h) => h.id);
    expect(ids).toEqual([...ISSUE_IDS].sort((a, b) => a - b));
  });

  it('resolves names with and without the bpf_ prefix', () => {
    expect(helperIdByName('bpf_map_lookup_elem')).toBe(1);
    expect(helperIdByName('map_lookup_elem')).toBe(1);
    expect(helperIdByName('bpf_tail_call')).toBe(12);
    expect(helperIdByName('trace_printk')).toBe(6);
    expect(helperIdByName('bpf_strncmp')).toBe(182);
    expect(helperIdByName('bpf_nope')).toBeUndefined();
    expect(helperIdByName('')).toBeUndefined();
  });

  it('hands out a fresh array of frozen entries', () => {
    const a = standardHelpers();
    a.pop();
    expect(standardHelpers()).toHaveLength(ISSUE_IDS.length);
    expect(Object.isFrozen(a[0])).toBe(true);
  });

  it('tail_call throws: the engines implement it', () => {
    const err = (() => { try { makeWorld().call(12, 0, 0, 0); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(HelperError);
    expect((err as HelperError).message).toMatch(/tail_call is handled by the engine at pc 7/);
  });
});
