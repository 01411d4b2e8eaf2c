/**
 * A record fetched by the platformatic consumer driver, as the backend reads
 * it ({@link FetchedRecord}): its fields are made from the library's decoded
 * record when first read.
 *
 * @module
 */
import type { KafkaRecord, RecordsBatch } from "@platformatic/kafka";
import type { FetchedRecord } from "./driver.ts";
import { plainView } from "../../runtime/bytes.ts";

/** Record batch attribute (Kafka's record format v2): timestamps are the broker's append time. */
const LOG_APPEND_TIME = 0x08;

const textDecoder = new TextDecoder();

const EMPTY = new Uint8Array(0);

/**
 * A fetched record, converted field by field on first use (most are never
 * read: autoCommit reads only the last offset of a batch, few read timestamps).
 */
export class PlatformaticRecord implements FetchedRecord {
  readonly #batch: RecordsBatch;
  readonly #record: KafkaRecord;
  #offset: bigint | undefined;

  /** The `record` of `batch`, as the library decoded them. */
  constructor(batch: RecordsBatch, record: KafkaRecord) {
    this.#batch = batch;
    this.#record = record;
  }

  get offset(): bigint {
    return this.#offset ??= this.#batch.firstOffset + BigInt(this.#record.offsetDelta);
  }

  get timestamp(): number {
    const batch = this.#batch;
    return Number(
      batch.attributes & LOG_APPEND_TIME
        ? batch.maxTimestamp
        : batch.firstTimestamp + this.#record.timestampDelta,
    );
  }

  get value(): Uint8Array {
    // The Buffer itself: the payload makes a plain view only if its bytes are asked for.
    return this.#record.value ?? EMPTY;
  }

  get key(): Uint8Array | undefined {
    return this.#record.key ? plainView(this.#record.key) : undefined;
  }

  get headers(): Record<string, string> | undefined {
    const headers = this.#record.headers;
    if (!headers || headers.length === 0) return undefined;
    const result: Record<string, string> = {};
    for (const [name, value] of headers) {
      if (name === null) continue;
      result[textDecoder.decode(name)] = value === null ? "" : textDecoder.decode(value);
    }
    return result;
  }
}
