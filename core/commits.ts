/**
 * The one commit batcher every backend uses, with one policy: auto-commits are
 * merged per shard and sent at most every {@link COMMIT_EVERY} messages or
 * {@link COMMIT_INTERVAL_MS} ms, whichever comes first; an explicit commit is
 * sent at once; everything owed is sent on end, disconnect and rebalance. One
 * request is in flight at a time, and at most one waits behind it (it sends
 * everything owed when it starts).
 *
 * @module
 */
import type { Message, MessageHeader } from "../types.ts";
import type { CommitResults } from "./driver.ts";

/** Auto-commits are sent at least every this many messages. */
export const COMMIT_EVERY = 1000;
/** The most time between an auto-committed message being handed out and its commit, ms. */
export const COMMIT_INTERVAL_MS = 100;
/** Consecutive failed commits of auto-committed positions before the consumer fails. */
const MAX_FAILURES = 5;

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** A shard's position owed to the backend. */
interface Owed {
  header: MessageHeader;
  /** Waiting `commit()` calls (none: an auto-commit only). */
  waiters: Waiter[];
}

const shardOf = (header: MessageHeader) => `${header.streamKey}\u0000${header.shardId}`;

/** The last message of each shard in `messages`, in order of their last appearance. */
export function lastOfEachShard(
  messages: readonly (Message | MessageHeader)[],
): MessageHeader[] {
  const last = new Map<string, MessageHeader>();
  let previous: MessageHeader | undefined;
  for (const item of messages) {
    const header = "header" in item ? item.header : item;
    if (
      previous !== undefined &&
      (previous.shardId !== header.shardId || previous.streamKey !== header.streamKey)
    ) {
      const key = shardOf(previous);
      last.delete(key);
      last.set(key, previous);
    }
    previous = header;
  }
  if (previous !== undefined) {
    const key = shardOf(previous);
    last.delete(key);
    last.set(key, previous);
  }
  return [...last.values()];
}

/** Merges a consumer's commits and sends them through its driver. */
export class CommitBatcher {
  readonly #send: (positions: readonly MessageHeader[]) => Promise<CommitResults>;
  readonly #onFailure: (error: unknown) => void;
  /** The newest auto-committed header, not yet merged into `#owed` (most marks repeat its shard). */
  #last: MessageHeader | undefined;
  /** The newest auto-committed message, if marked by {@link markNext} (then in place of `#last`). */
  #lastMessage: Message | undefined;
  readonly #owed = new Map<string, Owed>();
  #marked = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #chain: Promise<void> = Promise.resolve();
  /** The flush waiting for the one in flight to finish, not started yet. */
  #queued: Promise<void> | undefined;
  #failures = 0;
  /** Messages marked or committed since the last successful flush. */
  #uncounted = 0;
  #committed = 0;

  /**
   * A batcher committing through `send`; `onFailure` is told when auto-commits
   * failed {@link MAX_FAILURES} times in a row (the consumer then fails).
   */
  constructor(
    send: (positions: readonly MessageHeader[]) => Promise<CommitResults>,
    onFailure: (error: unknown) => void,
  ) {
    this.#send = send;
    this.#onFailure = onFailure;
  }

  /** Messages whose commit was stored: those auto-committed and those given to `commit()`. */
  get committed(): number {
    return this.#committed;
  }

  /** Auto-commit: `header` and everything before it on its shard are done. */
  mark(header: MessageHeader): void {
    const last = this.#lastHeader();
    if (
      last !== undefined &&
      (last.shardId !== header.shardId || last.streamKey !== header.streamKey)
    ) {
      this.#merge(last, undefined);
    }
    this.#last = header;
    this.#count(1);
  }

  /**
   * Auto-commit `message`, which follows the message marked last on the same
   * shard (the caller knows: both came in one fetch of one shard). Its header
   * is read only when needed (a flush, another shard): making one for every
   * message cost a tenth of a Kafka consumer's loop.
   */
  markNext(message: Message): void {
    this.#last = undefined;
    this.#lastMessage = message;
    this.#count(1);
  }

  /** The newest auto-committed position not merged yet, its header read now. */
  #lastHeader(): MessageHeader | undefined {
    const message = this.#lastMessage;
    if (message !== undefined) {
      this.#lastMessage = undefined;
      this.#last = message.header;
    }
    return this.#last;
  }

  /** Merge the newest auto-committed position, if any, into what is owed. */
  #mergeLast(): void {
    const last = this.#lastHeader();
    this.#last = undefined;
    if (last !== undefined) this.#merge(last, undefined);
  }

  /** Auto-commit a batch: the last message of each of its shards. */
  markBatch(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const positions = lastOfEachShard(messages);
    this.#mergeLast();
    for (let i = 0; i < positions.length - 1; i++) this.#merge(positions[i], undefined);
    this.#last = positions[positions.length - 1];
    this.#count(messages.length);
  }

  /**
   * Commit `positions` now (one per shard), covering `messages` messages;
   * resolves once they are stored.
   */
  commit(positions: readonly MessageHeader[], messages = positions.length): Promise<void> {
    this.#uncounted += messages;
    // Auto-commits marked before it are merged first: the explicit position then wins.
    this.#mergeLast();
    const waits = positions.map((header) =>
      new Promise<void>((resolve, reject) => this.#merge(header, { resolve, reject }))
    );
    this.flush().catch(() => {});
    return Promise.all(waits).then(() => {});
  }

  /**
   * Send everything owed now. Resolves once it is stored; rejects if an
   * auto-committed position could not be (it is tried again with the next flush).
   */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#marked = 0;
    // A flush still waiting for the one in flight sends everything owed when it starts,
    // this one's too: share it (a fast consumer would otherwise queue a commit per
    // COMMIT_EVERY messages behind every round trip).
    if (this.#queued !== undefined) return this.#queued;
    const run = this.#chain.then(() => {
      this.#queued = undefined;
      return this.#flushNow();
    });
    this.#queued = run;
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Stop the timer (the consumer has ended; a last `flush()` was made before). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #count(messages: number): void {
    this.#marked += messages;
    this.#uncounted += messages;
    if (this.#marked >= COMMIT_EVERY) {
      this.flush().catch(() => {});
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#onTimer, COMMIT_INTERVAL_MS);
    }
  }

  readonly #onTimer = () => {
    this.#timer = undefined;
    this.flush().catch(() => {});
  };

  /** Owe `header`'s position: an explicit commit says exactly where, an auto-commit only moves forward. */
  #merge(header: MessageHeader, waiter: Waiter | undefined): void {
    const key = shardOf(header);
    const owed = this.#owed.get(key);
    if (owed === undefined) {
      this.#owed.set(key, { header, waiters: waiter ? [waiter] : [] });
      return;
    }
    if (waiter) {
      owed.header = header;
      owed.waiters.push(waiter);
    } else if (header.seqNo > owed.header.seqNo) {
      owed.header = header;
    }
  }

  async #flushNow(): Promise<void> {
    this.#mergeLast();
    if (this.#owed.size === 0) return;
    const batch = [...this.#owed.values()];
    this.#owed.clear();
    const covered = this.#uncounted;
    this.#uncounted = 0;
    let results: CommitResults;
    try {
      results = await this.#send(batch.map((owed) => owed.header));
    } catch (error) {
      for (const owed of batch) {
        for (const waiter of owed.waiters) waiter.reject(error);
        // Tried again with the next flush, unless something newer is owed for the shard.
        const key = shardOf(owed.header);
        if (!this.#owed.has(key)) this.#owed.set(key, { header: owed.header, waiters: [] });
      }
      this.#uncounted += covered;
      if (++this.#failures >= MAX_FAILURES) {
        this.#onFailure(error);
      } else {
        this.#timer ??= setTimeout(this.#onTimer, COMMIT_INTERVAL_MS * 2 ** this.#failures);
      }
      throw error;
    }
    this.#failures = 0;
    this.#committed += covered;
    // A position refused for good (its shard went to another member) fails its
    // commit() calls; an auto-commit of it is the new owner's business.
    for (let i = 0; i < batch.length; i++) {
      const error = results ? results[i] : undefined;
      for (const waiter of batch[i].waiters) {
        if (error) waiter.reject(error);
        else waiter.resolve();
      }
    }
  }
}
