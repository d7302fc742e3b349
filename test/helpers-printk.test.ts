import { describe, expect, it } from 'vitest';
import { MemoryAccessError } from '../lib/errors.js';
import { HelperEnv, PRINTK_KEEP } from '../lib/helpers/index.js';
import { makeWorld, PC, type World } from './helpers-world.js';

const TRACE_PRINTK = 6;
const SNPRINTF = 165;
const EINVAL = -22n;
const ENOSPC = -28n;

/** Calls trace_printk with `fmt` (stored with its NUL at scratch offset 0) and returns [r0, lines]. */
function printk(w: World, fmt: string, ...args: (bigint | number)[]): [bigint, string[]] {
  const size = new TextEncoder().encode(fmt).length + 1;
  const before = w.env.printkLines.length;
  const r0 = w.call(TRACE_PRINTK, w.put(0, fmt), size, ...args);
  return [r0, w.env.printkLines.slice(before)];
}

describe('trace_printk', () => {
  it('formats integers as Linux does: %d is 32-bit, l and ll are 64-bit', () => {
    const w = makeWorld();
    expect(printk(w, 'x=%d y=%u z=%x\n', -5, 7, 255)).toEqual([14n, ['x=-5 y=7 z=ff']]);
    expect(printk(w, '%d %ld %lld', 0x100000005n, 0x100000005n, -1)).toEqual([15n, ['5 4294967301 -1']]);
    expect(printk(w, '%lu|%llx|%X', -1, -1, 0xabcn)).toEqual([
      41n, ['18446744073709551615|ffffffffffffffff|ABC'],
    ]);
    expect(printk(w, '%u %i %lX', -1, 0x80000000n, 0xbeefn)[1]).toEqual(['4294967295 -2147483648 BEEF']);
  });

  it('applies the 0 + - space flags and a width', () => {
    const w = makeWorld();
    expect(printk(w, '[%5d][%-5d][%05d]', 42, 42, 42)[1]).toEqual(['[   42][42   ][00042]']);
    expect(printk(w, '[%+d][% d][%05d]', 42, 42, -42)[1]).toEqual(['[+42][ 42][-0042]']);
    expect(printk(w, '[%-05d][%+u][%08x]', 42, 42, 0xbeef)[1]).toEqual(['[42   ][42][0000beef]']);
  });

  it('prints strings, characters and %% ; a bad string pointer prints nothing', () => {
    const w = makeWorld();
    const s = w.put(100, 'abc');
    expect(printk(w, '<%s> <%6s> <%-4s>', s, s, s)[1]).toEqual(['<abc> <   abc> <abc >']);
    expect(printk(w, '%c%c%c 100%%', 0x68, 0x69, 0x21n)).toEqual([8n, ['hi! 100%']]);
    expect(printk(w, '[%s] [%pks] [%pus]', 0, 16, s)[1]).toEqual(['[] [] [abc]']);
  });

  it('prints pointers as 16 hex digits (not hashed) and skips letters after %p', () => {
    const w = makeWorld();
    expect(printk(w, '%p %px', 0x1234, 0xdeadbeef)[1]).toEqual(['0000000000001234 00000000deadbeef']);
    expect(printk(w, '%pK|%pxyz|%8p', 0xab, 1, 0x10)[1]).toEqual(['00000000000000ab|0000000000000001|      10']);
    expect(printk(w, '%ps', 0x10)[1]).toEqual(['0x10']);
  });

  it('prints IPv4 and IPv6 addresses read through a pointer', () => {
    const w = makeWorld();
    const v4 = w.put(100, Uint8Array.of(192, 168, 1, 10));
    expect(printk(w, '%pI4 %pi4', v4, v4)[1]).toEqual(['192.168.1.10 192.168.001.010']);
    const v6 = w.put(200, Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
    expect(printk(w, '%pI6', v6)[1]).toEqual(['2001:0db8:0000:0000:0000:0000:0000:0001']);
    expect(printk(w, '%pi6', v6)[1]).toEqual(['20010db8000000000000000000000001']);
    expect(printk(w, '%pI4', 8)[1]).toEqual(['0.0.0.0']); // a bad pointer reads as zeros
  });

  it('rejects what Linux rejects with -EINVAL and prints nothing', () => {
    const w = makeWorld();
    const bad = ['%d %d %d %d', '%q', '%.2d', '%#x', '%sx', '%hd', 'tab\x01', '100%', '%lp', '%pz', '%5'];
    for (const fmt of bad) expect(printk(w, fmt, 1, 2, 3), fmt).toEqual([EINVAL, []]);
    // The NUL must lie within fmt_size.
    w.put(0, 'abc');
    expect(w.call(TRACE_PRINTK, w.at(0), 3)).toBe(EINVAL);
    expect(w.call(TRACE_PRINTK, w.at(0), 0)).toBe(EINVAL);
    expect(w.env.printkLines).toEqual([]);
  });

  it('packs string arguments in a 512-byte buffer: long strings are cut, a full buffer is -ENOSPC', () => {
    const w = makeWorld();
    const long = w.put(1000, 'x'.repeat(600));
    const [r0, lines] = printk(w, '%s', long);
    expect(r0).toBe(511n);
    expect(lines[0]).toBe('x'.repeat(511));
    expect(printk(w, '%s %s', long, long)).toEqual([ENOSPC, []]);
    expect(printk(w, '%s %d', long, 1)).toEqual([ENOSPC, []]);
  });

  it('returns the full length but sends at most 1023 bytes; strips one final newline', () => {
    const w = makeWorld();
    const [r0, lines] = printk(w, '%2000d', 1);
    expect(r0).toBe(2000n);
    expect(lines[0]).toHaveLength(1023);
    expect(printk(w, 'a\n\n')).toEqual([3n, ['a\n']]);
  });

  it('sends lines to a sink when one is given', () => {
    const got: string[] = [];
    const w = makeWorld({ env: { printk: (line) => got.push(line) } });
    printk(w, 'hello %d\n', 1);
    expect(got).toEqual(['hello 1']);
    expect(w.env.printkLines).toEqual([]);
  });

  it('faults with the call pc on an unreadable format', () => {
    const w = makeWorld();
    const err = (() => { try { w.call(TRACE_PRINTK, 16, 4); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(MemoryAccessError);
    expect((err as MemoryAccessError).pc).toBe(PC);
  });
});

/** Stores u64 arguments at scratch offset 512 and returns their address. */
function args64(w: World, values: (bigint | number)[]): bigint {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(v)), true));
  return w.put(512, bytes);
}

describe('snprintf', () => {
  it('writes the text and a NUL and returns the size it needs', () => {
    const w = makeWorld();
    const fmt = w.put(0, '%d-%s!');
    const data = args64(w, [42, w.put(100, 'abc')]);
    expect(w.call(SNPRINTF, w.at(200), 32, fmt, data, 16)).toBe(8n);
    expect(new TextDecoder().decode(w.bytes(200, 8))).toBe('42-abc!\0');
  });

  it('cuts the text to str_size - 1 bytes, always NUL-terminated; str_size 0 writes nothing', () => {
    const w = makeWorld();
    const fmt = w.put(0, 'hello %u');
    const data = args64(w, [12345]);
    w.scratch.bytes.fill(0xee, 200, 220);
    expect(w.call(SNPRINTF, w.at(200), 4, fmt, data, 8)).toBe(12n);
    expect([...w.bytes(200, 5)]).toEqual([0x68, 0x65, 0x6c, 0, 0xee]);
    expect(w.call(SNPRINTF, 0, 0, fmt, data, 8)).toBe(12n);
  });

  it('takes up to 12 arguments and no format pointer check beyond the NUL', () => {
    const w = makeWorld();
    const fmt = w.put(0, '%d'.repeat(12));
    const data = args64(w, [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]);
    expect(w.call(SNPRINTF, w.at(300), 64, fmt, data, 96)).toBe(13n);
    expect(new TextDecoder().decode(w.bytes(300, 12))).toBe('123456789012');
  });

  it('returns -EINVAL for a bad data_len, a NULL data or a format needing more arguments', () => {
    const w = makeWorld();
    const fmt = w.put(0, '%d %d');
    const data = args64(w, [1, 2]);
    w.scratch.bytes.fill(0xee, 200, 210);
    expect(w.call(SNPRINTF, w.at(200), 8, fmt, data, 12)).toBe(EINVAL);
    expect(w.call(SNPRINTF, w.at(200), 8, fmt, data, 104)).toBe(EINVAL);
    expect(w.call(SNPRINTF, w.at(200), 8, fmt, 0, 16)).toBe(EINVAL);
    expect(w.call(SNPRINTF, w.at(200), 8, fmt, data, 8)).toBe(EINVAL);
    expect([...w.bytes(200, 8)].every((b) => b === 0xee)).toBe(true);
  });

  it('faults on a destination it cannot write', () => {
    const w = makeWorld();
    const fmt = w.put(0, 'x');
    expect(() => w.call(SNPRINTF, w.at(4090), 16, fmt, 0, 0)).toThrow(MemoryAccessError);
  });
});

describe('printkLines without a sink', () => {
  it(`keeps the newest PRINTK_KEEP lines and counts the dropped ones`, () => {
    const env = new HelperEnv({ seed: 1 });
    expect(PRINTK_KEEP).toBe(10_000);
    for (let i = 0; i < PRINTK_KEEP + 25; i++) env.printk(`line ${i}`);
    expect(env.printkLines).toHaveLength(PRINTK_KEEP);
    expect(env.printkLines[0]).toBe('line 25');
    expect(env.printkLines.at(-1)).toBe(`line ${PRINTK_KEEP + 24}`);
    expect(env.printkDropped).toBe(25);
    env.printkLines.length = 0; // a caller that reads and clears never loses a line
    env.printk('again');
    expect(env.printkLines).toEqual(['again']);
    expect(env.printkDropped).toBe(25);
  });

  it('stays bounded over a long run of trace_printk calls', () => {
    const w = makeWorld();
    for (let i = 0; i < PRINTK_KEEP + 3; i++) printk(w, 'x %d\n', i);
    expect(w.env.printkLines).toHaveLength(PRINTK_KEEP);
    expect(w.env.printkLines[0]).toBe('x 3');
    expect(w.env.printkDropped).toBe(3);
  });
});
