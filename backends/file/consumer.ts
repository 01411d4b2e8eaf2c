/**
 * File consumers with a reader of their own: real-time (from the first or the
 * next message, following the file) and resumable (from after the group's last
 * commit, kept in a group file beside the stream file).
 *
 * @module
 */
import { type Message, type MessageHeader, type SeqPos, StreamError } from "../../types.ts";
import { QueueConsumer } from "../../core/queue_consumer.ts";
import type { ConsumerSettings } from "../../core/options.ts";
import { BytesPayload } from "../../core/message.ts";
import { spawnTask, type Task } from "../../runtime/mod.ts";
import type { FileMessage } from "./message.ts";
import type { FormatError, Marker } from "./format.ts";
import { MessageReader } from "./reader.ts";
import { GroupOffsets, slotKey } from "./offsets.ts";
import {
  earlier,
  type Gate,
  gateKey,
  Gates,
  moveTo,
  type Start,
  streamGroups,
  Subscription,
  surveyStart,
} from "./position.ts";
import { pump, type PumpSink } from "./pump.ts";

/** What a consumer needs from its streamer. */
export interface ConsumerHost {
  /** The stream file's path. */
  readonly path: string;
  /** Forget an ended consumer. */
  dropConsumer(consumer: QueueConsumer): void;
}

const NO_HEADER: MessageHeader = Object.freeze({
  streamKey: "",
  shardId: 0,
  seqNo: -1n,
  timestamp: new Date(0),
});

/** Bad bytes, travelling through a consumer's queue in order with the messages around them. */
export class Corruption implements Message {
  /** A placeholder: a corruption has no header. */
  readonly header: MessageHeader = NO_HEADER;
  /** A placeholder: a corruption has no payload. */
  readonly payload: BytesPayload = new BytesPayload(new Uint8Array(0));
  /** What was wrong, and where. */
  readonly error: FormatError;

  /** A corruption reported by `error`. */
  constructor(error: FormatError) {
    this.error = error;
  }
}

/** `message`, or the error a {@link Corruption} carries, thrown. */
export function unwrap(message: Message): Message {
  if (message instanceof Corruption) throw message.error;
  return message;
}

/** Whether `header` is a real message's (not a corruption's placeholder). */
export function isRealHeader(header: MessageHeader): boolean {
  return header !== NO_HEADER;
}

/**
 * A consumer reading the file with its own reader. Bad bytes make one
 * `next()` reject with a {@link FormatError} (with the byte offset); the
 * following `next()` goes on after the next beacon.
 */
export class FileConsumer extends QueueConsumer {
  protected readonly backendName = "file";
  readonly #host: ConsumerHost;
  readonly #subscription: Subscription;
  readonly #live: boolean;
  readonly #reader: MessageReader | undefined;
  readonly #offsets: GroupOffsets | undefined;
  #gates: Gates | undefined;
  #task: Task<void> | undefined;
  #room: (() => void) | undefined;
  #moving: Promise<void> = Promise.resolve();

  private constructor(
    host: ConsumerHost,
    settings: ConsumerSettings,
    live: boolean,
    reader: MessageReader | undefined,
    offsets: GroupOffsets | undefined,
  ) {
    super(settings);
    this.#host = host;
    this.#subscription = new Subscription(settings.streams);
    this.#live = live;
    this.#reader = reader;
    this.#offsets = offsets;
  }

  /** A consumer of `host`'s file, positioned as `settings` say, reading. */
  static async create(
    host: ConsumerHost,
    settings: ConsumerSettings,
    live: boolean,
  ): Promise<FileConsumer> {
    const reader = await MessageReader.open(host.path, {
      waitForHeader: live ? settings.timeoutMs : undefined,
    });
    try {
      const offsets = reader && settings.mode === "resumable"
        ? await GroupOffsets.load(host.path, settings.group!, reader.header)
        : undefined;
      const consumer = new FileConsumer(host, settings, live, reader, offsets);
      if (reader === undefined) {
        consumer.queue.close(new StreamError("Closed", `${host.path}: the file is empty`));
        return consumer;
      }
      if (offsets) await consumer.#resume(reader, offsets);
      else if (settings.autoStreamReset === "latest") await reader.rewindToEnd();
      consumer.#start();
      return consumer;
    } catch (error) {
      await reader?.close();
      throw error;
    }
  }

  /** The next message; rejects with a `FormatError` where the file has bad bytes. */
  override next(signal?: AbortSignal): Promise<Message> {
    const queued = this.queue.length;
    if (queued > 0 && this.#corruptions === 0) {
      // The next item is a message (no corruption is queued): nothing to unwrap.
      const taken = super.next(signal);
      if (queued <= this.#lowWater) this.#wake();
      return taken;
    }
    const taken = super.next(signal).then(this.#unwrap);
    this.#wake();
    // A call that waits may be settled by end() before its caller awaits it:
    // that must not count as an unhandled rejection (the caller still sees it).
    if (queued === 0) taken.catch(() => {});
    return taken;
  }

  /** Corruptions in the queue (next() unwraps only while there are some). */
  #corruptions = 0;
  readonly #lowWater = Math.max(0, Math.floor(this.settings.prefetch / 2));

  readonly #unwrap = (message: Message): Message => {
    if (message instanceof Corruption) {
      this.#corruptions--;
      throw message.error;
    }
    return message;
  };

  /** Move every stream to `position` (jumping with the beacons for `{ at }`). */
  override rewind(position: SeqPos): Promise<void> {
    return this.#reposition(async (reader) => {
      if (position === "beginning") {
        reader.rewindToBeginning();
        this.#gates = undefined;
      } else if (position === "end") {
        await reader.rewindToEnd();
        this.#gates = undefined;
      } else if (typeof position === "object" && typeof position.at === "bigint") {
        const at = position.at;
        moveTo(
          reader,
          await surveyStart(reader, streamGroups(this.#subscription), (m) => m.seqNo < at),
        );
        this.#gates = new Gates(new Map(), (message) => message.header.seqNo >= at);
      } else {
        throw new StreamError("Unsupported", `rewind to "beginning", "end" or { at: bigint }`);
      }
    });
  }

  /** Move to the first message with a timestamp at or after `timestamp` (jumping with the beacons). */
  override seek(timestamp: Date): Promise<void> {
    return this.#reposition(async (reader) => {
      const time = timestamp instanceof Date ? timestamp.getTime() : NaN;
      if (Number.isNaN(time)) throw new StreamError("Unsupported", "seek needs a valid Date");
      const before = (marker: Marker) => marker.timestamp < time;
      moveTo(reader, await surveyStart(reader, streamGroups(this.#subscription), before));
      this.#gates = new Gates(
        new Map(),
        (message) => message.header.timestamp.getTime() >= time,
      );
    });
  }

  /** Keep `header` (and what came before it on its shard) as the group's position, on disk. */
  protected override commitHeader(header: MessageHeader): Promise<void> {
    if (!this.#offsets || !isRealHeader(header)) return Promise.resolve();
    this.#offsets.set(header);
    return this.#offsets.save();
  }

  /** Commit without waiting: saves are batched. */
  protected override autoCommit(header: MessageHeader): void {
    if (!this.#offsets || !isRealHeader(header)) return;
    this.#offsets.set(header);
    this.#offsets.saveInBackground((error) => this.onCommitError(error));
  }

  /** Stop reading, save the group's position, close the file. */
  protected async close(): Promise<void> {
    await this.#stop();
    try {
      await this.#offsets?.save();
    } finally {
      await this.#reader?.close();
      this.#host.dropConsumer(this);
    }
  }

  /** Position a resumable consumer after its group's commits. */
  async #resume(reader: MessageReader, offsets: GroupOffsets): Promise<void> {
    const subscription = this.#subscription;
    const gates = new Map<string, Gate>();
    const committedStreams = new Set<string>();
    const slots: { stream: string; shard: number; seq: bigint }[] = [];
    for (const [slot, seq] of offsets.committed) {
      const cut = slot.lastIndexOf("/");
      const stream = slot.slice(0, cut);
      const shard = Number(slot.slice(cut + 1));
      if (!subscription.accepts(stream) || slot !== slotKey(stream, shard)) continue;
      committedStreams.add(stream);
      slots.push({ stream, shard, seq });
      gates.set(gateKey(stream, shard), (message) => message.header.seqNo > seq);
    }
    const uncommitted = subscription.wildcard ||
      [...subscription.streams].some((stream) => !committedStreams.has(stream));
    let fallback: Gate | undefined;
    let start: Start | undefined;
    if (uncommitted) {
      if (this.settings.autoStreamReset === "earliest") {
        start = { index: 0 };
      } else {
        const end = await reader.rewindToEnd();
        fallback = (message) => message.offset >= end;
        start = { offset: end };
      }
    }
    for (const { stream, shard, seq } of slots) {
      if (start !== undefined && "index" in start && start.index === 0) break;
      const found = await surveyStart(
        reader,
        [(marker) => marker.streamKey === stream && marker.shardId === shard],
        (marker) => marker.seqNo <= seq,
      );
      start = start === undefined ? found : earlier(start, found, reader.interval);
    }
    moveTo(reader, start ?? { index: 0 });
    this.#gates = gates.size > 0 || fallback ? new Gates(gates, fallback) : undefined;
  }

  #start(): void {
    const reader = this.#reader!;
    const subscription = this.#subscription;
    this.#task = spawnTask((signal) => {
      const sink: PumpSink = {
        deliver: (message) => this.#deliver(message, signal),
        corrupt: (error) => {
          this.#corruptions++;
          return this.#push(new Corruption(error), signal);
        },
        end: (reason) => this.queue.close(reason),
      };
      const accept = (message: FileMessage) => subscription.accepts(message.header.streamKey);
      return pump(reader, this.#live, signal, accept, sink);
    });
  }

  async #stop(): Promise<void> {
    const task = this.#task;
    if (!task) return;
    this.#task = undefined;
    task.abort();
    this.#wake();
    await task.join().catch(() => {});
  }

  #reposition(move: (reader: MessageReader) => Promise<void>): Promise<void> {
    const run = this.#moving.then(async () => {
      if (this.ended) throw this.closedError();
      if (this.queue.closed) {
        throw new StreamError("Closed", `${this.#host.path}: the stream has ended`);
      }
      const reader = this.#reader!;
      await this.#stop();
      this.queue.clear();
      try {
        await move(reader);
      } finally {
        this.queue.clear();
        this.#corruptions = 0;
        if (!this.ended) this.#start();
      }
    });
    this.#moving = run.catch(() => {});
    return run;
  }

  #wake(): void {
    const room = this.#room;
    if (room) {
      this.#room = undefined;
      room();
    }
  }

  #deliver(message: FileMessage, signal: AbortSignal): Promise<void> | void {
    const gates = this.#gates;
    if (gates !== undefined && !gates.pass(message)) return;
    return this.#push(message, signal);
  }

  #push(message: Message, signal: AbortSignal): Promise<void> | void {
    if (signal.aborted || this.queue.offer(message) || this.queue.closed) return;
    return this.#pushLater(message, signal);
  }

  /** Wait until the queue is down to half (so the reader refills it in one go), then push. */
  async #pushLater(message: Message, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.queue.closed && !this.queue.offer(message)) {
      await new Promise<void>((resolve) => this.#room = resolve);
    }
  }
}
