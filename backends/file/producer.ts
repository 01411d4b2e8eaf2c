/**
 * The file producer driver: batches go to the file's shared writer, which
 * numbers, encodes and appends them.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import type { PendingSend, ProducerDriver, SendResult } from "../../core/driver.ts";
import type { AppendItem, SharedWriter } from "./writer.ts";

const utf8 = new TextEncoder();

/** A payload's length field is 32 bits. */
const MAX_PAYLOAD = 0xffffffff;

/** Appends through the file's writer (shared by every producer of the file in this process). */
export class FileProducer implements ProducerDriver {
  readonly #writer: () => Promise<SharedWriter>;

  /** A producer writing through the writer `writer` gives. */
  constructor(writer: () => Promise<SharedWriter>) {
    this.#writer = writer;
  }

  /** A payload is at most 4 GiB. */
  validate(item: PendingSend): void {
    const payload = item.payload;
    // A string's UTF-8 is at most three bytes per UTF-16 unit.
    const most = typeof payload === "string" ? payload.length * 3 : payload.byteLength;
    if (most > MAX_PAYLOAD && toBytes(payload).byteLength > MAX_PAYLOAD) {
      throw new StreamError("Unsupported", "a .ss message payload is at most 4 GiB");
    }
  }

  /** Append `batch`; one receipt per message once the bytes are written to the OS. */
  async write(batch: readonly PendingSend[]): Promise<SendResult[]> {
    const items: AppendItem[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const { streamKey, payload } = batch[i];
      items[i] = { streamKey, payload };
    }
    return await (await this.#writer()).write(items);
  }

  /** Nothing to release: the writer belongs to the streamer. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function toBytes(payload: string | Uint8Array): Uint8Array {
  return typeof payload === "string" ? utf8.encode(payload) : payload;
}
