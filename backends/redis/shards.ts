/**
 * Finding the shards of a stream: the key `stream` itself and the keys
 * `stream:N` a sharding producer writes, found with SCAN … TYPE stream on every
 * master (never KEYS, which blocks the server).
 *
 * @module
 */
import type { ShardId, StreamKey } from "../../types.ts";
import { masters, type RedisClient } from "./client.ts";

/** One Redis key a consumer reads. */
export interface ShardKey {
  /** The stream it belongs to. */
  stream: StreamKey;
  /** Its shard id (0 for the unsharded key). */
  shardId: ShardId;
  /** The Redis key. */
  key: string;
}

/** Every key of `pattern` holding a stream, over all masters. */
export async function scanStreams(client: RedisClient, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  await Promise.all(
    masters(client).map(async (node) => {
      let cursor = "0";
      do {
        const [next, keys] = await node.call(
          "SCAN",
          cursor,
          "MATCH",
          pattern,
          "COUNT",
          1000,
          "TYPE",
          "stream",
        ) as [string, string[]];
        cursor = next;
        for (const key of keys) found.add(key);
      } while (cursor !== "0");
    }),
  );
  return [...found].sort();
}

/** The `stream:N` shard keys of `stream` that exist now. */
export async function findShards(client: RedisClient, stream: StreamKey): Promise<ShardKey[]> {
  const prefix = `${stream}:`;
  const shards: ShardKey[] = [];
  for (const key of await scanStreams(client, `${prefix}*`)) {
    const rest = key.slice(prefix.length);
    if (/^\d{1,9}$/.test(rest)) shards.push({ stream, shardId: Number(rest), key });
  }
  return shards.sort((a, b) => a.shardId - b.shardId);
}
