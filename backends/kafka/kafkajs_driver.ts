/**
 * The {@link KafkaDriver} over kafkajs (npm `kafkajs` 2.x).
 *
 * kafkajs is no longer maintained; this file keeps its known traps away from
 * the rest of the backend:
 *
 * - Heartbeats stop while a handler runs: the backend's handler only hands its
 *   batch over to the consumer's fetches and heartbeats while it waits for them,
 *   so no heartbeat ever waits on user code.
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
import type { Admin, Kafka, KafkaConfig, SASLOptions } from "kafkajs";
import { framedSocketFactory } from "./framed_socket.ts";
import type {
  ConsumerHandler,
  DriverConfig,
  DriverConsumer,
  DriverConsumerOptions,
  DriverProducer,
  DriverProducerOptions,
  GroupOffsets,
  KafkaDriver,
  OffsetSpec,
} from "./driver.ts";
import { pemTlsOptions } from "./driver.ts";
import type { Logger } from "../../types.ts";
import { KafkajsProducerDriver } from "./kafkajs_producer.ts";
import { KafkajsConsumerDriver } from "./kafkajs_consumer.ts";
import { type Kafkajs, loadKafkajs, ourClientIds } from "./kafkajs_load.ts";

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
    ssl: tls === undefined || typeof tls === "boolean" ? tls : pemTlsOptions(tls),
    sasl: config.sasl ? saslOptions(config.sasl) : undefined,
    // Whole frames only: kafkajs misreads every response after a cut mid-response otherwise.
    socketFactory: framedSocketFactory,
    // Quiet unless asked for: kafkajs itself reads KAFKAJS_LOG_LEVEL to override this.
    // With a logger, what kafkajs says at INFO and above (connects, group joins,
    // errors) goes to it.
    logLevel: config.logger ? kafkajs.logLevel.INFO : kafkajs.logLevel.NOTHING,
    logCreator: config.logger ? logTo(kafkajs, config.logger, config.sasl?.password) : undefined,
  };
}

/** A kafkajs log creator writing to `logger`: the message and its namespace, never a password. */
function logTo(
  kafkajs: Kafkajs,
  logger: Logger,
  password: string | undefined,
): NonNullable<KafkaConfig["logCreator"]> {
  const { ERROR, WARN, INFO } = kafkajs.logLevel;
  return () => ({ namespace, level, log }) => {
    let message = `kafka: ${namespace}: ${log.message}`;
    if (password) message = message.replaceAll(password, "***");
    const write = level === ERROR
      ? logger.error
      : level === WARN
      ? logger.warn
      : level === INFO
      ? logger.info
      : logger.debug;
    write.call(logger, message);
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
    // The groups' offsets of this topic at once (a server may hold hundreds of groups);
    // only those that committed some are described.
    const committed = await Promise.all(ids.map((id) => this.committed(id, topic)));
    const found = ids.flatMap((id, i) =>
      committed[i].size > 0 ? [[id, committed[i]] as const] : []
    );
    if (found.length === 0) return [];
    const described = await admin.describeGroups(found.map(([id]) => id));
    const members = new Map(described.groups.map((g) => [g.groupId, g.members.length]));
    return found
      .map(([name, offsets]) => ({ name, members: members.get(name) ?? 0, committed: offsets }))
      .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
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
