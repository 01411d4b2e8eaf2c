/**
 * The streamer every backend shares: it makes producers and consumers over the
 * backend's drivers, keeps track of them, refuses work once disconnected, ends
 * them all on `disconnect()`, and prints nothing secret. The backend's part is
 * a {@link StreamerDriver}.
 *
 * @module
 */
import {
  type Backend,
  type BackendCapabilities,
  type Consumer,
  type ConsumerOptions,
  type Producer,
  type ProducerOptions,
  type SeqPos,
  type Streamer,
  StreamError,
  type StreamInfo,
  type StreamKey,
  type TrimOptions,
  validateStreamKey,
} from "../types.ts";
import { CoreConsumer } from "./consumer.ts";
import type { StreamerDriver } from "./driver.ts";
import { consumerSettings } from "./options.ts";
import { CoreProducer } from "./producer.ts";

/** A streamer over a {@link StreamerDriver}. */
export class CoreStreamer<D extends StreamerDriver = StreamerDriver> implements Streamer {
  /** The backend's driver (for backend-specific extras). */
  readonly driver: D;
  readonly #producers = new Set<CoreProducer>();
  readonly #consumers = new Set<CoreConsumer>();
  #disconnecting: Promise<void> | undefined;

  /** A streamer over a connected `driver`. */
  constructor(driver: D) {
    this.driver = driver;
  }

  /** Which backend this is. */
  get backend(): Backend {
    return this.driver.backend;
  }

  /** What the backend can do. */
  get capabilities(): BackendCapabilities {
    return this.driver.capabilities;
  }

  /** The URI it was connected with, any password replaced by `***`. */
  get uri(): string {
    return this.driver.uri;
  }

  /** Whether `disconnect()` has been called. */
  get disconnected(): boolean {
    return this.#disconnecting !== undefined;
  }

  /** A producer, anchored to `stream` if given. */
  async createProducer(stream?: StreamKey, options: ProducerOptions = {}): Promise<Producer> {
    this.#checkOpen();
    if (stream !== undefined) validateStreamKey(stream);
    const driver = await this.driver.openProducer(stream, options);
    const backend = { name: this.backend, keysAndHeaders: this.capabilities.keysAndHeaders };
    let producer: CoreProducer;
    try {
      producer = new CoreProducer(
        driver,
        backend,
        stream,
        options,
        (ended) => this.#producers.delete(ended),
      );
    } catch (error) {
      await driver.close().catch(() => {});
      throw error;
    }
    this.#producers.add(producer);
    if (this.#disconnecting) {
      await producer.end().catch(() => {});
      throw this.#closedError();
    }
    return producer;
  }

  /**
   * A consumer of `streams`; resolves once it is positioned, so nothing sent
   * afterwards is missed.
   */
  async createConsumer(
    streams: readonly StreamKey[],
    options: ConsumerOptions = {},
  ): Promise<Consumer> {
    this.#checkOpen();
    const settings = consumerSettings(streams, options, this);
    const consumer = new CoreConsumer(
      this.backend,
      settings,
      (ended) => this.#consumers.delete(ended),
    );
    const driver = await this.driver.openConsumer(consumer, options);
    consumer.attach(driver);
    this.#consumers.add(consumer);
    if (this.#disconnecting) {
      await consumer.end().catch(() => {});
      throw this.#closedError();
    }
    return consumer;
  }

  /** The streams the backend holds, sorted. */
  listStreams(): Promise<StreamKey[]> {
    return this.#admin("list streams", (driver) => driver.listStreams?.());
  }

  /** What `stream` holds now. */
  describeStream(stream: StreamKey): Promise<StreamInfo> {
    return this.#admin("describe streams", (driver) => {
      validateStreamKey(stream);
      return driver.describeStream?.(stream);
    });
  }

  /** Remove the oldest messages of `stream`; how many were removed. */
  trimStream(stream: StreamKey, options: TrimOptions): Promise<number> {
    return this.#admin("trim streams", (driver) => {
      validateStreamKey(stream);
      const given = ["maxLength", "minSeqNo", "olderThan"].filter((name) =>
        options?.[name as keyof TrimOptions] !== undefined
      );
      if (given.length !== 1) {
        throw new StreamError(
          "Unsupported",
          `trimStream takes one of maxLength, minSeqNo or olderThan${
            given.length > 1 ? `, not ${given.join(" and ")}` : ""
          }`,
        );
      }
      return driver.trimStream?.(stream, options);
    });
  }

  /** Move consumer group `group` of `stream` to `position`. */
  resetGroup(stream: StreamKey, group: string, position: SeqPos | Date): Promise<void> {
    return this.#admin("reset consumer groups", (driver) => {
      validateStreamKey(stream);
      if (typeof group !== "string" || group === "") {
        throw new StreamError("ConsumerGroupNotSet", "a consumer group name is a non-empty string");
      }
      const valid = position === "beginning" || position === "end" ||
        (position instanceof Date && !Number.isNaN(position.getTime())) ||
        (typeof position === "object" && position !== null &&
          typeof (position as { at?: unknown }).at === "bigint");
      if (!valid) {
        throw new StreamError(
          "Unsupported",
          'a group moves to "beginning", "end", { at: seqNo } (a bigint) or a valid Date',
        );
      }
      return driver.resetGroup?.(stream, group, position);
    });
  }

  /** End every producer (flushing) and consumer, then close the connection. */
  disconnect(): Promise<void> {
    this.#disconnecting ??= (async () => {
      const errors: unknown[] = [];
      const ending = [...this.#producers, ...this.#consumers];
      await Promise.all(ending.map((e) => e.end().catch((error) => errors.push(error))));
      try {
        await this.driver.close();
      } catch (error) {
        errors.push(error);
      }
      if (errors.length > 0) throw errors[0];
    })();
    return this.#disconnecting;
  }

  /** Same as `disconnect()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /** Only what is safe to print on Node and Bun: the backend and the redacted URI. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.#describe();
  }

  /** Only what is safe to print on Deno. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.#describe();
  }

  /** The same for `JSON.stringify`. */
  toJSON(): { backend: Backend; uri: string } {
    return { backend: this.backend, uri: this.uri };
  }

  #describe(): string {
    return `Streamer { backend: ${this.backend}, uri: ${JSON.stringify(this.uri)} }`;
  }

  async #admin<T>(
    what: string,
    call: (driver: D) => Promise<T> | undefined,
  ): Promise<T> {
    this.#checkOpen();
    const result = call(this.driver);
    if (result === undefined) {
      throw new StreamError("Unsupported", `the ${this.backend} backend cannot ${what}`);
    }
    return await result;
  }

  #checkOpen(): void {
    if (this.#disconnecting) throw this.#closedError();
  }

  #closedError(): StreamError {
    return new StreamError("Closed", `${this.backend} streamer is disconnected`);
  }
}
