/**
 * The Kafka backend (Apache Kafka, Redpanda and other Kafka-protocol brokers)
 * over npm `kafkajs` (the default) or npm `@platformatic/kafka`
 * (`kafka: { driver: "platformatic" }`), kept behind a small driver interface
 * ({@link KafkaDriver}).
 *
 * - URIs: `kafka://host:port,host:port` (seed brokers; `user:pass@` gives SASL
 *   PLAIN credentials); options in `ConnectOptions.kafka`: client id, SASL
 *   (plain, scram-sha-256, scram-sha-512), TLS, topic auto-creation and the
 *   partitions of created topics.
 * - A message's shardId is its partition, its seqNo its offset, its timestamp
 *   the record's timestamp; consumers deliver {@link KafkaMessage}s, which also
 *   carry the record's key and headers.
 * - Real-time consumers are alone in a private group (deleted on `end()`) and
 *   start at the end (or the beginning); resumable and load-balanced consumers
 *   are members of the named group and continue after its committed offsets
 *   (`commit(msg)` stores `msg.seqNo + 1`, the next offset to read).
 *
 * @example
 * ```ts ignore
 * import { connect } from "@seastreamer/seastreamer/kafka";
 *
 * const streamer = await connect("kafka://127.0.0.1:9092");
 * const consumer = await streamer.createConsumer(["orders"], {
 *   mode: "load-balanced",
 *   group: "billing",
 * });
 * for await (const message of consumer) console.log(message.payload.text());
 * ```
 *
 * @module
 */
export { capabilities } from "./capabilities.ts";
export { connect, type DriverFactory } from "./streamer.ts";
export { KafkaMessage } from "./message.ts";
export { pemTlsOptions } from "./driver.ts";
export { DEFAULT_KAFKA_PORT, kafkaDriverName, type KafkaUri, parseKafkaUri } from "./url.ts";
export type {
  BatchControl,
  ConsumerHandler,
  DriverConfig,
  DriverConsumer,
  DriverConsumerOptions,
  DriverProducer,
  DriverProducerOptions,
  FetchedRecord,
  GroupOffsets,
  KafkaDriver,
  OffsetSpec,
  PemTlsOptions,
  ProduceReceipt,
  ProduceReceipts,
  ProduceRecord,
} from "./driver.ts";
