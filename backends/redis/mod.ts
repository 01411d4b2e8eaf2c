/**
 * The Redis Streams backend over npm `ioredis` (a server, or a Redis Cluster).
 *
 * - URIs: `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS; options
 *   in `ConnectOptions.redis.tls`), several comma-separated hosts for a
 *   cluster's seeds. The URL's user, password and db are used.
 * - A message is a stream entry whose field `msg` (`redis.payloadField`) holds the
 *   payload, as SeaStreamer writes it, so streams are shared with its Rust
 *   processors; a message key and headers are the fields `key` and `header:name`.
 * - seqNo is `(ms << 16) | seq` of the entry ID, the timestamp its ms.
 * - Producers pipeline XADDs (a batch is one pipeline), optionally trim
 *   (`maxLen`, `maxAgeMs`) and shard (`stream:N` keys, round-robin or by key
 *   hash, over `connections` of their own).
 * - Real-time consumers XREAD; resumable and load-balanced consumers are members
 *   of a consumer group (XREADGROUP, XACK of commits, failover by XCLAIM); they
 *   deliver {@link RedisMessage}s.
 * - Admin: `listStreams`, `describeStream` and `trimStream` (XTRIM) cover every
 *   shard of a stream.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@seastreamer/seastreamer/redis";
 *
 * const streamer = await connect("redis://127.0.0.1:6379");
 * const consumer = await streamer.createConsumer(["orders"], {
 *   mode: "resumable",
 *   group: "billing",
 * });
 * for await (const message of consumer) console.log(message.payload.text());
 * ```
 *
 * @module
 */
export { capabilities } from "./capabilities.ts";
export { connect } from "./streamer.ts";
export { RedisHeader, RedisMessage } from "./message.ts";
export { shardKey } from "./producer.ts";
export { DEFAULT_REDIS_PORT, parseRedisUri, type RedisUri } from "./url.ts";
export { idOfSeqNo, seqNoOf } from "./id.ts";
