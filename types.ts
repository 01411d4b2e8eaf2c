/**
 * The backend-agnostic contract of seastreamer: messages, producers, consumers,
 * options, {@link StreamError} and the parsing of stream keys and URLs.
 *
 * Every backend implements these interfaces; a stream processor written against
 * them runs on any backend, chosen by URL at run time.
 *
 * @module
 */
// Each backend's options live beside it; the shared option objects compose them.
import type { StdioConnectOptions } from "./backends/stdio/options.ts";
import type { FileConnectOptions, FileConsumerOptions } from "./backends/file/options.ts";
import type {
  RedisConnectOptions,
  RedisConsumerOptions,
  RedisProducerOptions,
} from "./backends/redis/options.ts";
import type {
  KafkaConnectOptions,
  KafkaConsumerOptions,
  KafkaProducerOptions,
} from "./backends/kafka/options.ts";
import type { NatsConnectOptions, NatsConsumerOptions } from "./backends/nats/options.ts";
export type { StdioConnectOptions } from "./backends/stdio/options.ts";
export type { FileConnectOptions, FileConsumerOptions } from "./backends/file/options.ts";
export type {
  RedisConnectOptions,
  RedisConsumerOptions,
  RedisProducerOptions,
  RedisTlsOptions,
} from "./backends/redis/options.ts";
export type {
  KafkaConnectOptions,
  KafkaConsumerOptions,
  KafkaDriverName,
  KafkaProducerOptions,
  KafkaSaslOptions,
  KafkaTlsOptions,
} from "./backends/kafka/options.ts";
export type {
  NatsConnectOptions,
  NatsConsumerOptions,
  NatsTlsOptions,
} from "./backends/nats/options.ts";

/**
 * The name of a stream (a Kafka topic, a Redis stream key). Matches `^[a-zA-Z0-9._-]{1,249}$`.
 *
 * @example
 * ```ts
 * import { parseStreamUrl, type StreamKey } from "@seastreamer/seastreamer";
 *
 * const streams: StreamKey[] = parseStreamUrl("stdio:///orders,refunds").streams;
 * console.log(streams); // [ "orders", "refunds" ]
 * ```
 */
export type StreamKey = string;

/**
 * A shard of a stream (a Kafka partition, a Redis `stream:shard` key); 0 when unsharded.
 *
 * @example
 * ```ts
 * import { SeaStreamer, type ShardId } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const producer = await streamer.createProducer("orders");
 * const shard: ShardId = (await producer.send("hi")).shardId;
 * console.log(shard); // 0: a stdio stream has one shard
 * ```
 */
export type ShardId = number;

/**
 * A message's sequence number within its shard (Kafka offset, Redis entry id as `(ms << 16) | seq`).
 *
 * @example
 * ```ts
 * import { SeaStreamer, type SeqNo } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const producer = await streamer.createProducer("orders");
 * const first: SeqNo = (await producer.send("a")).seqNo;
 * const second: SeqNo = (await producer.send("b")).seqNo;
 * console.log(first, second, second > first); // 0n 1n true
 * ```
 */
export type SeqNo = bigint;

/**
 * The backends seastreamer knows, as named by {@link Streamer.backend}.
 *
 * @example
 * ```ts
 * import { type Backend, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { loopback: true } });
 * const backend: Backend = streamer.backend;
 * console.log(backend); // stdio
 * ```
 */
export type Backend = "kafka" | "redis" | "stdio" | "file" | "nats";

/**
 * The longest stream key allowed, in characters.
 *
 * @example
 * ```ts
 * import { isValidStreamKey, MAX_STREAM_KEY_LEN } from "@seastreamer/seastreamer";
 *
 * const longest = "k".repeat(MAX_STREAM_KEY_LEN);
 * console.log(isValidStreamKey(longest), isValidStreamKey(longest + "k")); // true false
 * ```
 */
export const MAX_STREAM_KEY_LEN = 249;

/**
 * The stream name SeaStreamer reserves for its own control messages (such as end-of-stream).
 *
 * @example Reading the end-of-stream message of a file
 * ```ts
 * import { SEA_STREAMER_INTERNAL } from "@seastreamer/seastreamer";
 * import { connect } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const writer = await connect(`file://${dir}/a.ss`, {
 *   file: { createIfNotExists: true, endWithEos: true },
 * });
 * await (await writer.createProducer("orders")).send("hi");
 * await writer.disconnect(); // appends SeaStreamer's end-of-stream message
 * const reader = await connect(`file://${dir}/a.ss`);
 * const control = await reader.createConsumer([SEA_STREAMER_INTERNAL], {
 *   autoStreamReset: "earliest",
 *   file: { live: false },
 * });
 * console.log((await control.next()).payload.text()); // EOS
 * await reader.disconnect();
 * await remove(dir);
 * ```
 */
export const SEA_STREAMER_INTERNAL = "SEA_STREAMER_INTERNAL";

/**
 * What kind of failure a {@link StreamError} reports.
 *
 * - `Connect`: the backend could not be reached or refused the credentials.
 * - `AlreadyAnchored` / `NotAnchored`: `anchor()` on an anchored producer, `send()` on one that is not.
 * - `ConsumerGroupIsSet` / `ConsumerGroupNotSet`: a group given where none is allowed, or missing.
 * - `StreamKeyEmpty`: a consumer was asked for no stream at all.
 * - `StreamKeyNotFound`: the stream does not exist (and the backend was told not to create it).
 * - `CommitNotAllowed`: `commit()` on a consumer that has nothing to commit to (real-time).
 * - `Utf8Error`: a payload read as text is not valid UTF-8.
 * - `Json`: a payload read as JSON is not valid JSON.
 * - `StreamUrl` / `StreamKey`: a malformed URL or stream key.
 * - `Unsupported`: the backend cannot do what was asked.
 * - `Backend`: the backend failed or sent something malformed; the original error is the `cause`.
 * - `Runtime`: the JavaScript runtime failed (file system, process, sockets).
 * - `Timeout`: an operation took longer than its `timeoutMs`.
 * - `Closed`: the producer, consumer or streamer has ended.
 * - `Corrupt`: stored data is damaged (a file's bad checksum or length); the error says
 *   where and how many bytes were skipped, and reading goes on after them.
 *
 * @example
 * ```ts
 * import {
 *   isStreamError,
 *   type StreamErrorCode,
 *   validateStreamKey,
 * } from "@seastreamer/seastreamer";
 *
 * let code: StreamErrorCode | undefined;
 * try {
 *   validateStreamKey("no spaces");
 * } catch (error) {
 *   if (isStreamError(error)) code = error.code;
 * }
 * console.log(code); // StreamKey
 * ```
 */
export type StreamErrorCode =
  | "Connect"
  | "AlreadyAnchored"
  | "NotAnchored"
  | "ConsumerGroupIsSet"
  | "ConsumerGroupNotSet"
  | "StreamKeyEmpty"
  | "StreamKeyNotFound"
  | "CommitNotAllowed"
  | "Utf8Error"
  | "Json"
  | "StreamUrl"
  | "StreamKey"
  | "Unsupported"
  | "Backend"
  | "Runtime"
  | "Timeout"
  | "Closed"
  | "Corrupt";

/**
 * The one error type seastreamer throws. Check {@link StreamError.code} to tell
 * failures apart; a backend's own error is kept as `cause`.
 *
 * @example Telling a closed consumer from a real failure
 * ```ts
 * import { StreamError } from "@seastreamer/seastreamer";
 *
 * const error: unknown = new StreamError("Closed", "consumer has ended");
 * if (error instanceof StreamError && error.code === "Closed") {
 *   console.log("done");
 * }
 * ```
 */
export class StreamError extends Error {
  /** What kind of failure this is. */
  readonly code: StreamErrorCode;

  /**
   * An error of kind `code`.
   *
   * @param code what kind of failure this is
   * @param message a sentence for humans; never include a password
   * @param options `cause`: the underlying error, kept for debugging
   */
  constructor(code: StreamErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StreamError";
    this.code = code;
  }

  /** `StreamError(Code): message`, so logs show the code. */
  override toString(): string {
    return `StreamError(${this.code}): ${this.message}`;
  }
}

/**
 * Whether `error` is a {@link StreamError}, optionally of the given code.
 *
 * @example
 * ```ts
 * import { isStreamError, StreamError } from "@seastreamer/seastreamer";
 *
 * console.log(isStreamError(new StreamError("Closed", "ended"), "Closed")); // true
 * ```
 */
export function isStreamError(error: unknown, code?: StreamErrorCode): error is StreamError {
  return error instanceof StreamError && (code === undefined || error.code === code);
}

/**
 * Where a message sits: its stream, shard, sequence number and timestamp. A producer's receipt is one.
 *
 * @example
 * ```ts
 * import { type MessageHeader, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const producer = await streamer.createProducer("orders");
 * const receipt: MessageHeader = await producer.send("hi");
 * console.log(receipt.streamKey, receipt.shardId, receipt.seqNo); // orders 0 0n
 * ```
 */
export interface MessageHeader {
  /** The stream the message belongs to. */
  readonly streamKey: StreamKey;
  /** The shard within the stream. */
  readonly shardId: ShardId;
  /** Strictly increasing within (streamKey, shardId), in delivery order. */
  readonly seqNo: SeqNo;
  /** When the message was written (millisecond precision). */
  readonly timestamp: Date;
}

/**
 * The body of a message, read in the way a `Response` body is: as text, bytes or JSON.
 *
 * @example
 * ```ts
 * import { type Payload, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const consumer = await streamer.createConsumer(["orders"]);
 * await (await streamer.createProducer("orders")).send('{"id":1}');
 * const payload: Payload = (await consumer.next()).payload;
 * console.log(payload.size, payload.text(), payload.json<{ id: number }>().id); // 8 {"id":1} 1
 * ```
 */
export interface Payload {
  /** Length in bytes. */
  readonly size: number;
  /** The payload decoded as UTF-8; a `StreamError("Utf8Error")` if it is not valid UTF-8. */
  text(): string;
  /** The payload's bytes (a view: do not modify it). */
  bytes(): Uint8Array;
  /** The payload parsed as JSON; a `StreamError("Utf8Error" | "Json")` if it cannot be. */
  json<T = unknown>(): T;
}

/**
 * A message delivered by a consumer.
 *
 * @example
 * ```ts
 * import { type Message, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[orders | 7] hi\n")]);
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { input } });
 * const consumer = await streamer.createConsumer(["orders"]);
 * const message: Message = await consumer.next();
 * console.log(message.header.streamKey, message.header.seqNo, message.payload.text()); // orders 7n hi
 * ```
 */
export interface Message {
  /** Where the message sits. */
  readonly header: MessageHeader;
  /** What it carries. */
  readonly payload: Payload;
  /**
   * Its key, where the backend stores keys and the message has one (Redis: a
   * string; Kafka: the record's key bytes).
   */
  readonly key?: string | Uint8Array;
  /** Its headers, where the backend stores them. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * What a producer accepts as a payload: text (sent as UTF-8) or bytes.
 *
 * @example
 * ```ts
 * import { type PayloadInput, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const consumer = await streamer.createConsumer(["greetings"]);
 * const producer = await streamer.createProducer("greetings");
 * const payloads: PayloadInput[] = ["hi", new TextEncoder().encode("hello")];
 * for (const payload of payloads) producer.send(payload);
 * for (const _ of payloads) console.log((await consumer.next()).payload.text()); // hi, then hello
 * ```
 */
export type PayloadInput = string | Uint8Array;

/**
 * One message of {@link Producer.sendBatch}: a payload, or a payload with a key and headers.
 *
 * @example
 * ```ts
 * import { type BatchItem, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const producer = await streamer.createProducer("orders");
 * const items: BatchItem[] = ["a", new TextEncoder().encode("b"), { payload: "c" }];
 * const receipts = await producer.sendBatch(items);
 * console.log(receipts.map((receipt) => receipt.seqNo)); // [ 0n, 1n, 2n ]
 * ```
 */
export type BatchItem = PayloadInput | {
  /** The payload. */
  readonly payload: PayloadInput;
  /** A key (where the backend stores keys). */
  readonly key?: string;
  /** String headers (where the backend stores headers). */
  readonly headers?: Readonly<Record<string, string>>;
};

/**
 * A position to rewind to: the first message, the end (only what arrives next),
 * or the first message whose seqNo is >= `at`.
 *
 * @example
 * ```ts
 * import type { SeqPos } from "@seastreamer/seastreamer";
 * import { connect } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const streamer = await connect(`file://${dir}/a.ss`, { file: { createIfNotExists: true } });
 * const producer = await streamer.createProducer("orders");
 * for (const text of ["a", "b", "c"]) producer.send(text); // seqNo 1, 2, 3 (files count from 1)
 * await producer.flush();
 * const consumer = await streamer.createConsumer(["orders"], { autoStreamReset: "earliest" });
 * const position: SeqPos = { at: 2n };
 * await consumer.rewind(position);
 * console.log((await consumer.next()).payload.text()); // b
 * await streamer.disconnect();
 * await remove(dir);
 * ```
 */
export type SeqPos = "beginning" | "end" | { readonly at: SeqNo };

/**
 * One shard of one stream: what {@link Consumer.rewind} moves when given one,
 * leaving the consumer's other shards where they are (Kafka's per-partition
 * offsets, kcat's `-p 0 -o 100`).
 *
 * @example
 * ```ts ignore
 * import { SeaStreamer, type ShardRef } from "@seastreamer/seastreamer";
 *
 * const streamer = await SeaStreamer.connect("kafka://localhost:9092");
 * const consumer = await streamer.createConsumer(["orders"]);
 * const partition0: ShardRef = { stream: "orders", shardId: 0 };
 * await consumer.rewind({ at: 100n }, partition0); // partition 0 from offset 100, the others stay
 * await streamer.disconnect();
 * ```
 */
export interface ShardRef {
  /** The stream (one of the consumer's). */
  readonly stream: StreamKey;
  /** The shard (a Kafka partition). */
  readonly shardId: ShardId;
}

/**
 * How a consumer relates to others reading the same streams.
 *
 * @example
 * ```ts
 * import { ConsumerMode, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { loopback: true } });
 * const consumer = await streamer.createConsumer(["orders"], {
 *   mode: ConsumerMode.LoadBalanced,
 *   group: "billing",
 * });
 * console.log(consumer.mode, consumer.group); // load-balanced billing
 * ```
 */
export const ConsumerMode = {
  /** Every consumer sees every message from where it starts; nothing is remembered. The default. */
  RealTime: "real-time",
  /** A named group remembers what it committed; a restarted consumer of the group continues there. */
  Resumable: "resumable",
  /** Members of a named group share the stream: each message goes to one live member. */
  LoadBalanced: "load-balanced",
} as const;

/** One of the values of {@link ConsumerMode}. */
export type ConsumerMode = typeof ConsumerMode[keyof typeof ConsumerMode];

/**
 * Where a consumer (or a new group) starts when nothing was committed before.
 *
 * @example
 * ```ts
 * import type { AutoStreamReset } from "@seastreamer/seastreamer";
 * import { connect } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const streamer = await connect(`file://${dir}/a.ss`, { file: { createIfNotExists: true } });
 * await (await streamer.createProducer("orders")).send("sent before the consumer existed");
 * const start: AutoStreamReset = "earliest"; // "latest" would wait for the next message
 * const consumer = await streamer.createConsumer(["orders"], { autoStreamReset: start });
 * console.log((await consumer.next()).payload.text()); // sent before the consumer existed
 * await streamer.disconnect();
 * await remove(dir);
 * ```
 */
export type AutoStreamReset = "earliest" | "latest";

/**
 * Options of {@link SeaStreamer.connect}: a shared part and one sub-object per
 * backend. A backend reads only its own sub-object.
 *
 * @example One options object for whichever backend the URL names
 * ```ts
 * import { type ConnectOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const options: ConnectOptions = {
 *   timeoutMs: 5_000,
 *   stdio: { loopback: true, output: new WritableStream() },
 *   file: { createIfNotExists: true }, // read only when the URL is a file://
 * };
 * await using streamer = await SeaStreamer.connect("stdio://", options);
 * console.log(streamer.backend); // stdio
 * ```
 */
export interface ConnectOptions {
  /** How long connecting may take, in milliseconds (default 10,000). */
  timeoutMs?: number;
  /**
   * Where the backend reports what happens beneath the API: connects,
   * reconnects, rebalances, skipped lines, damaged data. `console` works; the
   * default prints nothing. No secret is ever passed to it.
   */
  logger?: Logger;
  /** Options read by the stdio backend. */
  stdio?: StdioConnectOptions;
  /** Options read by the file backend. */
  file?: FileConnectOptions;
  /** Options read by the Redis backend. */
  redis?: RedisConnectOptions;
  /** Options read by the Kafka backend. */
  kafka?: KafkaConnectOptions;
  /** Options read by the NATS backend. */
  nats?: NatsConnectOptions;
}

/**
 * Where a backend reports events: any object with these four methods (`console`,
 * pino, winston...). `details` carries structured fields (a stream, an offset).
 *
 * @example
 * ```ts
 * import { type Logger, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const seen: string[] = [];
 * const logger: Logger = {
 *   debug: (message) => seen.push(message),
 *   info: (message) => seen.push(message),
 *   warn: (message) => seen.push(message),
 *   error: (message) => seen.push(message),
 * };
 * const input = ReadableStream.from([new TextEncoder().encode("[bad key!] x\n[ok] y\n")]);
 * await using streamer = await SeaStreamer.connect("stdio://", { logger, stdio: { input } });
 * const consumer = await streamer.createConsumer(["ok"]);
 * console.log((await consumer.next()).payload.text()); // y
 * console.log(seen); // [ 'stdio: line 1: stdio: "bad key!" is neither a timestamp nor a stream key ...' ]
 * ```
 */
export interface Logger {
  /** Details for debugging: connects, rebalances, positions. */
  debug(message: string, details?: Record<string, unknown>): void;
  /** Something worth knowing: a reconnect, a group change. */
  info(message: string, details?: Record<string, unknown>): void;
  /** Something went wrong and was handled: a skipped line, damaged data, a retried request. */
  warn(message: string, details?: Record<string, unknown>): void;
  /** Something went wrong and could not be handled. */
  error(message: string, details?: Record<string, unknown>): void;
}

/**
 * Options of {@link Streamer.createProducer}.
 *
 * @example
 * ```ts
 * import { type ProducerOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const options: ProducerOptions = { timeoutMs: 1_000, maxBatchSize: 100, kafka: { acks: 1 } };
 * const producer = await streamer.createProducer("orders", options);
 * console.log((await producer.send("hi")).seqNo); // 0n
 * ```
 */
export interface ProducerOptions {
  /** How long a send may wait for its receipt, in milliseconds (default: no limit). */
  timeoutMs?: number;
  /** The most messages written to the backend in one batch (default 1,000). */
  maxBatchSize?: number;
  /** Options read by the redis backend. */
  redis?: RedisProducerOptions;
  /** Options read by the kafka backend. */
  kafka?: KafkaProducerOptions;
}

/**
 * Per-message extras. A backend that cannot store one rejects with `StreamError("Unsupported")`.
 *
 * @example
 * ```ts
 * import { SeaStreamer, type SendOptions } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const producer = await streamer.createProducer("orders");
 * const options: SendOptions = { key: "customer-7", headers: { source: "web" } };
 * // Keys and headers where the backend stores them (Kafka, Redis); stdio lines have none.
 * const receipt = await producer.send("hi", streamer.capabilities.keysAndHeaders ? options : {});
 * console.log(receipt.streamKey); // orders
 * ```
 */
export interface SendOptions {
  /** A key: Kafka partitions by it, Redis's key-hash sharder too. */
  key?: string;
  /** Extra string headers stored with the message. */
  headers?: Record<string, string>;
}

/**
 * Options of {@link Streamer.createConsumer}.
 *
 * @example A resumable consumer that commits by hand
 * ```ts
 * import type { ConsumerOptions } from "@seastreamer/seastreamer";
 * import { connect } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const streamer = await connect(`file://${dir}/a.ss`, { file: { createIfNotExists: true } });
 * await (await streamer.createProducer("orders")).send('{"id":1}');
 * const options: ConsumerOptions = {
 *   mode: "resumable",
 *   group: "billing",
 *   autoStreamReset: "earliest",
 *   autoCommit: false,
 * };
 * const consumer = await streamer.createConsumer(["orders"], options);
 * const message = await consumer.next();
 * await consumer.commit(message); // a restarted "billing" consumer continues after it
 * await streamer.disconnect();
 * await remove(dir);
 * ```
 */
export interface ConsumerOptions {
  /** How this consumer relates to others (default real-time). */
  mode?: ConsumerMode;
  /** The consumer group; required for resumable and load-balanced consumers. */
  group?: string;
  /** Where a new consumer or group starts (default `latest`). */
  autoStreamReset?: AutoStreamReset;
  /** Commit a message when the next one is asked for (default true). */
  autoCommit?: boolean;
  /** The most messages fetched ahead of `next()` (default 1,000); bounds a slow consumer's memory. */
  prefetch?: number;
  /** How long backend operations may take, in milliseconds (default 10,000). */
  timeoutMs?: number;
  /**
   * `false`: deliver what the streams hold when the consumer starts (from where
   * it starts), then end: `next()` rejects with `StreamError("Closed")` and
   * iteration stops. `true` (default): wait for more. The file backend also
   * reads `file.live`; stdio ends with its input either way.
   */
  live?: boolean;
  /** Options read by the file backend. */
  file?: FileConsumerOptions;
  /** Options read by the redis backend. */
  redis?: RedisConsumerOptions;
  /** Options read by the kafka backend. */
  kafka?: KafkaConsumerOptions;
  /** Options read by the NATS backend. */
  nats?: NatsConsumerOptions;
}

/**
 * A connection to a backend, from which producers and consumers are made.
 *
 * @example
 * ```ts
 * import { SeaStreamer, type Streamer } from "@seastreamer/seastreamer";
 *
 * const streamer: Streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * console.log(streamer.backend, streamer.uri, streamer.capabilities.history); // stdio stdio:// false
 * const producer = await streamer.createProducer("orders");
 * producer.send("hi");
 * await streamer.disconnect(); // flushes and ends the producer too
 * ```
 */
export interface Streamer extends AsyncDisposable {
  /** Which backend this is. */
  readonly backend: Backend;
  /** What this backend can do (the same for every streamer of the backend). */
  readonly capabilities: BackendCapabilities;
  /** The URI it was connected with, with any password replaced by `***`. */
  readonly uri: string;
  /**
   * A producer, anchored to `stream` if given (then `send` goes there), else
   * generic (use `sendTo`).
   */
  createProducer(stream?: StreamKey, options?: ProducerOptions): Promise<Producer>;
  /** A consumer of `streams`. */
  createConsumer(streams: readonly StreamKey[], options?: ConsumerOptions): Promise<Consumer>;
  /**
   * The streams the backend holds, sorted: Kafka topics (but internal ones),
   * Redis stream keys (a sharded stream once), a file's streams.
   * `StreamError("Unsupported")` on stdio, which holds nothing.
   */
  listStreams(): Promise<StreamKey[]>;
  /**
   * What `stream` holds now: its length, first and last seqNo, shards, and each
   * consumer group's members, pending messages and lag.
   * `StreamError("StreamKeyNotFound")` if it does not exist;
   * `StreamError("Unsupported")` on stdio, which holds nothing.
   */
  describeStream(stream: StreamKey): Promise<StreamInfo>;
  /**
   * Remove the oldest messages of `stream`, keeping what `options` says; resolves
   * with how many were removed. `StreamError("Unsupported")` where the backend
   * cannot remove messages (stdio, file).
   */
  trimStream(stream: StreamKey, options: TrimOptions): Promise<number>;
  /**
   * Move consumer group `group` of `stream` to `position` (`"beginning"`,
   * `"end"`, `{ at: seqNo }`, or the first message at or after a `Date`): its
   * next consumer starts there, on every shard. The group must have no live
   * member where the backend requires it (Kafka). `StreamError("Unsupported")`
   * where the backend has no groups (stdio).
   */
  resetGroup(stream: StreamKey, group: string, position: SeqPos | Date): Promise<void>;
  /** End every producer (flushing it) and consumer made by this streamer, then close the connection. */
  disconnect(): Promise<void>;
}

/**
 * What {@link Streamer.describeStream} reports of a stream.
 *
 * @example
 * ```ts
 * import type { StreamInfo } from "@seastreamer/seastreamer";
 *
 * const info: StreamInfo = {
 *   length: 3,
 *   firstSeqNo: 0n,
 *   lastSeqNo: 2n,
 *   shards: 1,
 *   groups: [{ name: "billing", members: 1, pending: 0, lag: 1 }],
 * };
 * console.log(info.groups[0].lag); // 1
 * ```
 */
export interface StreamInfo {
  /** How many messages it holds (over all shards). */
  readonly length: number;
  /** The smallest seqNo held (of any shard); absent when it is empty. */
  readonly firstSeqNo?: SeqNo;
  /** The largest seqNo held (of any shard); absent when it is empty. */
  readonly lastSeqNo?: SeqNo;
  /** How many shards (Kafka partitions, Redis `stream:N` keys) it has. */
  readonly shards: number;
  /** Its consumer groups. */
  readonly groups: readonly GroupInfo[];
}

/**
 * A consumer group of a stream, as {@link Streamer.describeStream} reports it.
 *
 * @example
 * ```ts
 * import type { GroupInfo } from "@seastreamer/seastreamer";
 *
 * const group: GroupInfo = { name: "billing", members: 2, pending: 10, lag: 0 };
 * console.log(`${group.name}: ${group.lag} behind`); // billing: 0 behind
 * ```
 */
export interface GroupInfo {
  /** The group's name. */
  readonly name: string;
  /** Its live members (as far as the backend knows). */
  readonly members: number;
  /** Messages delivered to a member and not yet committed. */
  readonly pending: number;
  /** Messages not yet delivered to the group; `undefined` where the backend cannot tell. */
  readonly lag: number | undefined;
}

/**
 * What {@link Streamer.trimStream} keeps: give one of the three.
 *
 * @example
 * ```ts
 * import type { TrimOptions } from "@seastreamer/seastreamer";
 *
 * const lastThousand: TrimOptions = { maxLength: 1000 };
 * const fromSeqNo: TrimOptions = { minSeqNo: 5n };
 * const lastHour: TrimOptions = { olderThan: new Date(Date.now() - 3_600_000) };
 * console.log(Object.keys(lastThousand), Object.keys(fromSeqNo), Object.keys(lastHour));
 * ```
 */
export interface TrimOptions {
  /** Keep at most this many of the newest messages (per shard). */
  maxLength?: number;
  /** Remove the messages with a seqNo below this one. */
  minSeqNo?: SeqNo;
  /** Remove the messages written before this time. */
  olderThan?: Date;
}

/**
 * What a backend can do. The README's table is made from these, and the
 * conformance suite checks every claim: what a backend says it cannot do
 * must be `StreamError("Unsupported")` (or `ConsumerGroupIsSet` for a
 * real-time group), never something else.
 *
 * @example
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const streamer = await SeaStreamer.connect("stdio://", { stdio: { loopback: true } });
 * console.log(streamer.capabilities.rewind); // false: stdio keeps no history
 * await streamer.disconnect();
 * ```
 */
export interface BackendCapabilities {
  /** Messages are kept: `earliest` replays what was sent before a consumer existed. */
  readonly history: boolean;
  /** Resumable consumers (a group continues after its last commit). */
  readonly resumable: boolean;
  /** Load-balanced consumers (a group's members share the messages). */
  readonly loadBalanced: boolean;
  /** Real-time consumers may have a group, whose members share the messages. */
  readonly realTimeGroups: boolean;
  /** `consumer.rewind()`. */
  readonly rewind: boolean;
  /** `consumer.rewind(position, shard)`: one shard moves, the others stay. */
  readonly rewindShard: boolean;
  /** `consumer.seek(date)`. */
  readonly seek: boolean;
  /** Payloads may be any bytes (else UTF-8 text of one line). */
  readonly binary: boolean;
  /** `send` takes a message key and headers, and consumers get them back. */
  readonly keysAndHeaders: boolean;
  /** Encrypted connections (`rediss://`, Kafka `tls`). */
  readonly tls: boolean;
}

/**
 * Sends messages to streams.
 *
 * @example
 * ```ts
 * import { type Producer, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const producer: Producer = await streamer.createProducer(); // not anchored: sendTo names the stream
 * producer.sendTo("orders", "a");
 * producer.sendTo("refunds", "b");
 * await producer.flush(); // both are written
 * producer.anchor("orders");
 * console.log(producer.anchored, (await producer.send("c")).seqNo); // orders 1n
 * await producer.end();
 * ```
 */
export interface Producer extends AsyncDisposable {
  /** The stream `send` writes to, if anchored. */
  readonly anchored: StreamKey | undefined;
  /** Anchor this producer to `stream`; a `StreamError("AlreadyAnchored")` if it already is. */
  anchor(stream: StreamKey): void;
  /**
   * Queue a message to the anchored stream. The promise resolves with its receipt
   * once the backend has it. A failed send rejects its own promise and the next
   * `flush()`; an un-awaited failure never becomes an unhandled rejection.
   * The promise is made only once it is awaited (or its `then`, `catch` or
   * `finally` is called), so a loop of sends nobody awaits costs one object per
   * message: it behaves as a promise but is not `instanceof Promise`.
   */
  send(payload: PayloadInput, options?: SendOptions): Promise<MessageHeader>;
  /** Queue a message to `stream`, as {@link Producer.send} does. */
  sendTo(stream: StreamKey, payload: PayloadInput, options?: SendOptions): Promise<MessageHeader>;
  /**
   * Queue `items` to the anchored stream as one batch: it goes out as one unit
   * where the backend allows it (one Redis pipeline, one Kafka request per
   * partition, one file append). Resolves with the receipts in order; if any
   * message fails, the whole promise rejects, and so does the next `flush()`.
   */
  sendBatch(items: readonly BatchItem[]): Promise<MessageHeader[]>;
  /** Queue `items` to `stream` as one batch, as {@link Producer.sendBatch} does. */
  sendBatchTo(stream: StreamKey, items: readonly BatchItem[]): Promise<MessageHeader[]>;
  /** Resolves when every message sent so far is on the backend; rejects if any of them failed. */
  flush(): Promise<void>;
  /** What this producer has done so far. */
  stats(): ProducerStats;
  /** Flush, then close. Sending afterwards is `StreamError("Closed")`. */
  end(): Promise<void>;
}

/**
 * Reads messages from streams. Iterate it with `for await`, call `next()`, or read `stream()`.
 *
 * @example
 * ```ts
 * import { type Consumer, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[orders] a\n[orders] b\n")]);
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { input } });
 * const consumer: Consumer = await streamer.createConsumer(["orders"]);
 * for await (const message of consumer) {
 *   console.log(message.header.seqNo, message.payload.text()); // 0n a, then 1n b
 * } // the loop ends with the input
 * ```
 */
export interface Consumer extends AsyncIterable<Message>, AsyncDisposable {
  /** The streams this consumer reads. */
  readonly streams: readonly StreamKey[];
  /** Its mode. */
  readonly mode: ConsumerMode;
  /** Its group, if any. */
  readonly group: string | undefined;
  /**
   * The next message. With `autoCommit`, asking for it commits the one before.
   * Rejects with `StreamError("Closed")` once the consumer has ended.
   */
  next(signal?: AbortSignal): Promise<Message>;
  /**
   * The next 1 to `max` messages (default: the prefetch): waits for the first,
   * then takes what has already arrived. With `autoCommit`, asking for it
   * commits the batch before. Damaged data rejects one call in its place.
   */
  nextBatch(options?: NextBatchOptions): Promise<Message[]>;
  /** The messages in batches of 1 to `max`, until the consumer ends (see {@link Consumer.nextBatch}). */
  batches(options?: { max?: number }): AsyncIterable<Message[]>;
  /** The messages as a web `ReadableStream` (pulling from `next()`). */
  stream(): ReadableStream<Message>;
  /** What this consumer has done so far. */
  stats(): ConsumerStats;
  /**
   * Mark `message` and every message before it on its shard as done for the
   * group. Given an array (a batch), the last message of each shard is committed.
   */
  commit(
    message: Message | MessageHeader | readonly (Message | MessageHeader)[],
  ): Promise<void>;
  /**
   * Move every shard of this consumer to `position`; the next message is there.
   * Given `shard`, move that shard only: the others keep their place, and the
   * messages of theirs already fetched are still delivered. A stream this
   * consumer does not read, or a shard it does not read, is
   * `StreamError("StreamKeyNotFound")`; a backend that cannot move one shard
   * alone (`capabilities.rewindShard`) rejects with `Unsupported`.
   *
   * @example
   * ```ts ignore
   * // Partition 0 from offset 100, partition 2 from 250, nothing else (kcat -p … -o …):
   * consumer.assign("orders", 0);
   * consumer.assign("orders", 2);
   * await consumer.rewind({ at: 100n }, { stream: "orders", shardId: 0 });
   * await consumer.rewind({ at: 250n }, { stream: "orders", shardId: 2 });
   * ```
   */
  rewind(position: SeqPos, shard?: ShardRef): Promise<void>;
  /** Move to the earliest message with a timestamp >= `timestamp`. */
  seek(timestamp: Date): Promise<void>;
  /** Read shard `shardId` of `stream` (manual assignment). */
  assign(stream: StreamKey, shardId: ShardId): void;
  /** Stop reading shard `shardId` of `stream`. */
  unassign(stream: StreamKey, shardId: ShardId): void;
  /** Stop reading (committing what autoCommit owes), release the backend's resources. */
  end(): Promise<void>;
}

/**
 * A producer's counters ({@link Producer.stats}).
 *
 * @example
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const producer = await streamer.createProducer("orders");
 * producer.send("héllo");
 * console.log(producer.stats().inFlight); // 1
 * await producer.flush();
 * console.log(producer.stats()); // { sent: 1, bytes: 6, failed: 0, inFlight: 0 }
 * ```
 */
export interface ProducerStats {
  /** Messages the backend has acknowledged. */
  readonly sent: number;
  /** Their payload bytes (strings counted as UTF-8). */
  readonly bytes: number;
  /** Messages refused or failed. */
  readonly failed: number;
  /** Messages sent and not yet acknowledged or failed. */
  readonly inFlight: number;
}

/**
 * A consumer's counters ({@link Consumer.stats}).
 *
 * @example
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[orders] a\n[orders] b\n")]);
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { input } });
 * const consumer = await streamer.createConsumer(["orders"]);
 * await consumer.next();
 * console.log(consumer.stats().received); // 1
 * ```
 */
export interface ConsumerStats {
  /** Messages handed out (by `next()`, iteration or `nextBatch()`). */
  readonly received: number;
  /**
   * Messages whose commit the backend stored: those auto-committed, and those
   * given to `commit()` (a batch counts each of its messages).
   */
  readonly committed: number;
  /**
   * Messages on the backend not yet fetched by this consumer, as of its last
   * fetch; `undefined` where the backend cannot tell.
   */
  readonly lag: number | undefined;
}

/**
 * Options of {@link Consumer.nextBatch}.
 *
 * @example
 * ```ts
 * import { type NextBatchOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[orders] a\n[orders] b\n")]);
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { input } });
 * const consumer = await streamer.createConsumer(["orders"]);
 * const options: NextBatchOptions = { max: 100, signal: AbortSignal.timeout(5_000) };
 * const batch = await consumer.nextBatch(options);
 * console.log(batch.length >= 1); // true
 * ```
 */
export interface NextBatchOptions {
  /** The most messages in the batch (default: the consumer's `prefetch`). */
  max?: number;
  /** Stop waiting for the first message: the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

const STREAM_KEY_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * Whether `key` is a valid stream key.
 *
 * @example
 * ```ts
 * import { isValidStreamKey } from "@seastreamer/seastreamer";
 *
 * console.log(isValidStreamKey("orders.v1"), isValidStreamKey("no spaces")); // true false
 * ```
 */
export function isValidStreamKey(key: unknown): key is StreamKey {
  return typeof key === "string" && STREAM_KEY_PATTERN.test(key);
}

/**
 * Return `key` if it is a valid stream key, else throw `StreamError("StreamKey")`.
 *
 * @example
 * ```ts
 * import { validateStreamKey } from "@seastreamer/seastreamer";
 *
 * validateStreamKey("orders"); // "orders"
 * ```
 */
export function validateStreamKey(key: unknown): StreamKey {
  if (isValidStreamKey(key)) return key;
  const shown = typeof key === "string" ? JSON.stringify(key.slice(0, 80)) : typeof key;
  throw new StreamError(
    "StreamKey",
    `invalid stream key ${shown}: a stream key matches [a-zA-Z0-9._-]{1,${MAX_STREAM_KEY_LEN}}`,
  );
}

/**
 * A stream URL split into the streamer's URI and its stream keys.
 *
 * @example
 * ```ts
 * import { parseStreamUrl, SeaStreamer, type StreamUrl } from "@seastreamer/seastreamer";
 *
 * const url: StreamUrl = parseStreamUrl("stdio:///orders,refunds");
 * await using streamer = await SeaStreamer.connect(url.streamer, { stdio: { loopback: true } });
 * const consumer = await streamer.createConsumer(url.streams);
 * console.log(url.streamer, consumer.streams); // stdio:// [ "orders", "refunds" ]
 * ```
 */
export interface StreamUrl {
  /** The part that names the server (or file, or stdio), e.g. `kafka://a:9092,b:9092`. */
  streamer: string;
  /** The stream keys after the last `/`, e.g. `["s1", "s2"]`; empty if none. */
  streams: StreamKey[];
}

/**
 * Split a stream URL: the stream keys are the comma-separated list after the
 * last `/`. `kafka://a:9092,b:9092/s1,s2` gives the streamer
 * `kafka://a:9092,b:9092` and the streams `s1`, `s2`. A query after the keys
 * belongs to the streamer: `kafka://a:9092/s1?driver=platformatic` gives
 * `kafka://a:9092?driver=platformatic` and `s1`.
 *
 * @example
 * ```ts
 * import { parseStreamUrl } from "@seastreamer/seastreamer";
 *
 * const { streamer, streams } = parseStreamUrl("file://./data.ss/orders,refunds");
 * console.log(streamer, streams); // file://./data.ss [ "orders", "refunds" ]
 * ```
 */
export function parseStreamUrl(url: string): StreamUrl {
  if (typeof url !== "string") {
    throw new StreamError("StreamUrl", `a stream URL is a string, not ${typeof url}`);
  }
  const sep = url.indexOf("://");
  if (sep <= 0) {
    throw new StreamError(
      "StreamUrl",
      `stream URL ${redactUri(url)} has no protocol (expected e.g. redis://host:6379/stream)`,
    );
  }
  const rest = url.slice(sep + 3);
  const slash = rest.lastIndexOf("/");
  if (slash < 0) {
    throw new StreamError(
      "StreamUrl",
      `stream URL ${redactUri(url)} names no stream: add "/" and the stream keys, e.g. ${
        redactUri(url)
      }/orders`,
    );
  }
  // A query after the stream keys (`…/orders?driver=platformatic`) is the streamer's.
  const question = rest.indexOf("?", slash);
  const tail = rest.slice(slash + 1, question < 0 ? undefined : question);
  const query = question < 0 ? "" : rest.slice(question);
  const streams = tail === "" ? [] : tail.split(",").map((key) => {
    try {
      return validateStreamKey(key);
    } catch (error) {
      throw new StreamError(
        "StreamUrl",
        `stream URL ${redactUri(url)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  });
  return { streamer: url.slice(0, sep + 3) + rest.slice(0, slash) + query, streams };
}

/**
 * `uri` with the password of its user info replaced by `***` (in a NATS URL, a
 * token: user info without a colon), for messages and logs.
 *
 * @example
 * ```ts
 * import { redactUri } from "@seastreamer/seastreamer";
 *
 * console.log(redactUri("redis://app:secret@host:6379/0")); // redis://app:***@host:6379/0
 * console.log(redactUri("nats://s3cret@host:4222/orders")); // nats://***@host:4222/orders (a token)
 * ```
 */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/]*)@/i, (_all, scheme: string, user: string) => {
    const colon = user.indexOf(":");
    // In a NATS URL, user info without a colon is a token: a secret.
    if (colon < 0) return `${scheme}${TOKEN_SCHEMES.test(scheme) ? "***" : user}@`;
    return `${scheme}${user.slice(0, colon)}:***@`;
  });
}

const TOKEN_SCHEMES = /^(nats|tls|nats\+tls):/i;
