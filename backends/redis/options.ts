/**
 * The Redis backend's options.
 *
 * @module
 */

/**
 * Options of the Redis backend's streamer.
 *
 * @example
 * ```ts ignore
 * import { type RedisConnectOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const redis: RedisConnectOptions = { payloadField: "msg", connectionName: "billing" };
 * const streamer = await SeaStreamer.connect("redis://127.0.0.1:6379", { redis });
 * ```
 */
export interface RedisConnectOptions {
  /** The stream entry field that holds the payload (default `msg`, as SeaStreamer uses). */
  payloadField?: string;
  /** Options for TLS (`rediss://`), passed to the client. */
  tls?: RedisTlsOptions;
  /** A name for this client's connections, shown by `CLIENT LIST`. */
  connectionName?: string;
  /** Treat the URL's hosts as seeds of a Redis Cluster. */
  cluster?: boolean;
}

/**
 * TLS settings of a Redis connection.
 *
 * @example
 * ```ts ignore
 * import { type RedisTlsOptions, SeaStreamer } from "@seastreamer/seastreamer";
 * import { readFile } from "@seastreamer/seastreamer/runtime";
 *
 * const tls: RedisTlsOptions = { ca: await readFile("ca.pem"), servername: "redis.internal" };
 * const streamer = await SeaStreamer.connect("rediss://app:secret@redis.internal:6380", {
 *   redis: { tls },
 * });
 * ```
 */
export interface RedisTlsOptions {
  /** PEM certificate authorities to trust. */
  ca?: string | Uint8Array;
  /** PEM client certificate. */
  cert?: string | Uint8Array;
  /** PEM client key. */
  key?: string | Uint8Array;
  /** Check the server's certificate (default true). */
  rejectUnauthorized?: boolean;
  /** The host name expected in the server's certificate. */
  servername?: string;
}

/**
 * Options of a Redis producer (`ProducerOptions.redis`).
 *
 * @example
 * ```ts ignore
 * import { type RedisProducerOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const redis: RedisProducerOptions = { maxLen: 100_000, shards: 4, sharder: "key-hash" };
 * const streamer = await SeaStreamer.connect("redis://127.0.0.1:6379");
 * const producer = await streamer.createProducer("orders", { redis });
 * ```
 */
export interface RedisProducerOptions {
  /** Trim each stream to about this many entries (`MAXLEN ~`). */
  maxLen?: number;
  /** Trim entries older than this many milliseconds at each send (`MINID ~`); ignored with `maxLen`. */
  maxAgeMs?: number;
  /** Number of shards per stream (`stream:shard` keys); default 0, no sharding. */
  shards?: number;
  /** How a message picks its shard: round-robin (default) or a hash of its key. */
  sharder?: "round-robin" | "key-hash";
  /**
   * Write over this many connections of the producer's own, shard N on
   * connection N % connections (default 1: the streamer's shared connection);
   * at most `shards`, since a shard's entries keep their order on one connection.
   */
  connections?: number;
}

/**
 * Options of a Redis consumer (`ConsumerOptions.redis`).
 *
 * @example
 * ```ts ignore
 * import { type RedisConsumerOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const redis: RedisConsumerOptions = { claimIdleMs: 5_000, blockMs: 500 };
 * const streamer = await SeaStreamer.connect("redis://127.0.0.1:6379");
 * const consumer = await streamer.createConsumer(["orders"], {
 *   mode: "load-balanced",
 *   group: "billing",
 *   redis,
 * });
 * ```
 */
export interface RedisConsumerOptions {
  /** This member's name in the group (default: the group name for resumable, host-pid-n for load-balanced). */
  consumerName?: string;
  /** Claim entries another member left pending this long, in milliseconds (default 30,000). */
  claimIdleMs?: number;
  /** How long one blocking read waits, in milliseconds (default 1,000). */
  blockMs?: number;
  /**
   * Create a group's stream if it does not exist (`XGROUP CREATE … MKSTREAM`, default
   * true); `false` makes a missing stream `StreamError("StreamKeyNotFound")`.
   */
  mkstream?: boolean;
  /** How often to look for new shards (`stream:N` keys) with SCAN, in milliseconds (default 2,000). */
  shardScanMs?: number;
}
