// Which context a program gets over packets: contextFor (lib/elf/kinds.ts)
// decides from the program kind, and runCapture follows it when the job
// does not name a context.

import { describe, expect, test } from 'vitest';
import { runCapture } from '../lib/capture/index.js';
import { contextFor, programKind, type ProgramKind } from '../lib/elf/kinds.js';
import { AVAILABLE_ENGINES } from '../lib/vm.js';
import { packets } from './capture-programs.js';

/** r0 = 1 for raw bytes (r2 is their length), 2 for an xdp_md (data is an address), 3 for an __sk_buff (len is small). */
const WHICH_CONTEXT = `
  mov %r0, 1
  jne %r2, 0, out
  ldxw %r3, [%r1+0]
  mov %r0, 2
  jgt %r3, 0xffffff, out
  mov %r0, 3
out:
  exit
`;

const CASES: readonly (readonly [ProgramKind, 'xdp' | 'skb' | 'raw'])[] = [
  ['xdp', 'xdp'], ['socket', 'skb'], ['tc', 'skb'], ['cgroup_skb', 'skb'], ['sk_skb', 'skb'], ['lwt', 'skb'],
  ['flow_dissector', 'skb'], ['kprobe', 'raw'], ['tracepoint', 'raw'], ['sk_msg', 'raw'], ['cgroup_sock', 'raw'],
  ['unknown', 'raw'],
];

describe('contextFor', () => {
  test.each(CASES)('%s programs get %s', (kind, ctx) => {
    expect(contextFor(kind)).toBe(ctx);
  });

  test('section names reach it through programKind', () => {
    expect(['xdp.frags', 'classifier/ingress', 'socket', 'cgroup/skb', 'lwt_xmit', 'kprobe/sys_open', 'foo']
      .map((s) => contextFor(programKind(s)))).toEqual(['xdp', 'skb', 'skb', 'skb', 'skb', 'raw', 'raw']);
  });
});

describe.each(AVAILABLE_ENGINES)('runCapture picks the context from the kind (%s)', (engine) => {
  const CODE = { xdp: 2n, skb: 3n, raw: 1n } as const;
  test.each([['xdp', 'xdp'], ['classifier', 'skb'], ['socket', 'skb'], ['cgroup/skb', 'skb'], ['kprobe/x', 'raw'], [undefined, 'raw']] as const)(
    'type %s: %s', async (type, ctx) => {
      const verdicts: bigint[] = [];
      await runCapture({ spec: { kind: 'bpf', code: WHICH_CONTEXT, type }, engine }, packets(3), (r) => verdicts.push(r.verdict));
      expect(verdicts).toEqual([CODE[ctx], CODE[ctx], CODE[ctx]]);
    });

  test('a job naming the context overrides the kind', async () => {
    const verdicts: bigint[] = [];
    await runCapture({ spec: { kind: 'bpf', code: WHICH_CONTEXT, type: 'xdp' }, ctx: 'skb', engine }, packets(2), (r) => verdicts.push(r.verdict));
    expect(verdicts).toEqual([3n, 3n]);
  });
});
