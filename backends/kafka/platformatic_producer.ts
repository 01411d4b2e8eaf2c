/**
 * The `@platformatic/kafka` producer behind a {@link DriverProducer}: every
 * record's partition is chosen here, before the send (so a retry keeps it and
 * each record's offset follows from its partition's base offset), keyed records
 * as Java and kafkajs place them.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { MessageToProduce, Producer, ProduceResult } from "@platformatic/kafka";
import { LazyHeader } from "../../core/header.ts";
import type {
  DriverProducer,
  DriverProducerOptions,
  ProduceReceipt,
  ProduceRecord,
} from "./driver.ts";
import type { ClientSetup } from "./platformatic_driver.ts";
import { bufferView } from "../../runtime/bytes.ts";
import { thrownError } from "../../core/errors.ts";

function toBuffer(bytes: string | Uint8Array): Buffer {
  // Core hands text over as bytes (textAsBytes); only a text longer than MAX_CHUNKED_TEXT
  // (core/text_chunks.ts) still comes as a string, and gets a Buffer of its own.
  return typeof bytes === "string" ? Buffer.from(bytes) : bufferView(bytes);
}

/** The offset of records written with acks=0 (the broker says nothing). */
const NO_OFFSET = -1n;

/** What one produce request's receipts share. */
interface Written {
  topic: string;
  partition: number;
  /** The offset of the request's first record (NO_OFFSET with acks=0). */
  base: bigint;
  time: number;
}

/** A produce receipt: the offset and the Date are made when first read (most are never read). */
class Receipt extends LazyHeader {
  readonly #written: Written;
  readonly #index: number;

  constructor(written: Written, index: number) {
    super(written.topic, written.partition);
    this.#written = written;
    this.#index = index;
  }

  protected makeSeqNo(): bigint {
    const base = this.#written.base;
    return base === NO_OFFSET ? base : base + BigInt(this.#index);
  }

  protected timestampMs(): number {
    return this.#written.time;
  }
}

/** The indices of `messages` per (topic, partition), in order; one group when all share one. */
function byPartition(messages: readonly MessageToProduce[]): number[][] {
  const groups = new Map<string, Map<number, number[]>>();
  let last: number[] | undefined;
  let lastTopic: string | undefined;
  let lastPartition: number | undefined;
  for (let i = 0; i < messages.length; i++) {
    const { topic, partition } = messages[i];
    // Most batches go to one partition: looked up only when it changes.
    if (topic !== lastTopic || partition !== lastPartition) {
      let partitions = groups.get(topic);
      if (partitions === undefined) groups.set(topic, partitions = new Map());
      last = partitions.get(partition!);
      if (last === undefined) partitions.set(partition!, last = []);
      lastTopic = topic;
      lastPartition = partition;
    }
    last!.push(i);
  }
  const result: number[][] = [];
  for (const partitions of groups.values()) result.push(...partitions.values());
  return result;
}

/** A `@platformatic/kafka` producer as a driver producer. */
export class PlatformaticProducerDriver implements DriverProducer {
  readonly #setup: ClientSetup;
  readonly #producer: Producer;
  readonly #options: DriverProducerOptions;
  /** Per topic, the next partition for records without a key. */
  readonly #roundRobin = new Map<string, number>();

  constructor(setup: ClientSetup, options: DriverProducerOptions) {
    this.#setup = setup;
    this.#options = options;
    this.#producer = new setup.platformatic.Producer({
      ...setup.base,
      compression: options.compression === "gzip" ? "gzip" : "none",
      idempotent: options.idempotent,
      autocreateTopics: options.allowAutoTopicCreation,
    });
    setup.watch(this.#producer);
    this.#producer.on("error", () => {}); // reported by the sends
  }

  async connect(): Promise<void> {
    await this.#producer.metadata({ topics: [] });
  }

  /** The partition of `record` among `count`: murmur2 of the key as Java does, else round-robin. */
  #partition(topic: string, key: Buffer | undefined, count: number): number {
    if (key !== undefined) {
      return (this.#setup.platformatic.murmur2(key) & 0x7fffffff) % count;
    }
    if (count === 1) return 0;
    const next = this.#roundRobin.get(topic) ?? Math.floor(Math.random() * count);
    this.#roundRobin.set(topic, (next + 1) & 0x7fffffff);
    return next % count;
  }

  async send(
    records: readonly ProduceRecord[],
    timestamp: number,
  ): Promise<(ProduceReceipt | Error)[]> {
    const topics = [...new Set(records.map((record) => record.streamKey))];
    const metadata = await this.#producer.metadata({
      topics,
      autocreateTopics: this.#options.allowAutoTopicCreation,
    });
    const stamp = BigInt(timestamp);
    const messages: MessageToProduce[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const topic = record.streamKey;
      const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
      if (count === 0) throw new Error(`the topic ${JSON.stringify(topic)} has no partitions yet`);
      const options = record.options;
      const key = options?.key === undefined ? undefined : Buffer.from(options.key);
      const message: MessageToProduce = {
        topic,
        value: toBuffer(record.payload),
        partition: this.#partition(topic, key, count),
        timestamp: stamp,
      };
      if (key !== undefined) message.key = key;
      if (options?.headers !== undefined) {
        const headers = new Map<Buffer, Buffer>();
        for (const name in options.headers) {
          headers.set(Buffer.from(name), Buffer.from(options.headers[name]));
        }
        message.headers = headers;
      }
      messages[i] = message;
    }
    // One request per partition: the library retries a failed request whole, so a
    // partition that failed would have the records of the others written twice.
    const groups = byPartition(messages);
    const receipts: (ProduceReceipt | Error)[] = new Array(records.length);
    const acks = this.#options.acks;
    let failures = 0;
    let firstFailure: Error | undefined;
    await Promise.all(groups.map(async (indices) => {
      let result: ProduceResult;
      try {
        // acks on each send: its sends do not use the producer's own option (they default to 1).
        result = await this.#producer.send({ messages: indices.map((i) => messages[i]), acks });
      } catch (error) {
        failures++;
        const failure = thrownError(error, "kafka: the client");
        firstFailure ??= failure;
        for (const i of indices) receipts[i] = failure;
        return;
      }
      const { topic, partition } = messages[indices[0]];
      const base = acks === 0 ? NO_OFFSET : result.offsets?.[0]?.offset;
      if (base === undefined) {
        const error = new Error("the broker did not acknowledge these messages");
        for (const i of indices) receipts[i] = error;
        return;
      }
      const written: Written = { topic, partition: partition!, base, time: timestamp };
      for (let n = 0; n < indices.length; n++) receipts[indices[n]] = new Receipt(written, n);
    }));
    if (failures === groups.length) throw firstFailure;
    return receipts;
  }

  async close(): Promise<void> {
    await this.#producer.close();
  }
}
