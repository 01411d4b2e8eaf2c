/**
 * The Kafka producer: everything sent in one tick goes out in one driver send
 * (kafkajs `sendBatch`), split only to keep each request well under the broker's
 * message size limit; receipts carry the partition and offset.
 *
 * @module
 */
import { type ProducerOptions, StreamError, type StreamKey } from "../../types.ts";
import { BatchProducer, type PendingSend, type SendResult } from "../../core/producer.ts";
import type { DriverProducer, ProduceRecord } from "./driver.ts";
import { backendError } from "./errors.ts";
import { timeout } from "../../runtime/mod.ts";

/** What the producer needs from its streamer. */
export interface ProducerHost {
  /** Make sure `topics` exist (creating them if allowed). */
  ensureTopics(topics: readonly string[]): Promise<unknown>;
  /** Forget an ended producer. */
  dropProducer(producer: KafkaProducer): void;
}

/** The most payload bytes per driver send (the broker's default limit is ~1 MiB per batch). */
const MAX_REQUEST_BYTES = 768 * 1024;

/** A producer writing to Kafka topics through a driver producer. */
export class KafkaProducer extends BatchProducer {
  /** For error messages. */
  protected readonly backendName = "kafka";
  readonly #host: ProducerHost;
  readonly #driver: DriverProducer;
  /** Topics known to exist. */
  readonly #ready = new Set<string>();

  /** A producer over a connected `driver` producer. */
  constructor(
    host: ProducerHost,
    driver: DriverProducer,
    stream: StreamKey | undefined,
    options?: ProducerOptions,
  ) {
    super(stream, options);
    this.#host = host;
    this.#driver = driver;
  }

  /** Keys and header values must be strings. */
  protected override validate(item: PendingSend): void {
    const options = item.options;
    if (options === undefined) return;
    if (options.key !== undefined && typeof options.key !== "string") {
      throw new StreamError("Unsupported", "a message key is a string");
    }
    if (options.headers !== undefined) {
      for (const [name, value] of Object.entries(options.headers)) {
        if (typeof value !== "string") {
          throw new StreamError("Unsupported", `header ${name} must be a string`);
        }
      }
    }
  }

  /** Write `batch` (one tick's sends) in as few driver sends as the size limit allows. */
  protected async writeBatch(batch: readonly PendingSend[]): Promise<SendResult[]> {
    let unknown: Set<string> | undefined;
    for (const item of batch) {
      if (!this.#ready.has(item.streamKey)) (unknown ??= new Set()).add(item.streamKey);
    }
    if (unknown) {
      try {
        await this.#host.ensureTopics([...unknown]);
      } catch (error) {
        throw backendError(error, "cannot produce");
      }
      for (const topic of unknown) this.#ready.add(topic);
    }
    const results: SendResult[] = [];
    let start = 0;
    while (start < batch.length) {
      let end = start;
      let bytes = 0;
      do {
        bytes += batch[end].bytes.byteLength;
        end++;
      } while (end < batch.length && bytes + batch[end].bytes.byteLength <= MAX_REQUEST_BYTES);
      results.push(...await this.#send(batch, start, end));
      start = end;
    }
    return results;
  }

  async #send(batch: readonly PendingSend[], start: number, end: number): Promise<SendResult[]> {
    const now = Date.now();
    const records: ProduceRecord[] = new Array(end - start);
    for (let i = start; i < end; i++) {
      const item = batch[i];
      records[i - start] = {
        topic: item.streamKey,
        value: item.bytes,
        key: item.options?.key,
        headers: item.options?.headers,
        timestamp: now,
      };
    }
    try {
      const results = await this.#driver.send(records);
      return results.map((result) =>
        result instanceof Error ? backendError(result, "not written") : result
      );
    } catch (error) {
      const failure = backendError(error, "cannot produce");
      return records.map(() => failure);
    }
  }

  /** Disconnect the driver producer. */
  protected async close(): Promise<void> {
    this.#host.dropProducer(this);
    await timeout(this.#driver.close(), 30_000, "disconnecting the producer");
  }
}
