/**
 * The NATS producer driver: makes a stream's JetStream stream on its first
 * message, then hands batches to the streamer's {@link Publisher}.
 *
 * @module
 */
import { StreamError, type StreamKey } from "../../types.ts";
import type { PendingSend, ProducerDriver, SendResult } from "../../core/driver.ts";
import { checkSubjectKey } from "./mapping.ts";
import type { Publisher } from "./publisher.ts";
import type { Streams } from "./streams.ts";

const HEADER_NAME = /^[!-9;-~]+$/;

/** Writes batches to JetStream. */
export class NatsProducer implements ProducerDriver {
  readonly #publisher: Publisher;
  readonly #streams: Streams;
  /** The last stream key that passed `validate` (most sends repeat it). */
  #validKey: StreamKey | undefined;

  /** A producer publishing through `publisher`, making streams with `streams`. */
  constructor(publisher: Publisher, streams: Streams) {
    this.#publisher = publisher;
    this.#streams = streams;
  }

  /** A stream key must make a valid subject; header names and values must fit NATS headers. */
  validate(item: PendingSend): void {
    if (item.streamKey !== this.#validKey) {
      checkSubjectKey(item.streamKey);
      this.#validKey = item.streamKey;
    }
    const headers = item.options?.headers;
    if (headers === undefined) return;
    for (const [name, value] of Object.entries(headers)) {
      if (!HEADER_NAME.test(name) || /[\r\n]/.test(value)) {
        throw new StreamError(
          "Unsupported",
          `nats: header ${
            JSON.stringify(name)
          } is not a valid NATS header (printable ASCII name without ":", one-line value)`,
        );
      }
    }
  }

  /** Publish `batch`, after making any stream it is the first message of. */
  async write(batch: readonly PendingSend[]): Promise<SendResult[]> {
    let last: StreamKey | undefined;
    for (const item of batch) {
      if (item.streamKey === last) continue;
      last = item.streamKey;
      if (!this.#streams.known(last)) await this.#streams.ensure(last);
    }
    const results = await this.#publisher.publish(batch);
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      if (result instanceof StreamError && result.code === "StreamKeyNotFound") {
        this.#streams.forget(batch[i].streamKey);
      }
    }
    return results;
  }

  /** Nothing to release: the publisher is the streamer's. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
