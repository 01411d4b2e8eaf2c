/**
 * The {@link KafkaDriver} over `@platformatic/kafka` (2.x, pure JavaScript),
 * chosen with `kafka: { driver: "platformatic" }` or `kafka://…?driver=platformatic`.
 *
 * What differs from its defaults, and why:
 *
 * - Producers wait for all in-sync replicas (acks -1) unless asked otherwise
 *   (its default is the leader only), and pick a keyed record's partition as
 *   Java and kafkajs do (murmur2 & 0x7fffffff), so both drivers agree.
 * - Consumers fetch at most 1 MiB per partition and 10 MiB per request (its
 *   50 MiB default made consuming 2 to 5 times slower and the first message
 *   seconds late), and run their own fetch loop over its group membership (see
 *   platformatic_consumer.ts): its stream cannot seek while running nor pause
 *   one partition.
 * - Its clients report through events: connects, group joins and failures go
 *   to the streamer's logger, never with a password (it is passed as a function,
 *   so no option object holds it either).
 *
 * @module
 */
import type { Admin, BaseOptions, ConnectionOptions, SASLOptions } from "@platformatic/kafka";
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
import { loadPlatformatic, type Platformatic } from "./platformatic_load.ts";
import { PlatformaticProducerDriver } from "./platformatic_producer.ts";
import { PlatformaticConsumerDriver } from "./platformatic_consumer.ts";

const MECHANISMS = {
  "plain": "PLAIN",
  "scram-sha-256": "SCRAM-SHA-256",
  "scram-sha-512": "SCRAM-SHA-512",
} as const;

/** A driver over `@platformatic/kafka` for `config` (loaded now; nothing is connected yet). */
export async function createPlatformaticDriver(config: DriverConfig): Promise<KafkaDriver> {
  return new PlatformaticDriver(await loadPlatformatic(), config);
}

/** What every client of one driver shares: the library, its options and the logger. */
export interface ClientSetup {
  readonly platformatic: Platformatic;
  /** The base options of every client (brokers, timeouts, SASL, TLS). */
  readonly base: BaseOptions;
  /** The connection options alone, for the consumers' fetch connections. */
  readonly connection: ConnectionOptions;
  /**
   * Route a client's events to the streamer's logger (if any), and keep its
   * connections' late errors from ending the process ({@link guardConnections}).
   */
  watch(client: Watched): void;
}

/** An event emitter, as the library's clients and connection pools are. */
interface Emitter {
  on(event: string, listener: (...args: never[]) => void): unknown;
}

/** A client of the library: its events, and its connection pool. */
type Watched = Emitter & { readonly connections?: Emitter };

/**
 * Give every connection `pool` opens an `error` listener of its own. The
 * library listens to a connection's errors only once: a connection that fails
 * its SASL handshake and then has its socket reset emits a second `error`
 * nobody listens to, which Node throws as an uncaught exception (the failure
 * itself reaches the request that asked for the connection).
 */
export function guardConnections(pool: Emitter): void {
  pool.on("connecting", (payload: { connection?: Emitter }) => {
    payload.connection?.on("error", () => {});
  });
}

/** 250 ms, doubling, at most 5 s: about 13 s in all over the 6 retries. */
function retryDelay(_client: unknown, _operation: string, attempt: number): number {
  return Math.min(250 * 2 ** Math.max(0, attempt - 1), 5000);
}

/** The base options of the clients for `config`. */
function baseOptions(config: DriverConfig): { base: BaseOptions; connection: ConnectionOptions } {
  const tls = config.tls;
  let sasl: SASLOptions | undefined;
  if (config.sasl) {
    const { username, password } = config.sasl;
    // A function: the password is in no option object (they can be printed).
    sasl = { mechanism: MECHANISMS[config.sasl.mechanism], username, password: () => password };
  }
  const connection: ConnectionOptions = {
    connectTimeout: config.connectTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    tls: tls === undefined || tls === false ? undefined : tls === true ? {} : pemTlsOptions(tls),
    sasl,
  };
  return {
    connection,
    base: {
      ...connection,
      clientId: config.clientId,
      bootstrapBrokers: config.brokers,
      timeout: config.requestTimeoutMs,
      // Its default is 3 tries a second apart: a broker restarting takes longer.
      retries: 6,
      retryDelay: retryDelay,
    },
  };
}

/** Events of its clients worth a log line, and their level. */
const LOGGED: Record<string, keyof Logger> = {
  "client:broker:connect": "info",
  "client:broker:disconnect": "info",
  "client:broker:failed": "warn",
  "consumer:group:join": "info",
  "consumer:group:leave": "info",
  "consumer:group:rebalance": "info",
  "consumer:heartbeat:error": "warn",
};

/** One line about an event: the broker and the group, never a buffer or a password. */
function describe(payload: unknown): string {
  if (payload === null || typeof payload !== "object") return "";
  const fields: string[] = [];
  const p = payload as Record<string, unknown>;
  const broker = p.broker as { host?: unknown; port?: unknown } | undefined;
  if (broker && typeof broker === "object") fields.push(`broker ${broker.host}:${broker.port}`);
  for (const name of ["groupId", "memberId", "generationId"]) {
    if (typeof p[name] === "string" || typeof p[name] === "number") {
      fields.push(`${name} ${p[name]}`);
    }
  }
  if (p.error instanceof Error) fields.push(p.error.message);
  return fields.join(", ");
}

/** A log router for `logger` that never writes `password`. */
function watcher(logger: Logger | undefined, password: string | undefined): ClientSetup["watch"] {
  return (client) => {
    if (client.connections) guardConnections(client.connections);
    if (!logger) return;
    const write = (level: keyof Logger, message: string) => {
      if (password) message = message.replaceAll(password, "***");
      logger[level].call(logger, message);
    };
    for (const [event, level] of Object.entries(LOGGED)) {
      client.on(event, (payload: unknown) => {
        const details = describe(payload);
        write(level, `kafka: ${event}${details ? `: ${details}` : ""}`);
      });
    }
  };
}

/** The driver over `@platformatic/kafka`. */
class PlatformaticDriver implements KafkaDriver {
  readonly #setup: ClientSetup;
  #admin: Admin | undefined;

  /** A driver for `config` (nothing is connected yet). */
  constructor(platformatic: Platformatic, config: DriverConfig) {
    const { base, connection } = baseOptions(config);
    this.#setup = {
      platformatic,
      base,
      connection,
      watch: watcher(config.logger, config.sasl?.password),
    };
  }

  #adminClient(): Admin {
    if (!this.#admin) {
      this.#admin = new this.#setup.platformatic.Admin({ ...this.#setup.base });
      this.#setup.watch(this.#admin);
      // Errors are the calls' own; an unhandled 'error' event would end the process.
      this.#admin.on("error", () => {});
    }
    return this.#admin;
  }

  async connect(): Promise<void> {
    await this.#adminClient().metadata({ topics: [] });
  }

  async topics(): Promise<string[]> {
    return await this.#adminClient().listTopics({ includeInternals: true });
  }

  async partitions(topics: readonly string[]): Promise<Map<string, number[]>> {
    const result = new Map<string, number[]>();
    if (topics.length === 0) return result;
    const admin = this.#adminClient();
    // Only the named topics that exist: asking for an unknown one fails the whole request.
    const existing = new Set(await admin.listTopics({ includeInternals: true }));
    const wanted = topics.filter((topic) => existing.has(topic));
    if (wanted.length === 0) return result;
    let metadata;
    for (let attempt = 0;; attempt++) {
      try {
        metadata = await admin.metadata({ topics: wanted, forceUpdate: true });
        break;
      } catch (error) {
        // Brokers learn of a new topic one after the other: ask again until they agree.
        if (attempt >= 20 || !isNotYetVisible(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    for (const topic of wanted) {
      const found = metadata.topics.get(topic);
      if (!found || found.partitionsCount === 0) continue; // still being created
      result.set(topic, Array.from({ length: found.partitionsCount }, (_, i) => i));
    }
    return result;
  }

  async createTopics(topics: readonly string[], partitions?: number): Promise<void> {
    if (topics.length === 0) return;
    const admin = this.#adminClient();
    const existing = new Set(await admin.listTopics({ includeInternals: true }));
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({ topics: missing, partitions: partitions ?? -1, replicas: -1 });
    } catch (error) {
      // Another client created it meanwhile, or it is not visible yet: the caller waits for it.
      if (!hasErrorId(error, "TOPIC_ALREADY_EXISTS") && !isNotYetVisible(error)) throw error;
    }
  }

  async offsets(topic: string, spec: OffsetSpec): Promise<Map<number, bigint>> {
    const partitions = (await this.partitions([topic])).get(topic);
    const result = new Map<number, bigint>();
    if (!partitions) {
      throw new Error(`the topic ${JSON.stringify(topic)} does not exist`);
    }
    const timestamp = spec === "earliest" ? -2n : spec === "latest" ? -1n : BigInt(spec.getTime());
    for (const [partition, offset] of await this.#listOffsets(topic, partitions, timestamp)) {
      result.set(partition, offset);
    }
    if (spec instanceof Date) {
      // No record at or after the date: the end.
      const none = [...result].filter(([, offset]) => offset < 0n).map(([partition]) => partition);
      if (none.length > 0) {
        for (const [partition, offset] of await this.#listOffsets(topic, none, -1n)) {
          result.set(partition, offset);
        }
      }
    }
    return result;
  }

  async #listOffsets(
    topic: string,
    partitions: number[],
    timestamp: bigint,
  ): Promise<[number, bigint][]> {
    const listed = await this.#adminClient().listOffsets({
      topics: [{
        name: topic,
        partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })),
      }],
    });
    return listed.flatMap((t) =>
      t.partitions.map((p): [number, bigint] => [p.partitionIndex, p.offset])
    );
  }

  async committed(group: string, topic: string): Promise<Map<number, bigint>> {
    const result = new Map<number, bigint>();
    const partitions = (await this.partitions([topic])).get(topic);
    if (!partitions) return result;
    const groups = await this.#adminClient().listConsumerGroupOffsets({
      groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: partitions }] }],
    });
    for (const entry of groups) {
      for (const t of entry.topics) {
        if (t.name !== topic) continue;
        for (const { partitionIndex, committedOffset } of t.partitions) {
          if (committedOffset >= 0n) result.set(partitionIndex, committedOffset);
        }
      }
    }
    return result;
  }

  async deleteGroup(group: string): Promise<void> {
    await this.#adminClient().deleteGroups({ groups: [group] });
  }

  async groups(topic: string): Promise<GroupOffsets[]> {
    const admin = this.#adminClient();
    const listed = await admin.listGroups();
    const ids = [...listed.values()]
      .filter((g) => g.protocolType === "consumer" || g.protocolType === "")
      .map((g) => g.id);
    // The groups' offsets of this topic at once (a server may hold hundreds of groups);
    // only those that committed some are described.
    const committed = await Promise.all(ids.map((id) => this.committed(id, topic)));
    const found = ids.flatMap((id, i) =>
      committed[i].size > 0 ? [[id, committed[i]] as const] : []
    );
    if (found.length === 0) return [];
    const described = await admin.describeGroups({ groups: found.map(([id]) => id) });
    return found
      .map(([name, offsets]) => ({
        name,
        members: described.get(name)?.members.size ?? 0,
        committed: offsets,
      }))
      .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  async setOffsets(group: string, topic: string, offsets: Map<number, bigint>): Promise<void> {
    await this.#adminClient().alterConsumerGroupOffsets({
      groupId: group,
      topics: [{
        name: topic,
        partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset })),
      }],
    });
  }

  async deleteRecords(topic: string, offsets: Map<number, bigint>): Promise<void> {
    await this.#adminClient().deleteRecords({
      topics: [{
        name: topic,
        partitions: [...offsets].map(([partition, offset]) => ({ partition, offset })),
      }],
    });
  }

  producer(options: DriverProducerOptions): DriverProducer {
    return new PlatformaticProducerDriver(this.#setup, options);
  }

  consumer(options: DriverConsumerOptions, handler: ConsumerHandler): DriverConsumer {
    return new PlatformaticConsumerDriver(this.#setup, options, handler);
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.close();
  }
}

/** `error`, the errors it wraps (`cause`) and those it gathers (`errors`). */
function* platformaticCauses(error: unknown, depth = 0): Generator<unknown> {
  if (!error || depth > 8) return;
  yield error;
  const e = error as { cause?: unknown; errors?: unknown };
  if (e.cause) yield* platformaticCauses(e.cause, depth + 1);
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) yield* platformaticCauses(inner, depth + 1);
  }
}

/** Whether `error` or one it wraps is the Kafka protocol error `id` (e.g. `OFFSET_OUT_OF_RANGE`). */
export function hasErrorId(error: unknown, id: string): boolean {
  for (const e of platformaticCauses(error)) {
    if ((e as { apiId?: unknown }).apiId === id) return true;
  }
  return false;
}

/** Whether `error` says a topic is not (yet) known where it was asked for. */
function isNotYetVisible(error: unknown): boolean {
  return hasErrorId(error, "UNKNOWN_TOPIC_OR_PARTITION") ||
    hasErrorId(error, "LEADER_NOT_AVAILABLE") || hasErrorId(error, "NOT_LEADER_OR_FOLLOWER");
}
