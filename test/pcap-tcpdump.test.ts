// Records longer than the snaplen, read as libpcap reads them (checked
// against `tcpdump -r FILE -w OUT`, which writes what libpcap read; skipped
// with the reason printed when tcpdump is absent):
// - pcap: a record above the file's snaplen is cut to it (the rest of its
//   bytes skipped), one above 262144 bytes is refused;
// - pcapng: an enhanced packet block above its interface's snaplen is
//   refused (libpcap 1.10 refuses it too); a simple packet block is cut to
//   the snaplen.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture, PcapError } from '../lib/pcap/index.js';
import type { CapturedPacket } from '../lib/pcap/types.js';
import { collect, concat, epb, idb, packet, pcapBytes, shb, spb, summary } from './pcap-helpers.js';

const TCPDUMP = 'tcpdump';
const hasTcpdump = spawnSync(TCPDUMP, ['--version']).status === 0;
if (!hasTcpdump) console.log(`pcap-tcpdump tests skipped: ${TCPDUMP} not found`);

const dir = mkdtempSync(join(tmpdir(), 'ebpf-pcap-tcpdump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const S = 1_000_000_000n;

const read = (path: string) => collect(openCapture(path));

/** What tcpdump read of `bytes`: its exit status and the packets it wrote (data, lengths, times). */
async function tcpdumpRead(name: string, bytes: Uint8Array): Promise<{ path: string; status: number | null; stderr: string; packets: CapturedPacket[] }> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const out = `${path}.out.pcap`;
  const r = spawnSync(TCPDUMP, ['-r', path, '-w', out], { encoding: 'utf8' });
  return { path, status: r.status, stderr: r.stderr, packets: (await read(out)).packets };
}

const comparable = (list: readonly CapturedPacket[]) =>
  summary(list).map((p) => {
    const { data, origLen, timestampNs } = p as { data: string; origLen: number; timestampNs: bigint };
    return { data, origLen, timestampNs };
  });

const LIST = [packet(100, 1), packet(40, 2), packet(64, 3), packet(65, 4), packet(1500, 5)];

describe.skipIf(!hasTcpdump)('snaplen vs libpcap (tcpdump -r)', () => {
  it('pcap: records above the snaplen are cut to it, as tcpdump reads them', async () => {
    const bytes = pcapBytes(LIST.map((data, i) => ({ data, timestampNs: BigInt(i + 1) * S })), { snaplen: 65535 });
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(16, 64, true);
    const theirs = await tcpdumpRead('snap.pcap', bytes);
    expect(theirs.status, theirs.stderr).toBe(0);
    const ours = await read(theirs.path);
    expect(ours.error).toBeUndefined();
    expect(comparable(ours.packets)).toEqual(comparable(theirs.packets));
    expect(ours.packets.map((p) => [p.data.length, p.origLen])).toEqual([[64, 100], [40, 40], [64, 64], [64, 65], [64, 1500]]);
  });

  it('pcap: a record above 262144 bytes is refused by both', async () => {
    // The writer cuts to 262144: the record is appended by hand, the file's snaplen set to 0 (none).
    const head = new Uint8Array(16);
    const hv = new DataView(head.buffer);
    hv.setUint32(8, 262_145, true);
    hv.setUint32(12, 262_145, true);
    const bytes = concat(pcapBytes([{ data: packet(60, 1) }]), head, packet(262_145, 2));
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(16, 0, true);
    const theirs = await tcpdumpRead('huge.pcap', bytes);
    expect(theirs.status).not.toBe(0);
    expect(theirs.stderr).toMatch(/invalid packet capture length 262145/);
    const ours = await read(theirs.path);
    expect(ours.packets.length).toBe(1);
    expect(ours.error).toBeInstanceOf(PcapError);
    expect((ours.error as PcapError).message).toMatch(/captured length 262145 exceeds the limit of 262144/);
  });

  it('pcapng: an EPB above its interface snaplen is refused by both, after the packets before it', async () => {
    const bytes = concat(shb(), idb(1, 64), epb(0, 1_000_000n, packet(60, 1)), epb(0, 2_000_000n, packet(100, 2)), epb(0, 3_000_000n, packet(20, 3)));
    const theirs = await tcpdumpRead('epb.pcapng', bytes);
    expect(theirs.status).not.toBe(0);
    expect(theirs.stderr).toMatch(/invalid packet capture length 100, bigger than snaplen of 64/);
    const ours = await read(theirs.path);
    expect(comparable(ours.packets)).toEqual(comparable(theirs.packets));
    expect(ours.packets.length).toBe(1);
    expect((ours.error as PcapError).message).toMatch(/captured length 100 exceeds the interface's snaplen 64/);
  });

  it('pcapng: an SPB is cut to the snaplen, as tcpdump reads it', async () => {
    const bytes = concat(shb(), idb(1, 64), ...LIST.map((d) => spb(d.length, d)));
    const theirs = await tcpdumpRead('spb.pcapng', bytes);
    expect(theirs.status, theirs.stderr).toBe(0);
    const ours = await read(theirs.path);
    expect(ours.error).toBeUndefined();
    expect(comparable(ours.packets)).toEqual(comparable(theirs.packets));
    expect(ours.packets.map((p) => p.data.length)).toEqual([64, 40, 64, 64, 64]);
  });
});
