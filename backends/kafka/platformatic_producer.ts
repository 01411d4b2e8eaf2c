/**
 * The `@platformatic/kafka` producer behind a {@link DriverProducer}: every
 * record's partition is chosen here, before the send (so a retry keeps it and
 * each record's offset follows from its partition's base offset), keyed records
 * as Java and kafkajs place them.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { MessageToProduce, ProduceResult, Producer } from "@platformatic/kafka";
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
    let result: ProduceResult;
    let failure: Error | undefined;
    try {
      // acks on each send: the producer's own option is not used by its sends (they default to 1).
      result = await this.#producer.send({ messages, acks: this.#options.acks });
    } catch (error) {
      // Some partitions may have been written: those records get their receipts.
      failure = error as Error;
      result = (error as { produced?: ProduceResult }).produced ?? {};
      if (!result.offsets?.length) throw error;
    }
    return this.#receipts(messages, result, failure, timestamp);
  }

  #receipts(
    messages: MessageToProduce[],
    result: ProduceResult,
    failure: Error | undefined,
    timestamp: number,
  ): (ProduceReceipt | Error)[] {
    const acks = this.#options.acks;
    // A partition's records are written in the order given, from its base offset.
    const next = new Map<string, bigint>();
    for (const { topic, partition, offset } of result.offsets ?? []) {
      next.set(`${partition}:${topic}`, offset);
    }
    return messages.map((message) => {
      const partition = message.partition!;
      if (acks === 0) return new Receipt(message.topic, partition, NO_OFFSET, timestamp);
      const slot = `${partition}:${message.topic}`;
      const offset = next.get(slot);
      if (offset === undefined) {
        return failure ?? new Error("the broker did not acknowledge this message");
      }
      next.set(slot, offset + 1n);
      return new Receipt(message.topic, partition, offset, timestamp);
    });
  }

  async close(): Promise<void> {
    await this.#producer.close();
  }
}
