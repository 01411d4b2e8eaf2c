/**
 * The producer every backend shares: anchoring, validation, a send queue
 * drained in batches (everything sent in one tick goes out together, a
 * `sendBatch` as one unit), receipts, and `flush()`/`end()` that report failed
 * sends. The backend's part is a {@link ProducerDriver}.
 *
 * @module
 */
import {
  type BatchItem,
  type MessageHeader,
  type PayloadInput,
  type Producer,
  type ProducerOptions,
  type ProducerStats,
  type SendOptions,
  StreamError,
  type StreamKey,
  validateStreamKey,
} from "../types.ts";
import type { PendingSend, ProducerDriver, SendResults } from "./driver.ts";
import { positiveInteger } from "./options.ts";
import { LazyReceipt } from "./lazy_receipt.ts";
import { QueuedSend, SendSegment } from "./send_segment.ts";
import { payloadSize } from "./message.ts";
import { thrownError } from "./errors.ts";
import { MAX_CHUNKED_TEXT, TextChunks } from "./text_chunks.ts";

/** One `sendBatch()` waiting in the queue: written as one unit, one promise. */
class QueuedBatch extends LazyReceipt<MessageHeader[]> {
  readonly items: readonly PendingSend[];

  constructor(items: readonly PendingSend[]) {
    super();
    this.items = items;
  }
}

function ignore(): void {}

function handled<T>(promise: Promise<T>): Promise<T> {
  // The caller may never await a send; its failure is reported by flush() instead.
  promise.catch(ignore);
  return promise;
}

/** What a producer needs to know of its backend. */
export interface ProducerBackend {
  /** The backend's name, for error messages. */
  readonly name: string;
  /** Whether it stores message keys and headers (else sending them is `Unsupported`). */
  readonly keysAndHeaders: boolean;
}

/** A producer over a {@link ProducerDriver}. */
export class CoreProducer implements Producer {
  readonly #driver: ProducerDriver;
  readonly #backend: ProducerBackend;
  readonly #onEnd: (producer: CoreProducer) => void;
  readonly #maxBatchSize: number;
  /** Where text payloads are encoded as sent, if the driver takes them as bytes. */
  readonly #chunks: TextChunks | undefined;
  #anchored: StreamKey | undefined;
  /** Single sends in segments of at most `maxBatchSize`, and batches, in order. */
  #queue: (SendSegment | QueuedBatch)[] = [];
  #draining: Promise<void> | undefined;
  #failure: unknown = undefined;
  #ending: Promise<void> | undefined;
  /** The last stream key that passed validation (most sends repeat it: skip the regex). */
  #validKey: StreamKey | undefined;
  #sent = 0;
  #bytes = 0;
  #failed = 0;
  #inFlight = 0;

  /**
   * A producer writing through `driver`, anchored to `stream` if given;
   * `onEnd` is told once it has ended.
   */
  constructor(
    driver: ProducerDriver,
    backend: ProducerBackend,
    stream: StreamKey | undefined,
    options: ProducerOptions,
    onEnd: (producer: CoreProducer) => void,
  ) {
    this.#driver = driver;
    this.#backend = backend;
    this.#onEnd = onEnd;
    if (stream !== undefined) this.#anchored = validateStreamKey(stream);
    this.#maxBatchSize = positiveInteger("maxBatchSize", options.maxBatchSize, 1000);
    if (driver.textAsBytes) this.#chunks = new TextChunks();
  }

  /** The stream `send` writes to, if anchored. */
  get anchored(): StreamKey | undefined {
    return this.#anchored;
  }

  /** Anchor to `stream`; `StreamError("AlreadyAnchored")` if already anchored. */
  anchor(stream: StreamKey): void {
    if (this.#anchored !== undefined) {
      throw new StreamError("AlreadyAnchored", `producer is already anchored to ${this.#anchored}`);
    }
    this.#anchored = validateStreamKey(stream);
  }

  /** Send to the anchored stream. */
  send(payload: PayloadInput, options?: SendOptions): Promise<MessageHeader> {
    if (this.#anchored === undefined) return this.#refuse(this.#notAnchored());
    return this.sendTo(this.#anchored, payload, options);
  }

  /** Send to `stream`. */
  sendTo(stream: StreamKey, payload: PayloadInput, options?: SendOptions): Promise<MessageHeader> {
    try {
      this.#checkStream(stream);
      this.#checkPayload(payload);
      options = this.#checkOptions(options);
      this.#driver.validate?.({ streamKey: stream, payload, options });
    } catch (error) {
      return this.#refuse(error);
    }
    const queue = this.#queue;
    let segment = queue[queue.length - 1];
    if (!(segment instanceof SendSegment) || segment.length === this.#maxBatchSize) {
      queue.push(segment = new SendSegment(stream));
    }
    const chunks = this.#chunks;
    let receipt: Promise<MessageHeader>;
    if (chunks !== undefined && typeof payload === "string" && payload.length <= MAX_CHUNKED_TEXT) {
      const start = chunks.put(payload);
      receipt = segment.addText(stream, chunks.chunk, start, chunks.position, options);
    } else {
      receipt = segment.add(stream, payload, options);
    }
    this.#inFlight++;
    this.#startDraining();
    return receipt;
  }

  /** Send `items` to the anchored stream as one batch. */
  sendBatch(items: readonly BatchItem[]): Promise<MessageHeader[]> {
    if (this.#anchored === undefined) return this.#refuse(this.#notAnchored());
    return this.sendBatchTo(this.#anchored, items);
  }

  /** Send `items` to `stream` as one batch. */
  sendBatchTo(stream: StreamKey, items: readonly BatchItem[]): Promise<MessageHeader[]> {
    let batch: QueuedBatch;
    try {
      this.#checkStream(stream);
      if (!Array.isArray(items)) {
        throw new StreamError("Unsupported", `a batch is an array, not ${typeof items}`);
      }
      // QueuedSend and map, not literals: see QueuedSend.
      batch = new QueuedBatch(items.map((item) => {
        const whole = typeof item === "object" && !(item instanceof Uint8Array) && item !== null;
        const send = whole
          ? new QueuedSend(
            stream,
            this.#checkPayload(item.payload),
            this.#checkOptions(
              item.key === undefined && item.headers === undefined
                ? undefined
                : { key: item.key, headers: item.headers as Record<string, string> | undefined },
            ),
          )
          : new QueuedSend(stream, this.#checkPayload(item), undefined);
        this.#driver.validate?.(send);
        return send;
      }));
    } catch (error) {
      return this.#refuse(error, Array.isArray(items) ? items.length : 1);
    }
    if (batch.items.length === 0) return Promise.resolve([]);
    this.#inFlight += batch.items.length;
    this.#queue.push(batch);
    this.#startDraining();
    return batch;
  }

  /**
   * Resolves once everything sent so far is written; rejects with the first
   * error of any send (refused or failed) since the last flush.
   */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
    const failure = this.#failure;
    if (failure !== undefined) {
      this.#failure = undefined;
      throw failure;
    }
  }

  /** Flush, then close. */
  end(): Promise<void> {
    this.#ending ??= (async () => {
      try {
        await this.flush();
      } finally {
        this.#chunks?.close();
        try {
          await this.#driver.close();
        } finally {
          this.#onEnd(this);
        }
      }
    })();
    return this.#ending;
  }

  /** Same as `end()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.end();
  }

  /** What this producer has done so far. */
  stats(): ProducerStats {
    return { sent: this.#sent, bytes: this.#bytes, failed: this.#failed, inFlight: this.#inFlight };
  }

  /** Only what is safe to print on Node and Bun: no driver, no connection, no credentials. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.#describe();
  }

  /** Only what is safe to print on Deno. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.#describe();
  }

  #describe(): string {
    return `Producer { backend: ${this.#backend.name}, anchored: ${
      JSON.stringify(this.#anchored)
    } }`;
  }

  #refuse<T>(error: unknown, messages = 1): Promise<T> {
    this.#failed += messages;
    this.#failure ??= error;
    return handled(Promise.reject(error));
  }

  #notAnchored(): StreamError {
    return new StreamError("NotAnchored", "producer is not anchored: use sendTo(stream, payload)");
  }

  #checkStream(stream: StreamKey): void {
    if (this.#ending) throw new StreamError("Closed", `${this.#backend.name} producer has ended`);
    if (stream !== this.#validKey || typeof stream !== "string") {
      this.#validKey = validateStreamKey(stream);
    }
  }

  #checkPayload(payload: PayloadInput): PayloadInput {
    if (typeof payload === "string" || payload instanceof Uint8Array) return payload;
    const kind = payload === null ? "null" : typeof payload;
    throw new StreamError("Unsupported", `a payload is a string or a Uint8Array, not ${kind}`);
  }

  /** Keys and headers only where the backend stores them, and only as strings. */
  #checkOptions(options: SendOptions | undefined): SendOptions | undefined {
    if (options === undefined) return undefined;
    const { key, headers } = options;
    if (key === undefined && headers === undefined) return undefined;
    if (!this.#backend.keysAndHeaders) {
      throw new StreamError(
        "Unsupported",
        `the ${this.#backend.name} backend stores no message keys or headers`,
      );
    }
    if (key !== undefined && typeof key !== "string") {
      throw new StreamError("Unsupported", "a message key is a string");
    }
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (typeof value !== "string") {
        throw new StreamError("Unsupported", `header ${name} must be a string`);
      }
    }
    return options;
  }

  #startDraining(): void {
    // Start on a later microtask so that sends made in the same tick share a batch.
    this.#draining ??= Promise.resolve().then(() => this.#drain());
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        // Take what is queued now; sends made meanwhile form the next segments.
        const queue: (SendSegment | QueuedBatch | undefined)[] = this.#queue;
        this.#queue = [];
        for (let i = 0; i < queue.length; i++) {
          const entry = queue[i]!;
          // Let go of each entry as it is written: its results then live only as long as
          // a receipt of it does (the user's loop keeps none).
          queue[i] = undefined;
          if (entry instanceof SendSegment) await this.#writeSegment(entry);
          else await this.#writeBatch(entry);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /** Write a segment of single sends: each gets its own receipt or error. */
  async #writeSegment(segment: SendSegment): Promise<void> {
    const results = await this.#write(segment.pending());
    this.#inFlight -= segment.length;
    let missing: StreamError | undefined;
    let allWritten = true;
    for (let i = 0; i < segment.length; i++) {
      // Asking `written` first makes no receipt for a message that was.
      if (!results.written?.(i)) {
        const result = results.at(i) ?? (missing ??= this.#noReceipt());
        if (result instanceof Error) {
          this.#failed++;
          this.#failure ??= result;
          allWritten = false;
          continue;
        }
      }
      this.#count(segment.sizeOf(i));
    }
    segment.settle(results, missing, allWritten);
  }

  /** Write one `sendBatch` as one unit: all receipts, or the first error for the whole batch. */
  async #writeBatch(batch: QueuedBatch): Promise<void> {
    const results = await this.#write(batch.items);
    this.#inFlight -= batch.items.length;
    const receipts: MessageHeader[] = new Array(batch.items.length);
    let failure: Error | undefined;
    for (let i = 0; i < receipts.length; i++) {
      const result = results.at(i) ?? this.#noReceipt();
      if (result instanceof Error) {
        this.#failed++;
        failure ??= result;
      } else {
        this.#count(payloadSize(batch.items[i].payload));
        receipts[i] = result;
      }
    }
    if (failure !== undefined) this.#failure ??= failure;
    batch.settle(failure ?? receipts);
  }

  async #write(batch: readonly PendingSend[]): Promise<SendResults> {
    try {
      return await this.#driver.write(batch);
    } catch (error) {
      // A rejection fails the sends whatever it is (as a result, only an Error would).
      const failure = thrownError(error, `${this.#backend.name}: the driver`);
      return batch.map(() => failure);
    }
  }

  /** Count a message of `bytes` written. */
  #count(bytes: number): void {
    this.#sent++;
    this.#bytes += bytes;
  }

  #noReceipt(): StreamError {
    return new StreamError("Backend", `${this.#backend.name}: no receipt for a message`);
  }
}
