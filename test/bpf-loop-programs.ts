// The bpf_loop program several suites run (tail calls, the debugger): one
// text, so their pc tables describe the same instructions.

/**
 * bpf_loop(r1 = n, callback `cb`, ctx = r10 - 8, flags 0), then
 * r0 = *(u64 *)(r10 - 8) + 1000 * loop's result. pcs: 0 stdw, 1 mov, 2 lddw
 * (2 slots), 4 mov, 5 add, 6 mov, 7 call 181, 8 mul, 9 ldxdw, 10 add, 11 exit;
 * the callback (appended by the caller, labelled cb) starts at pc 12.
 */
export const LOOP_MAIN = (n: number): string => `
    stdw [%r10-8], 0
    mov %r1, ${n}
    lddw %r2, func cb
    mov %r3, %r10
    add %r3, -8
    mov %r4, 0
    call 181
    mul %r0, 1000
    ldxdw %r1, [%r10-8]
    add %r0, %r1
    exit`;
