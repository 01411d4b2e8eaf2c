/**
 * One route of a {@link Router} while it runs: it takes messages (or batches)
 * from its input, handles them with bounded concurrency, sends their outputs
 * in input order per shard, and commits each input once its outputs are
 * acknowledged. Also the streamers the routes share.
 *
 * @module
 */
import { SeaStreamer } from "../socket.ts";
import {
  type Consumer,
  type Message,
  type MessageHeader,
  parseStreamUrl,
  type Producer,
  type Streamer,
  StreamError,
  type StreamKey,
} from "../types.ts";
import { printError, sleep } from "../runtime/mod.ts";
import type { HandleOptions, HandlerResult, Output } from "./types.ts";
import { messagesOf, type Work, type WorkHandler } from "./middleware/universal.ts";
import type { Router } from "./router.ts";

const RUNNING = 0;
const HANDLED = 1;
const SENT = 2;
const DONE = 3;
const FAILED = 4;

/** How many taken messages may wait for their outputs' acknowledgements at once. */
const MAX_IN_FLIGHT = 1000;

const NO_OUTPUTS: Output[] = [];

/** What a route reads of its handle options (its middleware is already composed). */
type RouteOptions = Omit<HandleOptions, "middleware">;

const shardOf = (header: MessageHeader) => `${header.streamKey}\u0000${header.shardId}`;

interface Entry {
  /** A message, or a batch on a batch route. */
  work: Work;
  lane: Lane;
  state: typeof RUNNING | typeof HANDLED | typeof SENT | typeof DONE | typeof FAILED;
  outputs: Output[];
}

/**
 * Entries whose outputs go out, and whose inputs are committed, in input order:
 * one lane per shard on a route of single messages, one for a batch route.
 */
interface Lane {
  entries: Entry[];
  /** Entries before this index are retired (cleared; dropped from the array now and then). */
  first: number;
  /** Entries before this index have had their outputs sent. */
  sent: number;
}

/** A shard's last message whose outputs, and all before it, are acknowledged. */
interface Position {
  done: Message;
  /** Whether `done` changed since the last commit. */
  dirty: boolean;
}

function normalize(result: HandlerResult): Output[] {
  if (result === undefined || result === null) return [];
  if (typeof result === "string" || result instanceof Uint8Array) return [{ payload: result }];
  const items = Array.isArray(result) ? result : [result];
  return items.map((item: unknown) =>
    typeof item === "string" || item instanceof Uint8Array ? { payload: item } : item as Output
  );
}

/** Streamers shared by the router's handlers, connected once per URI. */
export class StreamerPool {
  readonly #streamers = new Map<string, Promise<Streamer>>();

  get(uri: string, handle: HandleOptions): Promise<Streamer> {
    let streamer = this.#streamers.get(uri);
    if (!streamer) {
      streamer = SeaStreamer.connect(uri, handle.connect);
      streamer.catch(() => this.#streamers.delete(uri));
      this.#streamers.set(uri, streamer);
    }
    return streamer;
  }

  async disconnect(): Promise<void> {
    const streamers = [...this.#streamers.values()];
    this.#streamers.clear();
    for (const streamer of streamers) {
      await (await streamer.catch(() => undefined))?.disconnect().catch(() => {});
    }
  }
}

/** One `handle()` registration while it runs. */
export class Route {
  readonly #input: string;
  readonly #handler: WorkHandler;
  readonly #options: RouteOptions;
  readonly #router: Router;
  /** Batch routes: the most messages per batch; undefined for single messages. */
  readonly #maxBatch: number | undefined;
  readonly #lanes = new Map<string, Lane>();
  readonly #positions = new Map<string, Position>();
  readonly #concurrency: number;
  /** Messages taken but not yet committable (handled, awaiting acknowledgement) at most. */
  readonly #maxInFlight: number;
  readonly #commits: boolean;
  #consumer: Consumer | undefined;
  #output: Producer | undefined;
  #outputStream: StreamKey | undefined;
  #deadLetters: Promise<Producer> | undefined;
  #inputStreamer: Streamer | undefined;
  #window = 0;
  #running = 0;
  #wake: (() => void) | undefined;
  #commitTimer: ReturnType<typeof setTimeout> | undefined;
  #committing: Promise<void> = Promise.resolve();
  readonly #stop = new AbortController();
  /** Aborted when a stop gives up on handlers still running: their `context.signal`. */
  readonly #abandon = new AbortController();
  #failure: unknown;

  constructor(
    router: Router,
    input: string,
    handler: WorkHandler,
    options: RouteOptions,
    maxBatch?: number,
  ) {
    this.#router = router;
    this.#input = input;
    this.#handler = handler;
    this.#options = options;
    this.#maxBatch = maxBatch;
    this.#concurrency = options.concurrency ?? 1;
    if (!Number.isSafeInteger(this.#concurrency) || this.#concurrency < 1) {
      throw new StreamError("Unsupported", `concurrency must be a positive integer`);
    }
    // Outputs awaiting acknowledgement do not hold up the next handler (their sends share
    // batches), but how many messages are held at once stays bounded.
    this.#maxInFlight = Math.max(MAX_IN_FLIGHT, this.#concurrency * 2);
    const mode = options.mode ?? (options.group ? "resumable" : "real-time");
    this.#commits = mode !== "real-time";
  }

  /** Ask the route to stop taking messages. */
  stop(): void {
    this.#stop.abort(new StreamError("Closed", "processor stopping"));
    this.#wake?.();
  }

  /** Connect, run until stopped or failed, finish gracefully. */
  async run(pool: StreamerPool, stopTimeoutMs: number): Promise<void> {
    try {
      await this.#open(pool);
      await this.#takeLoop();
    } catch (error) {
      this.#fail(error);
    }
    await this.#finish(stopTimeoutMs);
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #open(pool: StreamerPool): Promise<void> {
    const input = parseStreamUrl(this.#input);
    if (input.streams.length === 0) {
      throw new StreamError("StreamKeyEmpty", `input ${this.#input} names no stream`);
    }
    this.#inputStreamer = await pool.get(input.streamer, this.#options);
    if (this.#options.output !== undefined) {
      const output = parseStreamUrl(this.#options.output);
      const streamer = await pool.get(output.streamer, this.#options);
      this.#output = await streamer.createProducer();
      this.#outputStream = output.streams[0];
    }
    const mode = this.#options.mode ?? (this.#options.group ? "resumable" : "real-time");
    this.#consumer = await this.#inputStreamer.createConsumer(input.streams, {
      autoStreamReset: "earliest",
      ...this.#options.consumer,
      mode,
      group: this.#options.group,
      autoCommit: false,
      ...(this.#options.autoStreamReset ? { autoStreamReset: this.#options.autoStreamReset } : {}),
      prefetch: this.#options.consumer?.prefetch ?? Math.max(100, this.#concurrency * 2),
    });
  }

  async #takeLoop(): Promise<void> {
    const consumer = this.#consumer!;
    const stop = this.#stop.signal;
    const max = this.#maxBatch;
    while (!stop.aborted && this.#failure === undefined) {
      if (this.#running >= this.#concurrency || this.#window >= this.#maxInFlight) {
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = undefined;
        continue;
      }
      let work: Work;
      try {
        work = max === undefined ? await consumer.next(stop) : await consumer.nextBatch({
          max: Math.min(max, this.#maxInFlight - this.#window),
          signal: stop,
        });
      } catch (error) {
        if (stop.aborted) return;
        if (error instanceof StreamError && error.code === "Closed") return; // input ended
        throw error;
      }
      const lane = this.#laneOf(work);
      const entry: Entry = { work, lane, state: RUNNING, outputs: NO_OUTPUTS };
      lane.entries.push(entry);
      this.#window += max === undefined ? 1 : (work as readonly Message[]).length;
      this.#handle(entry);
    }
  }

  /** A message's shard lane; the route's one lane for a batch. */
  #laneOf(work: Work): Lane {
    const key = Array.isArray(work) ? "" : shardOf((work as Message).header);
    let lane = this.#lanes.get(key);
    if (!lane) this.#lanes.set(key, lane = { entries: [], first: 0, sent: 0 });
    return lane;
  }

  async #handle(entry: Entry): Promise<void> {
    this.#running++;
    try {
      const result = await this.#handler(entry.work, {
        attempt: 1,
        signal: this.#abandon.signal,
      });
      entry.outputs = normalize(result);
      entry.state = HANDLED;
    } catch (error) {
      entry.state = FAILED;
      this.#fail(error);
    } finally {
      this.#running--;
    }
    if (entry.state === HANDLED) this.#sendReady(entry.lane);
    this.#wake?.();
  }

  /** Send the outputs of the lane's handled entries, in input order. */
  #sendReady(lane: Lane): void {
    while (lane.sent < lane.entries.length && lane.entries[lane.sent].state === HANDLED) {
      const entry = lane.entries[lane.sent++];
      entry.state = SENT;
      const outputs = entry.outputs;
      let acknowledged: Promise<unknown> | undefined;
      try {
        acknowledged = outputs.length === 0
          ? undefined
          : outputs.length === 1
          ? this.#send(outputs[0])
          : Promise.all(outputs.map((output) => this.#send(output)));
      } catch (error) {
        this.#fail(error);
        return;
      }
      if (acknowledged === undefined) {
        entry.state = DONE;
        this.#retire(lane);
      } else {
        acknowledged.then(() => {
          entry.state = DONE;
          this.#retire(lane);
        }, (error) => this.#fail(error));
      }
    }
  }

  #send(output: Output): Promise<unknown> {
    const options = output.key !== undefined || output.headers !== undefined
      ? { key: output.key, headers: output.headers }
      : undefined;
    if (output.deadLetter) {
      if (!output.stream) throw new StreamError("NotAnchored", "a dead letter needs a stream");
      // Created on the first dead letter; sends chained on one promise keep their order.
      this.#deadLetters ??= this.#inputStreamer!.createProducer();
      const stream = output.stream;
      return this.#deadLetters.then((producer) => producer.sendTo(stream, output.payload, options));
    }
    const stream = output.stream ?? this.#outputStream;
    if (!this.#output || stream === undefined) {
      throw new StreamError(
        "NotAnchored",
        "a handler returned an output but the route has no output stream (set `output`)",
      );
    }
    return this.#output.sendTo(stream, output.payload, options);
  }

  /** Drop the lane's leading finished entries; their messages are committable. */
  #retire(lane: Lane): void {
    const entries = lane.entries;
    let first = lane.first;
    let retired = 0;
    while (first < entries.length && entries[first].state === DONE) {
      for (const message of messagesOf(entries[first].work)) {
        const key = shardOf(message.header);
        const position = this.#positions.get(key);
        if (position) {
          position.done = message;
          position.dirty = true;
        } else {
          this.#positions.set(key, { done: message, dirty: true });
        }
        retired++;
      }
      entries[first++] = undefined as unknown as Entry;
    }
    if (retired === 0) return;
    lane.first = first;
    // Drop retired entries now and then, not on every acknowledgement (up to 1,000 wait).
    if (first > 1024 && first * 2 > entries.length) {
      lane.entries = entries.slice(first);
      lane.sent -= first;
      lane.first = 0;
    }
    this.#window -= retired;
    this.#scheduleCommit();
    this.#wake?.();
  }

  #scheduleCommit(): void {
    if (!this.#commits || this.#commitTimer !== undefined) return;
    this.#commitTimer = setTimeout(() => {
      this.#commitTimer = undefined;
      this.#committing = this.#committing.then(() => this.#commitDone());
    }, this.#options.commitIntervalMs ?? 100);
  }

  /** Commit every shard's last finished message, in one call. */
  async #commitDone(): Promise<void> {
    if (!this.#commits) return;
    const done: Message[] = [];
    for (const position of this.#positions.values()) {
      if (!position.dirty) continue;
      position.dirty = false;
      done.push(position.done);
    }
    if (done.length === 0) return;
    try {
      await this.#consumer!.commit(done);
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#router.stop();
  }

  /** Wait for what is in flight (up to `stopTimeoutMs`), commit it, close. */
  async #finish(stopTimeoutMs: number): Promise<void> {
    this.stop();
    const deadline = Date.now() + stopTimeoutMs;
    // Handlers finish; their outputs are acknowledged (unless a failure blocks the lane).
    while (
      (this.#running > 0 || this.#awaitingAcks()) && Date.now() < deadline
    ) {
      await sleep(5);
    }
    if (this.#running > 0) {
      this.#abandon.abort(new StreamError("Timeout", "processor stopped before the handler ended"));
      printError(
        `seastreamer processor: ${this.#running} message(s) still running at stop; not committed`,
      );
    }
    clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    await this.#committing;
    await this.#commitDone();
    const deadLetters = await this.#deadLetters?.catch((error) => this.#fail(error));
    for (const producer of [this.#output, deadLetters]) {
      await producer?.end().catch((error) => this.#fail(error));
    }
    await this.#consumer?.end().catch(() => {});
  }

  #awaitingAcks(): boolean {
    for (const lane of this.#lanes.values()) {
      for (let i = lane.first; i < lane.sent; i++) if (lane.entries[i].state === SENT) return true;
    }
    return false;
  }
}
