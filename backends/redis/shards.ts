/**
 * Finding the shards of a stream: the key `stream` itself and the keys
 * `stream:N` a sharding producer writes, found with SCAN … TYPE stream on every
 * master (never KEYS, which blocks the server); and where a consumer starts on
 * each (creating its group there).
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { type ShardId, StreamError, type StreamKey } from "../../types.ts";
import { masters, type RedisClient } from "./client.ts";
import { backendError, isReplyError } from "./errors.ts";
import { HeldEntries } from "./acks.ts";
import { hashSlot } from "./slot.ts";

/** One Redis key of a stream. */
export interface ShardKey {
  /** The stream it belongs to. */
  stream: StreamKey;
  /** Its shard id (0 for the unsharded key). */
  shardId: ShardId;
  /** The Redis key. */
  key: string;
}

/** A key a consumer reads, and where it is. */
export interface Shard extends ShardKey {
  /**
   * Real-time: read after this ID. Group: the last entry delivered, after which
   * this member's own pending entries are read again when `pending`.
   */
  cursor: string | Buffer;
  /** Group: reading this member's own pending entries (after `cursor`), not new ones. */
  pending: boolean;
  /** Group: entries received and not yet acknowledged. */
  readonly held: HeldEntries;
  /** Its cluster hash slot. */
  readonly slot: number;
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

/** The stream a key belongs to: `stream:N` is shard N of `stream`. */
export function streamOfKey(key: string): StreamKey {
  const shard = /^(.+):\d{1,9}$/.exec(key);
  return shard ? shard[1] : key;
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

/** The keys of `stream` that exist now: the bare key (if it exists) and its shards. */
export async function existingKeys(client: RedisClient, stream: StreamKey): Promise<ShardKey[]> {
  const [bare, shards] = await Promise.all([client.exists(stream), findShards(client, stream)]);
  return bare === 1 ? [{ stream, shardId: 0, key: stream }, ...shards] : shards;
}

/** What positioning a consumer on its shards needs. */
export interface Positioning {
  /** The shared command connection. */
  readonly client: RedisClient;
  /** The streams read. */
  readonly streams: readonly StreamKey[];
  /** The group, if any. */
  readonly group: string | undefined;
  /** Whether a new consumer starts at the beginning. */
  readonly earliest: boolean;
  /** Create a group's missing stream. */
  readonly mkstream: boolean;
}

/**
 * The keys of `shards`' streams not in `known` yet, positioned: a real-time
 * consumer after the last entry (or at the beginning), a group created at the
 * end (or the beginning). Keys found after the start (`initial` false) start
 * at their beginning.
 */
export async function discoverShards(
  how: Positioning,
  known: ReadonlyMap<string, Shard>,
  initial: boolean,
): Promise<Shard[]> {
  const { client, group } = how;
  const found: ShardKey[] = [];
  for (const stream of how.streams) {
    const shards = await findShards(client, stream);
    const bare = known.has(stream) || group === undefined || how.mkstream ||
      shards.length === 0 || await client.exists(stream) === 1;
    if (bare) found.push({ stream, shardId: 0, key: stream });
    found.push(...shards);
  }
  const added = found.filter((shard) => !known.has(shard.key));
  const earliest = !initial || how.earliest;
  return await Promise.all(added.map(async (shard): Promise<Shard> => {
    let cursor = "0-0";
    if (group !== undefined) await createGroup(how, shard.key, earliest ? "0" : "$");
    else if (!earliest) cursor = await lastId(client, shard.key);
    return {
      ...shard,
      cursor,
      pending: group !== undefined,
      held: new HeldEntries(),
      slot: hashSlot(shard.key),
    };
  }));
}

/** Create the group on `key` at `id` (nothing if it exists). */
export async function createGroup(how: Positioning, key: string, id: string): Promise<void> {
  const args: (string | number)[] = ["CREATE", key, how.group!, id];
  if (how.mkstream) args.push("MKSTREAM");
  try {
    await how.client.call("XGROUP", ...args);
  } catch (error) {
    if (isReplyError(error, "BUSYGROUP")) return;
    if (!how.mkstream && /requires the key to exist/i.test((error as Error).message)) {
      throw new StreamError(
        "StreamKeyNotFound",
        `redis: stream ${key} does not exist (mkstream is off)`,
        { cause: error },
      );
    }
    throw backendError(error, `cannot create group ${how.group} on ${key}`);
  }
}

/** The ID of `key`'s last entry, or `0-0`. */
export async function lastId(client: RedisClient, key: string): Promise<string> {
  const last = await client.call("XREVRANGE", key, "+", "-", "COUNT", 1) as [string, unknown][];
  return last.length > 0 ? last[0][0] : "0-0";
}
