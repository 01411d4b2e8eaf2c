/**
 * SeaStreamer's `.ss` file format (version 1), byte for byte as SeaStreamer's
 * Rust file backend writes it. All numbers are big-endian.
 *
 * ```text
 * header (128 bytes): 53 73 01 | file name (u8 length + UTF-8) | created_at u64 ms
 *                     | beacon_interval u32 | zero padding | 0D
 * message:            stream key (u8 length + bytes) | shard u64 | seq u64 | timestamp u64 ms
 *                     | payload length u32 | payload | CRC-16/CDMA2000 of the payload u16 | 0D
 * beacon:             0D | remaining message bytes u32 | item count u8
 *                     | items (message header + running checksum u16) | 0D
 * ```
 *
 * A beacon sits at every positive multiple of the beacon interval. A message
 * that reaches such an offset is split around it; the beacon says how many of
 * the message's bytes follow it, so a reader landing on a beacon can skip to
 * the next message boundary. The items ("markers") summarize streams so far:
 * the highest seq and timestamp of a stream and the running checksum of its
 * messages' checksums; SeaStreamer uses them to seek without reading everything.
 *
 * @module
 */
import { StreamError, type StreamKey } from "../../types.ts";

/**
 * The size of a file header.
 *
 * @example
 * ```ts
 * import { connect, HEADER_SIZE } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove, stat } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await (await connect(`file://${dir}/a.ss`, { file: { createIfNotExists: true } })).disconnect();
 * console.log((await stat(`${dir}/a.ss`))?.size === HEADER_SIZE); // true: a new file is its header
 * await remove(dir);
 * ```
 */
export const HEADER_SIZE = 128;
/** The file format version this module reads and writes. */
export const FORMAT_VERSION = 1;
/** The byte that ends headers, beacons and messages (a carriage return, for text editors). */
export const FRAME_END = 0x0d;
/**
 * The default bytes between beacons: 1 MiB, as SeaStreamer's.
 *
 * @example
 * ```ts
 * import { connect, DEFAULT_BEACON_INTERVAL } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * // A beacon every 64 KiB instead of every MiB: shorter jumps when seeking a small file.
 * const beaconInterval = DEFAULT_BEACON_INTERVAL / 16;
 * const streamer = await connect(`file://${dir}/a.ss`, {
 *   file: { createIfNotExists: true, beaconInterval },
 * });
 * await streamer.disconnect();
 * await remove(dir);
 * ```
 */
export const DEFAULT_BEACON_INTERVAL = 1024 * 1024;
/**
 * The default largest file size: 16 GiB, as SeaStreamer's.
 *
 * @example
 * ```ts
 * import { connect, DEFAULT_FILE_SIZE_LIMIT } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(DEFAULT_FILE_SIZE_LIMIT / 2 ** 30); // 16 (GiB)
 * const dir = await makeTempDir();
 * const fileSizeLimit = 64 * 2 ** 20; // sends beyond 64 MiB fail
 * const streamer = await connect(`file://${dir}/a.ss`, {
 *   file: { createIfNotExists: true, fileSizeLimit },
 * });
 * await streamer.disconnect();
 * await remove(dir);
 * ```
 */
export const DEFAULT_FILE_SIZE_LIMIT = 16 * 1024 * 1024 * 1024;
/** Size of a message header without the stream key: length byte, shard, seq, timestamp. */
export const MESSAGE_HEADER_FIXED = 1 + 8 + 8 + 8;
/** Bytes of a message around its stream key and payload. */
export const MESSAGE_OVERHEAD = MESSAGE_HEADER_FIXED + 4 + 2 + 1;
/** The largest stream key SeaStreamer writes. */
export const MAX_KEY_BYTES = 249;
/** The largest marker: a 255-byte key (the format's limit) plus the fixed parts and checksum. */
export const MAX_MARKER_SIZE = 1 + 255 + 8 + 8 + 8 + 2;
// SeaStreamer's internal stream (end-of-stream messages) is part of the public API in types.ts.
export { SEA_STREAMER_INTERNAL } from "../../types.ts";
/**
 * The stream key that subscribes a consumer to every stream of a file
 * (except {@link SEA_STREAMER_INTERNAL}), as in SeaStreamer's file backend.
 *
 * @example
 * ```ts
 * import { connect, SEA_STREAMER_WILDCARD } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const streamer = await connect(`file://${dir}/a.ss`, { file: { createIfNotExists: true } });
 * const producer = await streamer.createProducer();
 * producer.sendTo("orders", "a");
 * await producer.sendTo("refunds", "b");
 * const all = await streamer.createConsumer([SEA_STREAMER_WILDCARD], {
 *   autoStreamReset: "earliest",
 *   file: { live: false },
 * });
 * for await (const message of all) console.log(message.header.streamKey); // orders, then refunds
 * await streamer.disconnect();
 * await remove(dir);
 * ```
 */
export const SEA_STREAMER_WILDCARD = "SEA_STREAMER_WILDCARD";
/**
 * The payload of the end-of-stream message.
 *
 * @example
 * ```ts
 * import { SEA_STREAMER_INTERNAL } from "@seastreamer/seastreamer";
 * import { connect, END_OF_STREAM } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const writer = await connect(`file://${dir}/a.ss`, {
 *   file: { createIfNotExists: true, endWithEos: true },
 * });
 * await (await writer.createProducer("orders")).send("hi");
 * await writer.disconnect();
 * const reader = await connect(`file://${dir}/a.ss`);
 * const control = await reader.createConsumer([SEA_STREAMER_INTERNAL], {
 *   autoStreamReset: "earliest",
 * });
 * console.log((await control.next()).payload.text() === END_OF_STREAM); // true
 * await reader.disconnect();
 * await remove(dir);
 * ```
 */
export const END_OF_STREAM = "EOS";

/**
 * A file's header.
 *
 * @example
 * ```ts
 * import { decodeHeader, encodeHeader, type FileHeader } from "@seastreamer/seastreamer/file";
 *
 * const header: FileHeader = {
 *   fileName: "orders.ss",
 *   createdAt: 1767225600000,
 *   beaconInterval: 1024,
 * };
 * const bytes = encodeHeader(header);
 * console.log(decodeHeader(bytes, "orders.ss")); // { fileName: "orders.ss", createdAt: 1767225600000, beaconInterval: 1024 }
 * ```
 */
export interface FileHeader {
  /** The file's name when it was created (its last path component, at most 111 bytes). */
  fileName: string;
  /** When it was created, in ms since the epoch. */
  createdAt: number;
  /** Bytes between beacons: a multiple of 1024. */
  beaconInterval: number;
}

/** A stream's summary in a beacon. */
export interface Marker {
  /** The stream. */
  streamKey: StreamKey;
  /** Its shard. */
  shardId: number;
  /** The highest seq of the stream's messages written so far. */
  seqNo: bigint;
  /** The latest timestamp of those messages, ms. */
  timestamp: number;
  /** The running CRC-16 over those messages' checksums. */
  runningChecksum: number;
}

/** A beacon as read from a file. */
export interface Beacon {
  /** Bytes of a split message that follow the beacon (0 at a message boundary). */
  remaining: number;
  /** The stream summaries it carries. */
  markers: Marker[];
  /** Its size in bytes. */
  size: number;
}

/**
 * A malformed part of a `.ss` file: a `StreamError("Backend")` that says at
 * which byte offset of the file the problem starts.
 *
 * @example
 * ```ts
 * import { decodeHeader, FormatError } from "@seastreamer/seastreamer/file";
 *
 * try {
 *   decodeHeader(new Uint8Array(128), "junk.ss");
 * } catch (error) {
 *   if (error instanceof FormatError) console.log(error.code, error.offset); // Backend 0
 * }
 * ```
 */
export class FormatError extends StreamError {
  /** The byte offset in the file where the bad data starts. */
  readonly offset: number;
  /** What is wrong, without the path and offset. */
  readonly reason: string;

  /** A format error at `offset` of `path`, described by `reason` (`code`: `Backend` unless given). */
  constructor(
    path: string,
    offset: number,
    reason: string,
    code: "Backend" | "Corrupt" = "Backend",
  ) {
    super(code, `${path}: ${reason} at byte offset ${offset}`);
    this.name = "FormatError";
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * Damaged bytes a reader stepped over: a `StreamError("Corrupt")` with the byte
 * offset where the damage starts and how many bytes were skipped; reading goes
 * on at the next message that decodes and checks out.
 *
 * @example
 * ```ts
 * import { Damage } from "@seastreamer/seastreamer/file";
 *
 * const damage = new Damage("a.ss", 4096, 57, "checksum mismatch");
 * console.log(damage.code, damage.offset, damage.skipped); // Corrupt 4096 57
 * ```
 */
export class Damage extends FormatError {
  /** How many bytes were skipped, from {@link FormatError.offset} on. */
  readonly skipped: number;

  /** Damage at `offset` of `path`: `reason`, and `skipped` bytes stepped over. */
  constructor(path: string, offset: number, skipped: number, reason: string) {
    super(path, offset, reason, "Corrupt");
    this.message += `; ${skipped} bytes skipped`;
    this.name = "Damage";
    this.skipped = skipped;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** The error {@link readBeacon} gives when `quiet`. */
const QUIET = new FormatError("", 0, "not a beacon");

/** Whether `interval` is a valid beacon interval: a positive multiple of 1024 that fits a u32. */
export function isValidBeaconInterval(interval: number): boolean {
  return Number.isSafeInteger(interval) && interval > 0 && interval % 1024 === 0 &&
    interval <= 0xffff_fc00;
}

/** How many markers a beacon carries for `interval`, as SeaStreamer decides (1 for 1 KiB, 127 for 1 MiB). */
export function markersPerBeacon(interval: number): number {
  if (interval < 7) return 0;
  return Math.floor(Math.min(255, Math.floor((interval - 7) / MAX_MARKER_SIZE)) / 2);
}

/** The largest beacon written with `interval`. */
export function maxBeaconSize(interval: number): number {
  return 7 + markersPerBeacon(interval) * MAX_MARKER_SIZE;
}

/** The file name as stored: at most 111 bytes of UTF-8 (more would not fit the header). */
function fileNameBytes(name: string): Uint8Array {
  let bytes = encoder.encode(name);
  const max = HEADER_SIZE - 3 - 1 - 8 - 4 - 1;
  if (bytes.length > max) {
    let end = max;
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // cut at a character boundary
    bytes = bytes.slice(0, end);
  }
  return bytes;
}

/**
 * The 128 bytes of a file header.
 *
 * @example
 * ```ts
 * import { decodeHeader, encodeHeader } from "@seastreamer/seastreamer/file";
 *
 * const bytes = encodeHeader({ fileName: "a.ss", createdAt: 0, beaconInterval: 1024 });
 * console.log(bytes.length, decodeHeader(bytes, "a.ss").beaconInterval); // 128 1024
 * ```
 */
export function encodeHeader(header: FileHeader): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  const view = new DataView(out.buffer);
  out[0] = 0x53;
  out[1] = 0x73;
  out[2] = FORMAT_VERSION;
  const name = fileNameBytes(header.fileName);
  out[3] = name.length;
  out.set(name, 4);
  let at = 4 + name.length;
  view.setUint32(at, Math.floor(header.createdAt / 2 ** 32));
  view.setUint32(at + 4, header.createdAt >>> 0);
  view.setUint32(at + 8, header.beaconInterval);
  at += 12;
  out[HEADER_SIZE - 1] = FRAME_END;
  return out;
}

/** Whether `bytes` (the first bytes of a file) start like a `.ss` file. */
export function looksLikeHeader(bytes: Uint8Array): boolean {
  return (bytes.length < 1 || bytes[0] === 0x53) && (bytes.length < 2 || bytes[1] === 0x73) &&
    (bytes.length < 3 || bytes[2] === FORMAT_VERSION);
}

/**
 * Read a file header from its first 128 bytes; a {@link FormatError} if they
 * are not one (`path` names the file in the message).
 *
 * @example Reading the header of a stream file
 * ```ts
 * import { connect, decodeHeader, HEADER_SIZE } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, readFile, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await (await connect(`file://${dir}/a.ss`, { file: { createIfNotExists: true } })).disconnect();
 * const bytes = (await readFile(`${dir}/a.ss`)) ?? new Uint8Array();
 * const header = decodeHeader(bytes.subarray(0, HEADER_SIZE), `${dir}/a.ss`);
 * console.log(header.fileName, header.beaconInterval); // a.ss 1048576
 * await remove(dir);
 * ```
 */
export function decodeHeader(bytes: Uint8Array, path: string): FileHeader {
  if (bytes.length < HEADER_SIZE) {
    throw new FormatError(path, bytes.length, `file header is cut short (${bytes.length} bytes)`);
  }
  if (bytes[0] !== 0x53 || bytes[1] !== 0x73) {
    throw new FormatError(path, 0, "not a SeaStreamer file (no 53 73 byte mark)");
  }
  if (bytes[2] !== FORMAT_VERSION) {
    throw new FormatError(path, 2, `unsupported SeaStreamer file version ${bytes[2]}`);
  }
  const nameLength = bytes[3];
  if (4 + nameLength + 12 >= HEADER_SIZE) {
    throw new FormatError(path, 3, `file name of ${nameLength} bytes does not fit the header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  let fileName: string;
  try {
    fileName = decoder.decode(bytes.subarray(4, 4 + nameLength));
  } catch {
    throw new FormatError(path, 4, "file name is not UTF-8");
  }
  const at = 4 + nameLength;
  const createdAt = view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4);
  const beaconInterval = view.getUint32(at + 8);
  if (!isValidBeaconInterval(beaconInterval) || beaconInterval < HEADER_SIZE) {
    throw new FormatError(path, at + 8, `invalid beacon interval ${beaconInterval}`);
  }
  if (bytes[HEADER_SIZE - 1] !== FRAME_END) {
    throw new FormatError(path, HEADER_SIZE - 1, "file header does not end with 0D");
  }
  return { fileName, createdAt, beaconInterval };
}

/** The bytes of a stream key, `StreamError("StreamKey")` if it cannot be stored. */
export function keyBytes(key: StreamKey): Uint8Array {
  const bytes = encoder.encode(key);
  if (bytes.length > 255) {
    throw new StreamError("StreamKey", `stream key of ${bytes.length} bytes is too long to store`);
  }
  return bytes;
}

/** Write a marker's (or message's) header at `at`; the offset after it. */
function putHeader(
  out: Uint8Array,
  view: DataView,
  at: number,
  key: Uint8Array,
  shardId: number,
  seqNo: bigint,
  timestamp: number,
): number {
  out[at] = key.length;
  out.set(key, at + 1);
  at += 1 + key.length;
  view.setUint32(at, Math.floor(shardId / 2 ** 32));
  view.setUint32(at + 4, shardId >>> 0);
  view.setBigUint64(at + 8, seqNo);
  view.setUint32(at + 16, Math.floor(timestamp / 2 ** 32));
  view.setUint32(at + 20, timestamp >>> 0);
  return at + 24;
}

/** Size of a beacon with `markers`, whose keys' byte lengths are given. */
export function beaconSize(keyLengths: readonly number[]): number {
  let size = 7;
  for (const length of keyLengths) size += 1 + length + 24 + 2;
  return size;
}

/**
 * Write a beacon at `out[at]`: `remaining` message bytes follow it; the
 * markers' keys are given as bytes. Returns the offset after it.
 */
export function putBeacon(
  out: Uint8Array,
  view: DataView,
  at: number,
  remaining: number,
  markers: readonly { key: Uint8Array; marker: Marker }[],
): number {
  out[at] = FRAME_END;
  view.setUint32(at + 1, remaining);
  out[at + 5] = markers.length;
  at += 6;
  for (const { key, marker } of markers) {
    at = putHeader(out, view, at, key, marker.shardId, marker.seqNo, marker.timestamp);
    view.setUint16(at, marker.runningChecksum);
    at += 2;
  }
  out[at] = FRAME_END;
  return at + 1;
}

/** Whether `bytes[start, end)` are the bytes of a valid stream key (`[a-zA-Z0-9._-]*`). */
export function isStreamKeyBytes(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    // 0-9, A-Z, a-z, '.', '_', '-'
    if (
      !((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
        c === 0x2e || c === 0x5f || c === 0x2d)
    ) return false;
  }
  return true;
}

/** The string of key bytes already checked with {@link isStreamKeyBytes} (ASCII). */
export function asciiKey(bytes: Uint8Array, start: number, end: number): string {
  let key = "";
  for (let i = start; i < end; i++) key += String.fromCharCode(bytes[i]);
  return key;
}

/**
 * Read a beacon at `bytes[at]` (`at` being file offset `offset`), looking at
 * no byte at or past `limit`. Returns the beacon, the number of bytes it needs
 * if `limit` cuts it short, or a {@link FormatError} (one shared error if `quiet`:
 * building errors costs, and a reader looking for a message start meets many).
 */
export function readBeacon(
  bytes: Uint8Array,
  at: number,
  limit: number,
  offset: number,
  path: string,
  quiet = false,
): Beacon | number | FormatError {
  const start = at;
  if (limit - at < 7) return 7;
  if (bytes[at] !== FRAME_END) {
    return quiet ? QUIET : new FormatError(path, offset, "no beacon where one belongs (no 0D)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const remaining = view.getUint32(at + 1);
  const count = bytes[at + 5];
  at += 6;
  const markers: Marker[] = [];
  for (let i = 0; i < count; i++) {
    if (at >= limit) return at - start + 1 + 24 + 2 + 1;
    const keyLength = bytes[at];
    if (at + 1 + keyLength + 26 > limit) return at - start + 1 + keyLength + 26 + 1;
    if (keyLength > 255 || !isStreamKeyBytes(bytes, at + 1, at + 1 + keyLength)) {
      return quiet
        ? QUIET
        : new FormatError(path, offset + at - start, "bad stream key in a beacon");
    }
    const streamKey = asciiKey(bytes, at + 1, at + 1 + keyLength);
    at += 1 + keyLength;
    const shardId = view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4);
    const seqNo = view.getBigUint64(at + 8);
    const timestamp = view.getUint32(at + 16) * 2 ** 32 + view.getUint32(at + 20);
    const runningChecksum = view.getUint16(at + 24);
    at += 26;
    markers.push({ streamKey, shardId, seqNo, timestamp, runningChecksum });
  }
  if (at >= limit) return at - start + 1;
  if (bytes[at] !== FRAME_END) {
    return quiet
      ? QUIET
      : new FormatError(path, offset + at - start, "beacon does not end with 0D");
  }
  return { remaining, markers, size: at + 1 - start };
}
