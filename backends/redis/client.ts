/**
 * Making, connecting and closing ioredis clients (a single server or a
 * cluster) from a parsed URI. Commands queue while a connection is down and are
 * retried after it comes back (with backoff), so queued sends are not lost.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import type { Cluster, Redis, RedisOptions } from "ioredis";
import { ioredis } from "./library.ts";
import type { Logger, RedisConnectOptions } from "../../types.ts";
import { timeout } from "../../runtime/mod.ts";
import { bufferView } from "../../runtime/bytes.ts";
import type { RedisUri } from "./url.ts";
import { backendError, messageOf, withoutSecrets } from "./errors.ts";
import { StreamError } from "../../types.ts";

/** A connection to a server or to a cluster. */
export type RedisClient = Redis | Cluster;

/** The wait before reconnect attempt `times` (1, 2, …), ms: 50, 100, … up to 2 s. */
export function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times - 1, 6), 2000);
}

/** Everything {@link openClient} needs. */
export interface ClientConfig {
  /** The parsed URI. */
  uri: RedisUri;
  /** The backend's connect options. */
  options: RedisConnectOptions;
  /** How long one connection attempt may take, ms. */
  connectTimeoutMs: number;
}

/** PEM text or bytes as Node's TLS takes them (a string or a Buffer). */
function pem(value: string | Uint8Array | undefined): string | Buffer | undefined {
  if (value === undefined || typeof value === "string") return value;
  return bufferView(value);
}

function baseOptions(config: ClientConfig): RedisOptions {
  const { uri, options } = config;
  const tls = uri.tls || options.tls !== undefined
    ? {
      ca: pem(options.tls?.ca),
      cert: pem(options.tls?.cert),
      key: pem(options.tls?.key),
      rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
      servername: options.tls?.servername,
    }
    : undefined;
  return {
    username: uri.username,
    password: uri.password,
    tls,
    connectionName: options.connectionName,
    connectTimeout: config.connectTimeoutMs,
    lazyConnect: true,
    // Keep commands while the connection is down, resend them once it is back.
    maxRetriesPerRequest: null,
    autoResendUnfulfilledCommands: true,
    enableOfflineQueue: true,
  };
}

/** Whether `config` names a cluster (several hosts, or the `cluster` option). */
export function isCluster(config: ClientConfig): boolean {
  return config.options.cluster === true || config.uri.hosts.length > 1;
}

/** A new, not yet connected client for `config`. */
export function openClient(config: ClientConfig): RedisClient {
  const base = baseOptions(config);
  if (isCluster(config)) {
    if (config.uri.db !== 0) {
      throw new StreamError("StreamUrl", `a Redis Cluster has only db 0: ${config.uri.redacted}`);
    }
    const { lazyConnect: _, enableOfflineQueue: __, ...redisOptions } = base;
    return new (ioredis().Cluster)(config.uri.hosts, {
      lazyConnect: true,
      enableOfflineQueue: true,
      redisOptions,
      clusterRetryStrategy: reconnectDelay,
      // Entries in flight when a slot moves are retried on the new owner.
      maxRedirections: 32,
    });
  }
  const [{ host, port }] = config.uri.hosts;
  return new (ioredis().Redis)({
    ...base,
    host,
    port,
    db: config.uri.db,
    retryStrategy: reconnectDelay,
  });
}

/** Connect `client` within `timeoutMs`, else close it and throw `StreamError("Connect")`. */
export async function connectClient(
  client: RedisClient,
  timeoutMs: number,
  redacted: string,
  logger?: Logger,
): Promise<void> {
  // The connection's own error (a refused password, an untrusted certificate) says more
  // than the "Connection is closed." that connect() then rejects with.
  let reason: unknown;
  const onError = (error: unknown) => reason ??= error;
  client.on("error", onError);
  try {
    await timeout(client.connect(), timeoutMs, `connecting to ${redacted}`);
    await timeout(client.call("PING"), timeoutMs, `pinging ${redacted}`);
  } catch (error) {
    client.disconnect();
    const cause = withoutSecrets(reason ?? error);
    throw new StreamError(
      "Connect",
      `redis: cannot connect to ${redacted}: ${messageOf(cause)}`,
      { cause },
    );
  } finally {
    client.off("error", onError);
  }
  logger?.debug(`redis: connected to ${redacted}`);
  // Afterwards ioredis reconnects by itself and reports failures through commands; the
  // logger hears of the drops and reconnects.
  client.on("error", (error: unknown) => {
    logger?.warn(`redis: ${redacted}: ${messageOf(withoutSecrets(error))}`);
  });
  if (logger) {
    client.on("reconnecting", (delay: unknown) => {
      logger.info(`redis: reconnecting to ${redacted} in ${delay} ms`);
    });
    client.on("ready", () => logger.info(`redis: connected again to ${redacted}`));
  }
}

/** A second connection like `client` (for blocking reads), connected. */
export async function duplicateClient(
  client: RedisClient,
  timeoutMs: number,
  redacted: string,
  options: { resend?: boolean; logger?: Logger } = {},
): Promise<RedisClient> {
  // `resend: false` (one server only): a command in flight when the connection drops is not sent
  // again after the reconnect (an XREADGROUP > sent twice loses the first one's entries).
  // ioredis then never settles it: the caller must watch for the connection's "close".
  const copy = options.resend === false && !(client instanceof ioredis().Cluster)
    ? client.duplicate({ autoResendUnfulfilledCommands: false })
    : client.duplicate();
  await connectClient(copy, timeoutMs, redacted, options.logger);
  return copy;
}

/** Close `client`: QUIT (replies to sent commands arrive first), or drop it after a while. */
export async function closeClient(client: RedisClient): Promise<void> {
  if (client.status === "end") return;
  try {
    await timeout(client.quit(), 2000, "closing the connection");
  } catch {
    // A connection that is down cannot say goodbye.
  } finally {
    client.disconnect();
  }
}

/** The master nodes of a cluster, or the client itself. */
export function masters(client: RedisClient): Redis[] {
  return client instanceof ioredis().Cluster ? client.nodes("master") : [client];
}

/** Run `command` on `client`, wrapping failures as `StreamError("Backend")`. */
export async function run<T>(what: string, command: Promise<unknown>): Promise<T> {
  try {
    return await command as T;
  } catch (error) {
    throw backendError(error, what);
  }
}
