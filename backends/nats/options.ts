/**
 * The NATS backend's options, composed into the shared option types by
 * types.ts (`ConnectOptions.nats`, `ConsumerOptions.nats`).
 *
 * @module
 */

/**
 * Options of the NATS backend's streamer.
 *
 * @example
 * ```ts ignore
 * import { type NatsConnectOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const nats: NatsConnectOptions = { credentials: "/etc/nats/app.creds", name: "billing" };
 * const streamer = await SeaStreamer.connect("tls://nats.internal:4222", { nats });
 * ```
 */
export interface NatsConnectOptions {
  /** A credentials file (`.creds`: a user JWT and its NKey seed) to authenticate with. */
  credentials?: string;
  /** TLS settings (`tls://` or `nats+tls://` URLs, or a server that requires TLS). */
  tls?: NatsTlsOptions;
  /** The connection's name, shown by the server's monitoring. */
  name?: string;
  /** Where the JetStream streams this streamer creates keep messages (default `file`). */
  storage?: "file" | "memory";
  /** Replicas of the JetStream streams this streamer creates (default 1). */
  replicas?: number;
}

/**
 * TLS settings of a NATS connection.
 *
 * @example
 * ```ts ignore
 * import { type NatsTlsOptions, SeaStreamer } from "@seastreamer/seastreamer";
 * import { readFile } from "@seastreamer/seastreamer/runtime";
 *
 * const tls: NatsTlsOptions = { ca: new TextDecoder().decode(await readFile("ca.pem")) };
 * const streamer = await SeaStreamer.connect("tls://nats.internal:4222", { nats: { tls } });
 * ```
 */
export interface NatsTlsOptions {
  /** PEM certificate authorities to trust. */
  ca?: string;
  /** PEM client certificate. */
  cert?: string;
  /** PEM client key. */
  key?: string;
}

/**
 * Options of a NATS consumer.
 *
 * @example
 * ```ts ignore
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const streamer = await SeaStreamer.connect("nats://127.0.0.1:4222");
 * const member = await streamer.createConsumer(["orders"], {
 *   mode: "load-balanced",
 *   group: "billing",
 *   nats: { ackWaitMs: 5_000 }, // a dead member's messages move on after 5 s
 * });
 * ```
 */
export interface NatsConsumerOptions {
  /**
   * How long the server waits for a group member to commit a message before it
   * delivers it again (the durable consumer's `ack_wait`), ms (default 30,000).
   * Set when the group's durable consumer is created.
   */
  ackWaitMs?: number;
}
