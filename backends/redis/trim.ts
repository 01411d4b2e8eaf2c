/**
 * Trimming streams by hand (XTRIM), for the CLI and for operators: keep about
 * the last N entries, or drop entries older than an ID or an age. A sharded
 * stream is trimmed on every shard.
 *
 * @module
 */
import {
  type ConnectOptions,
  StreamError,
  type StreamKey,
  validateStreamKey,
} from "../../types.ts";
import { positiveInteger } from "../../core/options.ts";
import { closeClient, connectClient, openClient } from "./client.ts";
import { backendError } from "./errors.ts";
import { parseId } from "./id.ts";
import { findShards } from "./shards.ts";
import { parseRedisUri } from "./url.ts";

/**
 * How to trim: exactly one of `maxLen`, `minId` and `maxAgeMs`.
 *
 * @example
 * ```ts
 * import type { TrimOptions } from "@seastreamer/seastreamer/redis";
 *
 * const lastDay: TrimOptions = { maxAgeMs: 24 * 60 * 60 * 1000 };
 * const exactly: TrimOptions = { maxLen: 1000, exact: true };
 * console.log(lastDay, exactly);
 * ```
 */
export interface TrimOptions {
  /** Keep (about) this many entries per shard (`MAXLEN`). */
  maxLen?: number;
  /** Drop entries with an ID below this one (`MINID`), e.g. `1700000000000-0`. */
  minId?: string;
  /** Drop entries older than this many milliseconds (`MINID` of now minus the age). */
  maxAgeMs?: number;
  /** Trim exactly (`=`) instead of by whole macro nodes (`~`, the default, cheaper). */
  exact?: boolean;
}

/**
 * Trim `stream` (and its shards `stream:N`) on the server `uri` names; the
 * number of entries removed.
 *
 * @example
 * ```ts ignore
 * import { trimStream } from "@seastreamer/seastreamer/redis";
 *
 * const removed = await trimStream("redis://127.0.0.1:6379", "orders", { maxLen: 10_000 });
 * console.log(`${removed} entries removed`);
 * ```
 */
export async function trimStream(
  uri: string,
  stream: StreamKey,
  options: TrimOptions,
  connectOptions: ConnectOptions = {},
): Promise<number> {
  validateStreamKey(stream);
  const given = [options.maxLen, options.minId, options.maxAgeMs].filter((v) => v !== undefined);
  if (given.length !== 1) {
    throw new StreamError("Unsupported", "trim with exactly one of maxLen, minId or maxAgeMs");
  }
  let strategy: (string | number)[];
  const how = options.exact ? "=" : "~";
  if (options.maxLen !== undefined) {
    if (!Number.isSafeInteger(options.maxLen) || options.maxLen < 0) {
      throw new StreamError("Unsupported", `maxLen is a count, not ${options.maxLen}`);
    }
    strategy = ["MAXLEN", how, options.maxLen];
  } else if (options.minId !== undefined) {
    parseId(options.minId.includes("-") ? options.minId : `${options.minId}-0`);
    strategy = ["MINID", how, options.minId];
  } else {
    const age = positiveInteger("maxAgeMs", options.maxAgeMs, 1);
    strategy = ["MINID", how, Date.now() - age];
  }
  const parsed = parseRedisUri(uri);
  const timeoutMs = positiveInteger("timeoutMs", connectOptions.timeoutMs, 10_000);
  const client = openClient({
    uri: parsed,
    options: connectOptions.redis ?? {},
    connectTimeoutMs: timeoutMs,
  });
  await connectClient(client, timeoutMs, parsed.redacted);
  try {
    const keys = [stream, ...(await findShards(client, stream)).map((shard) => shard.key)];
    const removed = await Promise.all(
      keys.map((key) => client.call("XTRIM", key, ...strategy) as Promise<number>),
    );
    return removed.reduce((sum, n) => sum + n, 0);
  } catch (error) {
    throw backendError(error, `cannot trim ${stream}`);
  } finally {
    await closeClient(client);
  }
}
