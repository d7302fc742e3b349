// Captures: reading pcap and pcapng as a stream, writing pcap, and turning
// non-Ethernet link types into Ethernet frames. This module only re-exports.

export { readCapture } from './read.js';
export type { CaptureInput } from './chunks.js';
export { openCapture, writeCaptureFile } from './file.js';
export type { CaptureFileWriter } from './file.js';
export { PcapWriter } from './writer.js';
export type { PcapWriterOptions, PacketToWrite } from './writer.js';
export { toEthernet, tryToEthernet } from './link.js';
export { PcapError } from './error.js';
export {
  LINKTYPE_NULL, LINKTYPE_LOOP, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_IPV4, LINKTYPE_IPV6,
  MAX_CAPTURED_LENGTH,
} from './types.js';
export type { CapturedPacket } from './types.js';
