/**
 * The Kafka producer: everything sent in one tick goes out in one driver send
 * (kafkajs `sendBatch`), split only to keep each request well under the broker's
 * message size limit; receipts carry the partition and offset.
 *
 * @module
 */
import type { ProducerOptions, StreamKey } from "../../types.ts";
import { BatchProducer, type PendingSend, type SendResult } from "../../core/batch_producer.ts";
import type { DriverProducer } from "./driver.ts";
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
  /** Records carry keys and headers. */
  protected override readonly keysAndHeaders = true;
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
    // One driver send, unless the batch is over the request size limit.
    let bytes = 0;
    for (const item of batch) bytes += item.bytes.byteLength;
    if (bytes <= MAX_REQUEST_BYTES) return await this.#send(batch);
    const results: SendResult[] = [];
    let start = 0;
    while (start < batch.length) {
      let end = start;
      bytes = 0;
      do {
        bytes += batch[end].bytes.byteLength;
        end++;
      } while (end < batch.length && bytes + batch[end].bytes.byteLength <= MAX_REQUEST_BYTES);
      for (const result of await this.#send(batch.slice(start, end))) results.push(result);
      start = end;
    }
    return results;
  }

  async #send(records: readonly PendingSend[]): Promise<SendResult[]> {
    let results: SendResult[];
    try {
      results = await this.#driver.send(records, Date.now());
    } catch (error) {
      const failure = backendError(error, "cannot produce");
      return records.map(() => failure);
    }
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      if (result instanceof Error) results[i] = backendError(result, "not written");
    }
    return results;
  }

  /** Disconnect the driver producer. */
  protected async close(): Promise<void> {
    this.#host.dropProducer(this);
    await timeout(this.#driver.close(), 30_000, "disconnecting the producer");
  }
}
