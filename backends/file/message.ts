/**
 * Messages as read from a file: the header, the payload as a view of the
 * bytes read (made on demand), and where the message sits in the file.
 *
 * @module
 */
import {
  type Message,
  type MessageHeader,
  type Payload,
  type ShardId,
  StreamError,
  type StreamKey,
} from "../../types.ts";
import { decodeUtf8 } from "../../core/message.ts";
import { LazyHeader } from "../../core/header.ts";
import { SEA_STREAMER_INTERNAL } from "./format.ts";

/**
 * A message header as stored in a file (a read message's header, or a send's
 * receipt): the `bigint` seq and the `Date` are made when first asked for.
 */
export class StoredHeader extends LazyHeader {
  readonly #seq: number | bigint;
  readonly #ms: number;

  /** The header of message `seq` (a safe integer or a bigint) of `streamKey`, written at `ms`. */
  constructor(streamKey: StreamKey, shardId: ShardId, seq: number | bigint, ms: number) {
    super(streamKey, shardId);
    this.#seq = seq;
    this.#ms = ms;
  }

  protected makeSeqNo(): bigint {
    return BigInt(this.#seq);
  }

  protected timestampMs(): number {
    return this.#ms;
  }
}

/**
 * A payload that is a range of a window of the file: the view is made when
 * first asked for (a consumer that looks only at headers never pays for it).
 */
export class WindowPayload implements Payload {
  readonly #buffer: ArrayBufferLike;
  readonly #start: number;
  /** Length in bytes. */
  readonly size: number;
  #view: Uint8Array | undefined;

  /** The payload at `buffer[start, start + size)` (not copied). */
  constructor(buffer: ArrayBufferLike, start: number, size: number) {
    this.#buffer = buffer;
    this.#start = start;
    this.size = size;
  }

  /** The payload's bytes (a view of the file's bytes as read: do not modify it). */
  bytes(): Uint8Array {
    return this.#view ??= new Uint8Array(this.#buffer, this.#start, this.size);
  }

  /** The payload as UTF-8 text; `StreamError("Utf8Error")` if it is not. */
  text(): string {
    return decodeUtf8(this.bytes());
  }

  /** The payload parsed as JSON; `StreamError("Utf8Error" | "Json")` if it cannot be. */
  json<T = unknown>(): T {
    const text = this.text();
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new StreamError("Json", `payload is not valid JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

/** A message read from a file, with where it sits in the file. */
export class FileMessage implements Message {
  /** Where it sits in its stream. */
  readonly header: MessageHeader;
  /** What it carries. */
  readonly payload: WindowPayload;
  /** The file offset where the message starts. */
  readonly offset: number;
  /** The file offset just after it (where the next message or beacon starts). */
  readonly end: number;
  /** The CRC-16 stored after its payload (it matched the payload). */
  readonly checksum: number;

  /** A message with `header` and `payload`, found at `[offset, end)`. */
  constructor(
    header: MessageHeader,
    payload: WindowPayload,
    offset: number,
    end: number,
    checksum: number,
  ) {
    this.header = header;
    this.payload = payload;
    this.offset = offset;
    this.end = end;
    this.checksum = checksum;
  }

  /** Whether this is SeaStreamer's end-of-stream message. */
  get isEndOfStream(): boolean {
    if (this.header.streamKey !== SEA_STREAMER_INTERNAL || this.payload.size !== 3) return false;
    const payload = this.payload.bytes();
    return payload[0] === 0x45 && payload[1] === 0x4f && payload[2] === 0x53; // "EOS"
  }
}
