/**
 * The stdio input reader: input chunks in, messages out, a chunk at a time.
 * Lines are found and their headers parsed in place, byte by byte, with no
 * string or view made per line: a message keeps its chunk and offsets, and
 * makes its payload, seqNo and timestamp when first read. A header the fast
 * path does not handle (non-ASCII, `+` signs, huge numbers, mistakes) goes to
 * {@link parseLine}, which parses it or says what is wrong with it.
 *
 * @module
 */
import { type Message, type Payload, StreamError, type StreamKey } from "../../types.ts";
import { BytesPayload, parseJson } from "../../core/message.ts";
import { LazyHeader } from "../../core/header.ts";
import { BROADCAST, daysInMonth, dayStartMs, parseLine } from "./format.ts";

const NEWLINE = 0x0a;
const CR = 0x0d;
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const BAR = 0x7c; // |
const MAX_SAFE_DIGITS = 15;

function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

function isKeyByte(byte: number): boolean {
  return (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x30 && byte <= 0x39) || byte === 0x2e || byte === 0x5f || byte === 0x2d;
}

/** A line's header: seqNo and timestamp are made when first read. */
export class LineHeader extends LazyHeader {
  readonly #seqNo: number | bigint;
  readonly #ms: number;

  constructor(streamKey: StreamKey, shardId: number, seqNo: number | bigint, ms: number) {
    super(streamKey, shardId);
    this.#seqNo = seqNo;
    this.#ms = ms;
  }

  /** The seqNo, as a number where it is small enough (for round-robin). */
  get seq(): number | bigint {
    return this.#seqNo;
  }

  protected makeSeqNo(): bigint {
    return BigInt(this.#seqNo);
  }

  protected timestampMs(): number {
    return this.#ms;
  }
}

/**
 * An input chunk's lines as text, decoded once for all of them when the first
 * is read as text: where the chunk is ASCII (byte offsets are then character
 * offsets), a payload's text is a slice of it, as `readline` gets its lines.
 */
class ChunkText {
  readonly bytes: Uint8Array;
  /** Where its last complete line ends. */
  readonly #end: number;
  /** The lines' text; `null` where the chunk is not all ASCII (each payload decodes itself). */
  #text: string | null | undefined;

  constructor(bytes: Uint8Array, end: number) {
    this.bytes = bytes;
    this.#end = end;
  }

  /** `bytes[start, end)` as text, if the chunk is ASCII. */
  slice(start: number, end: number): string | undefined {
    if (this.#text === undefined) {
      // Valid UTF-8 with as many characters as bytes is ASCII.
      let text: string | null = null;
      try {
        text = utf8.decode(this.bytes.subarray(0, this.#end));
      } catch {
        // Not UTF-8 somewhere: each payload decodes itself (and says if it is the bad one).
      }
      this.#text = text !== null && text.length === this.#end ? text : null;
    }
    return this.#text === null ? undefined : this.#text.slice(start, end);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A payload that is a range of an input chunk; its bytes and text are made when asked for. */
class LinePayload implements Payload {
  readonly #chunk: ChunkText;
  readonly #start: number;
  readonly #end: number;
  #bytes: BytesPayload | undefined;

  constructor(chunk: ChunkText, start: number, end: number) {
    this.#chunk = chunk;
    this.#start = start;
    this.#end = end;
  }

  get size(): number {
    return this.#end - this.#start;
  }

  text(): string {
    return this.#chunk.slice(this.#start, this.#end) ?? this.#view().text();
  }

  bytes(): Uint8Array {
    return this.#view().bytes();
  }

  json<T = unknown>(): T {
    return parseJson<T>(this.text());
  }

  #view(): BytesPayload {
    return this.#bytes ??= new BytesPayload(this.#chunk.bytes.subarray(this.#start, this.#end));
  }
}

/** A message read from a line: its payload is a range of the input chunk. */
export class LineMessage implements Message {
  /** Where it sits. */
  readonly header: LineHeader;
  /** Whether the line had no header (it goes to every consumer). */
  readonly bare: boolean;
  readonly #chunk: ChunkText;
  readonly #start: number;
  readonly #end: number;
  #payload: Payload | undefined;

  /** A message over `chunk.bytes[start, end)`. */
  constructor(header: LineHeader, bare: boolean, chunk: ChunkText, start: number, end: number) {
    this.header = header;
    this.bare = bare;
    this.#chunk = chunk;
    this.#start = start;
    this.#end = end;
  }

  /** What it carries. */
  get payload(): Payload {
    return this.#payload ??= new LinePayload(this.#chunk, this.#start, this.#end);
  }
}

/** The next seqNo of one (stream, shard) that lines without one get. */
interface Counter {
  next: number | bigint;
}

/** Turns input chunks into {@link LineMessage}s; reports the lines it cannot read. */
export class LineReader {
  readonly #onError: (error: StreamError) => void;
  readonly #maxLineBytes: number;
  /** The start of a line cut by the chunk's end, waiting for its rest. */
  #carry: Uint8Array[] = [];
  #carryBytes = 0;
  #dropping = false;
  #lineNo = 0;
  readonly #counters = new Map<string, Counter>();
  #lastCounterKey = "";
  #lastShard = -1;
  #lastCounter: Counter | undefined;
  #lastKey = "";
  #now = 0;
  #chunk: ChunkText = new ChunkText(new Uint8Array(0), 0);

  /** A reader reporting unreadable lines to `onError`. */
  constructor(onError: (error: StreamError) => void, maxLineBytes = 64 * 1024 * 1024) {
    this.#onError = onError;
    this.#maxLineBytes = maxLineBytes;
  }

  /** The messages of the lines `chunk` completes, appended to `out`. */
  read(chunk: Uint8Array, out: Message[]): void {
    this.#now = Date.now();
    this.#chunk = new ChunkText(chunk, chunk.lastIndexOf(NEWLINE) + 1);
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    if (newline >= 0 && (this.#carryBytes > 0 || this.#dropping)) {
      this.#completeCarry(chunk.subarray(0, newline), out);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    while (newline >= 0) {
      this.#line(chunk, start, newline, out);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.byteLength) this.#hold(chunk.subarray(start));
  }

  /** The input ended: a last line without `\n` is a line too. */
  end(out: Message[]): void {
    if (this.#carryBytes > 0) this.#completeCarry(new Uint8Array(0), out);
  }

  #hold(rest: Uint8Array): void {
    if (this.#dropping) return;
    if (this.#carryBytes + rest.byteLength > this.#maxLineBytes) {
      this.#carry = [];
      this.#carryBytes = 0;
      this.#dropping = true;
      this.#overlong();
      return;
    }
    // A copy: the input may reuse its chunk.
    this.#carry.push(rest.slice());
    this.#carryBytes += rest.byteLength;
  }

  #completeCarry(tail: Uint8Array, out: Message[]): void {
    if (this.#dropping) {
      this.#dropping = false;
      return;
    }
    if (this.#carryBytes + tail.byteLength > this.#maxLineBytes) {
      this.#carry = [];
      this.#carryBytes = 0;
      this.#overlong();
      return;
    }
    const line = new Uint8Array(this.#carryBytes + tail.byteLength);
    let offset = 0;
    for (const part of this.#carry) {
      line.set(part, offset);
      offset += part.byteLength;
    }
    line.set(tail, offset);
    this.#carry = [];
    this.#carryBytes = 0;
    const chunk = this.#chunk;
    this.#chunk = new ChunkText(line, line.byteLength);
    this.#line(line, 0, line.byteLength, out);
    this.#chunk = chunk;
  }

  #overlong(): void {
    this.#lineNo++;
    this.#onError(
      new StreamError(
        "Backend",
        `line ${this.#lineNo}: line longer than ${this.#maxLineBytes} bytes dropped`,
      ),
    );
  }

  /** The line `bytes[start, end)` (without its `\n`) as a message, if it can be read. */
  #line(bytes: Uint8Array, start: number, end: number, out: Message[]): void {
    this.#lineNo++;
    if (end > start && bytes[end - 1] === CR) end--;
    const close = bytes[start] === OPEN ? bytes.indexOf(CLOSE, start) : -1;
    // `[]` and a `[` without `]` are not headers (as in SeaStreamer): a bare line.
    if (close < start + 2 || close >= end) {
      const counter = this.#counter(BROADCAST, 0);
      const seqNo = counter.next;
      counter.next = typeof seqNo === "number" ? seqNo + 1 : seqNo + 1n;
      out.push(
        new LineMessage(
          new LineHeader(BROADCAST, 0, seqNo, this.#now),
          true,
          this.#chunk,
          start,
          end,
        ),
      );
      return;
    }
    const message = this.#fast(bytes, start, close, end) ?? this.#slow(bytes, start, end);
    if (message) out.push(message);
  }

  /** A header of ASCII parts; `undefined` to let {@link parseLine} decide. */
  #fast(bytes: Uint8Array, start: number, close: number, end: number): LineMessage | undefined {
    let ms = -1;
    let key: string | undefined;
    let seqNo: number | undefined;
    let shardId: number | undefined;
    let part = start + 1;
    while (part <= close) {
      let bar = part;
      while (bar < close && bytes[bar] !== BAR) bar++;
      let from = part;
      let to = bar;
      while (from < to && bytes[from] === 0x20) from++;
      while (to > from && bytes[to - 1] === 0x20) to--;
      if (ms < 0 && key === undefined && to - from >= 19 && bytes[from + 4] === 0x2d) {
        ms = timestampMs(bytes, from, to);
        if (ms < 0) return undefined;
      } else if (key === undefined) {
        key = this.#key(bytes, from, to);
        if (key === undefined) return undefined;
      } else {
        const number = smallUnsigned(bytes, from, to);
        if (number < 0) return undefined;
        if (seqNo === undefined) seqNo = number;
        else if (shardId === undefined) shardId = number;
        else return undefined;
      }
      part = bar + 1;
    }
    if (key === undefined && ms < 0) return undefined;
    const streamKey = key ?? BROADCAST;
    const shard = shardId ?? 0;
    const counter = this.#counter(streamKey, shard);
    const seq = seqNo ?? counter.next;
    counter.next = typeof seq === "number" ? seq + 1 : seq + 1n;
    let from = close + 1;
    while (from < end && isSpace(bytes[from])) from++;
    while (end > from && isSpace(bytes[end - 1])) end--;
    const header = new LineHeader(streamKey, shard, seq, ms < 0 ? this.#now : ms);
    return new LineMessage(header, false, this.#chunk, from, end);
  }

  /** The stream key at `bytes[from, to)`, reusing the last one's string when the bytes match. */
  #key(bytes: Uint8Array, from: number, to: number): string | undefined {
    const length = to - from;
    if (length < 1 || length > 249) return undefined;
    const last = this.#lastKey;
    if (last.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (bytes[from + i] !== last.charCodeAt(i)) {
          same = false;
          break;
        }
      }
      if (same) return last;
    }
    for (let i = from; i < to; i++) if (!isKeyByte(bytes[i])) return undefined;
    this.#lastKey = String.fromCharCode.apply(
      null,
      bytes.subarray(from, to) as unknown as number[],
    );
    return this.#lastKey;
  }

  /** Any header {@link parseLine} reads, or the report of why it cannot. */
  #slow(bytes: Uint8Array, start: number, end: number): LineMessage | undefined {
    const line = bytes.subarray(start, end);
    try {
      const { header, bare, payload } = parseLine(line);
      const streamKey = header.streamKey ?? BROADCAST;
      const shard = header.shardId ?? 0;
      const counter = this.#counter(streamKey, shard);
      const seq = header.seqNo ?? counter.next;
      counter.next = typeof seq === "number" ? seq + 1 : BigInt(seq) + 1n;
      const ms = header.timestamp?.getTime() ?? this.#now;
      const from = start + payload.byteOffset - line.byteOffset;
      return new LineMessage(
        new LineHeader(streamKey, shard, seq, ms),
        bare,
        this.#chunk,
        from,
        from + payload.byteLength,
      );
    } catch (error) {
      this.#onError(
        new StreamError("Backend", `line ${this.#lineNo}: ${(error as Error).message}`, {
          cause: error,
        }),
      );
      return undefined;
    }
  }

  #counter(streamKey: string, shardId: number): Counter {
    if (streamKey === this.#lastCounterKey && shardId === this.#lastShard) {
      return this.#lastCounter!;
    }
    const slot = `${streamKey}/${shardId}`;
    let counter = this.#counters.get(slot);
    if (counter === undefined) {
      counter = { next: 0 };
      this.#counters.set(slot, counter);
    }
    this.#lastCounterKey = streamKey;
    this.#lastShard = shardId;
    this.#lastCounter = counter;
    return counter;
  }
}

/** The digits `bytes[from, to)` as a number (at most 15 of them, no sign), else -1. */
function smallUnsigned(bytes: Uint8Array, from: number, to: number): number {
  if (to <= from || to - from > MAX_SAFE_DIGITS) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = bytes[i] - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function digitsAt(bytes: Uint8Array, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const digit = bytes[i] - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** `YYYY-MM-DDTHH:MM:SS[.fff…]` at `bytes[from, to)` in ms since the epoch, else -1. */
function timestampMs(bytes: Uint8Array, from: number, to: number): number {
  const length = to - from;
  if (
    length > 29 || length === 20 || bytes[from + 7] !== 0x2d || bytes[from + 10] !== 0x54 ||
    bytes[from + 13] !== 0x3a || bytes[from + 16] !== 0x3a ||
    (length > 19 && bytes[from + 19] !== 0x2e)
  ) return -1;
  const year = digitsAt(bytes, from, 4);
  const month = digitsAt(bytes, from + 5, 2);
  const day = digitsAt(bytes, from + 8, 2);
  const hour = digitsAt(bytes, from + 11, 2);
  const minute = digitsAt(bytes, from + 14, 2);
  const second = digitsAt(bytes, from + 17, 2);
  if (
    year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
    hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59
  ) return -1;
  let ms = 0;
  if (length > 19) {
    // Milliseconds are the first three fraction digits; the rest must be digits too.
    for (let i = 20; i < length; i++) {
      const digit = bytes[from + i] - 48;
      if (digit < 0 || digit > 9) return -1;
      if (i < 23) ms = ms * 10 + digit;
    }
    for (let i = Math.min(length, 23); i < 23; i++) ms *= 10;
  }
  return dayStartMs(year, month, day) + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}
