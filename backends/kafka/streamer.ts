/**
 * The Kafka streamer: connects a driver (kafkajs), makes producers and
 * consumers, creates topics when allowed, and ends them all on `disconnect()`.
 *
 * @module
 */
import {
  type BackendCapabilities,
  type ConnectOptions,
  type Consumer,
  type ConsumerOptions,
  type KafkaConnectOptions,
  type Producer,
  type ProducerOptions,
  type Streamer,
  StreamError,
  type StreamInfo,
  type StreamKey,
  type TrimOptions,
} from "../../types.ts";
import { consumerSettings, positiveInteger } from "../../core/options.ts";
import { sleep, timeout } from "../../runtime/mod.ts";
import type { DriverConfig, KafkaDriver } from "./driver.ts";
import { createKafkajsDriver } from "./kafkajs_driver.ts";
import { KafkaProducer } from "./producer.ts";
import { KafkaConsumer } from "./consumer.ts";
import { parseKafkaUri } from "./url.ts";
import { backendError, messageOf } from "./errors.ts";
import { capabilities } from "./capabilities.ts";
import { endAll } from "../../core/end_all.ts";

/**
 * Makes the driver for a configuration (kafkajs unless a future client says otherwise).
 *
 * @example Connecting through another Kafka client
 * ```ts ignore
 * import { connect, type DriverFactory } from "@seastreamer/seastreamer/kafka";
 * import { MyKafkaDriver } from "./my_kafka_driver.ts"; // implements KafkaDriver
 *
 * const makeDriver: DriverFactory = (config) => new MyKafkaDriver(config);
 * const streamer = await connect("kafka://127.0.0.1:9092", {}, makeDriver);
 * ```
 */
export type DriverFactory = (config: DriverConfig) => KafkaDriver | Promise<KafkaDriver>;

let privateGroupCounter = 0;

function privateGroupName(): string {
  const random = crypto.getRandomValues(new Uint8Array(6));
  const hex = [...random].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `seastreamer-rt-${Date.now().toString(36)}-${hex}-${++privateGroupCounter}`;
}

/**
 * Connect to the Kafka cluster `uri` names (`kafka://host:port,host:port`);
 * resolves once a broker answered (and accepted the credentials), within
 * `options.timeoutMs` (default 10,000 ms), else `StreamError("Connect")`.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@seastreamer/seastreamer/kafka";
 *
 * const streamer = await connect("kafka://127.0.0.1:9092");
 * const producer = await streamer.createProducer("orders");
 * const receipt = await producer.send('{"id":1}');
 * console.log(receipt.shardId, receipt.seqNo); // partition and offset
 * await streamer.disconnect();
 * ```
 */
export async function connect(
  uri: string,
  options: ConnectOptions = {},
  makeDriver: DriverFactory = createKafkajsDriver,
): Promise<Streamer> {
  const parsed = parseKafkaUri(uri);
  const kafka: KafkaConnectOptions = options.kafka ?? {};
  const timeoutMs = positiveInteger("timeoutMs", options.timeoutMs, 10_000);
  const partitions = kafka.partitions === undefined
    ? undefined
    : positiveInteger("kafka.partitions", kafka.partitions, 1);
  let sasl = kafka.sasl;
  if (!sasl && parsed.credentials) sasl = { mechanism: "plain", ...parsed.credentials };
  if (sasl && !["plain", "scram-sha-256", "scram-sha-512"].includes(sasl.mechanism)) {
    throw new StreamError(
      "Unsupported",
      `SASL mechanism ${JSON.stringify(sasl.mechanism)}: use plain, scram-sha-256 or scram-sha-512`,
    );
  }
  const config: DriverConfig = {
    brokers: parsed.brokers,
    clientId: kafka.clientId ?? "seastreamer",
    connectTimeoutMs: Math.min(timeoutMs, 10_000),
    requestTimeoutMs: positiveInteger("kafka.requestTimeoutMs", kafka.requestTimeoutMs, 30_000),
    sasl,
    tls: kafka.tls,
  };
  const driver = await makeDriver(config);
  try {
    await timeout(driver.connect(), timeoutMs, `connecting to ${parsed.redacted}`);
  } catch (error) {
    driver.close().catch(() => {});
    throw new StreamError(
      "Connect",
      `kafka: cannot connect to ${parsed.redacted}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return new KafkaStreamer(driver, parsed.redacted, {
    autoCreateTopics: kafka.autoCreateTopics ?? true,
    partitions,
  });
}

/** A streamer over a Kafka cluster. */
class KafkaStreamer implements Streamer {
  /** Always `"kafka"`. */
  readonly backend = "kafka" as const;
  /** What this backend can do. */
  readonly capabilities: BackendCapabilities = capabilities;
  /** The URI, password hidden. */
  readonly uri: string;
  readonly #driver: KafkaDriver;
  readonly #autoCreate: boolean;
  readonly #partitions: number | undefined;
  readonly #topics = new Map<string, Promise<number[]>>();
  readonly #producers = new Set<KafkaProducer>();
  readonly #consumers = new Set<KafkaConsumer>();
  #disconnected = false;
  #disconnecting: Promise<void> | undefined;

  constructor(
    driver: KafkaDriver,
    uri: string,
    options: { autoCreateTopics: boolean; partitions: number | undefined },
  ) {
    this.#driver = driver;
    this.uri = uri;
    this.#autoCreate = options.autoCreateTopics;
    this.#partitions = options.partitions;
  }

  /**
   * The partitions of each of `topics`, creating missing topics when allowed
   * (else `StreamError("StreamKeyNotFound")`). Known topics are not asked again.
   */
  async ensureTopics(topics: readonly string[]): Promise<Map<string, number[]>> {
    const unknown = topics.filter((topic) => !this.#topics.has(topic));
    if (unknown.length > 0) {
      const lookup = this.#lookUp(unknown);
      for (const topic of unknown) {
        const partitions = lookup.then((found) => found.get(topic)!);
        partitions.catch(() => this.#topics.delete(topic));
        this.#topics.set(topic, partitions);
      }
    }
    const result = new Map<string, number[]>();
    for (const topic of topics) result.set(topic, [...await this.#topics.get(topic)!]);
    return result;
  }

  async #lookUp(topics: string[]): Promise<Map<string, number[]>> {
    let found = await this.#driver.partitions(topics);
    const missing = topics.filter((topic) => !found.has(topic));
    if (missing.length > 0) {
      if (!this.#autoCreate) {
        throw new StreamError(
          "StreamKeyNotFound",
          `kafka: no topic ${missing.join(", ")} (autoCreateTopics is off)`,
        );
      }
      await this.#driver.createTopics(missing, this.#partitions);
      // The broker asked may learn of the new topics a moment after the controller.
      let still = missing;
      for (let attempt = 0; still.length > 0 && attempt < 50; attempt++) {
        if (attempt > 0) await sleep(100);
        found = new Map([...found, ...await this.#driver.partitions(still)]);
        still = missing.filter((topic) => !found.has(topic));
      }
      if (still.length > 0) {
        throw new StreamError(
          "StreamKeyNotFound",
          `kafka: topic ${still.join(", ")} was not created`,
        );
      }
    }
    return found;
  }

  /** A producer, anchored to `stream` if given. */
  async createProducer(stream?: StreamKey, options: ProducerOptions = {}): Promise<Producer> {
    this.#checkOpen();
    const kafka = options.kafka ?? {};
    const acks = kafka.acks ?? -1;
    if (![-1, 0, 1].includes(acks)) {
      throw new StreamError("Unsupported", `kafka.acks is -1, 0 or 1, not ${acks}`);
    }
    const compression = kafka.compression ?? "none";
    if (compression !== "none" && compression !== "gzip") {
      throw new StreamError(
        "Unsupported",
        `kafka.compression is "none" or "gzip", not ${compression}`,
      );
    }
    const idempotent = kafka.idempotent ?? false;
    if (idempotent && acks !== -1) {
      throw new StreamError("Unsupported", "an idempotent producer needs acks -1 (all)");
    }
    const driver = this.#driver.producer({
      acks,
      compression,
      idempotent,
      allowAutoTopicCreation: this.#autoCreate,
    });
    const producer = new KafkaProducer(this, driver, stream, options);
    try {
      await timeout(driver.connect(), 30_000, "connecting the producer");
    } catch (error) {
      await driver.close().catch(() => {});
      throw backendError(error, "cannot connect the producer", "Connect");
    }
    if (this.#disconnected) {
      await driver.close().catch(() => {});
      throw this.#closedError();
    }
    this.#producers.add(producer);
    return producer;
  }

  /**
   * A consumer of `streams`; resolves once it is positioned (joined its group,
   * every assigned partition's start offset known), so nothing sent after is missed.
   */
  async createConsumer(
    streams: readonly StreamKey[],
    options: ConsumerOptions = {},
  ): Promise<Consumer> {
    this.#checkOpen();
    const settings = consumerSettings(streams, options, this);
    const sessionTimeoutMs = positiveInteger(
      "kafka.sessionTimeoutMs",
      options.kafka?.sessionTimeoutMs,
      10_000,
    );
    let partitions: Map<string, number[]>;
    try {
      partitions = await this.ensureTopics(settings.streams);
    } catch (error) {
      throw backendError(error, "cannot look up the topics");
    }
    const consumer = new KafkaConsumer(this.#driver, settings, {
      groupId: settings.group ?? privateGroupName(),
      partitions,
      sessionTimeoutMs,
      onEnd: (ended) => this.#consumers.delete(ended),
    });
    this.#consumers.add(consumer);
    try {
      // Joining waits for the other members to re-join: allow a session's worth more.
      await timeout(
        consumer.start(),
        settings.timeoutMs + sessionTimeoutMs,
        "joining the consumer group",
      );
    } catch (error) {
      await consumer.end().catch(() => {});
      throw backendError(error, "cannot start the consumer");
    }
    if (this.#disconnected) {
      await consumer.end().catch(() => {});
      throw this.#closedError();
    }
    return consumer;
  }

  /** Forget an ended producer. @internal */
  dropProducer(producer: KafkaProducer): void {
    this.#producers.delete(producer);
  }

  /** End every producer (flushing) and consumer, then close the connections. */
  /** The topics, but Kafka's internal ones (`__consumer_offsets`, …). */
  async listStreams(): Promise<StreamKey[]> {
    this.#checkOpen();
    try {
      return (await this.#driver.topics()).filter((topic) => !topic.startsWith("__")).sort();
    } catch (error) {
      throw backendError(error, "cannot list the topics");
    }
  }

  disconnect(): Promise<void> {
    this.#disconnecting ??= (async () => {
      this.#disconnected = true;
      const errors = await endAll(this.#producers, this.#consumers);
      await timeout(this.#driver.close(), 30_000, "closing the connection")
        .catch((e) => errors.push(e));
      if (errors.length > 0) throw errors[0];
    })();
    return this.#disconnecting;
  }

  /** Transitional (until this backend moves to core/streamer.ts). */
  describeStream(_stream: StreamKey): Promise<StreamInfo> {
    return Promise.reject(new StreamError("Unsupported", "describeStream: not yet"));
  }

  /** Transitional (until this backend moves to core/streamer.ts). */
  trimStream(_stream: StreamKey, _options: TrimOptions): Promise<number> {
    return Promise.reject(new StreamError("Unsupported", "trimStream: not yet"));
  }

  /** Transitional (until this backend moves to core/streamer.ts). */
  resetGroup(_stream: StreamKey, _group: string, _position: unknown): Promise<void> {
    return Promise.reject(new StreamError("Unsupported", "resetGroup: not yet"));
  }

  /** Same as `disconnect()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  #checkOpen(): void {
    if (this.#disconnected) throw this.#closedError();
  }

  #closedError(): StreamError {
    return new StreamError("Closed", "kafka streamer is disconnected");
  }
}
