// Classic BPF: parse tcpdump's output, check it as Linux does, translate it
// to eBPF. This module only re-exports.

export { parseCbpf } from './parse.js';
export { checkCbpf } from './check.js';
export { cbpfToEbpf } from './convert.js';
export { CbpfError } from './error.js';
export { CBPF_MAX_INSNS, CBPF_MEMWORDS, SKF_AD, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF, formatCbpfInsn } from './opcodes.js';
export type { CbpfInsn } from './opcodes.js';
