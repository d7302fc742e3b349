// lib/pcap under Deno 2 (the `deno` npm package provides the binary): a
// script writes a pcap with writeCaptureFile, streams it back with
// openCapture, and reads a pcapng from bytes, straight from the TypeScript
// sources (sloppy imports map the `.js` specifiers to `.ts`).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { denoBinary } from './cli-helpers.js';



const deno = denoBinary();
if (deno === undefined) console.log('pcap-deno test skipped: the deno npm package is not installed (npm install provides it)');

describe.skipIf(deno === undefined)('lib/pcap on Deno', () => {
  test('writeCaptureFile, openCapture, readCapture and toEthernet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-pcap-deno-'));
    const index = new URL('../lib/pcap/index.ts', import.meta.url).href;
    const script = join(dir, 'pcap.ts');
    writeFileSync(script, `
import { writeCaptureFile, openCapture, readCapture, toEthernet, PcapError } from ${JSON.stringify(index)};
const path = ${JSON.stringify(join(dir, 'out.pcap'))};
const w = writeCaptureFile(path, { nanos: true, linkType: 101 });
for (let i = 0; i < 3000; i++) {
  const d = new Uint8Array(60 + (i % 100));
  d[0] = 0x45;
  w.write({ data: d, timestampNs: 1_700_000_000_123_456_789n + BigInt(i) });
}
await w.close();
let n = 0;
let last;
for await (const p of openCapture(path)) { n++; last = p; }
const frame = toEthernet(last);
console.log(n, String(last.timestampNs), frame.length, frame[12], frame[13]);
const bytes = await Deno.readFile(path);
try {
  for await (const _ of readCapture([bytes.subarray(0, 1000)])) n++;
} catch (e) {
  console.log(e instanceof PcapError, e.packetNumber, e.offset);
}
`);
    const r = spawnSync(deno!, ['run', '--unstable-sloppy-imports', '--no-lock', '--allow-read', '--allow-write', script], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    });
    // Record i is 16 + 60 + i bytes: record 11 starts at 24 + 11 * 76 + (0 + ... + 10) = 915 and ends past 1000.
    expect(r.stdout).toBe(`3000 1700000000123459788 173 8 0\ntrue 11 915\n`);
    expect(r.status).toBe(0);
  });
});
