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
  ProduceReceipts,
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

/**
 * One record as the client takes it. A class, not an object literal, for the
 * reason `QueuedSend` gives (core/send_segment.ts): as a literal, Deno's V8
 * allocated it in the old generation from the fifth request of the user's
 * produce loop on, and each kept its young value alive until a full collection.
 */
class ProduceMessage implements MessageToProduce {
  readonly topic: string;
  readonly value: Buffer;
  readonly partition: number;
  readonly timestamp: bigint;
  key: Buffer | undefined = undefined;
  headers: Map<Buffer, Buffer> | undefined = undefined;

  constructor(topic: string, value: Buffer, partition: number, timestamp: bigint) {
    this.topic = topic;
    this.value = value;
    this.partition = partition;
    this.timestamp = timestamp;
  }
}

/** What one client send is given (a class for the same reason as {@link ProduceMessage}). */
class ProduceRequest {
  readonly messages: ProduceMessage[];
  readonly acks: -1 | 0 | 1;

  constructor(messages: ProduceMessage[], acks: -1 | 0 | 1) {
    this.messages = messages;
    this.acks = acks;
  }
}

/**
 * The receipts of one send, each made when read from where its partition's
 * request landed: a request's receipts are one {@link Written}, not an object
 * per record (the producer keeps them for as long as a receipt may be awaited).
 */
class PartitionReceipts implements ProduceReceipts {
  readonly length: number;
  /** Each request's outcome. */
  readonly #outcomes: (Written | Error)[];
  /** Per record, its request and its place in it (undefined with one request: record i is its i-th). */
  readonly #requestOf: number[] | undefined;
  readonly #placeOf: number[] | undefined;

  /** `length` records sent in requests of the records at `groups` (indices in order), with `outcomes`. */
  constructor(length: number, groups: number[][], outcomes: (Written | Error)[]) {
    this.length = length;
    this.#outcomes = outcomes;
    if (groups.length > 1) {
      const requestOf = this.#requestOf = new Array<number>(length);
      const placeOf = this.#placeOf = new Array<number>(length);
      groups.forEach((indices, request) => {
        indices.forEach((record, place) => {
          requestOf[record] = request;
          placeOf[record] = place;
        });
      });
    }
  }

  at(index: number): ProduceReceipt | Error | undefined {
    const outcome = this.#outcomeOf(index);
    return outcome === undefined || outcome instanceof Error
      ? outcome
      : new Receipt(outcome, this.#placeOf?.[index] ?? index);
  }

  written(index: number): boolean {
    const outcome = this.#outcomeOf(index);
    return outcome !== undefined && !(outcome instanceof Error);
  }

  /** The outcome of the request of record `index`. */
  #outcomeOf(index: number): Written | Error | undefined {
    if (!(index >= 0 && index < this.length)) return undefined;
    return this.#outcomes[this.#requestOf?.[index] ?? 0];
  }
}

/** The distinct topics of `records` (most sends go to one: each is compared with the last first). */
function topicsOf(records: readonly ProduceRecord[]): string[] {
  const topics: string[] = [];
  let last: string | undefined;
  for (const { streamKey } of records) {
    if (streamKey !== last && !topics.includes(streamKey)) topics.push(streamKey);
    last = streamKey;
  }
  return topics;
}

/** The indices of `messages` per (topic, partition), in order; one group when all share one. */
function byPartition(messages: readonly ProduceMessage[]): number[][] {
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
      last = partitions.get(partition);
      if (last === undefined) partitions.set(partition, last = []);
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

  async connect(topics: readonly string[]): Promise<void> {
    await this.#producer.metadata({ topics: [...topics] });
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
  ): Promise<ProduceReceipts> {
    const metadata = await this.#producer.metadata({
      topics: topicsOf(records),
      autocreateTopics: this.#options.allowAutoTopicCreation,
    });
    const stamp = BigInt(timestamp);
    let lastTopic: string | undefined;
    let count = 0;
    // `map`, not `new Array`: its arrays are not pretenured (see ProduceMessage).
    const messages = records.map((record) => {
      const topic = record.streamKey;
      if (topic !== lastTopic) {
        // Most sends go to one topic: looked up only when it changes.
        count = metadata.topics.get(topic)?.partitionsCount ?? 0;
        if (count === 0) {
          throw new Error(`the topic ${JSON.stringify(topic)} has no partitions yet`);
        }
        lastTopic = topic;
      }
      const options = record.options;
      const key = options?.key === undefined ? undefined : Buffer.from(options.key);
      const message = new ProduceMessage(
        topic,
        toBuffer(record.payload),
        this.#partition(topic, key, count),
        stamp,
      );
      message.key = key;
      if (options?.headers !== undefined) {
        const headers = new Map<Buffer, Buffer>();
        for (const name in options.headers) {
          headers.set(Buffer.from(name), Buffer.from(options.headers[name]));
        }
        message.headers = headers;
      }
      return message;
    });
    // One request per partition: the library retries a failed request whole, so a
    // partition that failed would have the records of the others written twice.
    const groups = byPartition(messages);
    const acks = this.#options.acks;
    let failures = 0;
    let firstFailure: Error | undefined;
    const outcomes = await Promise.all(groups.map(async (indices): Promise<Written | Error> => {
      let result: ProduceResult;
      try {
        // acks on each send: its sends do not use the producer's own option (they default to 1).
        const request = groups.length === 1 ? messages : indices.map((i) => messages[i]);
        result = await this.#producer.send(new ProduceRequest(request, acks));
      } catch (error) {
        failures++;
        const failure = thrownError(error, "kafka: the client");
        firstFailure ??= failure;
        return failure;
      }
      const { topic, partition } = messages[indices[0]];
      const base = acks === 0 ? NO_OFFSET : result.offsets?.[0]?.offset;
      if (base === undefined) return new Error("the broker did not acknowledge these messages");
      return { topic, partition, base, time: timestamp };
    }));
    if (failures === groups.length) throw firstFailure;
    return new PartitionReceipts(records.length, groups, outcomes);
  }

  async close(): Promise<void> {
    await this.#producer.close();
  }
}
