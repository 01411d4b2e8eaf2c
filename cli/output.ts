/**
 * Buffered line output with backpressure, and the printed forms of a message.
 *
 * @module
 */
import type { Message } from "../types.ts";
import { decodeUtf8, encodeBase64, encodeUtf8 } from "../core/message.ts";
import { formatTimestamp } from "../backends/stdio/mod.ts";

/**
 * Writes lines to a byte stream in chunks: a line is written at the latest on
 * the next timer tick, and `write` waits when 64 KiB are pending, so a slow
 * reader slows the writer. `flush` and `close` wait for every chunk written so
 * far, the timer's too (the process may exit right after `close`).
 */
export class LineWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The newest chunk's write: the stream writes chunks in order, so it settles last. */
  #written: Promise<void> = Promise.resolve();
  #failure: unknown;

  /** Write to `output`. */
  constructor(output: WritableStream<Uint8Array>) {
    this.#writer = output.getWriter();
  }

  /** Queue `line` (a line break is added). */
  async write(line: string): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.#pending += line + "\n";
    if (this.#pending.length >= 65536) return await this.flush();
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((error) => this.#failure = error);
    }, 0);
  }

  /** Write what is pending, and wait until everything written before is out. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending !== "") {
      const chunk = encodeUtf8(this.#pending);
      this.#pending = "";
      this.#written = this.#writer.write(chunk);
    }
    return this.#written;
  }

  /** Flush and release the stream (it stays open). */
  async close(): Promise<void> {
    await this.flush();
    if (this.#failure) throw this.#failure;
    this.#writer.releaseLock();
  }
}

/** Print forms of a message: the stdio log line, one JSON object, or the bare payload. */
export type MessageFormat = "log" | "ndjson" | "payload";

function payloadText(message: Message): string | undefined {
  try {
    return message.payload.text();
  } catch {
    return undefined;
  }
}

function textOf(bytes: Uint8Array): string | undefined {
  try {
    return decodeUtf8(bytes);
  } catch {
    return undefined;
  }
}

/**
 * `message` as one line: `log` is `[timestamp | stream | seq | shard] payload`,
 * `ndjson` a JSON object (a payload that is not UTF-8 as `payloadBase64`),
 * `payload` the payload alone. With `headerOnly`, the payload is left out.
 */
export function formatMessage(
  message: Message,
  format: MessageFormat,
  headerOnly = false,
): string {
  const { streamKey, shardId, seqNo, timestamp } = message.header;
  const text = headerOnly ? "" : payloadText(message);
  if (format === "ndjson") {
    const record: Record<string, unknown> = {
      timestamp: timestamp.toISOString(),
      stream: streamKey,
      seq: seqNo.toString(),
      shard: shardId,
      size: message.payload.size,
    };
    if (!headerOnly) {
      if (text === undefined) record.payloadBase64 = encodeBase64(message.payload.bytes());
      else record.payload = text;
    }
    const key = message.key;
    if (typeof key === "string") {
      record.key = key;
    } else if (key !== undefined) {
      const keyText = textOf(key);
      if (keyText === undefined) record.keyBase64 = encodeBase64(key);
      else record.key = keyText;
    }
    if (message.headers !== undefined && Object.keys(message.headers).length > 0) {
      record.headers = message.headers;
    }
    return JSON.stringify(record);
  }
  const shown = text ?? `base64:${encodeBase64(message.payload.bytes())}`;
  if (format === "payload") return shown;
  const head = `[${formatTimestamp(timestamp)} | ${streamKey} | ${seqNo} | ${shardId}]`;
  return headerOnly ? head : `${head} ${shown}`;
}
