/**
 * Loading the NATS client (npm `@nats-io/transport-node` and
 * `@nats-io/jetstream`, optional peer dependencies loaded only when a `nats://`
 * URL is used) and opening a connection from a parsed URI: credentials, TLS,
 * reconnecting for ever.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetStreamManager } from "@nats-io/jetstream";
import { StreamError, type StreamErrorCode } from "../../types.ts";
import { messageOf, wrapError } from "../../core/errors.ts";
import { readFile } from "../../runtime/mod.ts";
import type { NatsConnectOptions } from "./options.ts";
import type { NatsUri } from "./url.ts";

type Transport = typeof import("@nats-io/transport-node");
type JetStream = typeof import("@nats-io/jetstream");

/** The two client modules. */
export interface NatsLibrary {
  /** `@nats-io/transport-node`: connections, subscriptions, headers. */
  transport: Transport;
  /** `@nats-io/jetstream`: the JetStream manager (streams, consumers). */
  jetstream: JetStream;
}

let loading: Promise<NatsLibrary> | undefined;

/** Load the client modules once; a missing one is `StreamError("Unsupported")` naming the packages. */
export function loadNats(): Promise<NatsLibrary> {
  loading ??= Promise.all([import("@nats-io/transport-node"), import("@nats-io/jetstream")]).then(
    ([transport, jetstream]) => ({ transport, jetstream }),
    (error) => {
      loading = undefined;
      throw new StreamError(
        "Unsupported",
        `nats: the NATS client is not installed: npm i @nats-io/transport-node @nats-io/jetstream (${
          messageOf(error)
        })`,
        { cause: error },
      );
    },
  );
  return loading;
}

/** `error` as a `StreamError` saying what failed on NATS; kept as `cause`. */
export function natsError(
  error: unknown,
  what: string,
  code: StreamErrorCode = "Backend",
): StreamError {
  return wrapError("nats", error, what, code);
}

/** The JetStream API error code of `error` (10059: stream not found...), if it is one. */
export function apiErrorCode(error: unknown): number | undefined {
  for (let e = error, depth = 0; e && depth < 4; depth++) {
    const api = (e as { api_error?: { err_code?: number } }).api_error;
    if (typeof api?.err_code === "number") return api.err_code;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "number" && code >= 10000) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** JetStream API error codes the backend tells apart. */
export const API = {
  consumerNotFound: 10014,
  streamNameInUse: 10058,
  streamNotFound: 10059,
} as const;

/** A connection and its JetStream manager. */
export interface NatsClient {
  /** The client modules. */
  lib: NatsLibrary;
  /** The connection. */
  nc: NatsConnection;
  /** Its JetStream manager. */
  jsm: JetStreamManager;
}

/** Connect to `uri` within `timeoutMs`; `StreamError("Connect")` if the server cannot be reached or refuses. */
export async function openClient(
  uri: NatsUri,
  options: NatsConnectOptions,
  timeoutMs: number,
): Promise<NatsClient> {
  const lib = await loadNats();
  const { transport } = lib;
  let authenticator;
  if (options.credentials !== undefined) {
    let creds: Uint8Array | undefined;
    try {
      creds = await readFile(options.credentials);
      if (creds === undefined) throw new Error("no such file");
    } catch (error) {
      throw new StreamError(
        "Connect",
        `nats: cannot read the credentials file ${options.credentials}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    authenticator = transport.credsAuthenticator(creds);
  }
  const tls = uri.tls || options.tls !== undefined ? { ...options.tls } : undefined;
  let nc: NatsConnection;
  try {
    nc = await transport.connect({
      servers: uri.servers,
      user: uri.user,
      pass: uri.pass,
      token: uri.token,
      authenticator,
      tls,
      name: options.name ?? "seastreamer",
      timeout: timeoutMs,
      // A streamer outlives outages: reconnect for ever, soon after a server is back.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      // No stack captured per request (publish acknowledgements, commits).
      noAsyncTraces: true,
    });
  } catch (error) {
    throw new StreamError(
      "Connect",
      `nats: cannot connect to ${uri.redacted}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  try {
    const jsm = await lib.jetstream.jetstreamManager(nc, { timeout: timeoutMs });
    return { lib, nc, jsm };
  } catch (error) {
    await nc.close().catch(() => {});
    throw new StreamError(
      "Connect",
      `nats: ${uri.redacted} has no JetStream (start nats-server with -js): ${messageOf(error)}`,
      { cause: error },
    );
  }
}
