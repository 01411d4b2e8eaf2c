/**
 * A message read from a Redis stream entry. Its header and payload are made
 * from the entry's bytes when first read, so reading many entries allocates
 * little per entry.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import {
  type Message,
  type Payload,
  type ShardId,
  StreamError,
  type StreamKey,
} from "../../types.ts";
import { BytesPayload, decodeUtf8 } from "../../core/message.ts";
import { type EntryId, parseIdBytes, seqNoOf } from "./id.ts";
import { LazyHeader } from "../../core/header.ts";
import { runtimeName } from "../../runtime/mod.ts";
import { plainView } from "../../runtime/bytes.ts";

const EMPTY = new Uint8Array(0);

/**
 * `value` decoded as UTF-8, or `StreamError("Utf8Error")`, the fastest way per
 * runtime: on Node a fatal TextDecoder; on Deno (where it costs ten times as
 * much) and Bun, Buffer's own decoding, whose replacement characters are then
 * checked with the fatal decoder (only a payload holding U+FFFD pays twice).
 */
const textOf: (value: Buffer) => string = runtimeName === "node"
  ? (value) => decodeUtf8(plainView(value))
  : (value) => {
    const text = value.toString();
    return text.includes("\uFFFD") ? decodeUtf8(plainView(value)) : text;
  };

/** The entry field that holds a message's key. */
export const KEY_FIELD = "key";
/** The prefix of entry fields that hold a message's headers (`header:name`). */
export const HEADER_PREFIX = "header:";

/**
 * An entry's payload: its size is known without copying or wrapping anything;
 * the bytes are viewed (not copied) when first asked for.
 */
class RedisPayload implements Payload {
  readonly #value: Buffer | undefined;
  #decoded: BytesPayload | undefined;

  constructor(value: Buffer | undefined) {
    this.#value = value;
  }

  get size(): number {
    return this.#value === undefined ? 0 : this.#value.length;
  }

  bytes(): Uint8Array {
    return this.#payload().bytes();
  }

  text(): string {
    return this.#value === undefined ? "" : textOf(this.#value);
  }

  json<T = unknown>(): T {
    return this.#payload().json<T>();
  }

  #payload(): BytesPayload {
    const value = this.#value;
    return this.#decoded ??= new BytesPayload(value === undefined ? EMPTY : plainView(value));
  }
}

/**
 * The header of an entry (a message's header, a producer's receipt): its seqNo
 * and timestamp are made from the entry ID when first read.
 *
 * @example
 * ```ts
 * import { RedisHeader } from "@seastreamer/seastreamer/redis";
 *
 * const header = new RedisHeader("orders", 0, 1700000000000, 3); // entry 1700000000000-3
 * console.log(header.seqNo, header.timestamp.toISOString()); // 111411200000000003n 2023-11-14T22:13:20.000Z
 * ```
 */
export class RedisHeader extends LazyHeader {
  /** The entry ID's milliseconds. */
  readonly ms: number;
  /** The entry ID's sequence. */
  readonly seq: number;
  /**
   * A consumer's count of moves (rewind, seek) when the entry was read: it
   * ignores a commit of a message read before its last move. Absent on receipts.
   */
  readonly epoch: number | undefined;

  /** The header of entry `ms-seq` of `streamKey`/`shardId`, read after move `epoch` of its consumer. */
  constructor(streamKey: StreamKey, shardId: ShardId, ms: number, seq: number, epoch?: number) {
    super(streamKey, shardId);
    this.ms = ms;
    this.seq = seq;
    this.epoch = epoch;
  }

  /** `(ms << 16) | seq`. */
  protected makeSeqNo(): bigint {
    return seqNoOf(this.ms, this.seq);
  }

  /** The entry ID's milliseconds. */
  protected timestampMs(): number {
    return this.ms;
  }
}

/**
 * A stream entry as a seastreamer message, with the entry's key and headers.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { RedisMessage } from "@seastreamer/seastreamer/redis";
 *
 * // Redis consumers deliver these: `message instanceof RedisMessage` reaches the key and headers.
 * const fields = ["msg", "hi", "key", "customer-7", "header:source", "web"].map((f) => Buffer.from(f));
 * const message = new RedisMessage("orders", 0, Buffer.from("1700000000000-0"), fields, 1);
 * console.log(message.payload.text(), message.key, message.headers); // hi customer-7 { source: "web" }
 * ```
 */
export class RedisMessage implements Message {
  /** The stream. */
  readonly streamKey: StreamKey;
  /** The shard. */
  readonly shardId: ShardId;
  /** The entry ID as the server sent it. */
  readonly id: Buffer;
  /** Its consumer's count of moves when it was read (see {@link RedisHeader.epoch}). */
  readonly epoch: number | undefined;
  /** The entry's fields, kept only if it has more than the payload (a key, headers). */
  readonly #fields: Buffer[] | undefined;
  readonly #payloadAt: number;
  readonly #value: Buffer | undefined;
  /** The ID's parts, parsed when first needed (-1: not yet). */
  #ms = -1;
  #seq = 0;
  #header: RedisHeader | undefined;
  #payload: Payload | undefined;

  /**
   * A message of entry `id` with `fields`; the payload is `fields[payloadAt]`
   * (-1: none); read after move `epoch` of its consumer.
   */
  constructor(
    streamKey: StreamKey,
    shardId: ShardId,
    id: Buffer,
    fields: Buffer[],
    payloadAt: number,
    epoch?: number,
  ) {
    this.streamKey = streamKey;
    this.shardId = shardId;
    this.id = id;
    this.epoch = epoch;
    // Most entries hold only the payload: keeping just its value lets the rest go early.
    this.#fields = fields.length === 2 && payloadAt === 1 ? undefined : fields;
    this.#payloadAt = payloadAt;
    this.#value = payloadAt < 0 ? undefined : fields[payloadAt];
  }

  /** The entry ID's milliseconds. */
  get ms(): number {
    if (this.#ms < 0) this.#parseId();
    return this.#ms;
  }

  /** The entry ID's sequence within its millisecond. */
  get seq(): number {
    if (this.#ms < 0) this.#parseId();
    return this.#seq;
  }

  #parseId(): void {
    const parsed: EntryId = { ms: 0, seq: 0 };
    if (!parseIdBytes(this.id, parsed)) {
      throw new StreamError("Backend", `redis: malformed entry ID ${this.id.toString()}`);
    }
    this.#ms = parsed.ms;
    this.#seq = parsed.seq;
  }

  /** Where it sits: seqNo `(ms << 16) | seq` and the timestamp of its entry ID. */
  get header(): RedisHeader {
    return this.#header ??= new RedisHeader(
      this.streamKey,
      this.shardId,
      this.ms,
      this.seq,
      this.epoch,
    );
  }

  /** The payload field's value (empty if the entry has none). */
  get payload(): Payload {
    return this.#payload ??= new RedisPayload(this.#value);
  }

  /** The message key the producer gave (the `key` field), if any. */
  get key(): string | undefined {
    const fields = this.#fields ?? [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (i !== this.#payloadAt - 1 && fields[i].toString() === KEY_FIELD) {
        return decodeUtf8(fields[i + 1]);
      }
    }
    return undefined;
  }

  /** The headers the producer gave (the `header:name` fields). */
  get headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    const fields = this.#fields ?? [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i].toString();
      if (name.startsWith(HEADER_PREFIX)) {
        headers[name.slice(HEADER_PREFIX.length)] = decodeUtf8(fields[i + 1]);
      }
    }
    return headers;
  }
}
