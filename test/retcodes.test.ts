import { describe, expect, it } from 'vitest';
import {
  TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT, TC_ACT_TRAP, TC_ACT_UNSPEC, XDP_ABORTED, XDP_DROP, XDP_PASS,
  XDP_REDIRECT, XDP_TX, verdictKind, verdictName,
} from '../lib/retcodes.js';

describe('return codes', () => {
  it('has Linux values', () => {
    expect([XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT]).toEqual([0, 1, 2, 3, 4]);
    expect([TC_ACT_UNSPEC, TC_ACT_OK, TC_ACT_SHOT, TC_ACT_REDIRECT, TC_ACT_TRAP]).toEqual([-1, 0, 2, 7, 8]);
  });

  it('names XDP actions from the low 32 bits of r0', () => {
    expect(verdictName('xdp', 0n)).toBe('XDP_ABORTED');
    expect(verdictName('xdp', 2n)).toBe('XDP_PASS');
    expect(verdictName('xdp', 4)).toBe('XDP_REDIRECT');
    expect(verdictName('xdp', 0x1_0000_0001n)).toBe('XDP_DROP');
    expect(verdictName('xdp', 5n)).toBeUndefined();
    expect(verdictName('xdp', 0xffffffffn)).toBeUndefined();
  });

  it('names tc actions as a signed 32-bit int', () => {
    expect(verdictName('tc', 0n)).toBe('TC_ACT_OK');
    expect(verdictName('tc', 2n)).toBe('TC_ACT_SHOT');
    expect(verdictName('tc', 0xffffffffn)).toBe('TC_ACT_UNSPEC');
    expect(verdictName('tc', 0xffffffffffffffffn)).toBe('TC_ACT_UNSPEC');
    expect(verdictName('tc', -1)).toBe('TC_ACT_UNSPEC');
    expect(verdictName('tc', 8)).toBe('TC_ACT_TRAP');
    expect(verdictName('tc', 9)).toBeUndefined();
    expect(verdictName('tc', -2)).toBeUndefined();
  });

  it('knows libbpf section names and kinds without names', () => {
    expect(verdictKind('xdp.frags')).toBe('xdp');
    expect(verdictKind('xdp/devmap')).toBe('xdp');
    expect(verdictKind('classifier/ingress')).toBe('tc');
    expect(verdictKind('tcx/egress')).toBe('tc');
    expect(verdictKind('action')).toBe('tc');
    expect(verdictName('classifier', 7n)).toBe('TC_ACT_REDIRECT');
    for (const kind of ['socket', 'kprobe/sys_open', 'raw', 'constructor', 'toString', '']) {
      expect(verdictKind(kind)).toBeUndefined();
      expect(verdictName(kind, 0n)).toBeUndefined();
    }
  });

  it('returns undefined for numbers that are not integers', () => {
    expect(verdictName('xdp', 1.5)).toBeUndefined();
    expect(verdictName('tc', Number.NaN)).toBeUndefined();
  });
});
