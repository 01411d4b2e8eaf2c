/**
 * Admin operations over every key of a stream (the key itself and its
 * `stream:N` shards): listing streams, describing one (XINFO), trimming one
 * (XTRIM), moving a group (XGROUP SETID).
 *
 * @module
 */
import {
  type GroupInfo,
  type SeqPos,
  StreamError,
  type StreamInfo,
  type StreamKey,
  type TrimOptions,
} from "../../types.ts";
import type { RedisClient } from "./client.ts";
import { backendError, isReplyError } from "./errors.ts";
import { idBeforeMs, idBeforeSeqNo, idOfSeqNo, parseId, seqNoOf } from "./id.ts";
import { existingKeys, scanStreams, type ShardKey, streamOfKey } from "./shards.ts";

/**
 * How many entries of KEYS[1] come after ID ARGV[1], counted on the server a
 * page at a time (Redis has no count of a range; XINFO GROUPS' own `lag` is
 * unreliable on 7.0, e.g. after a restart or a deletion).
 */
const COUNT_AFTER = `
local count = 0
local from = '(' .. ARGV[1]
while true do
  local entries = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', 1000)
  count = count + #entries
  if #entries < 1000 then return count end
  from = '(' .. entries[#entries][1]
end`;

/** The stream keys on the server (a sharded stream once, as `stream`), sorted. */
export async function listStreams(client: RedisClient): Promise<StreamKey[]> {
  let keys: string[];
  try {
    keys = await scanStreams(client, "*");
  } catch (error) {
    throw backendError(error, "cannot list the streams");
  }
  return [...new Set(keys.map(streamOfKey))].sort();
}

/** An XINFO reply (`[name, value, name, value, …]`) as a map. */
function fieldsOf(reply: unknown[]): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
  return fields;
}

/** The seqNo of an entry as XINFO shows it (`[id, fields]`), if there is one. */
function seqNoOfEntry(entry: unknown): bigint | undefined {
  if (!Array.isArray(entry)) return undefined;
  const { ms, seq } = parseId(String(entry[0]));
  return seqNoOf(ms, seq);
}

/** What one key holds. */
interface KeyInfo {
  length: number;
  first: bigint | undefined;
  last: bigint | undefined;
  groups: GroupInfo[];
}

async function describeKey(client: RedisClient, key: string): Promise<KeyInfo> {
  const [stream, groups] = await Promise.all([
    client.call("XINFO", "STREAM", key) as Promise<unknown[]>,
    client.call("XINFO", "GROUPS", key) as Promise<unknown[][]>,
  ]);
  const info = fieldsOf(stream);
  const length = Number(info.get("length"));
  const first = seqNoOfEntry(info.get("first-entry"));
  const last = seqNoOfEntry(info.get("last-entry"));
  return {
    length,
    first,
    last,
    groups: await Promise.all(groups.map(async (reply): Promise<GroupInfo> => {
      const group = fieldsOf(reply);
      const delivered = String(group.get("last-delivered-id"));
      const { ms, seq } = parseId(delivered);
      const at = seqNoOf(ms, seq);
      let lag: number;
      if (last === undefined || at >= last) lag = 0;
      else if (first !== undefined && at < first) lag = length;
      else lag = Number(await client.eval(COUNT_AFTER, 1, key, delivered));
      return {
        name: String(group.get("name")),
        members: Number(group.get("consumers")),
        pending: Number(group.get("pending")),
        lag,
      };
    })),
  };
}

/**
 * What `stream` holds over all its keys: the total length, the smallest first
 * and largest last seqNo, the number of shards, and each group (its members as
 * the most of any key, its pending entries and lag summed over the keys).
 */
export async function describeStream(client: RedisClient, stream: StreamKey): Promise<StreamInfo> {
  const keys = await keysOf(client, stream);
  let infos: KeyInfo[];
  try {
    infos = await Promise.all(keys.map((shard) => describeKey(client, shard.key)));
  } catch (error) {
    throw backendError(error, `cannot describe ${stream}`);
  }
  let length = 0;
  let firstSeqNo: bigint | undefined;
  let lastSeqNo: bigint | undefined;
  const groups = new Map<string, { members: number; pending: number; lag: number }>();
  for (const info of infos) {
    length += info.length;
    if (info.first !== undefined && (firstSeqNo === undefined || info.first < firstSeqNo)) {
      firstSeqNo = info.first;
    }
    if (info.last !== undefined && (lastSeqNo === undefined || info.last > lastSeqNo)) {
      lastSeqNo = info.last;
    }
    for (const group of info.groups) {
      const merged = groups.get(group.name);
      if (merged === undefined) {
        groups.set(group.name, { members: group.members, pending: group.pending, lag: group.lag! });
      } else {
        merged.members = Math.max(merged.members, group.members);
        merged.pending += group.pending;
        merged.lag += group.lag!;
      }
    }
  }
  return {
    length,
    ...(firstSeqNo === undefined ? {} : { firstSeqNo, lastSeqNo }),
    // The bare key and `stream:0` are both shard 0 (a group consumer of a sharded stream
    // creates the bare key): count shard ids, not keys.
    shards: new Set(keys.map((shard) => shard.shardId)).size,
    groups: [...groups].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([name, group]) => ({
      name,
      ...group,
    })),
  };
}

/**
 * Trim every key of `stream` exactly (XTRIM MAXLEN = n, or MINID = the entry ID
 * of a seqNo or of a time); how many entries were removed.
 */
export async function trimStream(
  client: RedisClient,
  stream: StreamKey,
  options: TrimOptions,
): Promise<number> {
  const strategy = trimStrategy(options);
  const keys = await keysOf(client, stream);
  try {
    const removed = await Promise.all(
      keys.map((shard) => client.call("XTRIM", shard.key, ...strategy) as Promise<number>),
    );
    return removed.reduce((sum, n) => sum + n, 0);
  } catch (error) {
    throw backendError(error, `cannot trim ${stream}`);
  }
}

/**
 * Move `group` on every key of `stream` (XGROUP SETID; the group is created
 * where it is missing): its next reader gets the first entry at `position`.
 * What the group's members held pending is dropped (acknowledged): a member
 * that restarts would read its pending entries first, before the new position.
 */
export async function resetGroup(
  client: RedisClient,
  stream: StreamKey,
  group: string,
  position: SeqPos | Date,
): Promise<void> {
  const id = position === "beginning"
    ? "0-0"
    : position === "end"
    ? "$"
    : position instanceof Date
    ? idBeforeMs(position.getTime())
    : idBeforeSeqNo(position.at);
  const keys = await keysOf(client, stream);
  try {
    await Promise.all(keys.map(async (shard) => {
      try {
        await client.call("XGROUP", "SETID", shard.key, group, id);
      } catch (error) {
        if (!isReplyError(error, "NOGROUP")) throw error;
        await client.call("XGROUP", "CREATE", shard.key, group, id);
      }
      await dropPending(client, shard.key, group);
    }));
  } catch (error) {
    throw backendError(error, `cannot move group ${group} of ${stream}`);
  }
}

/** Acknowledge every entry pending in `group` on `key`, a page at a time. */
async function dropPending(client: RedisClient, key: string, group: string): Promise<void> {
  for (;;) {
    const page = await client.call("XPENDING", key, group, "-", "+", 1000) as [string][];
    if (page.length === 0) return;
    await client.call("XACK", key, group, ...page.map(([id]) => id));
  }
}

/** XTRIM's arguments for `options` (one of them is given: the streamer checked). */
function trimStrategy(options: TrimOptions): (string | number)[] {
  const { maxLength, minSeqNo, olderThan } = options;
  if (maxLength !== undefined) {
    if (typeof maxLength !== "number" || !Number.isSafeInteger(maxLength) || maxLength < 0) {
      throw new StreamError("Unsupported", `maxLength is a count, not ${maxLength}`);
    }
    return ["MAXLEN", "=", maxLength];
  }
  if (minSeqNo !== undefined) {
    if (typeof minSeqNo !== "bigint" || minSeqNo < 0n) {
      throw new StreamError("Unsupported", `minSeqNo is a bigint >= 0, not ${minSeqNo}`);
    }
    return ["MINID", "=", idOfSeqNo(minSeqNo)];
  }
  if (!(olderThan instanceof Date) || Number.isNaN(olderThan.getTime())) {
    throw new StreamError("Unsupported", "olderThan is a valid Date");
  }
  return ["MINID", "=", `${Math.max(0, olderThan.getTime())}-0`];
}

/** The keys of `stream`; `StreamKeyNotFound` if it has none. */
async function keysOf(client: RedisClient, stream: StreamKey): Promise<ShardKey[]> {
  let keys: ShardKey[];
  try {
    keys = await existingKeys(client, stream);
  } catch (error) {
    throw backendError(error, `cannot find the keys of ${stream}`);
  }
  if (keys.length === 0) {
    throw new StreamError("StreamKeyNotFound", `redis: there is no stream ${stream}`);
  }
  return keys;
}
