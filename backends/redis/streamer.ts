/**
 * The Redis streamer driver: one command connection shared by producers (their
 * pipelines) and consumers (acknowledgements, groups, scans), one reading
 * connection per consumer for blocking reads, and optionally connections of a
 * producer's own (`redis.connections`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type BackendCapabilities,
  type ConnectOptions,
  type ConsumerOptions,
  type Logger,
  type ProducerOptions,
  type RedisConnectOptions,
  type SeqPos,
  type Streamer,
  StreamError,
  type StreamInfo,
  type StreamKey,
  type TrimOptions,
} from "../../types.ts";
import type {
  ConsumerDriver,
  ConsumerHost,
  ProducerDriver,
  StreamerDriver,
} from "../../core/driver.ts";
import { positiveInteger } from "../../core/options.ts";
import { CoreStreamer } from "../../core/streamer.ts";
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
import { RedisConsumer } from "./consumer.ts";
import { parseRedisUri } from "./url.ts";
import { backendError } from "./errors.ts";
import { loadIoredis } from "./library.ts";
import { describeStream, listStreams, resetGroup, trimStream } from "./admin.ts";

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
  await loadIoredis();
  const redis: RedisConnectOptions = options.redis ?? {};
  const timeoutMs = positiveInteger("timeoutMs", options.timeoutMs, 10_000);
  const payloadField = redis.payloadField ?? "msg";
  if (typeof payloadField !== "string" || payloadField === "") {
    throw new StreamError("Unsupported", "redis.payloadField is a non-empty string");
  }
  const config: ClientConfig = { uri: parsed, options: redis, connectTimeoutMs: timeoutMs };
  const client = openClient(config);
  await connectClient(client, timeoutMs, parsed.redacted, options.logger);
  return new CoreStreamer(
    new RedisDriver(
      client,
      parsed.redacted,
      payloadField,
      timeoutMs,
      isCluster(config),
      options.logger,
    ),
  );
}

/** A Redis server or cluster as a backend. */
class RedisDriver implements StreamerDriver {
  readonly backend = "redis" as const;
  readonly capabilities: BackendCapabilities = capabilities;
  readonly uri: string;
  readonly #client: RedisClient;
  readonly #payloadField: string;
  readonly #cluster: boolean;
  readonly #timeoutMs: number;
  readonly #logger: Logger | undefined;

  constructor(
    client: RedisClient,
    uri: string,
    payloadField: string,
    timeoutMs: number,
    cluster: boolean,
    logger: Logger | undefined,
  ) {
    this.#logger = logger;
    this.#client = client;
    this.uri = uri;
    this.#payloadField = payloadField;
    this.#timeoutMs = timeoutMs;
    this.#cluster = cluster;
  }

  /** A producer on the shared connection, or on `redis.connections` of its own. */
  async openProducer(
    _stream: StreamKey | undefined,
    options: ProducerOptions,
  ): Promise<ProducerDriver> {
    const count = positiveInteger("redis.connections", options.redis?.connections, 1);
    if (count > 1 && count > (options.redis?.shards ?? 0)) {
      // A shard's entries stay in order on one connection: more connections than shards idle.
      throw new StreamError(
        "Unsupported",
        `redis.connections (${count}) puts shards on connections: give at least as many redis.shards`,
      );
    }
    const owned = count === 1 ? [] : await Promise.all(
      Array.from({ length: count }, () => this.#duplicate({})),
    );
    try {
      return new RedisProducer(
        owned.length > 0 ? owned : [this.#client],
        owned,
        this.#payloadField,
        options,
      );
    } catch (error) {
      await Promise.all(owned.map(closeClient));
      throw error;
    }
  }

  /**
   * A consumer with a reading connection of its own; resolves once it is
   * positioned on every shard (and its group exists).
   */
  async openConsumer(host: ConsumerHost, options: ConsumerOptions): Promise<ConsumerDriver> {
    const { settings } = host;
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
    const reader = await this.#duplicate({ resend: false });
    const consumer = new RedisConsumer(settings, {
      client: this.#client,
      reader,
      cluster: this.#cluster,
      payloadField: Buffer.from(this.#payloadField),
      consumerName,
      claimIdleMs,
      blockMs,
      mkstream: redis.mkstream ?? true,
      shardScanMs,
    });
    try {
      await timeout(consumer.start(), settings.timeoutMs, "positioning the consumer");
    } catch (error) {
      await consumer.close().catch(() => {});
      throw backendError(error, "cannot start the consumer");
    }
    return consumer;
  }

  /**
   * The stream keys on the server (SCAN … TYPE stream on every master), sorted;
   * the shards `stream:N` of a sharded stream are listed once, as `stream`.
   */
  listStreams(): Promise<StreamKey[]> {
    return listStreams(this.#client);
  }

  /** What `stream` holds over all its keys (see admin.ts). */
  describeStream(stream: StreamKey): Promise<StreamInfo> {
    return describeStream(this.#client, stream);
  }

  /** Trim every key of `stream` (XTRIM); how many entries were removed. */
  trimStream(stream: StreamKey, options: TrimOptions): Promise<number> {
    return trimStream(this.#client, stream, options);
  }

  /** Move a consumer group on every key of `stream` (see admin.ts). */
  resetGroup(stream: StreamKey, group: string, position: SeqPos | Date): Promise<void> {
    return resetGroup(this.#client, stream, group, position);
  }

  /** Close the shared connection (every producer and consumer has ended). */
  close(): Promise<void> {
    return closeClient(this.#client);
  }

  #duplicate(options: { resend?: boolean }): Promise<RedisClient> {
    return duplicateClient(this.#client, this.#timeoutMs, this.uri, {
      ...options,
      logger: this.#logger,
    });
  }
}
