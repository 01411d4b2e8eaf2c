/**
 * The stdio streamer: consumers read lines from stdin (or an injected stream),
 * producers print lines to stdout (or an injected stream). One reader task
 * parses the input a chunk of lines at a time and hands each consumer its
 * share as one array.
 *
 * @module
 */
import {
  type BackendCapabilities,
  type ConnectOptions,
  type ConsumerOptions,
  type Message,
  type MessageHeader,
  type ProducerOptions,
  type Streamer,
  StreamError,
  type StreamKey,
} from "../../types.ts";
import type {
  ConsumerDriver,
  ConsumerHost,
  PendingSend,
  ProducerDriver,
  SendResult,
  StreamerDriver,
} from "../../core/driver.ts";
import { CoreStreamer } from "../../core/streamer.ts";
import { StreamMessage } from "../../core/message.ts";
import { printError, spawnTask, stdin, stdout, type Task } from "../../runtime/mod.ts";
import { formatLine } from "./format.ts";
import { LineHeader, LineMessage, LineReader } from "./reader.ts";
import { capabilities } from "./capabilities.ts";
import { StdioConsumer } from "./consumer.ts";
import { StdioProducer } from "./producer.ts";

const utf8Encoder = new TextEncoder();

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
  return Promise.resolve(new CoreStreamer(new StdioDriver(options)));
}

/** The process's standard streams (or injected ones) as a backend. */
class StdioDriver implements StreamerDriver {
  readonly backend = "stdio" as const;
  readonly capabilities: BackendCapabilities = capabilities;
  readonly uri = "stdio://";
  readonly #loopback: boolean;
  readonly #input: ReadableStream<Uint8Array> | undefined;
  readonly #onParseError: (error: StreamError) => void;
  readonly #outputGiven: WritableStream<Uint8Array> | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #outSeq = new Map<StreamKey, bigint>();
  #consumers: StdioConsumer[] = [];
  #reader: Task<void> | undefined;
  #inputEnd: StreamError | undefined;

  constructor(options: ConnectOptions) {
    const stdio = options.stdio ?? {};
    this.#loopback = stdio.loopback ?? false;
    // With loopback and no explicit input, consumers hear only this streamer's producers.
    this.#input = stdio.input ?? (this.#loopback ? undefined : stdin());
    this.#outputGiven = stdio.output;
    const logger = options.logger;
    this.#onParseError = stdio.onParseError ??
      (logger
        ? (error) => logger.warn(`stdio: ${error.message}`)
        : (error) => printError(error.message));
  }

  openProducer(_stream: StreamKey | undefined, _options: ProducerOptions): Promise<ProducerDriver> {
    return Promise.resolve(new StdioProducer((batch) => this.#write(batch)));
  }

  /**
   * Real-time consumers only; with a group (or in load-balanced mode, which
   * needs one) the group's members share the messages round-robin by seqNo.
   */
  openConsumer(host: ConsumerHost, _options: ConsumerOptions): Promise<ConsumerDriver> {
    const consumer = new StdioConsumer(host.settings, (ended) => {
      this.#consumers = this.#consumers.filter((c) => c !== ended);
    });
    this.#consumers = [...this.#consumers, consumer];
    if (this.#inputEnd) consumer.inbox.close(this.#inputEnd);
    this.#startReading();
    return Promise.resolve(consumer);
  }

  /** Stop reading, close an injected output (the producers and consumers have ended). */
  async close(): Promise<void> {
    this.#reader?.abort();
    await this.#reader?.join().catch(() => {});
    if (this.#writer) {
      const writer = this.#writer;
      this.#writer = undefined;
      if (this.#outputGiven) await writer.close().catch(() => {});
      else writer.releaseLock();
    }
  }

  /** Print `batch`, numbering each stream's messages from 0; the receipts. */
  async #write(batch: readonly PendingSend[]): Promise<SendResult[]> {
    const timestamp = new Date();
    const results: SendResult[] = [];
    const delivered: StreamMessage[] = [];
    const out = encodeLines(batch, timestamp, this.#outSeq, results);
    this.#writer ??= (this.#outputGiven ?? stdout()).getWriter();
    try {
      await this.#writer.write(out);
    } catch (error) {
      throw new StreamError("Runtime", `stdio: cannot write to the output: ${error}`, {
        cause: error,
      });
    }
    if (this.#loopback) {
      for (let i = 0; i < batch.length; i++) {
        const payload = batch[i].payload;
        const bytes = typeof payload === "string" ? utf8Encoder.encode(payload) : payload;
        delivered.push(new StreamMessage(results[i] as MessageHeader, bytes));
      }
      // A producer never waits on its own consumers: their inboxes hold what they have not read.
      this.#dispatch(delivered);
    }
    return results;
  }

  #startReading(): void {
    if (this.#reader || !this.#input) return;
    const input = this.#input;
    this.#reader = spawnTask(async (signal) => {
      let end = new StreamError("Closed", "stdio input has ended");
      const reader = input.getReader();
      const lines = new LineReader(this.#onParseError);
      const stop = () => reader.cancel().catch(() => {});
      signal.addEventListener("abort", stop, { once: true });
      try {
        while (true) {
          const { value: chunk, done } = await reader.read();
          const messages: Message[] = [];
          if (done) {
            lines.end(messages);
            await this.#dispatch(messages);
            break;
          }
          lines.read(chunk, messages);
          await this.#dispatch(messages);
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
        for (const consumer of this.#consumers) consumer.inbox.close(end);
      }
    });
  }

  /**
   * Hand each message to every consumer of its stream (a bare line: to every
   * consumer); within a group, to one member chosen round-robin by seqNo. Each
   * consumer gets its share as one array. Resolves once every consumer has room
   * again (the input is read at the pace of the slowest consumer).
   */
  #dispatch(messages: readonly Message[]): Promise<void> {
    const consumers = this.#consumers;
    if (consumers.length === 0 || messages.length === 0) return Promise.resolve();
    if (consumers.length === 1 && consumers[0].group === undefined) {
      // The usual case, one plain consumer: its share is the whole array when it reads every stream.
      const consumer = consumers[0];
      const share = messages.every((m) => isBare(m) || consumer.subscribes(m.header.streamKey))
        ? messages
        : messages.filter((m) => isBare(m) || consumer.subscribes(m.header.streamKey));
      const wait = share.length > 0 ? consumer.inbox.put(share) : undefined;
      return wait ?? Promise.resolve();
    }
    const shares: Message[][] = consumers.map(() => []);
    let groups: Map<string, number[]> | undefined;
    for (let c = 0; c < consumers.length; c++) {
      const group = consumers[c].group;
      if (group === undefined) continue;
      groups ??= new Map();
      const members = groups.get(group);
      if (members) members.push(c);
      else groups.set(group, [c]);
    }
    for (const message of messages) {
      const key = message.header.streamKey;
      const all = isBare(message);
      for (let c = 0; c < consumers.length; c++) {
        const consumer = consumers[c];
        if (consumer.group === undefined && (all || consumer.subscribes(key))) {
          shares[c].push(message);
        }
      }
      if (groups === undefined) continue;
      for (const members of groups.values()) {
        const subscribed = members.filter((c) => all || consumers[c].subscribes(key));
        if (subscribed.length === 0) continue;
        shares[subscribed[roundRobin(message, subscribed.length)]].push(message);
      }
    }
    const waits: Promise<void>[] = [];
    for (let c = 0; c < consumers.length; c++) {
      if (shares[c].length === 0) continue;
      const wait = consumers[c].inbox.put(shares[c]);
      if (wait) waits.push(wait);
    }
    return waits.length === 0 ? Promise.resolve() : Promise.all(waits).then(() => {});
  }
}

/** Whether `message` came from a line without a header (every consumer gets it). */
function isBare(message: Message): boolean {
  return message instanceof LineMessage && message.bare;
}

/** Which of `members` group members gets `message`: by its seqNo. */
function roundRobin(message: Message, members: number): number {
  const header = message.header;
  const seq = header instanceof LineHeader ? header.seq : header.seqNo;
  return typeof seq === "number" ? seq % members : Number(seq % BigInt(members));
}

/** `batch` as output lines, one buffer; fills `results` with the receipts. */
function encodeLines(
  batch: readonly PendingSend[],
  timestamp: Date,
  seqNos: Map<StreamKey, bigint>,
  results: SendResult[],
): Uint8Array {
  // Headers are ASCII and under 64 bytes beyond the key; a string payload takes
  // at most 3 bytes per UTF-16 unit.
  let size = 0;
  for (const item of batch) {
    const payload = item.payload;
    size += (typeof payload === "string" ? payload.length * 3 : payload.byteLength) +
      item.streamKey.length + 64;
  }
  const out = new Uint8Array(size);
  let position = 0;
  for (const item of batch) {
    const seqNo = seqNos.get(item.streamKey) ?? 0n;
    seqNos.set(item.streamKey, seqNo + 1n);
    position += utf8Encoder.encodeInto(
      formatLine(timestamp, item.streamKey, seqNo, ""),
      out.subarray(position),
    ).written;
    const payload = item.payload;
    if (typeof payload === "string") {
      position += utf8Encoder.encodeInto(payload, out.subarray(position)).written;
    } else {
      out.set(payload, position);
      position += payload.byteLength;
    }
    out[position++] = 0x0a;
    results.push({ streamKey: item.streamKey, shardId: 0, seqNo, timestamp });
  }
  return out.subarray(0, position);
}
