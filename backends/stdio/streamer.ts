/**
 * The stdio streamer: consumers read lines from stdin (or an injected stream),
 * producers print lines to stdout (or an injected stream).
 *
 * @module
 */
import {
  type BackendCapabilities,
  type ConnectOptions,
  type Consumer,
  type ConsumerOptions,
  type MessageHeader,
  type Producer,
  type ProducerOptions,
  type Streamer,
  StreamError,
  type StreamKey,
} from "../../types.ts";
import { BatchProducer, type PendingSend, type SendResult } from "../../core/producer.ts";
import { QueueConsumer } from "../../core/consumer.ts";
import { type ConsumerSettings, consumerSettings } from "../../core/options.ts";
import { assertUtf8, StreamMessage } from "../../core/message.ts";

const utf8Encoder = new TextEncoder();
import { printError, spawnTask, stdin, stdout, type Task } from "../../runtime/mod.ts";
import { BROADCAST, formatLine, parseLine, type PartialHeader } from "./format.ts";
import { LineSplitter } from "./lines.ts";
import { capabilities } from "./capabilities.ts";

/**
 * Connect to stdio. The URI is `stdio://` (or `stdio:///`); options come from `options.stdio`.
 *
 * @example Loopback: what the producer prints, the consumer receives
 * ```ts
 * import { connect } from "@seastreamer/seastreamer/stdio";
 *
 * const streamer = await connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const consumer = await streamer.createConsumer(["hello"]);
 * const producer = await streamer.createProducer("hello");
 * await producer.send("world");
 * console.log((await consumer.next()).payload.text()); // world
 * await streamer.disconnect();
 * ```
 */
export function connect(uri: string, options: ConnectOptions = {}): Promise<Streamer> {
  const match = /^stdio:\/\/\/?$/.exec(uri);
  if (!match) {
    return Promise.reject(
      new StreamError("StreamUrl", `a stdio URI is stdio:// (no host or path), not ${uri}`),
    );
  }
  return Promise.resolve(new StdioStreamer(options));
}

/** A streamer over the process's standard streams (or injected ones). */
class StdioStreamer implements Streamer {
  /** Always `"stdio"`. */
  readonly backend = "stdio" as const;
  /** What this backend can do. */
  readonly capabilities: BackendCapabilities = capabilities;
  /** Always `"stdio://"`. */
  readonly uri = "stdio://";
  readonly #loopback: boolean;
  readonly #input: ReadableStream<Uint8Array> | undefined;
  readonly #onParseError: (error: StreamError) => void;
  readonly #outputGiven: WritableStream<Uint8Array> | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #outSeq = new Map<StreamKey, bigint>();
  readonly #inSeq = new Map<string, bigint>();
  readonly #consumers = new Set<StdioConsumer>();
  readonly #producers = new Set<StdioProducer>();
  #reader: Task<void> | undefined;
  #inputEnd: StreamError | undefined;
  #disconnected = false;

  /** A streamer with the given options; see {@link StdioConnectOptions}. */
  constructor(options: ConnectOptions = {}) {
    const stdio = options.stdio ?? {};
    this.#loopback = stdio.loopback ?? false;
    // With loopback and no explicit input, consumers hear only this streamer's producers.
    this.#input = stdio.input ?? (this.#loopback ? undefined : stdin());
    this.#outputGiven = stdio.output;
    this.#onParseError = stdio.onParseError ?? ((error) => printError(error.message));
  }

  /** A producer printing to the output, anchored to `stream` if given. */
  createProducer(stream?: StreamKey, options?: ProducerOptions): Promise<Producer> {
    try {
      this.#checkOpen();
      const producer = new StdioProducer(this, stream, options);
      this.#producers.add(producer);
      return Promise.resolve(producer);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A consumer of `streams`. Real-time only; with a group (or in load-balanced
   * mode, which needs one) the group's members share the messages round-robin by seqNo.
   */
  createConsumer(streams: readonly StreamKey[], options?: ConsumerOptions): Promise<Consumer> {
    try {
      this.#checkOpen();
      const settings = consumerSettings(streams, options, this);
      const consumer = new StdioConsumer(this, settings);
      this.#consumers.add(consumer);
      if (this.#inputEnd) consumer.closeQueue(this.#inputEnd);
      this.#startReading();
      return Promise.resolve(consumer);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `StreamError("Unsupported")`: lines on a pipe are not kept anywhere to list. */
  listStreams(): Promise<StreamKey[]> {
    return Promise.reject(
      new StreamError(
        "Unsupported",
        "stdio holds no streams to list: they exist only as lines go by",
      ),
    );
  }

  /** End every producer and consumer, stop reading, close an injected output. */
  async disconnect(): Promise<void> {
    if (this.#disconnected) return;
    this.#disconnected = true;
    const errors: unknown[] = [];
    for (const producer of [...this.#producers]) await producer.end().catch((e) => errors.push(e));
    for (const consumer of [...this.#consumers]) await consumer.end().catch((e) => errors.push(e));
    this.#reader?.abort();
    await this.#reader?.join().catch(() => {});
    if (this.#writer) {
      const writer = this.#writer;
      this.#writer = undefined;
      if (this.#outputGiven) await writer.close().catch(() => {});
      else writer.releaseLock();
    }
    if (errors.length > 0) throw errors[0];
  }

  /** Same as `disconnect()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /** Print `batch`, numbering each stream's messages from 0; the receipts. @internal */
  async write(batch: readonly PendingSend[]): Promise<SendResult[]> {
    const timestamp = new Date();
    const results: SendResult[] = [];
    const delivered: StreamMessage[] = [];
    // Headers are ASCII and under 64 bytes beyond the key; payloads are copied as they are.
    let size = 0;
    for (const item of batch) size += item.bytes.byteLength + item.streamKey.length + 64;
    const out = new Uint8Array(size);
    let position = 0;
    for (const item of batch) {
      const seqNo = this.#outSeq.get(item.streamKey) ?? 0n;
      this.#outSeq.set(item.streamKey, seqNo + 1n);
      const header: MessageHeader = { streamKey: item.streamKey, shardId: 0, seqNo, timestamp };
      position += utf8Encoder.encodeInto(
        formatLine(timestamp, item.streamKey, seqNo, ""),
        out.subarray(position),
      ).written;
      out.set(item.bytes, position);
      position += item.bytes.byteLength;
      out[position++] = 0x0a;
      results.push(header);
      if (this.#loopback) delivered.push(new StreamMessage(header, item.bytes));
    }
    this.#writer ??= (this.#outputGiven ?? stdout()).getWriter();
    try {
      await this.#writer.write(out.subarray(0, position));
    } catch (error) {
      throw new StreamError("Runtime", `stdio: cannot write to the output: ${error}`, {
        cause: error,
      });
    }
    for (const message of delivered) await this.#dispatch(message, false, false);
    return results;
  }

  /** Forget an ended producer. @internal */
  dropProducer(producer: StdioProducer): void {
    this.#producers.delete(producer);
  }

  /** Forget an ended consumer. @internal */
  dropConsumer(consumer: StdioConsumer): void {
    this.#consumers.delete(consumer);
  }

  #checkOpen(): void {
    if (this.#disconnected) throw new StreamError("Closed", "stdio streamer is disconnected");
  }

  #startReading(): void {
    if (this.#reader || !this.#input) return;
    const input = this.#input;
    this.#reader = spawnTask(async (signal) => {
      let end = new StreamError("Closed", "stdio input has ended");
      const reader = input.pipeThrough(new LineSplitter({ onOverlong: this.#onParseError }))
        .getReader();
      const stop = () => reader.cancel().catch(() => {});
      signal.addEventListener("abort", stop, { once: true });
      try {
        let lineNo = 0;
        while (true) {
          const { value: lines, done } = await reader.read();
          if (done) break;
          for (const line of lines) {
            lineNo++;
            let message: StreamMessage;
            let bare: boolean;
            try {
              const parsed = parseLine(line);
              message = this.#complete(parsed.header, parsed.payload);
              bare = parsed.bare;
            } catch (error) {
              this.#onParseError(
                new StreamError("Backend", `line ${lineNo}: ${(error as Error).message}`, {
                  cause: error,
                }),
              );
              continue;
            }
            await this.#dispatch(message, bare, true);
          }
        }
      } catch (error) {
        if (!signal.aborted) {
          end = new StreamError("Runtime", `stdio: cannot read the input: ${error}`, {
            cause: error,
          });
        }
      } finally {
        signal.removeEventListener("abort", stop);
      }
      if (!this.#loopback) {
        this.#inputEnd = end;
        for (const consumer of this.#consumers) consumer.closeQueue(end);
      }
    });
  }

  /** Fill in what a line's header left out: now, `broadcast`, the next seqNo, shard 0. */
  #complete(partial: PartialHeader, payload: Uint8Array): StreamMessage {
    const streamKey = partial.streamKey ?? BROADCAST;
    const shardId = partial.shardId ?? 0;
    const slot = `${streamKey}/${shardId}`;
    const seqNo = partial.seqNo ?? this.#inSeq.get(slot) ?? 0n;
    this.#inSeq.set(slot, seqNo + 1n);
    return new StreamMessage(
      { streamKey, shardId, seqNo, timestamp: partial.timestamp ?? new Date() },
      payload,
    );
  }

  /**
   * Hand `message` to every consumer of its stream (a bare line: to every
   * consumer); within a group, to one member chosen round-robin by seqNo.
   * With `wait`, waits while a receiving consumer's prefetch queue is full.
   */
  async #dispatch(message: StreamMessage, bare: boolean, wait: boolean): Promise<void> {
    const key = message.header.streamKey;
    let groups: Map<string, StdioConsumer[]> | undefined;
    const targets: StdioConsumer[] = [];
    for (const consumer of this.#consumers) {
      if (!bare && !consumer.subscribes(key)) continue;
      if (consumer.group === undefined) {
        targets.push(consumer);
      } else {
        groups ??= new Map();
        const members = groups.get(consumer.group);
        if (members) members.push(consumer);
        else groups.set(consumer.group, [consumer]);
      }
    }
    if (groups) {
      for (const members of groups.values()) {
        targets.push(members[Number(message.header.seqNo % BigInt(members.length))]);
      }
    }
    for (const consumer of targets) await consumer.deliver(message, wait);
  }
}

class StdioProducer extends BatchProducer {
  protected readonly backendName = "stdio";
  readonly #streamer: StdioStreamer;

  constructor(streamer: StdioStreamer, stream: StreamKey | undefined, options?: ProducerOptions) {
    super(stream, options);
    this.#streamer = streamer;
  }

  protected override validate(item: PendingSend): void {
    if (item.bytes.includes(0x0a) || item.bytes.includes(0x0d)) {
      throw new StreamError(
        "Unsupported",
        "a stdio payload is one line: it cannot contain a line break (encode it, e.g. as JSON)",
      );
    }
    assertUtf8(item.bytes);
  }

  protected writeBatch(batch: readonly PendingSend[]): Promise<SendResult[]> {
    return this.#streamer.write(batch);
  }

  protected close(): Promise<void> {
    this.#streamer.dropProducer(this);
    return Promise.resolve();
  }
}

class StdioConsumer extends QueueConsumer {
  protected readonly backendName = "stdio";
  readonly #streamer: StdioStreamer;
  readonly #subscribed: Set<StreamKey>;
  #overflow: StreamMessage[] = [];
  #pumping: Promise<void> | undefined;

  constructor(streamer: StdioStreamer, settings: ConsumerSettings) {
    super(settings);
    this.#streamer = streamer;
    this.#subscribed = new Set(settings.streams);
  }

  subscribes(key: StreamKey): boolean {
    return this.#subscribed.has(key);
  }

  /**
   * Queue `message` for this consumer, in order. With `wait`, resolve once it
   * is in the prefetch queue (the input reader waits, so a slow consumer slows
   * the pipe); without, overflow is held until read (loopback: a producer never
   * waits on its own consumers).
   */
  deliver(message: StreamMessage, wait: boolean): Promise<void> {
    if (this.#overflow.length === 0 && this.queue.hasRoom) {
      // A consumer that has ended drops the message; nobody else was owed it.
      this.queue.push(message).catch(() => {});
      return Promise.resolve();
    }
    this.#overflow.push(message);
    this.#pumping ??= this.#pump();
    return wait ? this.#pumping : Promise.resolve();
  }

  async #pump(): Promise<void> {
    try {
      for (let i = 0; i < this.#overflow.length; i++) {
        await this.queue.push(this.#overflow[i]);
      }
    } catch {
      // Ended while waiting: what was held is dropped with the consumer.
    } finally {
      this.#overflow = [];
      this.#pumping = undefined;
    }
  }

  closeQueue(reason: StreamError): void {
    this.queue.close(reason);
  }

  /** Load-balanced members have nothing to store: delivery already was the hand-off. */
  protected override commitHeader(_header: MessageHeader): Promise<void> {
    return Promise.resolve();
  }

  /** Every stdio stream has one shard, 0, always assigned. */
  override assign(stream: StreamKey, shardId: number): void {
    if (!this.#subscribed.has(stream) || shardId !== 0) {
      throw new StreamError(
        "StreamKeyNotFound",
        `stdio consumer reads shard 0 of ${
          [...this.#subscribed].join(", ")
        }; no shard ${shardId} of ${stream}`,
      );
    }
  }

  protected close(): Promise<void> {
    this.#streamer.dropConsumer(this);
    return Promise.resolve();
  }
}
