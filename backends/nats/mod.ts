/**
 * The NATS JetStream backend over npm `@nats-io/transport-node` and
 * `@nats-io/jetstream` (optional peer dependencies, loaded when a `nats://`
 * URL is first used).
 *
 * - URIs: `nats://[user:password@|token@]host[:port][,host:port...]`, `tls://…`
 *   or `nats+tls://…` (TLS; options in `ConnectOptions.nats.tls`); a
 *   credentials file with `ConnectOptions.nats.credentials`.
 * - Stream key `K` is the JetStream stream `K` (each `.` written `~`) with the
 *   subjects `K.*`; shard `N` is the subject `K.N`; seqNo is the stream sequence.
 * - A message key is the header `SeaStreamer-Key`; headers are NATS headers.
 * - Real-time consumers read an ephemeral pull consumer; resumable and
 *   load-balanced ones the group's durable pull consumer (named after the
 *   group); they deliver {@link NatsMessage}s.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@seastreamer/seastreamer/nats";
 *
 * const streamer = await connect("nats://127.0.0.1:4222");
 * const consumer = await streamer.createConsumer(["orders"], {
 *   mode: "resumable",
 *   group: "billing",
 * });
 * for await (const message of consumer) console.log(message.payload.text());
 * ```
 *
 * @module
 */
export { capabilities } from "./capabilities.ts";
export { connect } from "./streamer.ts";
export { KEY_HEADER, NatsHeader, NatsMessage } from "./message.ts";
export { jetStreamName, streamKeyOf, subjectOf } from "./mapping.ts";
export { DEFAULT_NATS_PORT, type NatsUri, parseNatsUri } from "./url.ts";
