/**
 * The messages Kafka consumers deliver: a seastreamer message plus the
 * record's key and headers, made from the fetched record when first read.
 *
 * @module
 */
import type { Message, MessageHeader, Payload } from "../../types.ts";
import { BytesPayload } from "../../core/message.ts";
import { LazyHeader } from "../../core/header.ts";
import type { FetchedRecord } from "./driver.ts";

/**
 * A message's header. AutoCommit reads the header of every message handed out,
 * but only the last one's offset is ever sent: the offset and the timestamp are
 * converted from the record when first read.
 */
class KafkaHeader extends LazyHeader {
  readonly #record: FetchedRecord;

  constructor(topic: string, partition: number, record: FetchedRecord) {
    super(topic, partition);
    this.#record = record;
  }

  protected makeSeqNo(): bigint {
    return this.#record.offset;
  }

  protected timestampMs(): number {
    return this.#record.timestamp;
  }
}

/**
 * A message read from Kafka: a seastreamer message plus the record's key and
 * headers. Its parts are made from the record when first read.
 *
 * @example
 * ```ts
 * import { KafkaMessage } from "@seastreamer/seastreamer/kafka";
 *
 * // Kafka consumers deliver these: `message instanceof KafkaMessage` reaches the key and headers.
 * const message = new KafkaMessage("orders", 2, {
 *   offset: 41n,
 *   timestamp: 0,
 *   value: new TextEncoder().encode("hi"),
 *   key: new TextEncoder().encode("customer-7"),
 *   headers: { source: "web" },
 * });
 * console.log(
 *   message.header.shardId,
 *   message.header.seqNo,
 *   message.payload.text(),
 *   message.headers,
 * ); // 2 41n hi { source: "web" }
 * ```
 */
export class KafkaMessage implements Message {
  readonly #topic: string;
  readonly #partition: number;
  readonly #record: FetchedRecord;
  #header: MessageHeader | undefined;
  #payload: Payload | undefined;
  #headers: Readonly<Record<string, string>> | undefined;

  /** A message of `topic`/`partition` from a fetched record. */
  constructor(topic: string, partition: number, record: FetchedRecord) {
    this.#topic = topic;
    this.#partition = partition;
    this.#record = record;
  }

  /** Where it sits: the topic, partition, offset and the record's timestamp. */
  get header(): MessageHeader {
    return this.#header ??= new KafkaHeader(this.#topic, this.#partition, this.#record);
  }

  /** The record's value. */
  get payload(): Payload {
    return this.#payload ??= new BytesPayload(this.#record.value);
  }

  /** The record's key, if it has one. */
  get key(): Uint8Array | undefined {
    return this.#record.key;
  }

  /** The record's headers (values as UTF-8 text). */
  get headers(): Readonly<Record<string, string>> {
    return this.#headers ??= this.#record.headers ?? {};
  }
}
