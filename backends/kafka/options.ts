/**
 * The Kafka backend's options.
 *
 * @module
 */

/**
 * Options of the Kafka backend's streamer.
 *
 * @example Connecting fails with `StreamError("Connect")` within `timeoutMs` when no broker answers
 * ```ts
 * import { type KafkaConnectOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const kafka: KafkaConnectOptions = {
 *   clientId: "billing",
 *   partitions: 6,
 *   requestTimeoutMs: 5_000,
 * };
 * const uri = "kafka://127.0.0.1:1"; // nothing listens on port 1
 * const error = await SeaStreamer.connect(uri, { timeoutMs: 500, kafka }).catch((e) => e);
 * console.log(error.code); // Connect
 * ```
 */
export interface KafkaConnectOptions {
  /** The client id the broker sees (default `seastreamer`). */
  clientId?: string;
  /** SASL authentication. */
  sasl?: KafkaSaslOptions;
  /** TLS: `true` for the system's trust store, or explicit settings. */
  tls?: boolean | KafkaTlsOptions;
  /** Create topics that do not exist when producing or consuming (default true). */
  autoCreateTopics?: boolean;
  /**
   * The number of partitions of the topics this streamer creates (default: the
   * broker's `num.partitions`). Load-balanced consumers share a topic by partitions,
   * so a topic needs at least as many partitions as the group has members.
   */
  partitions?: number;
  /** How long one request to a broker may take, in milliseconds (default 30,000). */
  requestTimeoutMs?: number;
  /**
   * The Kafka client library: `"kafkajs"` (the default) or `"platformatic"`
   * (npm `@platformatic/kafka`, installed beside seastreamer). Also
   * `kafka://host:9092?driver=platformatic`, or the environment variable
   * `SEASTREAMER_KAFKA_DRIVER` for connections that name none.
   */
  driver?: KafkaDriverName;
}

/**
 * The Kafka client libraries seastreamer can drive.
 *
 * @example
 * ```ts ignore
 * import { type KafkaDriverName, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const driver: KafkaDriverName = "platformatic"; // npm i @platformatic/kafka
 * const streamer = await SeaStreamer.connect("kafka://127.0.0.1:9092", { kafka: { driver } });
 * ```
 */
export type KafkaDriverName = "kafkajs" | "platformatic";

/**
 * SASL credentials for Kafka.
 *
 * @example The password never shows in an error
 * ```ts
 * import { type KafkaSaslOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const sasl: KafkaSaslOptions = { mechanism: "scram-sha-512", username: "app", password: "s3cret" };
 * const uri = "kafka://127.0.0.1:1"; // nothing listens on port 1
 * const error = await SeaStreamer.connect(uri, { timeoutMs: 500, kafka: { sasl } }).catch((e) => e);
 * console.log(error.code, error.message.includes("s3cret")); // Connect false
 * ```
 */
export interface KafkaSaslOptions {
  /** The SASL mechanism. */
  mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
  /** User name. */
  username: string;
  /** Password; never printed in errors. */
  password: string;
}

/**
 * TLS settings of a Kafka connection.
 *
 * @example
 * ```ts ignore
 * import { type KafkaTlsOptions, SeaStreamer } from "@seastreamer/seastreamer";
 * import { readFile } from "@seastreamer/seastreamer/runtime";
 *
 * const tls: KafkaTlsOptions = {
 *   ca: await readFile("ca.pem"),
 *   cert: await readFile("client.pem"),
 * };
 * const streamer = await SeaStreamer.connect("kafka://broker:9093", { kafka: { tls } });
 * ```
 */
export interface KafkaTlsOptions {
  /** PEM certificate authorities to trust. */
  ca?: string | Uint8Array;
  /** PEM client certificate. */
  cert?: string | Uint8Array;
  /** PEM client key. */
  key?: string | Uint8Array;
  /** Check the broker's certificate (default true). */
  rejectUnauthorized?: boolean;
}

/**
 * Options of a Kafka producer (`ProducerOptions.kafka`).
 *
 * @example
 * ```ts ignore
 * import { type KafkaProducerOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const kafka: KafkaProducerOptions = { acks: -1, compression: "gzip" };
 * const streamer = await SeaStreamer.connect("kafka://127.0.0.1:9092");
 * const producer = await streamer.createProducer("orders", { kafka });
 * ```
 */
export interface KafkaProducerOptions {
  /** Acknowledgements to wait for: -1 (all, the default), 0 or 1. */
  acks?: -1 | 0 | 1;
  /** Batch compression. */
  compression?: "none" | "gzip";
  /** Use Kafka's idempotent producer. */
  idempotent?: boolean;
}

/**
 * Options of a Kafka consumer (`ConsumerOptions.kafka`).
 *
 * @example
 * ```ts ignore
 * import { type KafkaConsumerOptions, SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const kafka: KafkaConsumerOptions = { sessionTimeoutMs: 30_000 };
 * const streamer = await SeaStreamer.connect("kafka://127.0.0.1:9092");
 * const consumer = await streamer.createConsumer(["orders"], { mode: "resumable", group: "g", kafka });
 * ```
 */
export interface KafkaConsumerOptions {
  /**
   * The group session timeout, in milliseconds: a member that has not been heard
   * from for this long is dropped and its partitions go to the others (default
   * 10,000; the broker's `group.min.session.timeout.ms`, 6,000 by default, is the least).
   */
  sessionTimeoutMs?: number;
}
