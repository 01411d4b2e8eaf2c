/**
 * `SeaStreamer.connect(uri)`: picks the backend from the URI's protocol at run
 * time and loads only that backend, so a program that uses Redis never loads kafkajs.
 *
 * @module
 */
import { type ConnectOptions, redactUri, type Streamer, StreamError } from "./types.ts";

/** What a backend module provides. */
interface BackendModule {
  connect(uri: string, options?: ConnectOptions): Promise<Streamer>;
}

// Literal specifiers, so that bundlers and `deno pack` see (and rewrite) each one.
const BACKENDS: Record<string, () => Promise<BackendModule>> = {
  stdio: () => import("./backends/stdio/mod.ts"),
  file: () => import("./backends/file/mod.ts"),
  kafka: () => import("./backends/kafka/mod.ts"),
  redis: () => import("./backends/redis/mod.ts"),
  rediss: () => import("./backends/redis/mod.ts"),
  nats: () => import("./backends/nats/mod.ts"),
  "nats+tls": () => import("./backends/nats/mod.ts"),
  tls: () => import("./backends/nats/mod.ts"),
};

/**
 * The URI protocols {@link SeaStreamer.connect} understands.
 *
 * @example
 * ```ts
 * import { PROTOCOLS } from "@seastreamer/seastreamer";
 *
 * const uri = "stdio://";
 * console.log(PROTOCOLS.includes(uri.slice(0, uri.indexOf("://")))); // true
 * ```
 */
export const PROTOCOLS: readonly string[] = Object.keys(BACKENDS);

/**
 * The entry point: connect to a backend named by a URI.
 *
 * @example
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 *
 * await using streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * console.log(streamer.backend); // "stdio"
 * ```
 */
export class SeaStreamer {
  private constructor() {}

  /**
   * Connect to the backend `uri` names: `kafka://host:9092,host2:9092`,
   * `redis://user:pass@host:6379/0`, `rediss://…`, `stdio://`,
   * `file:///abs/path/data.ss` or `file://./rel/data.ss`. An unknown protocol
   * is `StreamError("Connect")`.
   */
  static async connect(uri: string, options: ConnectOptions = {}): Promise<Streamer> {
    if (typeof uri !== "string") {
      throw new StreamError("StreamUrl", `a streamer URI is a string, not ${typeof uri}`);
    }
    const sep = uri.indexOf("://");
    const protocol = sep > 0 ? uri.slice(0, sep).toLowerCase() : "";
    const load = Object.hasOwn(BACKENDS, protocol) ? BACKENDS[protocol] : undefined;
    if (!load) {
      throw new StreamError(
        "Connect",
        `unknown protocol in ${JSON.stringify(redactUri(uri))}: use one of ${
          PROTOCOLS.map((p) => `${p}://`).join(", ")
        }`,
      );
    }
    const backend = await load();
    return backend.connect(uri, options);
  }
}
