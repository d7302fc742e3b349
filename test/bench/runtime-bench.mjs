// The runtime part of `npm run bench`: what a tail call and a map lookup cost
// on each engine, in ns. Programs are written in assembly here (no clang
// needed) against maps created through the public Vm API.
//
// - tail call: a program that tail-calls itself through slot 0 of a
//   PROG_ARRAY makes 33 tail calls per run (the 34th fails and it returns).
//   The cost per tail call is (time of that run - time of the same run with
//   the slot empty) / 33, so the fixed cost of a run cancels out.
// - map lookup: a loop of 4096 bpf_map_lookup_elem calls on a HASH map of
//   1024 u32 keys (every lookup hits), reading the u64 value found. The cost
//   per lookup is (time of that run - time of the same loop without the
//   call) / 4096: loop, key store and value load cancel out.

const CHAIN_TAIL_CALLS = 33;
const LOOKUPS = 4096;
const HASH_KEYS = 1024;

/** Tail-calls itself through slot 0 of map fd `fd`; r0 = 7 once the call fails. */
function chainSource(fd) {
  return `
    lddw %r2, map_fd ${fd}
    mov %r3, 0
    call 12
    mov %r0, 7
    exit`;
}

/** LOOKUPS iterations of (key = i % HASH_KEYS; r0 += *lookup(&key)), with or without the lookup. */
function lookupSource(fd, withLookup) {
  const lookup = withLookup
    ? `
    mov %r2, %r10
    add %r2, -4
    lddw %r1, map_fd ${fd}
    call 1
    jeq %r0, 0, miss
    ldxdw %r1, [%r0]
    add %r6, %r1`
    : `
    mov %r1, %r10
    add %r1, -4
    ldxw %r1, [%r1]
    add %r6, %r1`;
  return `
    mov %r6, 0
    mov %r7, 0
  loop:
    mov %r1, %r7
    and %r1, ${HASH_KEYS - 1}
    stxw [%r10-4], %r1
    ${lookup}
  miss:
    add %r7, 1
    jlt %r7, ${LOOKUPS}, loop
    mov %r0, %r6
    exit`;
}

/**
 * Rows of { what, engine, ns } for the tail-call and map-lookup costs.
 * `lib` is the built library (dist/lib/index.js), `measure(fn)` the bench's
 * statistic returning { ns }.
 */
export function runtimeRows(lib, engines, measure) {
  const rows = [];
  for (const engine of engines) {
    const vm = new lib.Vm({ engine });
    const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const chain = vm.load(chainSource(progs.fd));
    const run = () => chain.run();
    progs.set(0, chain);
    if (run() !== 7n) throw new Error(`tail-call chain returned ${run()} on ${engine}`);
    const withChain = measure(run).ns;
    progs.delete(0);
    const alone = measure(run).ns;
    rows.push({ what: `tail call (chain of ${CHAIN_TAIL_CALLS})`, engine, ns: (withChain - alone) / CHAIN_TAIL_CALLS });

    const hash = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: HASH_KEYS });
    let expected = 0n;
    for (let k = 0; k < HASH_KEYS; k++) hash.set(k, BigInt(k * 3));
    for (let i = 0; i < LOOKUPS; i++) expected += BigInt((i % HASH_KEYS) * 3);
    const withLookup = vm.load(lookupSource(hash.fd, true));
    const without = vm.load(lookupSource(hash.fd, false));
    const got = withLookup.run();
    if (got !== expected) throw new Error(`map lookup loop returned ${got}, expected ${expected}, on ${engine}`);
    const tLookup = measure(() => withLookup.run()).ns;
    const tLoop = measure(() => without.run()).ns;
    rows.push({ what: `map lookup (hash, ${HASH_KEYS} keys)`, engine, ns: (tLookup - tLoop) / LOOKUPS });
  }
  return rows;
}
