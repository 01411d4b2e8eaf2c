/**
 * The Kafka streamer: connects a driver (kafkajs or @platformatic/kafka), makes producers and
 * consumers, creates topics when allowed, and ends them all on `disconnect()`.
 *
 * @module
 */
import {
  type BackendCapabilities,
  type ConnectOptions,
  type ConsumerOptions,
  type KafkaConnectOptions,
  type ProducerOptions,
  type SeqPos,
  type Streamer,
  StreamError,
  type StreamInfo,
  type StreamKey,
  type TrimOptions,
} from "../../types.ts";
import type {
  ConsumerDriver,
  ConsumerHost,
  ProducerDriver,
  StreamerDriver,
} from "../../core/driver.ts";
import { CoreStreamer } from "../../core/streamer.ts";
import { positiveInteger } from "../../core/options.ts";
import { getEnv, timeout } from "../../runtime/mod.ts";
import type { DriverConfig, KafkaDriver } from "./driver.ts";
import { createKafkajsDriver } from "./kafkajs_driver.ts";
import { createPlatformaticDriver } from "./platformatic_driver.ts";
import type { KafkaDriverName } from "./options.ts";
import { KafkaProducer } from "./producer.ts";
import { KafkaConsumer } from "./consumer.ts";
import { kafkaDriverName, parseKafkaUri } from "./url.ts";
import { backendError, messageOf } from "./errors.ts";
import { capabilities } from "./capabilities.ts";
import { Topics } from "./topics.ts";
import * as admin from "./admin.ts";

/**
 * Makes the driver for a configuration (by default the one `kafka.driver`, the
 * URI's `?driver=` or `SEASTREAMER_KAFKA_DRIVER` names, else kafkajs).
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

const FACTORIES: Record<KafkaDriverName, DriverFactory> = {
  kafkajs: createKafkajsDriver,
  platformatic: createPlatformaticDriver,
};

/** `SEASTREAMER_KAFKA_DRIVER`, if set and readable (Deno may not allow it). */
function driverFromEnv(): KafkaDriverName | undefined {
  let value: string | undefined;
  try {
    value = getEnv("SEASTREAMER_KAFKA_DRIVER");
  } catch {
    return undefined;
  }
  return value ? kafkaDriverName(value, "SEASTREAMER_KAFKA_DRIVER") : undefined;
}

/** The driver `kafka.driver`, the URI or the environment names (they must agree), else kafkajs. */
function driverName(option: unknown, inUri: KafkaDriverName | undefined): KafkaDriverName {
  const chosen = option === undefined ? undefined : kafkaDriverName(option, "kafka.driver");
  if (chosen !== undefined && inUri !== undefined && chosen !== inUri) {
    throw new StreamError(
      "StreamUrl",
      `the URI says driver=${inUri} and kafka.driver says ${chosen}: name one`,
    );
  }
  return chosen ?? inUri ?? driverFromEnv() ?? "kafkajs";
}

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
  makeDriver?: DriverFactory,
): Promise<Streamer> {
  const parsed = parseKafkaUri(uri);
  const kafka: KafkaConnectOptions = options.kafka ?? {};
  makeDriver ??= FACTORIES[driverName(kafka.driver, parsed.driver)];
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
    logger: options.logger,
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
  return new CoreStreamer(
    new KafkaStreamerDriver(
      driver,
      parsed.redacted,
      new Topics(driver, kafka.autoCreateTopics ?? true, partitions),
    ),
  );
}

/** A Kafka cluster as a backend. */
class KafkaStreamerDriver implements StreamerDriver {
  readonly backend = "kafka" as const;
  readonly capabilities: BackendCapabilities = capabilities;
  readonly uri: string;
  readonly #client: KafkaDriver;
  readonly #topics: Topics;

  constructor(client: KafkaDriver, uri: string, topics: Topics) {
    this.#client = client;
    this.uri = uri;
    this.#topics = topics;
  }

  async openProducer(
    stream: StreamKey | undefined,
    options: ProducerOptions,
  ): Promise<ProducerDriver> {
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
    const client = this.#client.producer({
      acks,
      compression,
      idempotent,
      allowAutoTopicCreation: this.#topics.autoCreate,
    });
    try {
      // An anchored producer's topic is looked up now (not created: that waits for a
      // send), so that its first send waits for no lookup.
      const connecting = async () =>
        await client.connect(stream === undefined ? [] : await this.#topics.existing([stream]));
      await timeout(connecting(), 30_000, "connecting the producer");
    } catch (error) {
      await client.close().catch(() => {});
      throw backendError(error, "cannot connect the producer", "Connect");
    }
    return new KafkaProducer((topics) => this.#topics.ensure(topics), client);
  }

  /**
   * A member of the consumer's group (a private group for a real-time one),
   * resolved once positioned, so nothing sent after is missed.
   */
  async openConsumer(host: ConsumerHost, options: ConsumerOptions): Promise<ConsumerDriver> {
    const sessionTimeoutMs = positiveInteger(
      "kafka.sessionTimeoutMs",
      options.kafka?.sessionTimeoutMs,
      10_000,
    );
    let partitions: Map<string, number[]>;
    try {
      partitions = await this.#topics.ensure(host.settings.streams);
    } catch (error) {
      throw backendError(error, "cannot look up the topics");
    }
    return await KafkaConsumer.open(this.#client, host, {
      groupId: host.settings.group ?? privateGroupName(),
      partitions,
      sessionTimeoutMs,
    });
  }

  /** The topics, but Kafka's internal ones (`__consumer_offsets`, …). */
  listStreams(): Promise<StreamKey[]> {
    return admin.listStreams(this.#client);
  }

  describeStream(stream: StreamKey): Promise<StreamInfo> {
    return admin.describeStream(this.#client, stream);
  }

  trimStream(stream: StreamKey, options: TrimOptions): Promise<number> {
    return admin.trimStream(this.#client, stream, options);
  }

  resetGroup(stream: StreamKey, group: string, position: SeqPos | Date): Promise<void> {
    return admin.resetGroup(this.#client, stream, group, position);
  }

  async close(): Promise<void> {
    await timeout(this.#client.close(), 30_000, "closing the connection");
  }
}
