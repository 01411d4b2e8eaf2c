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

function toBuffer(bytes: string | Uint8Array): Buffer {
  if (typeof bytes === "string") return Buffer.from(bytes);
  // View the same memory, no copy.
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The offset of records written with acks=0 (the broker says nothing). */
const NO_OFFSET = -1n;

/** A produce receipt: the offset and the Date are made when first read. */
class Receipt extends LazyHeader {
  readonly #offset: bigint;
  readonly #time: number;

  constructor(topic: string, partition: number, offset: bigint, time: number) {
    super(topic, partition);
    this.#offset = offset;
    this.#time = time;
  }

  protected makeSeqNo(): bigint {
    return this.#offset;
  }

  protected timestampMs(): number {
    return this.#time;
  }
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
      const key = options?.key === undefined ? undefined : toBuffer(options.key);
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
    const groups = new Map<string, number[]>();
    for (let i = 0; i < messages.length; i++) {
      const slot = `${messages[i].partition}:${messages[i].topic}`;
      const indices = groups.get(slot);
      if (indices) indices.push(i);
      else groups.set(slot, [i]);
    }
    const receipts: (ProduceReceipt | Error)[] = new Array(records.length);
    const acks = this.#options.acks;
    let failures = 0;
    let firstFailure: unknown;
    await Promise.all([...groups.values()].map(async (indices) => {
      let result: ProduceResult;
      try {
        // acks on each send: its sends do not use the producer's own option (they default to 1).
        result = await this.#producer.send({ messages: indices.map((i) => messages[i]), acks });
      } catch (error) {
        failures++;
        firstFailure ??= error;
        for (const i of indices) receipts[i] = error as Error;
        return;
      }
      const { topic, partition } = messages[indices[0]];
      const base = acks === 0 ? undefined : result.offsets?.[0]?.offset;
      indices.forEach((i, n) => {
        receipts[i] = base === undefined && acks !== 0
          ? new Error("the broker did not acknowledge this message")
          : new Receipt(
            topic,
            partition!,
            base === undefined ? NO_OFFSET : base + BigInt(n),
            timestamp,
          );
      });
    }));
    if (failures === groups.size) throw firstFailure;
    return receipts;
  }

  async close(): Promise<void> {
    await this.#producer.close();
  }
}
