/**
 * The {@link KafkaDriver} over kafkajs (npm `kafkajs` 2.x).
 *
 * kafkajs is no longer maintained; this file keeps its known traps away from
 * the rest of the backend:
 *
 * - Heartbeats stop while a handler runs: the backend's handler only moves
 *   records into the prefetch queue and heartbeats while it waits for room, so
 *   no heartbeat ever waits on user code.
 * - REBALANCE_IN_PROGRESS (and a lost membership) end the runner: the consumer is
 *   restarted by kafkajs only for "retriable" crashes; we ask it to restart on every
 *   crash while the consumer is open, and re-position it on the next join.
 * - A consumer keeps consuming after stop: `stop()` called during a join returns
 *   at once and the join then starts fetching; we wait for a join in progress
 *   before stopping, refuse restarts after stop, and drop whatever still arrives.
 * - A member that does not leave cleanly: `stop()` only leaves when the runner
 *   runs, so stopping after the join completes makes it send LeaveGroup.
 * - `commitOffsets()` silently does nothing while the runner is not running: a
 *   commit is only reported done when kafkajs says it stored it.
 * - `sendBatch()` re-partitions messages without a key on each retry (a retry
 *   after a partial failure could duplicate some and lose others): each message's
 *   partition is chosen once and kept.
 * - `sendBatch()` retried after a partition's leader moved to a broker that had
 *   already answered never sends that partition's records, and still succeeds:
 *   a record without a response for its partition is sent again, and fails if it
 *   still has none, so no unwritten record is ever acknowledged (the 3-broker test
 *   caught this).
 * - kafkajs caches topic metadata for minutes, and caches a topic seen during its
 *   creation without partitions: consumers refresh every 5 s, admin queries retry
 *   with a fresh client.
 * - Every kafkajs connection re-arms a 1 ms timer forever once used, even when
 *   idle: the connections of our clients skip it when nothing waits.
 * - kafkajs logs to the console: it is silent unless `KAFKAJS_LOG_LEVEL` is set.
 * - On Deno, kafkajs reads environment variables when it is loaded, which
 *   needs `--allow-env`; it is loaded on first use, so a program without the
 *   permission gets a `StreamError("Runtime")` that names the variables.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import type {
  Admin,
  Consumer as KafkajsConsumer,
  IHeaders,
  Kafka,
  KafkaConfig,
  KafkaMessage,
  Message as KafkajsMessage,
  PartitionerArgs,
  Producer as KafkajsProducer,
  RecordMetadata,
  SASLOptions,
} from "kafkajs";
import { framedSocketFactory } from "./framed_socket.ts";
import { StreamError } from "../../types.ts";
import { LazyHeader } from "../../core/header.ts";
import type {
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
  ProduceReceipt,
  ProduceRecord,
} from "./driver.ts";

function toBuffer(bytes: Uint8Array): Buffer {
  // kafkajs writes only Buffers as bytes: view the same memory, no copy.
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toBytes(buffer: Buffer | null): Uint8Array {
  if (buffer === null) return new Uint8Array(0);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

const textDecoder = new TextDecoder();

function headersOf(headers: IHeaders | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  let result: Record<string, string> | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    result ??= {};
    result[name] = typeof last === "string" ? last : textDecoder.decode(last);
  }
  return result;
}

function pemText(value: string | Uint8Array | undefined): string | undefined {
  return value === undefined || typeof value === "string" ? value : textDecoder.decode(value);
}

function saslOptions(sasl: NonNullable<DriverConfig["sasl"]>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case "plain":
      return { mechanism: "plain", username, password };
    case "scram-sha-256":
      return { mechanism: "scram-sha-256", username, password };
    case "scram-sha-512":
      return { mechanism: "scram-sha-512", username, password };
  }
}

type Kafkajs = typeof import("kafkajs");

/** The environment variables kafkajs reads (Deno asks for permission for each). */
export const KAFKAJS_ENV_VARS = [
  "NODE_ENV",
  "KAFKAJS_LOG_LEVEL",
  "KAFKAJS_NO_PARTITIONER_WARNING",
  "KAFKAJS_DEBUG_PROTOCOL_BUFFERS",
  "KAFKAJS_DEBUG_EXTENDED_PROTOCOL_BUFFERS",
];

let loading: Promise<Kafkajs> | undefined;

/** The client ids of the kafkajs clients this driver made (see {@link quietIdleQueues}). */
const ourClientIds = new Set<string>();

/** The part of kafkajs's (internal) per-connection request queue the fix below reads. */
interface RequestQueue {
  clientId: string;
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

/**
 * kafkajs 2.2.4 re-arms a 1 ms timer on every connection forever once it has
 * sent a request, even with nothing queued (upstream issues 1556, 1704, 1751;
 * unfixed): each open connection wakes the event loop about a thousand times
 * a second. The connections of our clients skip that check when no request
 * waits and the broker throttles nothing (a new request re-arms it); other
 * kafkajs clients in the process are left as they are.
 */
function quietIdleQueues(prototype: RequestQueue): void {
  const schedule = prototype.scheduleCheckPendingRequests;
  if (typeof schedule !== "function") return; // another kafkajs: nothing to fix
  prototype.scheduleCheckPendingRequests = function (this: RequestQueue) {
    if (
      ourClientIds.has(this.clientId) && this.pending.length === 0 &&
      !(this.throttledUntil > Date.now())
    ) {
      return;
    }
    schedule.call(this);
  };
}

/** The partitioners of our producers (see {@link groupLinearlyForUs}). */
const ourPartitioners = new WeakSet<object>();
let groupingReplaced = false;

/** kafkajs's (internal) grouping of a batch's messages by partition. */
type GroupMessages = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (args: unknown) => number;
}) => Record<number, unknown[]>;

/**
 * kafkajs 2.2.4 groups a batch's messages by partition by copying the
 * partition's array once per message: quadratic, about 15% of the time of a
 * 1,000-message send. Batches of our producers (told apart by their
 * partitioner) are grouped in one pass, in the same order; other kafkajs users
 * in the process keep kafkajs's own. kafkajs's sender keeps the function it
 * finds when it loads, so this runs before kafkajs is loaded; where the module
 * cannot be reached this way (kafkajs loaded already, no node_modules), kafkajs
 * is left as it is.
 */
function groupLinearlyForUs(): void {
  try {
    const require = createRequire(import.meta.url);
    const path = require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js");
    const original = require(path) as GroupMessages;
    const entry = require.cache[path];
    if (typeof original !== "function" || entry === undefined) return;
    const grouped: GroupMessages = (args) => {
      if (!ourPartitioners.has(args.partitioner)) return original(args);
      const result: Record<number, unknown[]> = {};
      if (args.partitionMetadata.length === 0) return result;
      for (const message of args.messages) {
        const partition = args.partitioner({
          topic: args.topic,
          partitionMetadata: args.partitionMetadata,
          message,
        });
        (result[partition] ??= []).push(message);
      }
      return result;
    };
    entry.exports = grouped;
  } catch {
    // kafkajs as it is.
  }
}

/**
 * Load kafkajs once (an optional peer: only Kafka users install it). Missing,
 * it is `StreamError("Unsupported")` saying how to install it; on Deno without
 * --allow-env, `StreamError("Runtime")` saying which permission to give.
 */
function loadKafkajs(): Promise<Kafkajs> {
  if (!groupingReplaced) {
    groupingReplaced = true;
    groupLinearlyForUs();
  }
  loading ??= Promise.all([
    import("kafkajs"),
    import("kafkajs/src/network/requestQueue/index.js").catch(() => undefined),
  ]).then(
    ([module, requestQueue]) => {
      const RequestQueue = (requestQueue?.default ?? requestQueue) as
        | { prototype?: RequestQueue }
        | undefined;
      if (RequestQueue?.prototype) quietIdleQueues(RequestQueue.prototype);
      return module as Kafkajs;
    },
    (error) => {
      loading = undefined;
      const text = String((error as Error)?.message ?? error);
      if ((error as Error)?.name === "NotCapable" || /allow-env/.test(text)) {
        throw new StreamError(
          "Runtime",
          `kafka: kafkajs reads environment variables when it loads: on Deno run with --allow-env ` +
            `(or --allow-env=${KAFKAJS_ENV_VARS.join(",")})`,
          { cause: error },
        );
      }
      throw new StreamError(
        "Unsupported",
        `kafka: the kafkajs package is not installed: npm i kafkajs (${text})`,
        { cause: error },
      );
    },
  );
  return loading;
}

/** A driver over kafkajs for `config` (kafkajs is loaded now; nothing is connected yet). */
export async function createKafkajsDriver(config: DriverConfig): Promise<KafkaDriver> {
  return new KafkajsDriver(await loadKafkajs(), config);
}

/** `error` and the errors it wraps (kafkajs wraps in `cause` or `originalError`). */
function* causes(error: unknown): Generator<unknown> {
  for (let e = error, depth = 0; e && depth < 8; depth++) {
    yield e;
    e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
}

/**
 * Whether `error` says a topic is not (yet) known where it was asked for, or
 * is kafkajs failing on a topic it has cached without partitions.
 */
function isNotYetVisible(error: unknown): boolean {
  for (const e of causes(error)) {
    if (e instanceof TypeError) return true;
    const type = (e as { type?: unknown }).type;
    if (type === "UNKNOWN_TOPIC_OR_PARTITION" || type === "LEADER_NOT_AVAILABLE") return true;
    const message = String((e as Error).message ?? "");
    if (
      /does not host this topic-partition|waiting for topic leaders|no leader for this|Cannot destructure/i
        .test(message)
    ) {
      return true;
    }
  }
  return false;
}

/** Whether `error` says that a topic asked for does not exist. */
function isUnknownTopic(error: unknown): boolean {
  for (const e of causes(error)) {
    if ((e as { type?: unknown }).type === "UNKNOWN_TOPIC_OR_PARTITION") return true;
  }
  return false;
}

/** The kafkajs client configuration for `config`. */
function kafkaConfig(kafkajs: Kafkajs, config: DriverConfig): KafkaConfig {
  const tls = config.tls;
  return {
    brokers: config.brokers,
    clientId: config.clientId,
    connectionTimeout: config.connectTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    ssl: tls === undefined || typeof tls === "boolean" ? tls : {
      ca: pemText(tls.ca),
      cert: pemText(tls.cert),
      key: pemText(tls.key),
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
    },
    sasl: config.sasl ? saslOptions(config.sasl) : undefined,
    // Whole frames only: kafkajs misreads every response after a cut mid-response otherwise.
    socketFactory: framedSocketFactory,
    // Quiet unless asked for: kafkajs itself reads KAFKAJS_LOG_LEVEL to override this.
    logLevel: kafkajs.logLevel.NOTHING,
  };
}

/** The driver over kafkajs. */
class KafkajsDriver implements KafkaDriver {
  readonly #kafkajs: Kafkajs;
  readonly #kafka: Kafka;
  #admin: Admin | undefined;
  #adminConnecting: Promise<Admin> | undefined;

  /** A driver for `config` (nothing is connected yet). */
  constructor(kafkajs: Kafkajs, config: DriverConfig) {
    ourClientIds.add(config.clientId);
    this.#kafkajs = kafkajs;
    this.#kafka = new kafkajs.Kafka(kafkaConfig(kafkajs, config));
  }

  #adminClient(): Promise<Admin> {
    this.#adminConnecting ??= (async () => {
      const admin = this.#kafka.admin({ retry: { retries: 3 } });
      try {
        await admin.connect();
      } catch (error) {
        this.#adminConnecting = undefined;
        await admin.disconnect().catch(() => {});
        throw error;
      }
      this.#admin = admin;
      return admin;
    })();
    return this.#adminConnecting;
  }

  async connect(): Promise<void> {
    const admin = await this.#adminClient();
    await admin.describeCluster();
  }

  async topics(): Promise<string[]> {
    return await (await this.#adminClient()).listTopics();
  }

  partitions(topics: readonly string[]): Promise<Map<string, number[]>> {
    // Brokers learn of a new topic one after the other: ask again until they agree.
    return this.#withFreshMetadata(async (admin) => {
      const result = new Map<string, number[]>();
      if (topics.length === 0) return result;
      let metadata;
      try {
        // Only the named topics: listing a cluster's topics costs as much as it has.
        metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
      } catch (error) {
        if (!isUnknownTopic(error)) throw error;
        // One of them does not exist (yet): ask for those that do.
        const existing = new Set(await admin.listTopics());
        const wanted = topics.filter((topic) => existing.has(topic));
        if (wanted.length === 0) return result;
        metadata = await admin.fetchTopicMetadata({ topics: wanted });
      }
      for (const topic of metadata.topics) {
        if (topic.partitions.length === 0) continue; // still being created
        result.set(topic.name, topic.partitions.map((p) => p.partitionId).sort((a, b) => a - b));
      }
      return result;
    });
  }

  async createTopics(topics: readonly string[], partitions?: number): Promise<void> {
    if (topics.length === 0) return;
    const admin = await this.#adminClient();
    try {
      await admin.createTopics({
        topics: topics.map((topic) => ({ topic, numPartitions: partitions ?? -1 })),
        waitForLeaders: true,
      });
    } catch (error) {
      // Created, but the broker asked does not know it yet: the caller waits for it.
      if (!isNotYetVisible(error)) throw error;
    }
  }

  /**
   * `query` with the admin client, retried while a new topic is not yet visible
   * everywhere. kafkajs caches metadata for minutes and caches a topic seen
   * during its creation without partitions (then fails with a TypeError): a retry
   * starts over with a new admin client.
   */
  async #withFreshMetadata<T>(query: (admin: Admin) => Promise<T>): Promise<T> {
    for (let attempt = 0;; attempt++) {
      const admin = await this.#adminClient();
      try {
        return await query(admin);
      } catch (error) {
        if (attempt >= 20 || !isNotYetVisible(error)) throw error;
        await this.#resetAdmin();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async #resetAdmin(): Promise<void> {
    const connecting = this.#adminConnecting;
    this.#adminConnecting = undefined;
    this.#admin = undefined;
    await (await connecting?.catch(() => undefined))?.disconnect().catch(() => {});
  }

  offsets(topic: string, spec: OffsetSpec): Promise<Map<number, bigint>> {
    return this.#withFreshMetadata((admin) => this.#offsets(admin, topic, spec));
  }

  async #offsets(admin: Admin, topic: string, spec: OffsetSpec): Promise<Map<number, bigint>> {
    const result = new Map<number, bigint>();
    if (spec instanceof Date) {
      for (
        const { partition, offset } of await admin.fetchTopicOffsetsByTimestamp(
          topic,
          spec.getTime(),
        )
      ) {
        result.set(partition, BigInt(offset));
      }
      return result;
    }
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
      result.set(partition, BigInt(spec === "earliest" ? low : high));
    }
    return result;
  }

  async committed(group: string, topic: string): Promise<Map<number, bigint>> {
    const result = new Map<number, bigint>();
    const offsets = await this.#withFreshMetadata((admin) =>
      admin.fetchOffsets({ groupId: group, topics: [topic] })
    );
    for (const entry of offsets) {
      for (const { partition, offset } of entry.partitions) {
        const value = BigInt(offset);
        if (value >= 0n) result.set(partition, value);
      }
    }
    return result;
  }

  async deleteGroup(group: string): Promise<void> {
    const admin = await this.#adminClient();
    await admin.deleteGroups([group]);
  }

  async groups(topic: string): Promise<GroupOffsets[]> {
    const admin = await this.#adminClient();
    const { groups } = await admin.listGroups();
    const ids = groups.filter((g) => g.protocolType === "consumer" || g.protocolType === "")
      .map((g) => g.groupId);
    if (ids.length === 0) return [];
    const described = await admin.describeGroups(ids);
    const result: GroupOffsets[] = [];
    for (const group of described.groups) {
      const committed = await this.committed(group.groupId, topic);
      if (committed.size === 0) continue;
      result.push({ name: group.groupId, members: group.members.length, committed });
    }
    return result.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  async setOffsets(group: string, topic: string, offsets: Map<number, bigint>): Promise<void> {
    const admin = await this.#adminClient();
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [...offsets].map(([partition, offset]) => ({
        partition,
        offset: offset.toString(),
      })),
    });
  }

  async deleteRecords(topic: string, offsets: Map<number, bigint>): Promise<void> {
    const admin = await this.#adminClient();
    await admin.deleteTopicRecords({
      topic,
      partitions: [...offsets].map(([partition, offset]) => ({
        partition,
        offset: offset.toString(),
      })),
    });
  }

  producer(options: DriverProducerOptions): DriverProducer {
    return new KafkajsProducerDriver(this.#kafkajs, this.#kafka, options);
  }

  consumer(options: DriverConsumerOptions, handler: ConsumerHandler): DriverConsumer {
    return new KafkajsConsumerDriver(this.#kafka, options, handler);
  }

  close(): Promise<void> {
    return this.#resetAdmin();
  }
}

/** A kafkajs message with the partition we chose for it (once chosen). */
type Placed = KafkajsMessage & { partition: number | undefined };

/** Where a partition's records of one send landed. */
interface Slot {
  /** The offset of its first record. */
  readonly baseOffset: bigint;
  /** The index of its next record among those of the send. */
  next: number;
  /** The records' timestamp as stored: LogAppendTime, else the send's CreateTime. */
  readonly time: number;
}

/** The base offset of records written with acks=0 (the broker says nothing). */
const NO_OFFSET = -1n;

/**
 * A produce receipt. Most senders never read one: the offset and the Date are
 * made when first read.
 */
class Receipt extends LazyHeader {
  readonly #baseOffset: bigint;
  readonly #delta: number;
  readonly #time: number;

  constructor(topic: string, partition: number, baseOffset: bigint, delta: number, time: number) {
    super(topic, partition);
    this.#baseOffset = baseOffset;
    this.#delta = delta;
    this.#time = time;
  }

  /** The record's offset (-1 with acks=0). */
  protected makeSeqNo(): bigint {
    return this.#baseOffset === NO_OFFSET ? NO_OFFSET : this.#baseOffset + BigInt(this.#delta);
  }

  /** The record's timestamp as stored. */
  protected timestampMs(): number {
    return this.#time;
  }
}

/**
 * kafkajs's default partitioner (murmur2 of the key, as Java's; round-robin
 * over the partitions that have a leader without a key), remembering each
 * message's choice on the message so a retry sends it to the same partition.
 * Without a key it picks as kafkajs does, but works out the partitions with a
 * leader once per metadata, not once per message.
 */
function stickyPartitioner(kafkajs: Kafkajs): () => (args: PartitionerArgs) => number {
  return () => {
    const choose = kafkajs.Partitioners.DefaultPartitioner();
    const counters = new Map<string, number>();
    let metadata: PartitionerArgs["partitionMetadata"] | undefined;
    let led: number[] = [];
    const partitioner = (args: PartitionerArgs): number => {
      const message = args.message as Placed;
      if (typeof message.partition === "number") return message.partition;
      if (message.key !== null && message.key !== undefined) {
        return message.partition = choose(args);
      }
      if (args.partitionMetadata !== metadata) {
        metadata = args.partitionMetadata;
        led = metadata.filter((p) => p.leader >= 0).map((p) => p.partitionId);
      }
      if (led.length === 0) return message.partition = choose(args);
      const count = ((counters.get(args.topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1) &
        0x7fffffff;
      counters.set(args.topic, count);
      return message.partition = led[count % led.length];
    };
    ourPartitioners.add(partitioner);
    return partitioner;
  };
}

class KafkajsProducerDriver implements DriverProducer {
  readonly #producer: KafkajsProducer;
  readonly #options: DriverProducerOptions;
  readonly #compression: number;

  constructor(kafkajs: Kafkajs, kafka: Kafka, options: DriverProducerOptions) {
    this.#options = options;
    this.#compression = options.compression === "gzip"
      ? kafkajs.CompressionTypes.GZIP
      : kafkajs.CompressionTypes.None;
    this.#producer = kafka.producer({
      createPartitioner: stickyPartitioner(kafkajs),
      allowAutoTopicCreation: options.allowAutoTopicCreation,
      idempotent: options.idempotent,
      maxInFlightRequests: options.idempotent ? 1 : undefined,
    });
  }

  connect(): Promise<void> {
    return this.#producer.connect();
  }

  async send(
    records: readonly ProduceRecord[],
    timestamp: number,
  ): Promise<(ProduceReceipt | Error)[]> {
    const messages: Placed[] = new Array(records.length);
    const timestampText = String(timestamp);
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      // `partition` is set by the partitioner; present from the start so every message has one shape.
      const message: Placed = {
        value: typeof record.payload === "string" ? record.payload : toBuffer(record.payload),
        timestamp: timestampText,
        partition: undefined,
      };
      const options = record.options;
      if (options !== undefined) {
        if (options.key !== undefined) message.key = options.key;
        if (options.headers !== undefined) message.headers = options.headers;
      }
      messages[i] = message;
    }
    const receipts: (ProduceReceipt | Error)[] = new Array(records.length);
    // All of them at first (undefined), then those left without a receipt.
    let pending: number[] | undefined;
    // kafkajs answers a sendBatch retried after a leader change with the first try's
    // responses only: the records of a partition that moved to a broker which had
    // already answered are never sent, yet the call succeeds. Such records get no
    // receipt from it, and are sent again here; what still has none fails.
    for (let attempt = 0; attempt < 3 && (pending === undefined || pending.length > 0); attempt++) {
      let results;
      try {
        results = await this.#sendOnce(records, messages, pending);
      } catch (error) {
        if (attempt === 0) throw error;
        for (const i of pending!) receipts[i] = error as Error;
        return receipts;
      }
      pending = this.#receipts(records, messages, pending, results, receipts, timestamp);
    }
    for (const i of pending!) {
      receipts[i] = new Error(
        "the broker did not acknowledge this message (its partition changed leader during the send)",
      );
    }
    return receipts;
  }

  /** One sendBatch of the messages at `indices` (all if undefined). */
  #sendOnce(
    records: readonly ProduceRecord[],
    messages: Placed[],
    indices: number[] | undefined,
  ): Promise<RecordMetadata[]> {
    const acks = this.#options.acks;
    const compression = this.#compression;
    const topic = records[0].streamKey;
    if (indices === undefined && records.every((record) => record.streamKey === topic)) {
      return this.#producer.sendBatch({ acks, compression, topicMessages: [{ topic, messages }] });
    }
    const byTopic = new Map<string, KafkajsMessage[]>();
    for (let n = 0; n < (indices ?? records).length; n++) {
      const i = indices === undefined ? n : indices[n];
      const list = byTopic.get(records[i].streamKey);
      if (list) list.push(messages[i]);
      else byTopic.set(records[i].streamKey, [messages[i]]);
    }
    return this.#producer.sendBatch({
      acks,
      compression,
      topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
    });
  }

  /**
   * Fill in the receipts of `indices` (all if undefined) from `results`; the
   * indices left without one.
   */
  #receipts(
    records: readonly ProduceRecord[],
    messages: Placed[],
    indices: number[] | undefined,
    results: RecordMetadata[],
    receipts: (ProduceReceipt | Error)[],
    timestamp: number,
  ): number[] {
    const acks = this.#options.acks;
    // A partition's records are written in the order given, from its base offset.
    const slots = new Map<string, Map<number, Slot>>();
    for (const result of results) {
      if (result.baseOffset === undefined) continue;
      let byPartition = slots.get(result.topicName);
      if (!byPartition) slots.set(result.topicName, byPartition = new Map());
      const appendTime = Number(result.logAppendTime ?? -1);
      byPartition.set(result.partition, {
        baseOffset: BigInt(result.baseOffset),
        next: 0,
        time: appendTime >= 0 ? appendTime : timestamp,
      });
    }
    const missing: number[] = [];
    let lastTopic: string | undefined;
    let byPartition: Map<number, Slot> | undefined;
    let lastPartition = -1;
    let slot: Slot | undefined;
    const count = indices === undefined ? records.length : indices.length;
    for (let n = 0; n < count; n++) {
      const i = indices === undefined ? n : indices[n];
      const topic = records[i].streamKey;
      const partition = messages[i].partition!;
      if (topic !== lastTopic) {
        lastTopic = topic;
        byPartition = slots.get(topic);
        lastPartition = -1;
      }
      if (partition !== lastPartition) {
        lastPartition = partition;
        slot = byPartition?.get(partition);
      }
      if (slot === undefined) {
        if (acks !== 0) {
          missing.push(i);
          continue;
        }
        // With acks=0 the broker says nothing: no offset.
        receipts[i] = new Receipt(topic, partition, NO_OFFSET, 0, timestamp);
        continue;
      }
      receipts[i] = new Receipt(topic, partition, slot.baseOffset, slot.next++, slot.time);
    }
    return missing;
  }

  close(): Promise<void> {
    return this.#producer.disconnect();
  }
}

/** A fetched kafkajs message, converted field by field on first use (most are never read). */
class KafkajsRecord implements FetchedRecord {
  readonly #message: KafkaMessage;
  #offset: bigint | undefined;

  constructor(message: KafkaMessage) {
    this.#message = message;
  }

  get offset(): bigint {
    return this.#offset ??= BigInt(this.#message.offset);
  }

  get timestamp(): number {
    return Number(this.#message.timestamp);
  }

  get value(): Uint8Array {
    return toBytes(this.#message.value);
  }

  get key(): Uint8Array | undefined {
    return this.#message.key === null ? undefined : toBytes(this.#message.key);
  }

  get headers(): Record<string, string> | undefined {
    return headersOf(this.#message.headers);
  }
}

function fetched(message: KafkaMessage): FetchedRecord {
  return new KafkajsRecord(message);
}

class KafkajsConsumerDriver implements DriverConsumer {
  readonly #consumer: KafkajsConsumer;
  readonly #options: DriverConsumerOptions;
  readonly #handler: ConsumerHandler;
  /** Set once `stop()` is called: no restart, nothing delivered. */
  #stopped = false;
  #stopping: Promise<void> | undefined;
  /** The join in progress (or done); `stop()` waits for it so the member leaves cleanly. */
  #joined: Promise<void> | undefined;
  #onJoined: (() => void) | undefined;
  #onJoinFailed: ((error: unknown) => void) | undefined;
  /** Incremented on each commit kafkajs reports as stored. */
  #commitsStored = 0;

  constructor(kafka: Kafka, options: DriverConsumerOptions, handler: ConsumerHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#consumer = kafka.consumer({
      groupId: options.group,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs * 2, 20_000),
      maxWaitTimeInMs: options.maxWaitMs,
      allowAutoTopicCreation: false,
      // kafkajs assigns only the partitions its cached metadata lists, and re-checks
      // only when the cache expires (default 5 minutes): a topic created a moment ago
      // on another broker would go partly unread that long.
      metadataMaxAge: 5000,
      retry: {
        // Restart after any crash while open (kafkajs only restarts "retriable" ones
        // by itself, and a REBALANCE_IN_PROGRESS at the wrong time is not).
        restartOnFailure: () => Promise.resolve(!this.#stopped),
      },
    });
    const events = this.#consumer.events;
    this.#consumer.on(events.GROUP_JOIN, (event) => {
      if (this.#stopped) return;
      const assignment = new Map<string, number[]>();
      for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
        assignment.set(topic, [...partitions]);
      }
      this.#handler.onAssigned(assignment);
      this.#onJoined?.();
    });
    this.#consumer.on(events.COMMIT_OFFSETS, () => {
      this.#commitsStored++;
    });
    this.#consumer.on(events.CRASH, (event) => {
      if (this.#stopped) return;
      const { error, restart } = event.payload;
      if (!restart) {
        this.#stopped = true;
        this.#onJoinFailed?.(error);
        this.#handler.onFatal(error);
      }
    });
  }

  async start(): Promise<void> {
    await this.#consumer.connect();
    await this.#consumer.subscribe({
      topics: this.#options.topics,
      fromBeginning: this.#options.fromBeginning,
    });
    this.#joined = new Promise<void>((resolve, reject) => {
      this.#onJoined = resolve;
      this.#onJoinFailed = reject;
    });
    this.#joined.catch(() => {});
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, heartbeat, isStale }) => {
        if (this.#stopped) return;
        const control: BatchControl = {
          heartbeat,
          stale: () => this.#stopped || isStale(),
          highWatermark: BigInt(batch.highWatermark),
        };
        await this.#handler.onRecords(
          batch.topic,
          batch.partition,
          batch.messages.map(fetched),
          control,
        );
      },
    });
    await this.#joined;
  }

  seek(topic: string, partition: number, offset: bigint): void {
    if (this.#stopped) return;
    this.#consumer.seek({ topic, partition, offset: offset.toString() });
  }

  pause(topic: string, partitions: number[]): void {
    if (this.#stopped || partitions.length === 0) return;
    this.#consumer.pause([{ topic, partitions }]);
  }

  resume(topic: string, partitions: number[]): void {
    if (this.#stopped || partitions.length === 0) return;
    this.#consumer.resume([{ topic, partitions }]);
  }

  async commit(
    offsets: readonly { topic: string; partition: number; offset: bigint }[],
  ): Promise<void> {
    if (offsets.length === 0) return;
    if (this.#stopped) throw new Error("the consumer has stopped");
    const before = this.#commitsStored;
    await this.#consumer.commitOffsets(
      offsets.map(({ topic, partition, offset }) => ({
        topic,
        partition,
        offset: offset.toString(),
      })),
    );
    if (this.#commitsStored === before) {
      throw new Error("the offsets were not committed: the consumer is not running in its group");
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      // A join in progress is waited for (briefly): kafkajs's stop() during a join
      // returns at once, and the member would then start fetching and never leave.
      if (this.#joined) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          this.#joined.catch(() => {}),
          new Promise((resolve) => timer = setTimeout(resolve, this.#options.sessionTimeoutMs)),
        ]);
        clearTimeout(timer);
        // The runner marks itself running just after the join event.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      this.#stopped = true;
      await this.#consumer.disconnect();
    })();
    return this.#stopping;
  }
}
