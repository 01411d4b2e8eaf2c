/**
 * The producing side of the Kafka client interface (backends/kafka/driver.ts):
 * records to write, and what each send returns.
 *
 * @module
 */
import type { MessageHeader } from "../../types.ts";

/**
 * A record to produce. The producer hands its queued sends over as they are
 * (no copy per record): the stream key is the topic, the key and the header
 * values are strings (the producer checks).
 *
 * @example
 * ```ts
 * import type { DriverProducer, ProduceRecord } from "@seastreamer/seastreamer/kafka";
 *
 * const record: ProduceRecord = {
 *   streamKey: "orders",
 *   payload: '{"id":1}',
 *   options: { key: "customer-7", headers: { source: "web" } }, // the partition follows the key
 * };
 * const write = (producer: DriverProducer) => producer.send([record], Date.now());
 * ```
 */
export interface ProduceRecord {
  /** Its topic. */
  readonly streamKey: string;
  /** Its value: text is written as UTF-8. */
  readonly payload: string | Uint8Array;
  /** Its key (partitions by it) and headers, if any. */
  readonly options?: {
    readonly key?: string;
    readonly headers?: Readonly<Record<string, string>>;
  };
}

/**
 * Where a produced record landed, as a seastreamer receipt: the topic, the
 * partition, the offset (-1 with acks=0: the broker says nothing) and the
 * timestamp as stored (the broker's LogAppendTime if the topic uses it).
 *
 * @example
 * ```ts
 * import type { DriverProducer, ProduceReceipt } from "@seastreamer/seastreamer/kafka";
 *
 * // A driver producer that keeps records in memory (a stand-in for a broker, one partition).
 * let offset = 0n;
 * const producer: DriverProducer = {
 *   connect: async () => {},
 *   send: async (records, timestamp) =>
 *     records.map((record): ProduceReceipt => ({
 *       streamKey: record.streamKey,
 *       shardId: 0,
 *       seqNo: offset++,
 *       timestamp: new Date(timestamp),
 *     })),
 *   close: async () => {},
 * };
 * const receipts = await producer.send([{ streamKey: "orders", payload: new Uint8Array() }], 0);
 * console.log(receipts.at(0)); // { streamKey: "orders", shardId: 0, seqNo: 0n, timestamp: 1970-01-01T00:00:00.000Z }
 * ```
 */
export type ProduceReceipt = MessageHeader;

/**
 * What a driver producer's send returns: per record, in order, its receipt or
 * why it was not written. An array, or an object that makes each when asked
 * (a driver that knows a request's base offset then makes no receipt nobody reads).
 *
 * @example
 * ```ts
 * import type { ProduceReceipt, ProduceReceipts } from "@seastreamer/seastreamer/kafka";
 *
 * // Three records written from offset 40 of partition 0, their receipts made when read.
 * const receipts: ProduceReceipts = {
 *   length: 3,
 *   at: (index): ProduceReceipt | undefined =>
 *     index < 3
 *       ? { streamKey: "orders", shardId: 0, seqNo: 40n + BigInt(index), timestamp: new Date(0) }
 *       : undefined,
 * };
 * const third = receipts.at(2);
 * if (third instanceof Error || third === undefined) throw new Error("not written");
 * console.log(third.seqNo); // 42n
 * ```
 */
export interface ProduceReceipts {
  /** How many: one per record sent. */
  readonly length: number;
  /** The receipt of record `index`, or the error it failed with (`undefined` past the end). */
  at(index: number): ProduceReceipt | Error | undefined;
  /** Whether record `index` was written (optional: tells it without making a receipt). */
  written?(index: number): boolean;
}

/**
 * Options of a driver producer.
 *
 * @example
 * ```ts
 * import type { DriverProducerOptions, KafkaDriver } from "@seastreamer/seastreamer/kafka";
 *
 * // What a producer made with `kafka: { acks: 1, compression: "gzip" }` asks its driver for:
 * const options: DriverProducerOptions = {
 *   acks: 1,
 *   compression: "gzip",
 *   idempotent: false,
 *   allowAutoTopicCreation: true,
 * };
 * const start = async (driver: KafkaDriver) => {
 *   const producer = driver.producer(options);
 *   await producer.connect(["orders"]); // the topic it will write to, known to exist
 *   return producer;
 * };
 * ```
 */
export interface DriverProducerOptions {
  /** -1 (all in-sync replicas), 0 or 1. */
  acks: -1 | 0 | 1;
  /** Batch compression. */
  compression: "none" | "gzip";
  /** Idempotent producer (no duplicates from the client's retries). */
  idempotent: boolean;
  /** Create topics the broker does not know (broker-side auto creation). */
  allowAutoTopicCreation: boolean;
}

/**
 * Writes records.
 *
 * @example An in-memory driver producer (a stand-in for a broker)
 * ```ts
 * import type { DriverProducer, ProduceRecord } from "@seastreamer/seastreamer/kafka";
 *
 * const log: ProduceRecord[] = [];
 * const producer: DriverProducer = {
 *   connect: async () => {},
 *   send: async (records, timestamp) =>
 *     records.map((record) => {
 *       log.push(record);
 *       const seqNo = BigInt(log.length - 1);
 *       return { streamKey: record.streamKey, shardId: 0, seqNo, timestamp: new Date(timestamp) };
 *     }),
 *   close: async () => {},
 * };
 * await producer.send([{ streamKey: "orders", payload: "hi" }], 0);
 * console.log(log.length); // 1
 * ```
 */
export interface DriverProducer {
  /**
   * Connect. `topics` (maybe none) exist and are where an anchored producer
   * writes: a client may look up their leaders now, to spare the first send.
   */
  connect(topics: readonly string[]): Promise<void>;
  /**
   * Write `records` in order, stamped `timestamp` (ms since the epoch, CreateTime);
   * per record, in the same order, its receipt or why it was not written. Throws
   * if none could be.
   */
  send(records: readonly ProduceRecord[], timestamp: number): Promise<ProduceReceipts>;
  /** Disconnect. */
  close(): Promise<void>;
}
