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
import type { MessageHeader } from "../../types.ts";

/** Where and how to connect. */
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
}

/** A record to produce. */
export interface ProduceRecord {
  /** Its topic. */
  topic: string;
  /** Its value. */
  value: Uint8Array;
  /** Its key (partitions by it). */
  key?: string;
  /** Its headers. */
  headers?: Record<string, string>;
  /** Its timestamp, ms since the epoch (CreateTime). */
  timestamp: number;
}

/**
 * Where a produced record landed, as a seastreamer receipt: the topic, the
 * partition, the offset (-1 with acks=0: the broker says nothing) and the
 * timestamp as stored (the broker's LogAppendTime if the topic uses it).
 */
export type ProduceReceipt = MessageHeader;

/** Options of a driver producer. */
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

/** Writes records. */
export interface DriverProducer {
  /** Connect. */
  connect(): Promise<void>;
  /**
   * Write `records` in order; per record, in the same order, its receipt or why
   * it was not written. Throws if none could be.
   */
  send(records: readonly ProduceRecord[]): Promise<(ProduceReceipt | Error)[]>;
  /** Disconnect. */
  close(): Promise<void>;
}

/** A fetched record. */
export interface FetchedRecord {
  /** Its offset. */
  offset: bigint;
  /** Its timestamp, ms since the epoch. */
  timestamp: number;
  /** Its value (empty for a null value). */
  value: Uint8Array;
  /** Its key, if any. */
  key: Uint8Array | undefined;
  /** Its headers (values as UTF-8 text). */
  headers: Record<string, string> | undefined;
}

/** What a consumer's records handler may do while it holds a batch. */
export interface BatchControl {
  /**
   * Tell the group coordinator this member is alive. Throws when the group is
   * rebalancing: let the error propagate, the driver re-joins.
   */
  heartbeat(): Promise<void>;
  /** Whether a seek made this batch obsolete (its records must be dropped). */
  stale(): boolean;
}

/** The consumer's side of a driver consumer. */
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

/** Options of a driver consumer. */
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

/** One member of a consumer group. */
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

/** The offsets a time or an end of the log maps to. */
export type OffsetSpec = "earliest" | "latest" | Date;

/** A connection to a Kafka cluster. */
export interface KafkaDriver {
  /** Check that the cluster answers (and accepts the credentials). */
  connect(): Promise<void>;
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
  /** A new producer. */
  producer(options: DriverProducerOptions): DriverProducer;
  /** A new group member delivering to `handler`. */
  consumer(options: DriverConsumerOptions, handler: ConsumerHandler): DriverConsumer;
  /** Close the connections opened by `connect` and the queries. */
  close(): Promise<void>;
}
