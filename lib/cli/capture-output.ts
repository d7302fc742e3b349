// A pcap file that `run --write-pass/--write-drop` and `filter -w` write
// packets to: created (empty) up front so an unwritable path is a usage
// error before the run, and still a valid empty capture when no packet goes
// to it. checkOutputs, called first, makes sure no output is the input
// capture (creating it would truncate the input before it is read) or
// another output.
//
// What goes in the file (`frames`):
// - 'ethernet' (run): the frames the program saw. Ethernet packets are
//   written as captured; raw IP and Linux cooked packets as the Ethernet
//   frames lib/capture made of them (wire length adjusted by the header
//   change), so one pcap file (one link type) holds every packet even when a
//   pcapng capture mixes link types.
// - 'captured' (filter): as captured, in the link type of the first packet
//   (lib/capture's frames: 'captured' skips packets of any other link type).

import { closeSync, openSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { EbpfError, UsageError } from '../errors.js';
import { LINKTYPE_ETHERNET, toEthernet, writeCaptureFile, type CapturedPacket, type CaptureFileWriter } from '../pcap/index.js';

export type OutputFrames = 'ethernet' | 'captured';

/**
 * Writing an output file failed part way (a full disk): not a usage error
 * (exit 1). It names the packet being written; the run's report counts the
 * packets run, that one included.
 */
export class OutputError extends EbpfError {
  constructor(message: string) {
    super('OUTPUT', message);
  }
}

/** Where an output goes, as given on the command line, for messages. */
export interface OutputPath {
  readonly option: string;
  readonly path: string;
}

/**
 * UsageError when an output is the input capture or two outputs are one
 * file. Existing files are compared by device and inode (so symlinks and
 * hard links are caught); files not there yet by their resolved path.
 * Devices and pipes are never the same file as anything (writing both
 * outputs to /dev/null is fine).
 */
export function checkOutputs(input: string, outputs: readonly OutputPath[]): void {
  // `-` is standard input: /dev/stdin names the file it was redirected from, if any.
  const inputId = fileId(input === '-' ? '/dev/stdin' : input);
  const seen: { out: OutputPath; id: string }[] = [];
  for (const out of outputs) {
    const id = fileId(out.path);
    if (id === undefined) continue;
    if (id === inputId) {
      throw new UsageError(`${out.option} ${out.path} is the input capture: write the packets elsewhere`);
    }
    const twin = seen.find((s) => s.id === id);
    if (twin !== undefined) throw new UsageError(`${twin.out.option} and ${out.option} name the same file`);
    seen.push({ out, id });
  }
}

/**
 * "dev:ino" of an existing regular file; the resolved path (parent's real
 * path) of one that is not there yet; undefined for anything else.
 */
function fileId(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    let dir = resolve(dirname(path));
    try {
      dir = realpathSync(dir);
    } catch {
      // A missing directory: the open fails later with its own message.
    }
    return `path ${resolve(dir, basename(path))}`;
  }
  return st.isFile() ? `inode ${st.dev}:${st.ino}` : undefined;
}

export class CaptureOutput {
  private writer: CaptureFileWriter | undefined;
  /** 'captured': the first packet's link type once one is seen (an empty capture of no packets: Ethernet). */
  private linkType: number | undefined;
  constructor(private readonly path: string, private readonly frames: OutputFrames = 'ethernet') {
    // A path that cannot be written is a usage error now, not after the run.
    try {
      closeSync(openSync(path, 'w'));
    } catch (e) {
      const reason = e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : 'unwritable';
      throw new UsageError(`cannot write ${path}: ${reason}`);
    }
  }

  private open(linkType: number): void {
    this.linkType = linkType;
    this.writer = writeCaptureFile(this.path, { linkType, nanos: true });
  }

  /**
   * A packet the run delivered, written or not: with 'captured' frames its
   * link type is the file's, so a file no packet went to still has the
   * capture's link type.
   */
  saw(p: CapturedPacket): void {
    this.linkType ??= p.linkType;
  }

  write(p: CapturedPacket): void {
    try {
      this.writePacket(p);
    } catch (e) {
      throw new OutputError(`${e instanceof Error ? e.message : String(e)} (writing packet ${p.index})`);
    }
  }

  private writePacket(p: CapturedPacket): void {
    if (this.frames === 'ethernet') {
      if (this.writer === undefined) this.open(LINKTYPE_ETHERNET);
      const data = p.linkType === LINKTYPE_ETHERNET ? p.data : toEthernet(p);
      // The wire length grows (raw IP) or shrinks (cooked) by the header change.
      const origLen = Math.max(p.origLen + data.length - p.data.length, data.length);
      this.writer!.write({ data, timestampNs: p.timestampNs, origLen });
      return;
    }
    this.saw(p);
    if (this.writer === undefined) this.open(this.linkType!);
    if (p.linkType !== this.linkType) {
      // lib/capture skips these with frames: 'captured'; a pcap file has one link type.
      throw new UsageError(`${this.path}: packet ${p.index} has link type ${p.linkType}, the file ${this.linkType}`);
    }
    this.writer!.write({ data: p.data, timestampNs: p.timestampNs, origLen: Math.max(p.origLen, p.data.length) });
  }

  async close(): Promise<void> {
    try {
      // No packet written: still an (empty) capture file.
      if (this.writer === undefined) this.open(this.frames === 'captured' ? (this.linkType ?? LINKTYPE_ETHERNET) : LINKTYPE_ETHERNET);
      await this.writer!.close();
    } catch (e) {
      throw new OutputError(e instanceof Error ? e.message : String(e));
    }
  }
}

/**
 * Closes every output (flushing the last packets) and returns the run's
 * failure: `failure` when there was one, else the first close that failed.
 * Every output is closed even when one fails.
 */
export async function closeOutputs(outputs: readonly (CaptureOutput | undefined)[], failure: unknown): Promise<unknown> {
  for (const o of outputs) {
    try {
      await o?.close();
    } catch (e) {
      failure ??= e;
    }
  }
  return failure;
}
