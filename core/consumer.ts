/**
 * The consumer every backend shares: a bounded buffer refilled from the
 * driver in batches when it falls below half the prefetch, `next()`,
 * `nextBatch()`, async iteration, `stream()`, faults in order, auto-commit
 * through the commit batcher, moves (rewind, seek) and ending. The backend's
 * part is a {@link ConsumerDriver}.
 *
 * @module
 */
import {
  type Consumer,
  type ConsumerMode,
  type ConsumerStats,
  type Message,
  type MessageHeader,
  type NextBatchOptions,
  type SeqPos,
  type ShardId,
  type ShardRef,
  StreamError,
  type StreamKey,
} from "../types.ts";
import { MessageBuffer } from "./buffer.ts";
import { CommitBatcher, lastOfEachShard } from "./commits.ts";
import { type ConsumerDriver, type ConsumerHost, Fault } from "./driver.ts";
import { positiveInteger } from "./options.ts";
import type { ConsumerSettings } from "./options.ts";

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

function isClosed(error: unknown): boolean {
  return error instanceof StreamError && error.code === "Closed";
}

/** A consumer over a {@link ConsumerDriver}. */
export class CoreConsumer implements Consumer, ConsumerHost {
  /** The streams this consumer reads. */
  readonly streams: readonly StreamKey[];
  /** Its mode. */
  readonly mode: ConsumerMode;
  /** Its group, if any. */
  readonly group: string | undefined;
  /** The validated options. */
  readonly settings: ConsumerSettings;
  readonly #backend: string;
  readonly #buffer = new MessageBuffer();
  readonly #lowWater: number;
  readonly #commits: CommitBatcher | undefined;
  /** Whether handing a message out makes it owed (autoCommit in a group). */
  readonly #autoCommits: boolean;
  readonly #onEnd: (consumer: CoreConsumer) => void;
  #driver: ConsumerDriver | undefined;
  /** Handed out, committed when the next is asked for (autoCommit in a group only). */
  #owed: Message | undefined;
  /** The buffer chunk `#owed` came from, if the driver fetches one shard at a time; else -1. */
  #owedFrom = -1;
  /** The chunk of the message auto-committed last (-1: none, or not known to be one shard). */
  #markedFrom = -1;
  /** The driver's {@link ConsumerDriver.fetchesOneShard}. */
  #oneShardFetches = false;
  #owedBatch: readonly Message[] | undefined;
  #ending: Promise<void> | undefined;
  // The pump: one fetch at a time, stopped (and awaited) around moves and at the end.
  #pumping: Promise<void> | undefined;
  #fetchAbort: AbortController | undefined;
  /** While a move of one shard stops the pump: keep what a fetch cut short returns. */
  #keepCutShort = false;
  #roomWaiter: (() => void) | undefined;
  #moving: Promise<void> = Promise.resolve();
  #received = 0;

  /**
   * A consumer for `backend` with `settings`; `attach()` gives it its driver.
   * `onEnd` is told once it has ended.
   */
  constructor(
    backend: string,
    settings: ConsumerSettings,
    onEnd: (consumer: CoreConsumer) => void,
  ) {
    this.#backend = backend;
    this.settings = settings;
    this.streams = settings.streams;
    this.mode = settings.mode;
    this.group = settings.group;
    this.#onEnd = onEnd;
    this.#lowWater = Math.max(1, Math.floor(settings.prefetch / 2));
    if (settings.mode !== "real-time") {
      this.#commits = new CommitBatcher(
        (positions) => this.#driver!.commit!(positions),
        (error) => this.#buffer.close(error),
      );
    }
    this.#autoCommits = this.#commits !== undefined && settings.autoCommit;
  }

  /** Start reading through `driver`. */
  attach(driver: ConsumerDriver): void {
    this.#driver = driver;
    this.#oneShardFetches = driver.fetchesOneShard === true;
    this.#startPump();
  }

  /** Whether `end()` has been called. */
  get ended(): boolean {
    return this.#ending !== undefined;
  }

  // ---- handing out ----

  /** The next message; with autoCommit, the one before is committed. */
  next(signal?: AbortSignal): Promise<Message> {
    if (this.#ending) return Promise.reject(this.#closedError());
    const item = this.#takeOne();
    if (item === undefined) return handledWait(this.#nextLater(signal));
    if (item instanceof Fault) return Promise.reject(item.error);
    return Promise.resolve(item);
  }

  /** Settle what autoCommit owes, then take the next message or fault, if one waits. */
  #takeOne(): Message | Fault | undefined {
    if (this.#owed !== undefined || this.#owedBatch !== undefined) this.#settleOwed();
    const item = this.#buffer.take();
    if (item === undefined) return undefined;
    this.#received++;
    if (this.#roomWaiter !== undefined && this.#buffer.size < this.#lowWater) this.#wakePump();
    if (this.#autoCommits && !(item instanceof Fault)) {
      this.#owed = item;
      this.#owedFrom = this.#oneShardFetches ? this.#buffer.takenFrom : -1;
    }
    return item;
  }

  async #nextLater(signal: AbortSignal | undefined): Promise<Message> {
    for (;;) {
      await this.#buffer.wait(signal);
      if (this.#ending) throw this.#closedError();
      const item = this.#takeOne();
      if (item === undefined) continue;
      if (item instanceof Fault) throw item.error;
      return item;
    }
  }

  /** The next 1 to `max` messages: waits for the first, then takes what is there. */
  nextBatch(options: NextBatchOptions = {}): Promise<Message[]> {
    let max: number;
    try {
      max = positiveInteger("max", options.max, this.settings.prefetch);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#ending) return Promise.reject(this.#closedError());
    const batch = this.#takeBatch(max);
    if (batch === undefined) return handledWait(this.#nextBatchLater(max, options.signal));
    if (batch instanceof Fault) return Promise.reject(batch.error);
    return Promise.resolve(batch);
  }

  #takeBatch(max: number): Message[] | Fault | undefined {
    if (this.#owed !== undefined || this.#owedBatch !== undefined) this.#settleOwed();
    const batch = this.#buffer.takeBatch(max);
    if (batch === undefined) return undefined;
    if (!(batch instanceof Fault)) this.#received += batch.length;
    this.#taken();
    if (this.#autoCommits && !(batch instanceof Fault)) this.#owedBatch = batch;
    return batch;
  }

  async #nextBatchLater(max: number, signal: AbortSignal | undefined): Promise<Message[]> {
    for (;;) {
      await this.#buffer.wait(signal);
      if (this.#ending) throw this.#closedError();
      const batch = this.#takeBatch(max);
      if (batch === undefined) continue;
      if (batch instanceof Fault) throw batch.error;
      return batch;
    }
  }

  /** The messages until the consumer ends. Breaking out does not end the consumer. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => {
        // A message waiting (the usual case): one settled promise, no chained one.
        const item = this.#ending ? undefined : this.#takeOne();
        if (item !== undefined && !(item instanceof Fault)) {
          return Promise.resolve({ done: false, value: item });
        }
        if (item instanceof Fault) return Promise.reject(item.error);
        return this.next().then(toResult, endOnClosed);
      },
      return: () => Promise.resolve(DONE),
    };
  }

  /** The messages in batches of 1 to `max`, until the consumer ends. */
  batches(options: { max?: number } = {}): AsyncIterable<Message[]> {
    const max = options.max;
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => this.nextBatch({ max }).then(toResult, endOnClosed),
        return: () => Promise.resolve(DONE),
      }),
    };
  }

  /** The messages as a `ReadableStream`; cancelling it ends the consumer. */
  stream(): ReadableStream<Message> {
    return new ReadableStream<Message>({
      pull: async (controller) => {
        try {
          controller.enqueue(await this.next());
        } catch (error) {
          if (isClosed(error)) controller.close();
          else controller.error(error);
        }
      },
      cancel: () => this.end(),
    }, { highWaterMark: 0 });
  }

  /** What this consumer has done so far. */
  stats(): ConsumerStats {
    return {
      received: this.#received,
      committed: this.#commits?.committed ?? 0,
      lag: this.#driver?.lag?.(),
    };
  }

  // ---- commits ----

  /** Commit `message` and all before it on its shard; an array: the last of each shard. */
  commit(
    message: Message | MessageHeader | readonly (Message | MessageHeader)[],
  ): Promise<void> {
    if (this.#commits === undefined) {
      return Promise.reject(
        new StreamError("CommitNotAllowed", "a real-time consumer has no group to commit to"),
      );
    }
    if (this.#driver?.commit === undefined) return Promise.reject(this.#unsupported("commit"));
    let positions: MessageHeader[];
    if (Array.isArray(message)) {
      positions = lastOfEachShard(message);
      if (message === this.#owedBatch) this.#owedBatch = undefined;
    } else {
      const single = message as Message | MessageHeader;
      const header = "header" in single ? single.header : single;
      if (this.#owed !== undefined && this.#owed.header === header) this.#owed = undefined;
      positions = [header];
    }
    if (positions.length === 0) return Promise.resolve();
    return this.#commits.commit(positions, Array.isArray(message) ? message.length : 1);
  }

  /**
   * Send every commit owed now (drivers call it before giving shards away). The
   * message in the caller's hands stays owed: it is not done yet.
   */
  flushCommits(): Promise<void> {
    return this.#commits?.flush() ?? Promise.resolve();
  }

  #settleOwed(): void {
    const owed = this.#owed;
    if (owed !== undefined) {
      this.#owed = undefined;
      // After a message of the same fetched array: the same shard, so no header is needed yet.
      if (this.#owedFrom >= 0 && this.#owedFrom === this.#markedFrom) {
        this.#commits!.markNext(owed);
      } else {
        this.#commits!.mark(owed.header);
        this.#markedFrom = this.#owedFrom;
      }
    }
    const batch = this.#owedBatch;
    if (batch !== undefined) {
      this.#owedBatch = undefined;
      this.#markedFrom = -1;
      this.#commits!.markBatch(batch);
    }
  }

  // ---- moving ----

  /** Move every shard to `position`, or `shard` alone. */
  rewind(position: SeqPos, shard?: ShardRef): Promise<void> {
    const driver = this.#driver;
    if (shard === undefined) {
      if (driver?.rewind === undefined) return Promise.reject(this.#unsupported("rewind"));
      return this.#move(() => driver.rewind!(position));
    }
    if (driver?.rewindShard === undefined) {
      return Promise.reject(this.#unsupported("rewind of one shard"));
    }
    if (!this.streams.includes(shard.stream) || !Number.isInteger(shard.shardId)) {
      return Promise.reject(
        new StreamError(
          "StreamKeyNotFound",
          `${this.#backend}: this consumer reads ${this.streams.join(", ")}; it has no shard ${
            JSON.stringify(shard)
          }`,
        ),
      );
    }
    return this.#move(() => driver.rewindShard!(position, shard), shard);
  }

  /** Move to the first message at or after `timestamp`. */
  seek(timestamp: Date): Promise<void> {
    const driver = this.#driver;
    if (driver?.seek === undefined) return Promise.reject(this.#unsupported("seek"));
    return this.#move(() => driver.seek!(timestamp));
  }

  /** Read a shard by hand. */
  assign(stream: StreamKey, shardId: ShardId): void {
    if (this.#ending) throw this.#closedError();
    const driver = this.#driver;
    if (driver?.assign === undefined) throw this.#unsupported("assign");
    driver.assign(stream, shardId);
  }

  /** Stop reading a shard; its buffered messages are dropped. */
  unassign(stream: StreamKey, shardId: ShardId): void {
    if (this.#ending) throw this.#closedError();
    const driver = this.#driver;
    if (driver?.unassign === undefined) throw this.#unsupported("unassign");
    driver.unassign(stream, shardId);
  }

  /** Drop buffered messages `drop` matches; see {@link ConsumerHost.drop}. */
  drop(drop: (message: Message) => boolean): Message[] {
    const dropped = this.#buffer.drop(drop);
    if (dropped.length > 0) this.#taken();
    return dropped;
  }

  /**
   * Stop the pump, drop what is buffered (of `shard` only, if given: the other
   * shards' messages stay, those of a fetch cut short included), `move`, then
   * read from the new place.
   */
  #move(move: () => Promise<void>, shard?: ShardRef): Promise<void> {
    const forget = shard === undefined ? () => this.#buffer.clear() : () => {
      this.#buffer.drop((m) =>
        m.header.streamKey === shard.stream && m.header.shardId === shard.shardId
      );
    };
    const run = this.#moving.then(async () => {
      if (this.#ending) throw this.#closedError();
      // A source that ended (`live: false`, an end-of-stream) may be moved back
      // into; one that failed stays failed.
      if (this.#buffer.closed && !isClosed(this.#buffer.closeReason)) {
        throw new StreamError("Closed", `${this.#backend}: the stream has ended`);
      }
      this.#keepCutShort = shard !== undefined;
      try {
        await this.#stopPump();
      } finally {
        this.#keepCutShort = false;
      }
      forget();
      this.#buffer.reopen();
      try {
        await move();
      } finally {
        forget();
        if (!this.#ending) this.#startPump();
      }
    });
    this.#moving = run.catch(() => {});
    return run;
  }

  // ---- the pump ----

  #startPump(): void {
    const abort = new AbortController();
    this.#fetchAbort = abort;
    this.#pumping = this.#pump(abort.signal);
  }

  async #stopPump(): Promise<void> {
    this.#fetchAbort?.abort(new StreamError("Closed", `${this.#backend}: reading stopped`));
    this.#wakePump();
    await this.#pumping;
    this.#pumping = undefined;
  }

  async #pump(signal: AbortSignal): Promise<void> {
    const driver = this.#driver!;
    const buffer = this.#buffer;
    const prefetch = this.settings.prefetch;
    while (!signal.aborted && !buffer.closed) {
      if (buffer.size >= this.#lowWater) {
        await new Promise<void>((resolve) => this.#roomWaiter = resolve);
        continue;
      }
      let fetched;
      try {
        fetched = await driver.fetch(prefetch - buffer.size, signal);
      } catch (error) {
        if (signal.aborted) return;
        // "Closed": the source has ended; anything else fails the consumer.
        buffer.close(error);
        return;
      }
      if (signal.aborted) {
        // A move of one shard keeps what the driver handed over for the others.
        if (this.#keepCutShort) buffer.put(fetched);
        return;
      }
      buffer.put(fetched);
    }
  }

  /** After taking: wake the pump once the buffer is below its low-water mark. */
  #taken(): void {
    if (this.#roomWaiter !== undefined && this.#buffer.size < this.#lowWater) this.#wakePump();
  }

  #wakePump(): void {
    const waiter = this.#roomWaiter;
    if (waiter !== undefined) {
      this.#roomWaiter = undefined;
      waiter();
    }
  }

  // ---- ending ----

  /** Stop: commit what autoCommit owes, stop reading, close the driver. */
  end(): Promise<void> {
    this.#ending ??= (async () => {
      let failure: unknown;
      try {
        this.#settleOwed();
        await this.#commits?.flush();
      } catch (error) {
        failure = error;
      }
      this.#commits?.stop();
      this.#buffer.close(this.#closedError());
      this.#buffer.clear();
      await this.#moving;
      await this.#stopPump();
      try {
        await this.#driver?.close();
      } catch (error) {
        failure ??= error;
      }
      this.#onEnd(this);
      if (failure !== undefined) throw failure;
    })();
    return this.#ending;
  }

  /** Same as `end()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.end();
  }

  #unsupported(operation: string): StreamError {
    return new StreamError(
      "Unsupported",
      `${this.#backend}: ${operation} is not supported on a ${this.mode} consumer of this backend`,
    );
  }

  #closedError(): StreamError {
    return new StreamError("Closed", `${this.#backend} consumer has ended`);
  }

  #describe(): string {
    return `Consumer { backend: ${this.#backend}, streams: ${
      JSON.stringify(this.streams)
    }, mode: ${this.mode}, group: ${JSON.stringify(this.group)} }`;
  }

  /** Only what is safe to print on Node and Bun: no driver, no connection, no credentials. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.#describe();
  }

  /** Only what is safe to print on Deno. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.#describe();
  }
}

/**
 * A wait that `end()` may reject before its caller awaits it (the caller holds
 * it while ending the consumer, whose driver may close over the network): that
 * is not an unhandled rejection. The caller who awaits it still sees the error.
 */
function handledWait<T>(wait: Promise<T>): Promise<T> {
  wait.catch(() => {});
  return wait;
}

function toResult<T>(value: T): IteratorYieldResult<T> {
  return { done: false, value };
}

function endOnClosed(error: unknown): IteratorReturnResult<undefined> {
  if (isClosed(error)) return DONE;
  throw error;
}
