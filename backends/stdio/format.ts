/**
 * SeaStreamer's stdio line format: `[timestamp | stream_key | seq_no | shard_id] payload`,
 * every header part optional in that order, timestamps `YYYY-MM-DDTHH:MM:SS[.fff]` in UTC.
 *
 * @module
 */
import { type SeqNo, type ShardId, StreamError, type StreamKey } from "../../types.ts";
import { decodeUtf8 } from "../../core/message.ts";

/**
 * The stream a line without a stream key goes to; every consumer receives it.
 *
 * @example
 * ```ts
 * import { BROADCAST, connect } from "@seastreamer/seastreamer/stdio";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("a line without a header\n")]);
 * const streamer = await connect("stdio://", { stdio: { input } });
 * const consumer = await streamer.createConsumer(["orders"]); // also gets broadcast lines
 * const message = await consumer.next();
 * console.log(message.header.streamKey === BROADCAST, message.payload.text()); // true a line without a header
 * await streamer.disconnect();
 * ```
 */
export const BROADCAST: StreamKey = "broadcast";

/**
 * The header parts a line gave; the missing ones are filled in by the reader.
 *
 * @example
 * ```ts
 * import { parseLine, type PartialHeader } from "@seastreamer/seastreamer/stdio";
 *
 * const line = new TextEncoder().encode("[2022-01-01T00:00:00 | orders] hi");
 * const header: PartialHeader = parseLine(line).header;
 * console.log(header.streamKey, header.seqNo); // orders undefined: the reader numbers the line
 * ```
 */
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

/**
 * A parsed input line.
 *
 * @example
 * ```ts
 * import { type ParsedLine, parseLine } from "@seastreamer/seastreamer/stdio";
 *
 * const line: ParsedLine = parseLine(new TextEncoder().encode("just text"));
 * console.log(line.bare, line.header, new TextDecoder().decode(line.payload)); // true {} just text
 * ```
 */
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
const STREAM_KEY = /^[a-zA-Z0-9._-]{1,249}$/;
const UNSIGNED = /^\+?\d{1,20}$/;
const U64_MAX = (1n << 64n) - 1n;

/** The number written by `count` ASCII digits of `text` at `start`, or -1. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** The days of `month` (1-12) in `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

let lastDay = -1;
let lastDayMs = 0;

/** Milliseconds at the start of a UTC day (years below 100 included, unlike `Date.UTC`). */
export function dayStartMs(year: number, month: number, day: number): number {
  const key = (year * 100 + month) * 100 + day;
  if (key !== lastDay) {
    lastDay = key;
    lastDayMs = new Date(0).setUTCFullYear(year, month - 1, day);
  }
  return lastDayMs;
}

/**
 * Parse `YYYY-MM-DDTHH:MM:SS[.fff…]` (1 to 9 fraction digits) as UTC; `undefined`
 * if it is not a calendar time. Digits beyond milliseconds are dropped.
 *
 * @example
 * ```ts
 * import { parseTimestamp } from "@seastreamer/seastreamer/stdio";
 *
 * console.log(parseTimestamp("2022-01-01T00:00:00.123")?.getTime()); // 1640995200123
 * ```
 */
export function parseTimestamp(text: string): Date | undefined {
  const length = text.length;
  if (
    length < 19 || length === 20 || length > 29 || text[4] !== "-" || text[7] !== "-" ||
    text[10] !== "T" || text[13] !== ":" || text[16] !== ":" || (length > 19 && text[19] !== ".")
  ) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const fraction = length > 19 ? digits(text, 20, length - 20) : 0;
  if (
    year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
    hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 ||
    fraction < 0
  ) return undefined;
  const ms = length > 19 ? digits((text.slice(20) + "00").slice(0, 3), 0, 3) : 0;
  return new Date(dayStartMs(year, month, day) + ((hour * 60 + minute) * 60 + second) * 1000 + ms);
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

/** Decode a header: ASCII directly (the common case, and fast), else as UTF-8. */
function headerText(bytes: Uint8Array, line: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  try {
    return decodeUtf8(bytes);
  } catch {
    throw malformed("header is not valid UTF-8", line);
  }
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
  const text = headerText(line.subarray(1, close), line);
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
