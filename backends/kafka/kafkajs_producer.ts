/**
 * The kafkajs producer behind a {@link DriverProducer}: each message's
 * partition is chosen once (kept across kafkajs's retries), and a send
 * retried after a leader change is checked for records left without a receipt.
 *
 * @module
 */
import type {
  Kafka,
  Message as KafkajsMessage,
  PartitionerArgs,
  Producer as KafkajsProducer,
  RecordMetadata,
} from "kafkajs";
import { LazyHeader } from "../../core/header.ts";
import type {
  DriverProducer,
  DriverProducerOptions,
  ProduceReceipt,
  ProduceRecord,
} from "./driver.ts";
import { type Kafkajs, ourPartitioners } from "./kafkajs_load.ts";
import { bufferView } from "../../runtime/bytes.ts";
import { thrownError } from "../../core/errors.ts";

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

/** A kafkajs producer as a driver producer. */
export class KafkajsProducerDriver implements DriverProducer {
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
    // kafkajs looks a topic up on its first send: it has no way to do it before.
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
        value: typeof record.payload === "string" ? record.payload : bufferView(record.payload),
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
        const failure = thrownError(error, "kafka: the client");
        for (const i of pending!) receipts[i] = failure;
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
