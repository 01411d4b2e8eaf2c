/**
 * A decoder of SeaStreamer's `.ss` file format written from its description
 * (../shared/DESIGN.md, "File format"), sharing no code with
 * backends/file/: the tests read files our writers made with it, so a bug the
 * writer and our reader share cannot hide.
 *
 * Big-endian. A 128-byte header (`53 73 01`, the file name as a u8-length
 * string, created_at u64 ms, beacon_interval u32, zero padding ending in
 * `0D`). A message: stream key (u8 length + bytes), shard u64, seq u64,
 * timestamp u64 ms, payload length u32, payload, CRC-16/CDMA2000 of the
 * payload u16, `0D`. At every positive multiple of beacon_interval sits a
 * beacon (`0D`, remaining message bytes u32, item count u8, items of a message
 * header and a u16 checksum each, `0D`); a message may be split around it.
 *
 * @module
 */

/** A message as the file holds it. */
export interface DecodedMessage {
  streamKey: string;
  shard: bigint;
  seq: bigint;
  timestamp: bigint;
  payload: Uint8Array;
}

/** CRC-16/CDMA2000 one bit at a time: polynomial 0xC867, initial value 0xFFFF, no reflection. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0xc867) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}

/** Every message of a whole, undamaged `.ss` file, in order; throws on anything else. */
export function decodeSsFile(file: Uint8Array): DecodedMessage[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file[0] !== 0x53 || file[1] !== 0x73 || file[2] !== 0x01) throw new Error("no 53 73 01");
  const nameLength = file[3];
  const interval = view.getUint32(4 + nameLength + 8);
  if (file[127] !== 0x0d) throw new Error("the header does not end in 0D");

  // The message bytes without the beacons.
  const content: number[] = [];
  let at = 128;
  while (at < file.length) {
    if (at % interval === 0) {
      if (file[at] !== 0x0d) throw new Error(`no beacon at ${at}`);
      let p = at + 1 + 4;
      const items = file[p++];
      for (let i = 0; i < items; i++) p += 1 + file[p] + 8 + 8 + 8 + 2;
      if (file[p] !== 0x0d) throw new Error(`the beacon at ${at} does not end in 0D`);
      at = p + 1;
      continue;
    }
    const next = Math.min(file.length, (Math.floor(at / interval) + 1) * interval);
    for (; at < next; at++) content.push(file[at]);
  }

  const bytes = Uint8Array.from(content);
  const body = new DataView(bytes.buffer);
  const messages: DecodedMessage[] = [];
  let p = 0;
  while (p < bytes.length) {
    const keyLength = bytes[p];
    const streamKey = new TextDecoder().decode(bytes.subarray(p + 1, p + 1 + keyLength));
    p += 1 + keyLength;
    const shard = body.getBigUint64(p);
    const seq = body.getBigUint64(p + 8);
    const timestamp = body.getBigUint64(p + 16);
    const length = body.getUint32(p + 24);
    p += 28;
    const payload = bytes.slice(p, p + length);
    p += length;
    if (body.getUint16(p) !== crc16(payload)) throw new Error(`bad checksum of seq ${seq}`);
    if (bytes[p + 2] !== 0x0d) throw new Error(`message seq ${seq} does not end in 0D`);
    p += 3;
    messages.push({ streamKey, shard, seq, timestamp, payload });
  }
  return messages;
}
