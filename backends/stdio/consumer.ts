/**
 * The stdio consumer driver: the streamer's reader puts this consumer's share
 * of each chunk of lines in its inbox; `fetch` takes from there.
 *
 * @module
 */
import { type MessageHeader, StreamError, type StreamKey } from "../../types.ts";
import type { CommitResults, ConsumerDriver, Fetched } from "../../core/driver.ts";
import { Inbox } from "../../core/inbox.ts";
import type { ConsumerSettings } from "../../core/options.ts";

/** One stdio consumer: what it subscribes to, and its inbox. */
export class StdioConsumer implements ConsumerDriver {
  /** Where the streamer's reader puts this consumer's messages. */
  readonly inbox: Inbox;
  /** Its group, if any (its members share the lines). */
  readonly group: string | undefined;
  readonly #subscribed: Set<StreamKey>;
  readonly #onClose: (consumer: StdioConsumer) => void;

  /** A consumer with `settings`; `onClose` is told when it closes. */
  constructor(settings: ConsumerSettings, onClose: (consumer: StdioConsumer) => void) {
    this.inbox = new Inbox(settings.prefetch);
    this.group = settings.group;
    this.#subscribed = new Set(settings.streams);
    this.#onClose = onClose;
  }

  /** Whether it reads `key`. */
  subscribes(key: StreamKey): boolean {
    return this.#subscribed.has(key);
  }

  /** What the reader put in the inbox. */
  fetch(max: number, signal: AbortSignal): Promise<Fetched> {
    return this.inbox.fetch(max, signal);
  }

  /** A load-balanced member has nothing to store: delivery already was the hand-off. */
  commit(_positions: readonly MessageHeader[]): Promise<CommitResults> {
    return Promise.resolve();
  }

  /** Every stdio stream has one shard, 0, always assigned. */
  assign(stream: StreamKey, shardId: number): void {
    if (!this.#subscribed.has(stream) || shardId !== 0) {
      throw new StreamError(
        "StreamKeyNotFound",
        `stdio consumer reads shard 0 of ${
          [...this.#subscribed].join(", ")
        }; no shard ${shardId} of ${stream}`,
      );
    }
  }

  /** Stop receiving. */
  close(): Promise<void> {
    this.inbox.close(new StreamError("Closed", "stdio consumer has ended"));
    this.#onClose(this);
    return Promise.resolve();
  }
}
