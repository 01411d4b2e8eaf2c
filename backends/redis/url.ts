/**
 * Redis streamer URIs: `redis://[user[:password]@]host[:port][,host[:port]...][/db]`
 * and `rediss://…` (TLS). Several hosts are the seeds of a Redis Cluster.
 *
 * @module
 */
import { redactUri, StreamError } from "../../types.ts";
import { decodeUserInfo } from "../../core/url.ts";

/**
 * The default Redis port.
 *
 * @example
 * ```ts
 * import { DEFAULT_REDIS_PORT, parseRedisUri } from "@seastreamer/seastreamer/redis";
 *
 * console.log(parseRedisUri("redis://cache").hosts[0].port === DEFAULT_REDIS_PORT); // true
 * ```
 */
export const DEFAULT_REDIS_PORT = 6379;

/**
 * A parsed Redis URI.
 *
 * @example
 * ```ts
 * import { parseRedisUri, type RedisUri } from "@seastreamer/seastreamer/redis";
 *
 * const uri: RedisUri = parseRedisUri("rediss://app:secret@cache:6380/1");
 * console.log(uri.tls, uri.username, uri.db, uri.redacted); // true app 1 rediss://app:***@cache:6380/1
 * ```
 */
export interface RedisUri {
  /** The hosts, in order (one for a single server; the seeds of a cluster). */
  hosts: { host: string; port: number }[];
  /** `rediss://`: connect with TLS. */
  tls: boolean;
  /** The user name (ACL), if given. */
  username?: string;
  /** The password, if given (never printed). */
  password?: string;
  /** The database number (default 0). */
  db: number;
  /** The URI with the password replaced by `***`. */
  redacted: string;
}

/**
 * Parse a Redis URI (a missing port is 6379, a missing db 0). Anything else is
 * `StreamError("StreamUrl")`.
 *
 * @example
 * ```ts
 * import { parseRedisUri } from "@seastreamer/seastreamer/redis";
 *
 * const uri = parseRedisUri("redis://app:secret@a:7000,b/2");
 * console.log(uri.hosts, uri.username, uri.db, uri.redacted);
 * // [ { host: "a", port: 7000 }, { host: "b", port: 6379 } ] app 2 redis://app:***@a:7000,b/2
 * ```
 */
export function parseRedisUri(uri: string): RedisUri {
  const match = /^(rediss?):\/\/(?:([^@/]*)@)?([^/]*)(?:\/(\d*))?\/?$/i.exec(uri);
  if (!match) {
    throw new StreamError(
      "StreamUrl",
      `a Redis URI is redis[s]://[user:password@]host[:port][,host:port...][/db], not ${
        redactUri(uri)
      }`,
    );
  }
  const [, scheme, userInfo, hostList, db] = match;
  const hosts = hostList.split(",").map((entry) => {
    const text = entry.trim();
    const parsed = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9._-]+)(?::(\d{1,5}))?$/.exec(text);
    if (!parsed) {
      throw new StreamError(
        "StreamUrl",
        `${JSON.stringify(text)} in ${redactUri(uri)} is not host or host:port`,
      );
    }
    const port = parsed[2] === undefined ? DEFAULT_REDIS_PORT : Number(parsed[2]);
    if (port < 1 || port > 65535) {
      throw new StreamError("StreamUrl", `port ${port} in ${redactUri(uri)} is out of range`);
    }
    const host = parsed[1].startsWith("[") ? parsed[1].slice(1, -1) : parsed[1];
    return { host, port };
  });
  const result: RedisUri = {
    hosts,
    tls: scheme.toLowerCase() === "rediss",
    db: db ? Number(db) : 0,
    redacted: redactUri(uri),
  };
  if (userInfo !== undefined && userInfo !== "") {
    const colon = userInfo.indexOf(":");
    const user = decodeUserInfo(colon < 0 ? userInfo : userInfo.slice(0, colon), uri);
    if (user !== "") result.username = user;
    if (colon >= 0) result.password = decodeUserInfo(userInfo.slice(colon + 1), uri);
  }
  return result;
}
