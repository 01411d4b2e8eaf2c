/**
 * The Redis streamer: one command connection shared by its producers (their
 * pipelines) and consumers (acknowledgements, groups, scans), plus one reading
 * connection per consumer for blocking reads.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type BackendCapabilities,
  type ConnectOptions,
  type Consumer,
  type ConsumerOptions,
  type Producer,
  type ProducerOptions,
  type RedisConnectOptions,
  type Streamer,
  StreamError,
  type StreamInfo,
  type StreamKey,
  type TrimOptions,
} from "../../types.ts";
import { consumerSettings, positiveInteger } from "../../core/options.ts";
import { hostname, pid, timeout } from "../../runtime/mod.ts";
import {
  type ClientConfig,
  closeClient,
  connectClient,
  duplicateClient,
  isCluster,
  openClient,
  type RedisClient,
} from "./client.ts";
import { RedisProducer } from "./producer.ts";
import { capabilities } from "./capabilities.ts";
import { scanStreams } from "./shards.ts";
import { RedisConsumer } from "./consumer.ts";
import { parseRedisUri } from "./url.ts";
import { backendError } from "./errors.ts";
import { endAll } from "../../core/end_all.ts";

let memberCounter = 0;

/** A load-balanced member's default name: host, process and a counter, unique enough. */
function memberName(): string {
  const random = Math.random().toString(36).slice(2, 8);
  return `${hostname()}-${pid()}-${++memberCounter}-${random}`;
}

/**
 * Connect to the Redis server (or cluster) `uri` names:
 * `redis://[user:password@]host[:port][/db]`, `rediss://…` for TLS, several
 * comma-separated hosts for a cluster's seeds. Resolves once the server answered
 * PING within `options.timeoutMs` (default 10,000 ms), else `StreamError("Connect")`.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@seastreamer/seastreamer/redis";
 *
 * const streamer = await connect("redis://127.0.0.1:6379");
 * const producer = await streamer.createProducer("orders");
 * const receipt = await producer.send('{"id":1}');
 * console.log(receipt.seqNo, receipt.timestamp); // from the entry ID
 * await streamer.disconnect();
 * ```
 */
export async function connect(uri: string, options: ConnectOptions = {}): Promise<Streamer> {
  const parsed = parseRedisUri(uri);
  const redis: RedisConnectOptions = options.redis ?? {};
  const timeoutMs = positiveInteger("timeoutMs", options.timeoutMs, 10_000);
  const payloadField = redis.payloadField ?? "msg";
  if (typeof payloadField !== "string" || payloadField === "") {
    throw new StreamError("Unsupported", "redis.payloadField is a non-empty string");
  }
  const config: ClientConfig = { uri: parsed, options: redis, connectTimeoutMs: timeoutMs };
  const client = openClient(config);
  await connectClient(client, timeoutMs, parsed.redacted);
  return new RedisStreamer(client, parsed.redacted, payloadField, timeoutMs, isCluster(config));
}

/** A streamer over a Redis server or cluster. */
export class RedisStreamer implements Streamer {
  /** Always `"redis"`. */
  readonly backend = "redis" as const;
  /** What Redis can do. */
  readonly capabilities: BackendCapabilities = capabilities;
  /** The URI, password hidden. */
  readonly uri: string;
  /** The shared command connection. */
  readonly client: RedisClient;
  /** The entry field holding payloads. */
  readonly payloadField: string;
  /** Whether this is a cluster. */
  readonly cluster: boolean;
  readonly #timeoutMs: number;
  readonly #producers = new Set<RedisProducer>();
  readonly #consumers = new Set<RedisConsumer>();
  #disconnecting: Promise<void> | undefined;

  /** A streamer over a connected `client`. */
  constructor(
    client: RedisClient,
    uri: string,
    payloadField: string,
    timeoutMs: number,
    cluster: boolean,
  ) {
    this.client = client;
    this.uri = uri;
    this.payloadField = payloadField;
    this.#timeoutMs = timeoutMs;
    this.cluster = cluster;
  }

  /** A producer, anchored to `stream` if given. */
  createProducer(stream?: StreamKey, options: ProducerOptions = {}): Promise<Producer> {
    try {
      this.#checkOpen();
      const producer = new RedisProducer(this, stream, options);
      this.#producers.add(producer);
      return Promise.resolve(producer);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A consumer of `streams`; resolves once it is positioned on every shard (and
   * its group exists), so nothing sent afterwards is missed.
   */
  async createConsumer(
    streams: readonly StreamKey[],
    options: ConsumerOptions = {},
  ): Promise<Consumer> {
    this.#checkOpen();
    const settings = consumerSettings(streams, options, this);
    const redis = options.redis ?? {};
    const consumerName = redis.consumerName ??
      (settings.mode === "resumable" ? settings.group! : memberName());
    if (typeof consumerName !== "string" || consumerName === "") {
      throw new StreamError("Unsupported", "redis.consumerName is a non-empty string");
    }
    const claimIdleMs = positiveInteger("redis.claimIdleMs", redis.claimIdleMs, 30_000);
    const blockMs = positiveInteger("redis.blockMs", redis.blockMs, 1000);
    const shardScanMs = positiveInteger("redis.shardScanMs", redis.shardScanMs, 2000);
    // Reads are not resent after a reconnect: the consumer reads its own pending entries instead.
    const reader = await duplicateClient(this.client, this.#timeoutMs, this.uri, { resend: false });
    const consumer = new RedisConsumer(settings, {
      client: this.client,
      reader,
      cluster: this.cluster,
      payloadField: Buffer.from(this.payloadField),
      consumerName,
      claimIdleMs,
      blockMs,
      mkstream: redis.mkstream ?? true,
      shardScanMs,
      onEnd: (ended) => this.#consumers.delete(ended),
    });
    this.#consumers.add(consumer);
    try {
      await timeout(consumer.start(), settings.timeoutMs, "positioning the consumer");
    } catch (error) {
      await consumer.end().catch(() => {});
      throw backendError(error, "cannot start the consumer");
    }
    if (this.#disconnecting) {
      await consumer.end().catch(() => {});
      throw this.#closedError();
    }
    return consumer;
  }

  /**
   * The stream keys on the server (SCAN … TYPE stream on every master), sorted;
   * the shards `stream:N` of a sharded stream are listed once, as `stream`.
   */
  async listStreams(): Promise<StreamKey[]> {
    this.#checkOpen();
    let keys: string[];
    try {
      keys = await scanStreams(this.client, "*");
    } catch (error) {
      throw backendError(error, "cannot list the streams");
    }
    const streams = new Set<StreamKey>();
    for (const key of keys) {
      const shard = /^(.+):\d{1,9}$/.exec(key);
      streams.add(shard ? shard[1] : key);
    }
    return [...streams].sort();
  }

  /** Forget an ended producer. @internal */
  dropProducer(producer: RedisProducer): void {
    this.#producers.delete(producer);
  }

  /** End every producer (flushing) and consumer, then close the connection. */
  disconnect(): Promise<void> {
    this.#disconnecting ??= (async () => {
      const errors = await endAll(this.#producers, this.#consumers);
      await closeClient(this.client);
      if (errors.length > 0) throw errors[0];
    })();
    return this.#disconnecting;
  }

  /** Transitional (until this backend moves to core/streamer.ts). */
  describeStream(_stream: StreamKey): Promise<StreamInfo> {
    return Promise.reject(new StreamError("Unsupported", "describeStream: not yet"));
  }

  /** Transitional (until this backend moves to core/streamer.ts). */
  trimStream(_stream: StreamKey, _options: TrimOptions): Promise<number> {
    return Promise.reject(new StreamError("Unsupported", "trimStream: not yet"));
  }

  /** Transitional (until this backend moves to core/streamer.ts). */
  resetGroup(_stream: StreamKey, _group: string, _position: unknown): Promise<void> {
    return Promise.reject(new StreamError("Unsupported", "resetGroup: not yet"));
  }

  /** Same as `disconnect()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  #checkOpen(): void {
    if (this.#disconnecting) throw this.#closedError();
  }

  #closedError(): StreamError {
    return new StreamError("Closed", "redis streamer is disconnected");
  }
}
