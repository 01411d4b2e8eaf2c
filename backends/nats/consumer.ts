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
import { type NatsClient, natsError } from "./client.ts";
import { jetStreamName } from "./mapping.ts";
import { DEFAULT_ACK_WAIT_MS, durableName, groupConfig, startAt } from "./groups.ts";
import type { Link } from "./link.ts";
import { NatsHeader } from "./message.ts";
import { PullReader, type ReaderKind } from "./reader.ts";
import type { Streams } from "./streams.ts";

/** A consumer reading its streams through pull readers. */
export class NatsConsumer implements ConsumerDriver {
  readonly #inbox: Inbox;
  readonly #readers: Map<StreamKey, PullReader>;
  readonly #settings: ConsumerSettings;
  readonly #streams: Streams;

  private constructor(
    settings: ConsumerSettings,
    streams: Streams,
    inbox: Inbox,
    readers: Map<StreamKey, PullReader>,
  ) {
    this.#settings = settings;
    this.#streams = streams;
    this.#inbox = inbox;
    this.#readers = readers;
  }

  /** A consumer positioned as `settings` say (its streams are created if missing). */
  static async open(
    client: NatsClient,
    link: Link,
    streams: Streams,
    settings: ConsumerSettings,
    options: ConsumerOptions,
  ): Promise<NatsConsumer> {
    const ackWaitMs = positiveInteger(
      "nats.ackWaitMs",
      options.nats?.ackWaitMs,
      DEFAULT_ACK_WAIT_MS,
    );
    const durable = settings.group === undefined ? undefined : durableName(settings.group);
    const inbox = new Inbox(settings.prefetch);
    const budget = Math.ceil(settings.prefetch / settings.streams.length);
    const readers = new Map<StreamKey, PullReader>();
    // live: false: once every reader has delivered what its stream held at the start, the consumer ends.
    const onEnd = () => {
      if (readers.size < settings.streams.length) return;
      for (const reader of readers.values()) if (!reader.ended) return;
      inbox.close(
        new StreamError("Closed", "nats: the streams' messages up to the start were delivered"),
      );
    };
    try {
      for (const key of settings.streams) {
        const stream = jetStreamName(key);
        const info = await streams.ensure(key);
        const last = info.state.last_seq;
        const start = startAt(settings.autoStreamReset === "earliest" ? "beginning" : "end", last);
        let kind: ReaderKind;
        if (durable === undefined || settings.mode === "real-time") {
          kind = { kind: "ephemeral", start };
        } else {
          kind = {
            kind: "durable",
            name: durable,
            config: groupConfig(ackWaitMs, start),
            fromAckFloor: settings.mode === "resumable",
          };
        }
        const reader = new PullReader({
          client,
          link,
          streamKey: key,
          stream,
          kind,
          inbox,
          capacity: settings.prefetch,
          budget,
          timeoutMs: settings.timeoutMs,
          ...(settings.live ? {} : { endSeq: last, onEnd }),
        });
        readers.set(key, reader);
        await reader.start();
      }
      if (!settings.live) onEnd();
    } catch (error) {
      for (const reader of readers.values()) reader.close();
      throw natsError(error, `creating a consumer of ${settings.streams.join(", ")}`);
    }
    return new NatsConsumer(settings, streams, inbox, readers);
  }

  /** Messages the server holds for this consumer beyond what it delivered, as of the last delivery. */
  lag(): number | undefined {
    let sum = 0;
    for (const reader of this.#readers.values()) {
      const lag = reader.lag;
      if (lag === undefined) return undefined;
      sum += lag;
    }
    return sum;
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
  rewind(position: SeqPos): Promise<void> {
    return this.#move(position);
  }

  /** Move to the first message stored at or after `timestamp`. */
  seek(timestamp: Date): Promise<void> {
    return this.#move(timestamp);
  }

  async #move(position: SeqPos | Date): Promise<void> {
    if (this.#settings.mode === "load-balanced") {
      throw new StreamError(
        "Unsupported",
        "nats: a load-balanced member cannot move its group (the members share one position)",
      );
    }
    // live: false: a consumer that reached its end reads up to it again from the new place.
    if (this.#settings.live === false) this.#inbox.reopen();
    for (const reader of this.#readers.values()) {
      try {
        const last = position === "end"
          ? (await this.#streams.ensure(reader.streamKey)).state.last_seq
          : 0;
        await reader.move(startAt(position, last));
      } catch (error) {
        throw natsError(error, `moving the consumer of ${reader.streamKey}`);
      }
    }
  }

  /** Stop every reader. */
  close(): Promise<void> {
    this.#inbox.close(new StreamError("Closed", "nats consumer has ended"));
    for (const reader of this.#readers.values()) reader.close();
    return Promise.resolve();
  }
}
