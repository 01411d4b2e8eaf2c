/**
 * The consumer machinery every backend shares: a bounded prefetch queue fed by
 * the backend, `next()`, async iteration, `stream()`, auto-commit and ending.
 * A backend subclasses {@link QueueConsumer} and overrides what it supports.
 *
 * @module
 */
import {
  type Consumer,
  type ConsumerMode,
  type ConsumerStats,
  type Message,
  type MessageHeader,
  type SeqPos,
  type ShardId,
  StreamError,
  type StreamKey,
} from "../types.ts";
import { BoundedQueue } from "./queue.ts";
import type { ConsumerSettings } from "./options.ts";

/**
 * A consumer reading from a {@link BoundedQueue} that its backend fills.
 * Operations the backend does not override reject with `StreamError("Unsupported")`.
 */
export abstract class QueueConsumer implements Consumer {
  /** The streams this consumer reads. */
  readonly streams: readonly StreamKey[];
  /** Its mode. */
  readonly mode: ConsumerMode;
  /** Its group, if any. */
  readonly group: string | undefined;
  /** The validated options. */
  protected readonly settings: ConsumerSettings;
  /** The prefetched messages; the backend pushes, `next()` shifts. */
  protected readonly queue: BoundedQueue<Message>;
  /** The backend's name, for error messages. */
  protected abstract readonly backendName: string;
  #owed: Message | undefined;
  #ending: Promise<void> | undefined;

  /** A consumer with `settings`; the queue holds `settings.prefetch` messages. */
  constructor(settings: ConsumerSettings) {
    this.settings = settings;
    this.streams = settings.streams;
    this.mode = settings.mode;
    this.group = settings.group;
    this.queue = new BoundedQueue(settings.prefetch);
  }

  /** Whether `end()` has been called. */
  get ended(): boolean {
    return this.#ending !== undefined;
  }

  /** The next message; with autoCommit, the previous one is committed first. */
  next(signal?: AbortSignal): Promise<Message> {
    if (this.#ending) return Promise.reject(this.closedError());
    this.#settleOwed();
    if (!this.settings.autoCommit || this.mode === "real-time") return this.queue.shift(signal);
    // A message waiting (the usual case): owed at once, no promise chained per message.
    const waiting = this.queue.poll();
    if (waiting !== undefined) {
      this.#owed = waiting;
      return Promise.resolve(waiting);
    }
    return this.queue.shift(signal).then((message) => {
      this.#owed = message;
      return message;
    });
  }

  /** Transitional (until this backend moves to core/consumer.ts): no counters. */
  stats(): ConsumerStats {
    return { received: 0, committed: 0, lag: undefined };
  }

  /** Transitional (until this backend moves to core/consumer.ts): the next 1 to `max` messages. */
  async nextBatch(options: { max?: number; signal?: AbortSignal } = {}): Promise<Message[]> {
    const max = options.max ?? this.settings.prefetch;
    const batch = [await this.next(options.signal)];
    while (batch.length < max && this.queue.length > 0) batch.push(await this.next());
    return batch;
  }

  /** Transitional: batches until the consumer ends. */
  batches(options: { max?: number } = {}): AsyncIterable<Message[]> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          this.nextBatch(options).then(
            (value) => ({ done: false as const, value }),
            (error) => {
              if (error instanceof StreamError && error.code === "Closed") {
                return { done: true as const, value: undefined };
              }
              throw error;
            },
          ),
      }),
    };
  }

  /** Iterate the messages until the consumer ends. Breaking out does not end the consumer. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    while (true) {
      let message: Message;
      try {
        message = await this.next();
      } catch (error) {
        if (error instanceof StreamError && error.code === "Closed") return;
        throw error;
      }
      yield message;
    }
  }

  /** The messages as a `ReadableStream`; cancelling it ends the consumer. */
  stream(): ReadableStream<Message> {
    return new ReadableStream<Message>({
      pull: async (controller) => {
        try {
          controller.enqueue(await this.next());
        } catch (error) {
          if (error instanceof StreamError && error.code === "Closed") controller.close();
          else controller.error(error);
        }
      },
      cancel: () => this.end(),
    }, { highWaterMark: 0 });
  }

  /** Commit `message` and all before it on its shard. Real-time consumers cannot commit. */
  commit(message: Message | MessageHeader | readonly (Message | MessageHeader)[]): Promise<void> {
    if (Array.isArray(message)) {
      const last = message[message.length - 1];
      return last === undefined ? Promise.resolve() : this.commit(last);
    }
    message = message as Message | MessageHeader;
    if (this.mode === "real-time") {
      return Promise.reject(
        new StreamError("CommitNotAllowed", "a real-time consumer has no group to commit to"),
      );
    }
    const header = "header" in message ? message.header : message;
    if (this.#owed && this.#owed.header === header) this.#owed = undefined;
    return this.commitHeader(header);
  }

  /** Move every shard to `position`. */
  rewind(_position: SeqPos): Promise<void> {
    return Promise.reject(this.unsupported("rewind"));
  }

  /** Move to the first message at or after `timestamp`. */
  seek(_timestamp: Date): Promise<void> {
    return Promise.reject(this.unsupported("seek"));
  }

  /** Read a shard by hand. */
  assign(_stream: StreamKey, _shardId: ShardId): void {
    throw this.unsupported("assign");
  }

  /** Stop reading a shard. */
  unassign(_stream: StreamKey, _shardId: ShardId): void {
    throw this.unsupported("unassign");
  }

  /** Stop: commit what autoCommit owes, stop the backend's reader, fail pending `next()` calls. */
  end(): Promise<void> {
    this.#ending ??= (async () => {
      try {
        const owed = this.#owed;
        this.#owed = undefined;
        if (owed) await this.commitHeader(owed.header);
      } finally {
        this.queue.close(this.closedError());
        this.queue.clear();
        await this.close();
      }
    })();
    return this.#ending;
  }

  /** Same as `end()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.end();
  }

  /**
   * Store the group's position after `header` (called by `commit` and by
   * autoCommit). The default is for backends without groups.
   */
  protected commitHeader(_header: MessageHeader): Promise<void> {
    return Promise.reject(this.unsupported("commit"));
  }

  /**
   * Called by autoCommit for each message handed out before the next one.
   * Backends that batch commits override it; the default commits right away
   * and hands failures to {@link QueueConsumer.onCommitError}.
   */
  protected autoCommit(header: MessageHeader): void {
    this.commitHeader(header).catch((error) => this.onCommitError(error));
  }

  /** A commit made by autoCommit failed: the message may be delivered again. */
  protected onCommitError(error: unknown): void {
    this.queue.close(error);
  }

  /** Release the backend's resources (reader tasks, connections). */
  protected abstract close(): Promise<void>;

  /** A `StreamError("Unsupported")` for `operation` on this backend. */
  protected unsupported(operation: string): StreamError {
    return new StreamError(
      "Unsupported",
      `${this.backendName}: ${operation} is not supported on a ${this.mode} consumer of this backend`,
    );
  }

  /** The error for use after `end()`. */
  protected closedError(): StreamError {
    return new StreamError("Closed", `${this.backendName} consumer has ended`);
  }

  /** Take the message autoCommit owes, leaving none owed. */
  protected takeOwed(): Message | undefined {
    const owed = this.#owed;
    this.#owed = undefined;
    return owed;
  }

  #settleOwed(): void {
    const owed = this.#owed;
    if (owed === undefined) return;
    this.#owed = undefined;
    this.autoCommit(owed.header);
  }
}
