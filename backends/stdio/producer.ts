/**
 * The stdio producer driver: a payload is one line of UTF-8 text; the streamer prints batches.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import type { PendingSend, ProducerDriver, SendResult } from "../../core/driver.ts";
import { assertUtf8 } from "../../core/message.ts";

/** Checks each message and hands batches to the streamer's writer. */
export class StdioProducer implements ProducerDriver {
  readonly #write: (batch: readonly PendingSend[]) => Promise<SendResult[]>;

  /** A producer printing through `write`. */
  constructor(write: (batch: readonly PendingSend[]) => Promise<SendResult[]>) {
    this.#write = write;
  }

  /** A payload is one line: no line break; bytes must be UTF-8. */
  validate(item: PendingSend): void {
    const payload = item.payload;
    if (typeof payload === "string") {
      if (payload.includes("\n") || payload.includes("\r")) throw lineBreak();
      return;
    }
    if (payload.includes(0x0a) || payload.includes(0x0d)) throw lineBreak();
    assertUtf8(payload);
  }

  /** Print `batch`. */
  write(batch: readonly PendingSend[]): Promise<SendResult[]> {
    return this.#write(batch);
  }

  /** Nothing to release: the output belongs to the streamer. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function lineBreak(): StreamError {
  return new StreamError(
    "Unsupported",
    "a stdio payload is one line: it cannot contain a line break (encode it, e.g. as JSON)",
  );
}
