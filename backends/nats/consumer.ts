/**
 * The NATS consumer driver: one {@link PullReader} per stream, all filling one
 * inbox that `fetch` takes from.
 *
 * - real-time: an ephemeral consumer per stream, from the stream's next
 *   sequence (or the first with `autoStreamReset: "earliest"`);
 * - resumable: the group's durable consumer (explicit acks); a restart goes on
 *   after the last commit, what was received but not committed first;
 * - load-balanced: the same durable consumer shared by the members; each
 *   message goes to one, and what a member does not commit is delivered again
 *   after the ack wait (at once when it ends).
 *
 * @module
 */
import type { ConsumerConfig } from "@nats-io/jetstream";
import {
  type ConsumerOptions,
  type MessageHeader,
  type SeqPos,
  StreamError,
  type StreamKey,
} from "../../types.ts";
import type { CommitResults, ConsumerDriver, Fetched } from "../../core/driver.ts";
import { Inbox } from "../../core/inbox.ts";
import type { ConsumerSettings } from "../../core/options.ts";
import { positiveInteger } from "../../core/options.ts";
import { API, apiErrorCode, type NatsClient, natsError } from "./client.ts";
import { jetStreamName } from "./mapping.ts";
import { NatsHeader } from "./message.ts";
import { PullReader, type ReaderKind, type Start } from "./reader.ts";
import type { Streams } from "./streams.ts";

/** A group's durable consumer name: the group, each `.` written `~` (consumer names hold no dots). */
export function durableName(group: string): string {
  if (/[\s*>/\\]/.test(group)) {
    throw new StreamError(
      "Unsupported",
      `nats: a group name cannot hold whitespace, *, >, / or \\ (it names a durable consumer): ${
        JSON.stringify(group)
      }`,
    );
  }
  return group.replaceAll(".", "~");
}

/** A consumer reading its streams through pull readers. */
export class NatsConsumer implements ConsumerDriver {
  readonly #inbox: Inbox;
  readonly #readers: Map<StreamKey, PullReader>;
  readonly #settings: ConsumerSettings;
  readonly #streams: Streams;
  readonly #onClose: (consumer: NatsConsumer) => void;

  private constructor(
    settings: ConsumerSettings,
    streams: Streams,
    inbox: Inbox,
    readers: Map<StreamKey, PullReader>,
    onClose: (consumer: NatsConsumer) => void,
  ) {
    this.#settings = settings;
    this.#streams = streams;
    this.#inbox = inbox;
    this.#readers = readers;
    this.#onClose = onClose;
  }

  /** A consumer positioned as `settings` say (its streams are created if missing). */
  static async open(
    client: NatsClient,
    streams: Streams,
    settings: ConsumerSettings,
    options: ConsumerOptions,
    onClose: (consumer: NatsConsumer) => void,
  ): Promise<NatsConsumer> {
    const ackWaitMs = positiveInteger("nats.ackWaitMs", options.nats?.ackWaitMs, 30_000);
    const durable = settings.group === undefined ? undefined : durableName(settings.group);
    const inbox = new Inbox(settings.prefetch);
    const budget = Math.ceil(settings.prefetch / settings.streams.length);
    const readers = new Map<StreamKey, PullReader>();
    try {
      for (const key of settings.streams) {
        const name = jetStreamName(key);
        const info = await streams.ensure(key);
        const start: Start = settings.autoStreamReset === "earliest"
          ? { deliver_policy: "all" }
          : { deliver_policy: "by_start_sequence", opt_start_seq: info.state.last_seq + 1 };
        let kind: ReaderKind;
        if (durable === undefined || settings.mode === "real-time") {
          kind = { kind: "ephemeral", start };
        } else {
          const config: Partial<ConsumerConfig> = {
            ack_policy: "explicit" as ConsumerConfig["ack_policy"],
            ack_wait: ackWaitMs * 1_000_000,
            max_ack_pending: -1,
            max_deliver: -1,
            ...start,
          } as Partial<ConsumerConfig>;
          kind = { kind: "durable", name: durable, config };
          if (settings.mode === "resumable") await restartAtCommit(client, name, durable);
        }
        const reader = new PullReader(
          client,
          key,
          name,
          kind,
          inbox,
          settings.prefetch,
          budget,
          settings.timeoutMs,
        );
        readers.set(key, reader);
        await reader.start();
      }
    } catch (error) {
      for (const reader of readers.values()) reader.close();
      throw natsError(error, `creating a consumer of ${settings.streams.join(", ")}`);
    }
    return new NatsConsumer(settings, streams, inbox, readers, onClose);
  }

  /** The streamer's connection dropped. */
  pause(): void {
    for (const reader of this.#readers.values()) reader.pause();
  }

  /** The streamer's connection is back. */
  resume(): void {
    for (const reader of this.#readers.values()) reader.resume();
  }

  /** What the readers put in the inbox; then they ask for more if there is room. */
  async fetch(max: number, signal: AbortSignal): Promise<Fetched> {
    const fetched = await this.#inbox.fetch(max, signal);
    for (const reader of this.#readers.values()) reader.refill();
    return fetched;
  }

  /** Acknowledge up to each position (a real-time consumer never gets here). */
  async commit(positions: readonly MessageHeader[]): Promise<CommitResults> {
    await Promise.all(positions.map((position) => {
      const reader = this.#readers.get(position.streamKey);
      if (reader === undefined) return undefined;
      const seq = position instanceof NatsHeader ? position.seq : Number(position.seqNo);
      return reader.commit(seq, position.shardId);
    }));
  }

  /** Real-time: read from `position`; resumable: move the group there; load-balanced: `Unsupported`. */
  async rewind(position: SeqPos): Promise<void> {
    await this.#move(async (key) => {
      if (position === "beginning") return { deliver_policy: "all" };
      if (position === "end") {
        const info = await this.#streams.ensure(key);
        return { deliver_policy: "by_start_sequence", opt_start_seq: info.state.last_seq + 1 };
      }
      const at = position.at;
      if (at <= 1n) return { deliver_policy: "all" };
      if (at > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new StreamError("Unsupported", `nats: seqNo ${at} is beyond any stream sequence`);
      }
      return { deliver_policy: "by_start_sequence", opt_start_seq: Number(at) };
    });
  }

  /** Move to the first message stored at or after `timestamp`. */
  async seek(timestamp: Date): Promise<void> {
    const start: Start = {
      deliver_policy: "by_start_time",
      opt_start_time: timestamp.toISOString(),
    };
    await this.#move(() => Promise.resolve(start));
  }

  async #move(startOf: (key: StreamKey) => Promise<Start>): Promise<void> {
    if (this.#settings.mode === "load-balanced") {
      throw new StreamError(
        "Unsupported",
        "nats: a load-balanced member cannot move its group (the members share one position)",
      );
    }
    this.#inbox.clear();
    for (const reader of this.#readers.values()) {
      try {
        await reader.move(await startOf(reader.streamKey));
      } catch (error) {
        throw natsError(error, `moving the consumer of ${reader.streamKey}`);
      }
    }
  }

  /** Stop every reader. */
  close(): Promise<void> {
    this.#inbox.close(new StreamError("Closed", "nats consumer has ended"));
    this.#onClose(this);
    for (const reader of this.#readers.values()) reader.close();
    return Promise.resolve();
  }
}

/**
 * A resumable group whose last member left messages delivered but not
 * committed (it crashed, or another member still runs): make its durable
 * consumer again after the last commit, so they come first and in order.
 */
async function restartAtCommit(client: NatsClient, stream: string, durable: string): Promise<void> {
  let info;
  try {
    info = await client.jsm.consumers.info(stream, durable);
  } catch (error) {
    if (apiErrorCode(error) === API.consumerNotFound) return;
    throw error;
  }
  if (info.num_ack_pending === 0 && info.num_redelivered === 0) return;
  const { config } = info;
  await client.jsm.consumers.delete(stream, durable);
  await client.jsm.consumers.add(stream, {
    ...config,
    deliver_policy: "by_start_sequence",
    opt_start_seq: info.ack_floor.stream_seq + 1,
    opt_start_time: undefined,
  } as Partial<ConsumerConfig>);
}
