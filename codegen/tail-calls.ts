// Which BPF functions may end with a tail call pending. A successful tail
// call returns the sentinel out of the function that made it, and the call
// site that called that function runs the chain (lower-call.ts): only call
// sites whose callee itself makes tail calls need to look for the sentinel,
// so code that cannot tail call pays nothing. A chain run at such a call site
// ends like any callee, so callers further up never see the sentinel.
//
// What it does not do: follow values. A callx may name helper 12, so a
// function with a callx counts as making tail calls.

import { TAIL_CALL_HELPER } from '../lib/tail-call.js';
import type { Program } from '../lib/program.js';

/** Entry pcs of the functions containing `call 12` or a callx. */
export function tailCallers(program: Program): ReadonlySet<number> {
  const out = new Set<number>();
  const entries = program.functions;
  let k = 0;
  for (const insn of program.insns) {
    // Functions are contiguous and in pc order: entries[k] is the one holding insn.
    while (k + 1 < entries.length && insn.pc >= entries[k + 1]!) k++;
    const { kind } = insn.spec;
    if ((kind === 'call' && insn.imm === TAIL_CALL_HELPER) || kind === 'callx') out.add(entries[k]!);
  }
  return out;
}
