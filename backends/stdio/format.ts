/**
 * SeaStreamer's stdio line format: `[timestamp | stream_key | seq_no | shard_id] payload`,
 * every header part optional in that order, timestamps `YYYY-MM-DDTHH:MM:SS[.fff]` in UTC.
 *
 * @module
 */
import { type SeqNo, type ShardId, StreamError, type StreamKey } from "../../types.ts";
import { decodeUtf8 } from "../../core/message.ts";

/** The stream a line without a stream key goes to; every consumer receives it. */
export const BROADCAST: StreamKey = "broadcast";

/** The header parts a line gave; the missing ones are filled in by the reader. */
export interface PartialHeader {
  /** The line's timestamp, if it had one. */
  timestamp?: Date;
  /** The line's stream key, if it had one. */
  streamKey?: StreamKey;
  /** The line's sequence number, if it had one. */
  seqNo?: SeqNo;
  /** The line's shard id, if it had one. */
  shardId?: ShardId;
}

/** A parsed input line. */
export interface ParsedLine {
  /** What the header said; empty for a bare line. */
  header: PartialHeader;
  /** Whether the line had no header at all (it is then broadcast). */
  bare: boolean;
  /** The payload bytes (a view of the line). */
  payload: Uint8Array;
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const STREAM_KEY = /^[a-zA-Z0-9._-]{1,249}$/;
const UNSIGNED = /^\+?\d{1,20}$/;
const U64_MAX = (1n << 64n) - 1n;

/**
 * Parse `YYYY-MM-DDTHH:MM:SS[.fff…]` as UTC; `undefined` if it is not one
 * (digits beyond milliseconds are dropped).
 *
 * @example
 * ```ts
 * import { parseTimestamp } from "@seastreamer/seastreamer/stdio";
 *
 * console.log(parseTimestamp("2022-01-01T00:00:00.123")?.getTime()); // 1640995200123
 * ```
 */
export function parseTimestamp(text: string): Date | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const ms = match[7] ? Number(match[7].slice(0, 3).padEnd(3, "0")) : 0;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  // Date.UTC rolls over (Feb 30 becomes Mar 2); a real date reads back the same.
  if (
    date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day || date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second
  ) return undefined;
  return date;
}

let lastFormattedMs = NaN;
let lastFormatted = "";

/**
 * Format `date` as `YYYY-MM-DDTHH:MM:SS.mmm` (UTC).
 *
 * @example
 * ```ts
 * import { formatTimestamp } from "@seastreamer/seastreamer/stdio";
 *
 * console.log(formatTimestamp(new Date(1640995200123))); // 2022-01-01T00:00:00.123
 * ```
 */
export function formatTimestamp(date: Date): string {
  const ms = date.getTime();
  if (ms !== lastFormattedMs) {
    lastFormattedMs = ms;
    lastFormatted = date.toISOString().slice(0, 23);
  }
  return lastFormatted;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

function parseUnsigned(part: string): bigint | undefined {
  if (!UNSIGNED.test(part)) return undefined;
  const value = BigInt(part);
  return value <= U64_MAX ? value : undefined;
}

function malformed(detail: string, line: Uint8Array): StreamError {
  const shown = new TextDecoder().decode(line.subarray(0, 120));
  return new StreamError("Backend", `stdio: ${detail} in line ${JSON.stringify(shown)}`);
}

/**
 * Parse one input line (without its line break). A line not starting with a
 * `[…]` header is bare: all of it is the payload. A header that cannot be
 * parsed is `StreamError("Backend")` naming the part at fault.
 *
 * @example
 * ```ts
 * import { parseLine } from "@seastreamer/seastreamer/stdio";
 *
 * const { header, payload } = parseLine(new TextEncoder().encode("[orders | 12] hi"));
 * console.log(header.streamKey, header.seqNo, new TextDecoder().decode(payload)); // orders 12n hi
 * ```
 */
export function parseLine(line: Uint8Array): ParsedLine {
  let end = line.byteLength;
  if (end > 0 && line[end - 1] === 0x0d) end--; // CRLF input
  const close = line[0] === OPEN ? line.indexOf(CLOSE) : -1;
  // `[]` and a `[` without `]` are not headers (as in SeaStreamer): a bare line.
  if (close < 2 || close >= end) {
    return { header: {}, bare: true, payload: line.subarray(0, end) };
  }
  let text: string;
  try {
    text = decodeUtf8(line.subarray(1, close));
  } catch {
    throw malformed("header is not valid UTF-8", line);
  }
  const header: PartialHeader = {};
  for (const raw of text.split("|")) {
    const part = raw.trim();
    const nothingYet = header.timestamp === undefined && header.streamKey === undefined;
    if (nothingYet) {
      const timestamp = parseTimestamp(part);
      if (timestamp) {
        header.timestamp = timestamp;
        continue;
      }
    }
    if (header.streamKey === undefined) {
      if (STREAM_KEY.test(part)) {
        header.streamKey = part;
        continue;
      }
      throw malformed(`${JSON.stringify(part)} is neither a timestamp nor a stream key`, line);
    }
    const number = parseUnsigned(part);
    if (header.seqNo === undefined) {
      if (number === undefined) {
        throw malformed(`sequence number ${JSON.stringify(part)} is not an unsigned integer`, line);
      }
      header.seqNo = number;
      continue;
    }
    if (header.shardId === undefined) {
      if (number === undefined || number > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw malformed(`shard id ${JSON.stringify(part)} is not an unsigned integer`, line);
      }
      header.shardId = Number(number);
      continue;
    }
    throw malformed(`unexpected part ${JSON.stringify(part)} after the shard id`, line);
  }
  let start = close + 1;
  while (start < end && isSpace(line[start])) start++;
  while (end > start && isSpace(line[end - 1])) end--;
  return { header, bare: false, payload: line.subarray(start, end) };
}

/**
 * Format an output line `[timestamp | stream_key | seq_no] payload` (without the line break).
 *
 * @example
 * ```ts
 * import { formatLine } from "@seastreamer/seastreamer/stdio";
 *
 * console.log(formatLine(new Date(0), "orders", 0n, "hi")); // [1970-01-01T00:00:00.000 | orders | 0] hi
 * ```
 */
export function formatLine(
  timestamp: Date,
  streamKey: StreamKey,
  seqNo: SeqNo,
  payload: string,
): string {
  return `[${formatTimestamp(timestamp)} | ${streamKey} | ${seqNo}] ${payload}`;
}
