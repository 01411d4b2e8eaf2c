/**
 * The driver interfaces: what a backend implements. Core owns everything done
 * per message (the send queue and receipts, the consumer's bounded buffer,
 * faults in order, auto-commit and the commit batcher, the streamer's registry
 * and lifecycle); a backend is a driver that moves batches:
 *
 * - a {@link ProducerDriver} writes a batch and returns its receipts;
 * - a {@link ConsumerDriver} fetches up to N messages (or a fault), commits
 *   positions, moves (rewind, seek), and closes;
 * - a {@link StreamerDriver} opens those two and answers admin questions.
 *
 * Core calls a driver's methods one at a time per consumer: `rewind`, `seek`
 * and `close` only once no `fetch` is running (core aborts the fetch's signal
 * and waits for it to settle first), so a driver never sees a move in the
 * middle of a read.
 *
 * @module
 */
import type {
  Backend,
  BackendCapabilities,
  ConsumerOptions,
  Message,
  MessageHeader,
  PayloadInput,
  ProducerOptions,
  SendOptions,
  SeqPos,
  ShardId,
  ShardRef,
  StreamError,
  StreamInfo,
  StreamKey,
  TrimOptions,
} from "../types.ts";
import type { ConsumerSettings } from "./options.ts";

/** A message waiting to be written: what `send()` was given, validated. */
export interface PendingSend {
  /** Its stream. */
  readonly streamKey: StreamKey;
  /**
   * Its payload as given: a string is encoded by the driver as it writes (once,
   * straight into its wire buffer where it can), unless the driver takes text
   * as bytes ({@link ProducerDriver.textAsBytes}).
   */
  readonly payload: PayloadInput;
  /** Its key and headers, if given (only where the backend stores them). */
  readonly options: SendOptions | undefined;
}

/** What a driver returns for each message of a batch: its receipt, or why it failed. */
export type SendResult = MessageHeader | Error;

/**
 * The results of one write, one per message in order: an array, or an object
 * that makes each result when asked. A driver whose receipts follow from one
 * fact per request (a base offset) then makes no object per message that
 * nobody reads; the producer keeps the results for as long as a receipt of
 * the write may still be awaited.
 */
export interface SendResults {
  /** How many results: one per message written. */
  readonly length: number;
  /** The result of message `index` (`undefined` past the end). */
  at(index: number): SendResult | undefined;
  /**
   * Whether message `index` was written. Optional: without it core reads
   * `at(index)`; with it, counting the written makes no receipt.
   */
  written?(index: number): boolean;
}

/** The producing side of a backend. */
export interface ProducerDriver {
  /**
   * Write `batch` in order, as one unit where the backend allows it; one result
   * per message. Throwing (or rejecting) fails the whole batch. Core calls it
   * once at a time per producer.
   */
  write(batch: readonly PendingSend[]): Promise<SendResults>;
  /**
   * Refuse a message before it is queued by throwing a `StreamError` (for
   * example a stdio payload with a line break). Optional.
   */
  validate?(item: PendingSend): void;
  /**
   * Whether core hands string payloads of single sends over as their UTF-8
   * bytes, encoded as they are sent (a loop of unawaited sends then holds
   * compact bytes, not its strings, until they are written; `validate` still
   * sees the string). For drivers that would encode each string on its own
   * anyway. Optional; by default strings are handed over as given. Such a
   * driver must not read a payload's bytes after its write has resolved with
   * every message written: core then reuses their memory for later texts.
   */
  readonly textAsBytes?: boolean;
  /** Release what the producer holds, after its last write. */
  close(): Promise<void>;
}

/**
 * Damaged data met by a driver, delivered in its place in the sequence: one
 * `next()` or `nextBatch()` rejects with `error`, and the following call goes on
 * after it.
 *
 * @example
 * ```ts ignore
 * return new Fault(new StreamError("Corrupt", "bad checksum at byte 4096; 57 bytes skipped"));
 * ```
 */
export class Fault {
  /** What is wrong, and where. */
  readonly error: StreamError;

  /** A fault reporting `error`. */
  constructor(error: StreamError) {
    this.error = error;
  }
}

/**
 * What one fetch returns: messages in order (possibly none, to be asked again),
 * or a fault. The array becomes the consumer's (it may be handed on as a batch):
 * a driver never changes it afterwards.
 */
export type Fetched = readonly Message[] | Fault;

/**
 * A commit's outcome per position: `undefined` where it was stored, an `Error`
 * where it never can be (e.g. the shard went to another member). A driver that
 * rejects instead fails them all, and auto-commits are then tried again.
 */
export type CommitResults = readonly (Error | undefined)[] | void;

/** The consuming side of a backend. */
export interface ConsumerDriver {
  /**
   * Up to `max` messages in order: resolve as soon as there is at least one;
   * an empty array means "nothing now, ask again" (a poll that timed out). Rejecting
   * with `StreamError("Closed")` says the source has ended (the consumer hands
   * out what it holds, then ends); any other rejection fails the consumer, so
   * transient errors are the driver's to retry. When `signal` aborts, core
   * ignores the result: settle promptly.
   */
  fetch(max: number, signal: AbortSignal): Promise<Fetched>;
  /**
   * Every array `fetch` returns holds messages of one shard, in order: autoCommit
   * then reads one header per array, not one per message.
   */
  readonly fetchesOneShard?: boolean;
  /**
   * Store the group's position after each of `positions` (the last message to
   * commit of each shard, one per shard). Absent: the consumer cannot commit
   * (a commit is `StreamError("Unsupported")`).
   */
  commit?(positions: readonly MessageHeader[]): Promise<CommitResults>;
  /** Move every shard to `position`; the next fetch reads from there. Absent: `Unsupported`. */
  rewind?(position: SeqPos): Promise<void>;
  /**
   * Move `shard` alone to `position`; every other shard keeps its place and
   * nothing of theirs fetched before is fetched again or lost (core keeps what
   * it holds of them). `shard.stream` is one of the consumer's streams (core
   * checks); a shard the consumer does not read is `StreamError("StreamKeyNotFound")`.
   * Absent: `Unsupported`.
   */
  rewindShard?(position: SeqPos, shard: ShardRef): Promise<void>;
  /** Move to the first message at or after `timestamp`. Absent: `Unsupported`. */
  seek?(timestamp: Date): Promise<void>;
  /** Read a shard by hand. Absent: `Unsupported`. */
  assign?(stream: StreamKey, shardId: ShardId): void;
  /** Stop reading a shard. Absent: `Unsupported`. */
  unassign?(stream: StreamKey, shardId: ShardId): void;
  /**
   * Messages on the backend this consumer has not fetched yet, as of its last
   * fetch; `undefined` where it cannot tell. Absent: never known.
   */
  lag?(): number | undefined;
  /** Release everything, after the owed commits were sent and no fetch runs. */
  close(): Promise<void>;
}

/** What core offers a consumer driver: the consumer's settings and its buffer. */
export interface ConsumerHost {
  /** The consumer's validated settings. */
  readonly settings: ConsumerSettings;
  /**
   * Drop the buffered (fetched, not yet handed out) messages that `drop`
   * matches, e.g. those of shards given to another member; the rest keep their
   * order. Returns the dropped ones, in order.
   */
  drop(drop: (message: Message) => boolean): Message[];
  /**
   * Send every commit owed now (auto-commits included); resolves once they are
   * stored or failed. A driver calls it before giving shards away.
   */
  flushCommits(): Promise<void>;
}

/** A backend: how its producers and consumers are made, and its admin operations. */
export interface StreamerDriver {
  /** Which backend this is. */
  readonly backend: Backend;
  /** What it can do. */
  readonly capabilities: BackendCapabilities;
  /** The URI it was connected with, any password replaced by `***`. */
  readonly uri: string;
  /** A producer driver; `stream` is the anchored stream, if any (already validated). */
  openProducer(stream: StreamKey | undefined, options: ProducerOptions): Promise<ProducerDriver>;
  /** A consumer driver, positioned as `host.settings` say: nothing sent after it resolves is missed. */
  openConsumer(host: ConsumerHost, options: ConsumerOptions): Promise<ConsumerDriver>;
  /** The streams the backend holds, sorted. Absent: `Unsupported`. */
  listStreams?(): Promise<StreamKey[]>;
  /** What a stream holds (see `Streamer.describeStream`). Absent: `Unsupported`. */
  describeStream?(stream: StreamKey): Promise<StreamInfo>;
  /** Remove a stream's oldest messages (see `Streamer.trimStream`). Absent: `Unsupported`. */
  trimStream?(stream: StreamKey, options: TrimOptions): Promise<number>;
  /** Move a consumer group (see `Streamer.resetGroup`). Absent: `Unsupported`. */
  resetGroup?(stream: StreamKey, group: string, position: SeqPos | Date): Promise<void>;
  /** Close the connection, after every producer and consumer has ended. */
  close(): Promise<void>;
}
