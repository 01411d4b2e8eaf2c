/**
 * Joining streams into one sequence ordered by timestamp (SeaStreamer's fuse
 * `StreamJoin`), with a bounded wait for late streams and a bounded buffer.
 *
 * @module
 */
import { type Message, StreamError, type StreamKey } from "../types.ts";

/**
 * A source of messages: a consumer, or anything with the same `next()`.
 *
 * @example A source that filters a consumer
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 * import { type MessageSource, StreamJoin } from "@seastreamer/seastreamer/processor";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[a] 1\n[b] skip\n[b] 2\n")]);
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { input } });
 * const consumer = await streamer.createConsumer(["a", "b"]);
 * const source: MessageSource = {
 *   async next(signal) {
 *     while (true) {
 *       const message = await consumer.next(signal);
 *       if (message.payload.text() !== "skip") return message;
 *     }
 *   },
 * };
 * for await (const message of new StreamJoin(source)) console.log(message.payload.text()); // 1, then 2
 * ```
 */
export interface MessageSource {
  /** The next message; rejects with `StreamError("Closed")` at the end. */
  next(signal?: AbortSignal): Promise<Message>;
}

/**
 * Options of {@link StreamJoin}.
 *
 * @example
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 * import { StreamJoin, type StreamJoinOptions } from "@seastreamer/seastreamer/processor";
 *
 * const input = ReadableStream.from([new TextEncoder().encode(
 *   "[2026-01-01T00:00:02 | clicks] b\n[2026-01-01T00:00:01 | views] a\n",
 * )]);
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { input } });
 * const options: StreamJoinOptions = {
 *   align: ["clicks", "views"],
 *   windowMs: 5_000,
 *   maxBuffered: 1_000,
 * };
 * const join = new StreamJoin(await streamer.createConsumer(["clicks", "views"]), options);
 * for await (const message of join) console.log(message.header.streamKey); // views, then clicks
 * ```
 */
export interface StreamJoinOptions {
  /**
   * Streams to align: nothing is released until each of them has a message
   * buffered (or the window passes), so a slow stream's early messages are not
   * overtaken. Streams not listed are ordered among what is buffered.
   */
  align?: readonly StreamKey[];
  /**
   * How long a buffered message may wait for a late aligned stream, in ms
   * (default: no limit, as SeaStreamer). After that it is released anyway.
   */
  windowMs?: number;
  /** The most messages buffered (default 10,000); beyond it the earliest is released. */
  maxBuffered?: number;
}

interface Buffered {
  message: Message;
  arrived: number;
}

/**
 * Merge the messages of a source reading several streams (or shards) into
 * one sequence by timestamp; ties go by stream key, then arrival.
 *
 * @example
 * ```ts
 * import { StreamJoin } from "@seastreamer/seastreamer/processor";
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: {
 *     input: ReadableStream.from([new TextEncoder().encode(
 *       "[2026-01-01T00:00:02 | fast] b\n[2026-01-01T00:00:01 | slow] a\n",
 *     )]),
 *   },
 * });
 * const join = new StreamJoin(await streamer.createConsumer(["fast", "slow"]), {
 *   align: ["fast", "slow"],
 * });
 * for await (const message of join) console.log(message.payload.text()); // a, then b
 * await streamer.disconnect();
 * ```
 */
export class StreamJoin implements AsyncIterable<Message> {
  readonly #source: MessageSource;
  readonly #align: readonly StreamKey[];
  readonly #windowMs: number;
  readonly #maxBuffered: number;
  readonly #buffers = new Map<StreamKey, Buffered[]>();
  #buffered = 0;
  #pulling: Promise<void> | undefined;
  #ended: unknown;

  /** Join what `source` delivers. */
  constructor(source: MessageSource, options: StreamJoinOptions = {}) {
    this.#source = source;
    this.#align = options.align ?? [];
    this.#windowMs = options.windowMs ?? Infinity;
    this.#maxBuffered = options.maxBuffered ?? 10_000;
    for (const key of this.#align) this.#buffers.set(key, []);
  }

  /** Messages buffered now. */
  get buffered(): number {
    return this.#buffered;
  }

  /** The next message in timestamp order; `StreamError("Closed")` after the last. */
  async next(): Promise<Message> {
    while (true) {
      const earliest = this.#earliest();
      if (earliest) {
        const aligned = this.#align.every((key) => (this.#buffers.get(key)?.length ?? 0) > 0);
        const waited = Date.now() - earliest.oldestArrival;
        if (
          aligned || this.#ended !== undefined || this.#buffered >= this.#maxBuffered ||
          waited >= this.#windowMs
        ) {
          return this.#take(earliest.key);
        }
        await this.#pullOrWait(this.#windowMs - waited);
      } else {
        if (this.#ended !== undefined) throw this.#ended;
        await this.#pullOrWait(Infinity);
      }
    }
  }

  /** Iterate in timestamp order until the source ends. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    while (true) {
      try {
        yield await this.next();
      } catch (error) {
        if (error instanceof StreamError && error.code === "Closed") return;
        throw error;
      }
    }
  }

  #earliest(): { key: StreamKey; oldestArrival: number } | undefined {
    let best: Buffered | undefined;
    let bestKey: StreamKey | undefined;
    let oldestArrival = Infinity;
    for (const [key, buffer] of this.#buffers) {
      const head = buffer[0];
      if (!head) continue;
      oldestArrival = Math.min(oldestArrival, head.arrived);
      const time = head.message.header.timestamp.getTime();
      const bestTime = best?.message.header.timestamp.getTime() ?? Infinity;
      if (time < bestTime || (time === bestTime && key < bestKey!)) {
        best = head;
        bestKey = key;
      }
    }
    return bestKey === undefined ? undefined : { key: bestKey, oldestArrival };
  }

  #take(key: StreamKey): Message {
    const buffered = this.#buffers.get(key)!.shift()!;
    this.#buffered--;
    return buffered.message;
  }

  /** Wait for the next message from the source (pulled one at a time), or `ms`. */
  async #pullOrWait(ms: number): Promise<void> {
    this.#pulling ??= this.#source.next().then((message) => {
      const key = message.header.streamKey;
      let buffer = this.#buffers.get(key);
      if (!buffer) this.#buffers.set(key, buffer = []);
      buffer.push({ message, arrived: Date.now() });
      this.#buffered++;
    }, (error) => {
      this.#ended = error;
    }).finally(() => this.#pulling = undefined);
    if (!Number.isFinite(ms)) return await this.#pulling;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#pulling,
      new Promise<void>((resolve) => timer = setTimeout(resolve, Math.max(0, ms))),
    ]);
    clearTimeout(timer);
  }
}
