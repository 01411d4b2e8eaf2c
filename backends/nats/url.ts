/**
 * NATS streamer URIs: `nats://[user:password@|token@]host[:port][,host[:port]...]`,
 * and `tls://…` or `nats+tls://…` for TLS. Several hosts are servers of one cluster.
 *
 * @module
 */
import { redactUri, StreamError } from "../../types.ts";
import { decodeUserInfo } from "../../core/url.ts";

/**
 * The default NATS port.
 *
 * @example
 * ```ts
 * import { DEFAULT_NATS_PORT, parseNatsUri } from "@seastreamer/seastreamer/nats";
 *
 * console.log(parseNatsUri("nats://broker").servers[0] === `broker:${DEFAULT_NATS_PORT}`); // true
 * ```
 */
export const DEFAULT_NATS_PORT = 4222;

/**
 * A parsed NATS URI.
 *
 * @example
 * ```ts
 * import { type NatsUri, parseNatsUri } from "@seastreamer/seastreamer/nats";
 *
 * const uri: NatsUri = parseNatsUri("tls://app:secret@a:4443,b");
 * console.log(uri.servers, uri.tls, uri.user, uri.redacted);
 * // [ "a:4443", "b:4222" ] true app tls://app:***@a:4443,b
 * ```
 */
export interface NatsUri {
  /** The servers as `host:port`, in order. */
  servers: string[];
  /** `tls://` or `nats+tls://`: connect with TLS. */
  tls: boolean;
  /** The user name, if given. */
  user?: string;
  /** The password, if given (never printed). */
  pass?: string;
  /** The token, if the user info is a single word (never printed). */
  token?: string;
  /** The URI with the password or token replaced by `***`. */
  redacted: string;
}

/**
 * Parse a NATS URI (a missing port is 4222). Anything else is `StreamError("StreamUrl")`.
 *
 * @example
 * ```ts
 * import { parseNatsUri } from "@seastreamer/seastreamer/nats";
 *
 * const uri = parseNatsUri("nats://s3cret@127.0.0.1");
 * console.log(uri.servers, uri.token === "s3cret", uri.redacted); // [ "127.0.0.1:4222" ] true nats://***@127.0.0.1
 * ```
 */
export function parseNatsUri(uri: string): NatsUri {
  const redacted = redactUri(uri);
  const match = /^(nats|tls|nats\+tls):\/\/(?:([^@/]*)@)?([^/]*)\/?$/i.exec(uri);
  if (!match) {
    throw new StreamError(
      "StreamUrl",
      `a NATS URI is nats://[user:password@|token@]host[:port][,host:port...] (or tls://, nats+tls://), not ${redacted}`,
    );
  }
  const [, scheme, userInfo, hostList] = match;
  const servers = hostList.split(",").map((entry) => {
    const text = entry.trim();
    const parsed = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9._-]+)(?::(\d{1,5}))?$/.exec(text);
    if (!parsed) {
      throw new StreamError(
        "StreamUrl",
        `${JSON.stringify(text)} in ${redacted} is not host or host:port`,
      );
    }
    const port = parsed[2] === undefined ? DEFAULT_NATS_PORT : Number(parsed[2]);
    if (port < 1 || port > 65535) {
      throw new StreamError("StreamUrl", `port ${port} in ${redacted} is out of range`);
    }
    return `${parsed[1]}:${port}`;
  });
  const result: NatsUri = { servers, tls: scheme.toLowerCase() !== "nats", redacted };
  if (userInfo !== undefined && userInfo !== "") {
    const colon = userInfo.indexOf(":");
    if (colon < 0) {
      result.token = decodeUserInfo(userInfo, redacted);
    } else {
      result.user = decodeUserInfo(userInfo.slice(0, colon), redacted);
      result.pass = decodeUserInfo(userInfo.slice(colon + 1), redacted);
    }
  }
  return result;
}
