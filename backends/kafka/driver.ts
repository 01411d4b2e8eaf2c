/**
 * The small interface the Kafka backend needs from a Kafka client library. The
 * streamer, producer and consumer of this backend speak only to it, so another
 * client can be added beside kafkajs without touching them.
 *
 * Offsets are `bigint`; a committed offset is the offset of the next record to
 * read (Kafka's rule), never the last one read.
 *
 * @module
 */
import type { Logger } from "../../types.ts";
import type { DriverProducer, DriverProducerOptions } from "./driver_producer.ts";

/**
 * Where and how to connect.
 *
 * @example
 * ```ts
 * import { type DriverConfig, parseKafkaUri } from "@seastreamer/seastreamer/kafka";
 *
 * // What `connect("kafka://app:secret@a,b:9093")` gives the driver factory:
 * const { brokers, credentials } = parseKafkaUri("kafka://app:secret@a,b:9093");
 * const config: DriverConfig = {
 *   brokers,
 *   clientId: "seastreamer",
 *   connectTimeoutMs: 10_000,
 *   requestTimeoutMs: 30_000,
 *   sasl: credentials && { mechanism: "plain", ...credentials },
 * };
 * console.log(config.brokers, config.sasl?.username); // [ "a:9092", "b:9093" ] app
 * ```
 */
export interface DriverConfig {
  /** `host:port` of the seed brokers. */
  brokers: string[];
  /** The client id the brokers see. */
  clientId: string;
  /** How long one connection attempt may take, ms. */
  connectTimeoutMs: number;
  /** How long one request may take, ms. */
  requestTimeoutMs: number;
  /** SASL credentials. */
  sasl?: {
    mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
    username: string;
    password: string;
  };
  /** TLS: true for the system's trust store, or explicit settings. */
  tls?: boolean | {
    ca?: string | Uint8Array;
    cert?: string | Uint8Array;
    key?: string | Uint8Array;
    rejectUnauthorized?: boolean;
  };
  /** Where the client's own log goes (connects, group joins, errors): the streamer's logger. */
  logger?: Logger;
}

/**
 * TLS settings as Node's `tls` takes them (PEM text), from explicit {@link DriverConfig.tls} settings.
 *
 * @example
 * ```ts
 * import type { PemTlsOptions } from "@seastreamer/seastreamer/kafka";
 *
 * const options: PemTlsOptions = { ca: "-----BEGIN CERTIFICATE-----…", rejectUnauthorized: true };
 * console.log(options.rejectUnauthorized); // true
 * ```
 */
export interface PemTlsOptions {
  /** The CAs to trust. */
  ca?: string;
  /** The client's certificate. */
  cert?: string;
  /** The client's key. */
  key?: string;
  /** Whether a certificate nobody trusts is refused. */
  rejectUnauthorized: boolean;
}

const pemDecoder = new TextDecoder();

/**
 * Explicit TLS settings with their PEM bytes as text and `rejectUnauthorized`
 * on unless turned off: what both client libraries take.
 *
 * @example
 * ```ts
 * import { pemTlsOptions } from "@seastreamer/seastreamer/kafka";
 *
 * const options = pemTlsOptions({ ca: new TextEncoder().encode("-----BEGIN CERTIFICATE-----") });
 * console.log(options); // { ca: "-----BEGIN CERTIFICATE-----", cert: undefined, key: undefined, rejectUnauthorized: true }
 * ```
 */
export function pemTlsOptions(
  tls: Exclude<DriverConfig["tls"], boolean | undefined>,
): PemTlsOptions {
  const text = (value: string | Uint8Array | undefined) =>
    value === undefined || typeof value === "string" ? value : pemDecoder.decode(value);
  return {
    ca: text(tls.ca),
    cert: text(tls.cert),
    key: text(tls.key),
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  };
}

export type {
  DriverProducer,
  DriverProducerOptions,
  ProduceReceipt,
  ProduceReceipts,
  ProduceRecord,
} from "./driver_producer.ts";

/**
 * A fetched record.
 *
 * @example
 * ```ts
 * import { type FetchedRecord, KafkaMessage } from "@seastreamer/seastreamer/kafka";
 *
 * const record: FetchedRecord = {
 *   offset: 7n,
 *   timestamp: Date.UTC(2026, 0, 1),
 *   value: new TextEncoder().encode("hi"),
 *   key: undefined,
 *   headers: undefined,
 * };
 * const message = new KafkaMessage("orders", 0, record); // what a Kafka consumer delivers
 * console.log(message.header.seqNo, message.payload.text()); // 7n hi
 * ```
 */
export interface FetchedRecord {
  /** Its offset. */
  offset: bigint;
  /** Its timestamp, ms since the epoch. */
  timestamp: number;
  /** Its value (empty for a null value); may be a Node `Buffer` (the payload hands out a plain view). */
  value: Uint8Array;
  /** Its key, if any. */
  key: Uint8Array | undefined;
  /** Its headers (values as UTF-8 text). */
  headers: Record<string, string> | undefined;
}

/**
 * What a consumer's records handler may do while it holds a batch.
 *
 * @example
 * ```ts
 * import type { BatchControl } from "@seastreamer/seastreamer/kafka";
 *
 * // A driver's control of one fetched batch: a seek after the fetch makes it stale.
 * let seeks = 0;
 * const seeksAtFetch = seeks;
 * const control: BatchControl = {
 *   heartbeat: async () => {}, // kafkajs: the batch's own heartbeat()
 *   stale: () => seeks !== seeksAtFetch,
 * };
 * seeks++; // the consumer seeked meanwhile
 * console.log(control.stale()); // true: the handler drops the batch
 * ```
 */
export interface BatchControl {
  /**
   * Tell the group coordinator this member is alive. Throws when the group is
   * rebalancing: let the error propagate, the driver re-joins.
   */
  heartbeat(): Promise<void>;
  /** Whether a seek made this batch obsolete (its records must be dropped). */
  stale(): boolean;
  /** The partition's high-water mark (the offset after its last record), if the client says. */
  readonly highWatermark?: bigint;
}

/**
 * The consumer's side of a driver consumer.
 *
 * @example What a driver does with the handler seastreamer gives it
 * ```ts
 * import type { ConsumerHandler, FetchedRecord } from "@seastreamer/seastreamer/kafka";
 *
 * async function deliver(handler: ConsumerHandler, topic: string, records: FetchedRecord[]) {
 *   handler.onAssigned(new Map([[topic, [0]]])); // after joining the group
 *   await handler.onRecords(topic, 0, records, { heartbeat: async () => {}, stale: () => false });
 * }
 * const handler: ConsumerHandler = {
 *   onAssigned: (assignment) => console.log(assignment), // Map(1) { "orders" => [ 0 ] }
 *   onRecords: async (topic, _partition, records) => console.log(topic, records.length), // orders 0
 *   onFatal: (error) => console.error(error),
 * };
 * await deliver(handler, "orders", []);
 * ```
 */
export interface ConsumerHandler {
  /**
   * This member now holds `assignment` (topic → partitions): called after every
   * (re)join, before any record of the new generation.
   */
  onAssigned(assignment: Map<string, number[]>): void;
  /**
   * Records of one partition, in offset order. The driver fetches no more from
   * its queue until this resolves (backpressure); call `control.heartbeat()`
   * while waiting.
   */
  onRecords(
    topic: string,
    partition: number,
    records: FetchedRecord[],
    control: BatchControl,
  ): Promise<void>;
  /** The consumer failed for good and will fetch nothing more. */
  onFatal(error: unknown): void;
}

/**
 * Options of a driver consumer.
 *
 * @example
 * ```ts
 * import type {
 *   ConsumerHandler,
 *   DriverConsumerOptions,
 *   KafkaDriver,
 * } from "@seastreamer/seastreamer/kafka";
 *
 * // What a resumable consumer of group "billing" starting at "earliest" asks its driver for:
 * const options: DriverConsumerOptions = {
 *   group: "billing",
 *   topics: ["orders"],
 *   fromBeginning: true,
 *   sessionTimeoutMs: 10_000,
 *   heartbeatIntervalMs: 3_000,
 *   maxWaitMs: 100,
 * };
 * const join = (driver: KafkaDriver, handler: ConsumerHandler) =>
 *   driver.consumer(options, handler).start();
 * ```
 */
export interface DriverConsumerOptions {
  /** The group id. */
  group: string;
  /** The topics to subscribe to. */
  topics: string[];
  /** Where a partition without a committed offset starts. */
  fromBeginning: boolean;
  /** The group session timeout, ms. */
  sessionTimeoutMs: number;
  /** How often to heartbeat, ms. */
  heartbeatIntervalMs: number;
  /** The longest a fetch waits on the broker for new records, ms. */
  maxWaitMs: number;
}

/**
 * One member of a consumer group.
 *
 * @example
 * ```ts ignore
 * import type {
 *   ConsumerHandler,
 *   DriverConsumer,
 *   KafkaDriver,
 * } from "@seastreamer/seastreamer/kafka";
 *
 * declare const driver: KafkaDriver;
 * declare const handler: ConsumerHandler;
 * const member: DriverConsumer = driver.consumer({
 *   group: "billing",
 *   topics: ["orders"],
 *   fromBeginning: true,
 *   sessionTimeoutMs: 10_000,
 *   heartbeatIntervalMs: 3_000,
 *   maxWaitMs: 100,
 * }, handler);
 * await member.start(); // joined: handler.onAssigned was called
 * member.seek("orders", 0, 42n);
 * await member.commit([{ topic: "orders", partition: 0, offset: 43n }]);
 * await member.stop();
 * ```
 */
export interface DriverConsumer {
  /** Connect, join the group and start fetching; resolves once the first join is done. */
  start(): Promise<void>;
  /** Fetch `partition` of `topic` from `offset` next (a batch already held becomes stale). */
  seek(topic: string, partition: number, offset: bigint): void;
  /** Stop fetching these partitions. */
  pause(topic: string, partitions: number[]): void;
  /** Fetch these partitions again. */
  resume(topic: string, partitions: number[]): void;
  /**
   * Commit, for each partition, the offset of the next record to read. Rejects
   * if the offsets were not stored (for example during a rebalance).
   */
  commit(offsets: readonly { topic: string; partition: number; offset: bigint }[]): Promise<void>;
  /** Stop fetching, leave the group, disconnect. */
  stop(): Promise<void>;
}

/**
 * The offsets a time or an end of the log maps to.
 *
 * @example
 * ```ts ignore
 * import type { KafkaDriver, OffsetSpec } from "@seastreamer/seastreamer/kafka";
 *
 * declare const driver: KafkaDriver;
 * const spec: OffsetSpec = new Date("2026-01-01T00:00:00Z");
 * const offsets = await driver.offsets("orders", spec); // partition -> first offset at or after the date
 * ```
 */
export type OffsetSpec = "earliest" | "latest" | Date;

/**
 * A consumer group of a topic, as {@link KafkaDriver.groups} reports it.
 *
 * @example
 * ```ts
 * import type { GroupOffsets } from "@seastreamer/seastreamer/kafka";
 *
 * const group: GroupOffsets = { name: "billing", members: 1, committed: new Map([[0, 42n]]) };
 * console.log(group.committed.get(0)); // 42n
 * ```
 */
export interface GroupOffsets {
  /** The group id. */
  name: string;
  /** Its members now. */
  members: number;
  /** Its committed offset (the next to read) per partition of the topic. */
  committed: Map<number, bigint>;
}

/**
 * A connection to a Kafka cluster.
 *
 * @example
 * ```ts ignore
 * import { connect, type KafkaDriver } from "@seastreamer/seastreamer/kafka";
 * import { MyKafkaDriver } from "./my_kafka_driver.ts"; // implements KafkaDriver over another client
 *
 * const streamer = await connect("kafka://127.0.0.1:9092", {}, (config): KafkaDriver => {
 *   return new MyKafkaDriver(config); // config: brokers, client id, SASL, TLS, timeouts
 * });
 * ```
 */
export interface KafkaDriver {
  /** Check that the cluster answers (and accepts the credentials). */
  connect(): Promise<void>;
  /** Every topic's name (internal ones too). */
  topics(): Promise<string[]>;
  /** The partition ids of each of `topics` that exists. */
  partitions(topics: readonly string[]): Promise<Map<string, number[]>>;
  /** Create those of `topics` that do not exist, with `partitions` partitions (default: the broker's). */
  createTopics(topics: readonly string[], partitions?: number): Promise<void>;
  /**
   * Per partition of `topic`: the first offset, the end (next offset to be
   * written), or the first offset whose timestamp is >= a date (the end if none).
   */
  offsets(topic: string, spec: OffsetSpec): Promise<Map<number, bigint>>;
  /** The group's committed offsets of `topic` per partition (absent: none committed). */
  committed(group: string, topic: string): Promise<Map<number, bigint>>;
  /** Delete a group that has no members (best effort). */
  deleteGroup(group: string): Promise<void>;
  /**
   * The groups that committed offsets of `topic`: their members and committed
   * offsets per partition. Absent: describing a stream reports no groups.
   */
  groups?(topic: string): Promise<GroupOffsets[]>;
  /**
   * Set `group`'s committed offsets of `topic` (the group must have no members).
   * Absent: `resetGroup` is `Unsupported`.
   */
  setOffsets?(group: string, topic: string, offsets: Map<number, bigint>): Promise<void>;
  /**
   * Delete the records of `topic` below the given offset per partition. Absent:
   * `trimStream` is `Unsupported`.
   */
  deleteRecords?(topic: string, offsets: Map<number, bigint>): Promise<void>;
  /** A new producer. */
  producer(options: DriverProducerOptions): DriverProducer;
  /** A new group member delivering to `handler`. */
  consumer(options: DriverConsumerOptions, handler: ConsumerHandler): DriverConsumer;
  /** Close the connections opened by `connect` and the queries. */
  close(): Promise<void>;
}
