/**
 * The producer machinery every backend shares: anchoring, validation, a send
 * queue drained in batches (everything sent in one tick goes out together),
 * receipts, and `flush()`/`end()` that report failed sends.
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
import { payloadBytes } from "./message.ts";
import { positiveInteger } from "./options.ts";
import { runtimeName } from "../runtime/detect.ts";

/** A message waiting to be written. */
export interface PendingSend {
  /** Its stream. */
  readonly streamKey: StreamKey;
  /** Its payload. */
  readonly bytes: Uint8Array;
  /** Its key and headers, if given. */
  readonly options: SendOptions | undefined;
}

/** What a backend returns for each message of a batch: its receipt, or why it failed. */
export type SendResult = MessageHeader | Error;

/** A send waiting in the queue, with the settlers of its promise (one object per send). */
class Queued implements PendingSend {
  readonly streamKey: StreamKey;
  readonly bytes: Uint8Array;
  readonly options: SendOptions | undefined;
  resolve: (receipt: MessageHeader) => void = ignore;
  reject: (error: unknown) => void = ignore;
  /** The promise the sender holds: marked handled just before it is rejected. */
  promise: Promise<MessageHeader> | undefined;

  constructor(streamKey: StreamKey, bytes: Uint8Array, options: SendOptions | undefined) {
    this.streamKey = streamKey;
    this.bytes = bytes;
    this.options = options;
  }
}

function ignore(): void {}

let capturedResolve: Queued["resolve"] = ignore;
let capturedReject: Queued["reject"] = ignore;
function capture(resolve: Queued["resolve"], reject: Queued["reject"]): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * Make `queued`'s promise, keeping its settlers on it. On JavaScriptCore (Bun)
 * one shared executor saves allocating a closure per send (about a third of the
 * cost of a send's promise); V8 (Deno, Node) does better with the closure, which
 * it optimizes away.
 */
const promiseOf: (queued: Queued) => Promise<MessageHeader> = runtimeName === "bun"
  ? (queued) => {
    const promise = new Promise<MessageHeader>(capture);
    queued.resolve = capturedResolve;
    queued.reject = capturedReject;
    return promise;
  }
  : (queued) =>
    new Promise<MessageHeader>((resolve, reject) => {
      queued.resolve = resolve;
      queued.reject = reject;
    });

function handled<T>(promise: Promise<T>): Promise<T> {
  // The caller may never await a send; its failure is reported by flush() instead.
  promise.catch(() => {});
  return promise;
}

/**
 * A producer that queues sends and hands them to {@link BatchProducer.writeBatch}
 * in order, one batch at a time.
 */
export abstract class BatchProducer implements Producer {
  #anchored: StreamKey | undefined;
  #queue: Queued[] = [];
  #draining: Promise<void> | undefined;
  #failure: unknown = undefined;
  #ending: Promise<void> | undefined;
  /** The last stream key that passed validation (most sends repeat it: skip the regex). */
  #validKey: StreamKey | undefined;
  /** The most messages per batch. */
  protected readonly maxBatchSize: number;
  /** The backend's name, for error messages. */
  protected abstract readonly backendName: string;
  /** Whether the backend stores message keys and headers (else sending them is `Unsupported`). */
  protected readonly keysAndHeaders: boolean = false;

  /** A producer anchored to `stream` if given. */
  constructor(stream: StreamKey | undefined, options: ProducerOptions = {}) {
    if (stream !== undefined) this.#anchored = validateStreamKey(stream);
    this.maxBatchSize = positiveInteger("maxBatchSize", options.maxBatchSize, 1000);
  }

  /** The stream `send` writes to, if anchored. */
  get anchored(): StreamKey | undefined {
    return this.#anchored;
  }

  /** Anchor to `stream`; `StreamError("AlreadyAnchored")` if already anchored. */
  anchor(stream: StreamKey): void {
    if (this.#anchored !== undefined) {
      throw new StreamError(
        "AlreadyAnchored",
        `producer is already anchored to ${this.#anchored}`,
      );
    }
    this.#anchored = validateStreamKey(stream);
  }

  /** Send to the anchored stream. */
  send(payload: PayloadInput, options?: SendOptions): Promise<MessageHeader> {
    if (this.#anchored === undefined) {
      const error = new StreamError(
        "NotAnchored",
        "producer is not anchored: use sendTo(stream, payload)",
      );
      this.#failure ??= error;
      return handled(Promise.reject(error));
    }
    return this.sendTo(this.#anchored, payload, options);
  }

  /** Send to `stream`. */
  sendTo(stream: StreamKey, payload: PayloadInput, options?: SendOptions): Promise<MessageHeader> {
    let item: Queued;
    try {
      if (this.#ending) throw new StreamError("Closed", `${this.backendName} producer has ended`);
      if (stream !== this.#validKey || typeof stream !== "string") {
        this.#validKey = validateStreamKey(stream);
      }
      if (options !== undefined) this.#checkKeyAndHeaders(options);
      item = new Queued(stream, payloadBytes(payload), options);
      this.validate(item);
    } catch (error) {
      this.#failure ??= error;
      return handled(Promise.reject(error));
    }
    return this.#enqueue(item);
  }

  /** Transitional (until this backend moves to core/producer.ts): no counters. */
  stats(): ProducerStats {
    return { sent: 0, bytes: 0, failed: 0, inFlight: 0 };
  }

  /** Transitional (until this backend moves to core/producer.ts): a batch of sends. */
  sendBatch(items: readonly BatchItem[]): Promise<MessageHeader[]> {
    if (this.#anchored === undefined) return this.send("") as never;
    return this.sendBatchTo(this.#anchored, items);
  }

  /** Transitional: a batch of sends to `stream`. */
  sendBatchTo(stream: StreamKey, items: readonly BatchItem[]): Promise<MessageHeader[]> {
    return Promise.all(
      items.map((item) =>
        typeof item === "string" || item instanceof Uint8Array
          ? this.sendTo(stream, item)
          : this.sendTo(
            stream,
            item.payload,
            item.key === undefined && item.headers === undefined
              ? undefined
              : { key: item.key, headers: item.headers as Record<string, string> },
          )
      ),
    );
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
        await this.close();
      }
    })();
    return this.#ending;
  }

  /** Same as `end()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.end();
  }

  /** Whether `end()` has been called. */
  protected get ending(): boolean {
    return this.#ending !== undefined;
  }

  /**
   * Check a message before it is queued; throw a `StreamError` to refuse it
   * (for example `Unsupported` for headers a backend cannot store).
   */
  protected validate(_item: PendingSend): void {}

  /**
   * Write `batch` in order; one result per message. Throwing fails the whole batch.
   */
  protected abstract writeBatch(batch: readonly PendingSend[]): Promise<SendResult[]>;

  /** Release the backend's resources after the last flush. */
  protected abstract close(): Promise<void>;

  /** Keys and headers only where the backend stores them, and only as strings. */
  #checkKeyAndHeaders({ key, headers }: SendOptions): void {
    if (key === undefined && headers === undefined) return;
    if (!this.keysAndHeaders) {
      throw new StreamError(
        "Unsupported",
        `the ${this.backendName} backend stores no message keys or headers`,
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
  }

  /** Queue `queued` and start draining; its receipt. */
  #enqueue(queued: Queued): Promise<MessageHeader> {
    const promise = promiseOf(queued);
    // The caller may never await a send: a failure is marked handled when it happens
    // (see #write), which costs nothing on the path where sends succeed.
    queued.promise = promise;
    this.#queue.push(queued);
    // Start on a later microtask so that sends made in the same tick share a batch.
    this.#draining ??= Promise.resolve().then(() => this.#drain());
    return promise;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        // Take what is queued now; sends made meanwhile form the next batches.
        const queue = this.#queue;
        this.#queue = [];
        for (let start = 0; start < queue.length; start += this.maxBatchSize) {
          const batch = start === 0 && queue.length <= this.maxBatchSize
            ? queue
            : queue.slice(start, start + this.maxBatchSize);
          await this.#write(batch);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #write(batch: Queued[]): Promise<void> {
    let results: SendResult[];
    try {
      results = await this.writeBatch(batch);
    } catch (error) {
      results = batch.map(() => error as Error);
    }
    for (let i = 0; i < batch.length; i++) {
      const result = results[i] ??
        new StreamError("Backend", `${this.backendName}: no receipt for a message`);
      if (result instanceof Error) {
        this.#failure ??= result;
        batch[i].promise?.catch(ignore);
        batch[i].reject(result);
      } else {
        batch[i].resolve(result);
      }
    }
  }
}
