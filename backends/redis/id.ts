/**
 * Redis stream entry IDs (`<ms>-<seq>`) and seastreamer sequence numbers:
 * `seqNo = (ms << 16) | seq`, as SeaStreamer maps them, so seqNo grows with the
 * ID (while one millisecond holds fewer than 65,536 entries of a shard).
 *
 * @module
 */
import { StreamError } from "../../types.ts";

/** An entry ID split into its two numbers. */
export interface EntryId {
  /** The milliseconds part (the entry's timestamp). */
  ms: number;
  /** The sequence within that millisecond. */
  seq: number;
}

const DASH = 0x2d;
const ZERO = 0x30;

/**
 * Parse an ID given as bytes (the `*Buffer` command replies) without making a
 * string: `out.ms` and `out.seq` are set; false if it is not `<digits>-<digits>`.
 */
export function parseIdBytes(bytes: Uint8Array, out: EntryId): boolean {
  let ms = 0;
  let i = 0;
  const n = bytes.length;
  for (; i < n; i++) {
    const c = bytes[i];
    if (c === DASH) break;
    const d = c - ZERO;
    if (d < 0 || d > 9) return false;
    ms = ms * 10 + d;
  }
  if (i === 0 || i >= n - 1) return false;
  let seq = 0;
  for (i++; i < n; i++) {
    const d = bytes[i] - ZERO;
    if (d < 0 || d > 9) return false;
    seq = seq * 10 + d;
  }
  out.ms = ms;
  out.seq = seq;
  return true;
}

/** {@link parseIdBytes} for an ID given as text (XADD's reply). */
export function parseIdText(text: string, out: EntryId): boolean {
  let ms = 0;
  let i = 0;
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === DASH) break;
    const d = c - ZERO;
    if (d < 0 || d > 9) return false;
    ms = ms * 10 + d;
  }
  if (i === 0 || i >= n - 1) return false;
  let seq = 0;
  for (i++; i < n; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return false;
    seq = seq * 10 + d;
  }
  out.ms = ms;
  out.seq = seq;
  return true;
}

/** Parse `<ms>-<seq>`; `StreamError("Backend")` if it is not one. */
export function parseId(id: string): EntryId {
  const dash = id.indexOf("-");
  const ms = Number(id.slice(0, dash));
  const seq = Number(id.slice(dash + 1));
  if (dash <= 0 || !Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) {
    throw new StreamError("Backend", `redis: malformed stream entry ID ${JSON.stringify(id)}`);
  }
  return { ms, seq };
}

/**
 * The seqNo of an entry ID: `(ms << 16) | seq`.
 *
 * @example
 * ```ts
 * import { seqNoOf } from "@seastreamer/seastreamer/redis";
 *
 * console.log(seqNoOf(1, 2)); // 65538n (entry 1-2)
 * ```
 */
export function seqNoOf(ms: number, seq: number): bigint {
  return (BigInt(ms) << 16n) | BigInt(seq);
}

/**
 * The entry ID a seqNo stands for (`seqNo < 0` is `0-0`), e.g. to look a
 * message up with XRANGE.
 *
 * @example
 * ```ts
 * import { idOfSeqNo } from "@seastreamer/seastreamer/redis";
 *
 * console.log(idOfSeqNo((1700000000000n << 16n) | 3n)); // 1700000000000-3
 * ```
 */
export function idOfSeqNo(seqNo: bigint): string {
  if (seqNo < 0n) return "0-0";
  return `${seqNo >> 16n}-${seqNo & 0xffffn}`;
}

/**
 * The ID to read after (exclusive, as XREAD takes it) so that the next entry
 * has seqNo >= `seqNo`.
 */
export function idBeforeSeqNo(seqNo: bigint): string {
  if (seqNo <= 0n) return "0-0";
  const previous = seqNo - 1n;
  return `${previous >> 16n}-${previous & 0xffffn}`;
}

/** The ID to read after so that the next entry has a timestamp >= `ms`. */
export function idBeforeMs(ms: number): string {
  return ms <= 0 ? "0-0" : `${ms - 1}-18446744073709551615`;
}

/** Whether entry (ms, seq) comes after entry (ms2, seq2). */
export function isAfter(ms: number, seq: number, ms2: number, seq2: number): boolean {
  return ms > ms2 || (ms === ms2 && seq > seq2);
}
