/**
 * The Kafka consumer driver: one member of a consumer group (a private one for
 * real-time consumers). The client library pushes batches (one partition's
 * records each); `fetch()` pulls from the batch it holds.
 *
 * Positions: for every partition it holds, the driver knows the offset of the
 * next record it wants (`#positions`). Records below it are dropped (so a
 * re-join, which restarts the client from the group's committed offsets, never
 * duplicates), and after every join the client is sent there. A partition the
 * member gets without a known position starts at the group's committed offset,
 * else at `autoStreamReset`; `open` resolves only once every assigned
 * partition is positioned, so nothing sent afterwards is missed.
 *
 * Backpressure: the client hands over a batch and waits until `fetch()` has
 * taken all of it, heartbeating meanwhile. So a slow consumer holds at most its
 * prefetch plus the one batch, and its heartbeats never wait on user code.
 *
 * `live: false`: the partitions' ends are taken at the start; records from
 * there on are not delivered, and once every partition read is past its end
 * the fetch says `Closed`.
 *
 * @module
 */
import {
  type MessageHeader,
  type SeqPos,
  type ShardId,
  type ShardRef,
  StreamError,
  type StreamKey,
} from "../../types.ts";
import type { CommitResults, ConsumerDriver, ConsumerHost, Fetched } from "../../core/driver.ts";
import type { ConsumerSettings } from "../../core/options.ts";
import type {
  BatchControl,
  DriverConsumer,
  FetchedRecord,
  KafkaDriver,
  OffsetSpec,
} from "./driver.ts";
import { backendError, isTransientError } from "./errors.ts";
import { timeout } from "../../runtime/mod.ts";
import { KafkaMessage } from "./message.ts";
import { Changes } from "./changes.ts";
import { commitPositions } from "./commit.ts";
import { Assignment, type TopicPartition, tpKey } from "./assignment.ts";
import { rewindTargets, seekTargets, startOffsets, type Target } from "./positions.ts";

/** Options of a {@link KafkaConsumer} beyond the shared settings. */
export interface KafkaConsumerConfig {
  /** The group id on the broker (a private one for real-time consumers). */
  groupId: string;
  /** Known partitions per topic. */
  partitions: Map<string, number[]>;
  /** Session timeout, ms. */
  sessionTimeoutMs: number;
}

/** The longest wait between attempts to look up where newly assigned partitions start, ms. */
const POSITION_RETRY_MAX_MS = 5000;

/** How long a fetch waits on the broker when there is nothing new, ms. */
const MAX_WAIT_MS = 200;

/** A consumer driver over a client's group member. */
export class KafkaConsumer implements ConsumerDriver {
  /** A fetch takes from one partition's batch only. */
  readonly fetchesOneShard = true;
  readonly #driver: KafkaDriver;
  readonly #host: ConsumerHost;
  readonly #settings: ConsumerSettings;
  readonly #config: KafkaConsumerConfig;
  readonly #private: boolean;
  #member: DriverConsumer | undefined;
  /** The partitions the group gave this member, and those chosen by hand. */
  readonly #assignment: Assignment;
  /** Per partition, the offset of the next record to deliver. */
  readonly #positions = new Map<string, bigint>();
  /** Partitions whose start position is being looked up (their records are dropped). */
  readonly #positioning = new Set<string>();
  /** `live: false`: per partition, the end taken at the start. */
  #ends: Map<string, bigint> | undefined;
  /** Per partition, the high-water mark of its last batch (for `lag()`). */
  readonly #highWater = new Map<string, bigint>();
  /** Bumped whenever held batches become obsolete (join, rewind, seek, unassign). */
  #epoch = 0;
  #closed = false;
  #failure: StreamError | undefined;
  /** Wakes whoever waits on a change: `fetch()` for a batch, the client's handler for room. */
  readonly #changes = new Changes();
  #ready: Promise<void>;
  #readyResolve!: () => void;
  #readyReject!: (error: unknown) => void;
  #readySettled = false;
  readonly #heartbeatMs: number;
  /** The batch the client waits on: `fetch()` takes from `index` on. */
  #held:
    | { key: string; topic: string; partition: number; records: FetchedRecord[]; index: number }
    | undefined;
  /** The offsets of the batch the client holds while its partition's start is looked up. */
  #waiting: { key: string; first: bigint; end: bigint } | undefined;
  /** A real-time consumer's lookup of its start offsets (into `#positions`). */
  #startOffsets: Promise<void> | undefined;

  private constructor(driver: KafkaDriver, host: ConsumerHost, config: KafkaConsumerConfig) {
    this.#driver = driver;
    this.#host = host;
    this.#settings = host.settings;
    this.#config = config;
    this.#private = host.settings.mode === "real-time";
    this.#assignment = new Assignment(host.settings, config.partitions);
    this.#heartbeatMs = Math.max(500, Math.min(3000, Math.floor(config.sessionTimeoutMs / 5)));
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    this.#ready.catch(() => {});
  }

  /**
   * A member of `config.groupId`, resolved once every assigned partition is
   * positioned (within `settings.timeoutMs` plus a session: joining waits for
   * the other members to re-join).
   */
  static async open(
    driver: KafkaDriver,
    host: ConsumerHost,
    config: KafkaConsumerConfig,
  ): Promise<KafkaConsumer> {
    const consumer = new KafkaConsumer(driver, host, config);
    try {
      await timeout(
        consumer.#start(),
        host.settings.timeoutMs + config.sessionTimeoutMs,
        "joining the consumer group",
      );
    } catch (error) {
      await consumer.close().catch(() => {});
      throw backendError(error, "cannot start the consumer");
    }
    return consumer;
  }

  /**
   * Join the group and resolve once every assigned partition is positioned. A
   * real-time consumer's start offsets are the ones of now: looked up while it
   * joins (partitions assigned before they are known wait for them).
   */
  async #start(): Promise<void> {
    const streams = this.#settings.streams;
    if (this.#private) {
      const spec: OffsetSpec = this.#settings.autoStreamReset;
      this.#startOffsets = Promise.all(streams.map(async (topic) => {
        for (const [partition, offset] of await this.#driver.offsets(topic, spec)) {
          this.#positions.set(tpKey(topic, partition), offset);
        }
      })).then(() => {});
      this.#startOffsets.catch(() => {});
    }
    let ends: Promise<void> | undefined;
    if (!this.#settings.live) {
      const found = new Map<string, bigint>();
      ends = Promise.all(streams.map(async (topic) => {
        for (const [partition, offset] of await this.#driver.offsets(topic, "latest")) {
          found.set(tpKey(topic, partition), offset);
        }
      })).then(() => {
        this.#ends = found;
      });
    }
    this.#member = this.#driver.consumer({
      group: this.#config.groupId,
      topics: [...streams],
      fromBeginning: this.#settings.autoStreamReset === "earliest",
      sessionTimeoutMs: this.#config.sessionTimeoutMs,
      heartbeatIntervalMs: this.#heartbeatMs,
      maxWaitMs: MAX_WAIT_MS,
    }, {
      onAssigned: (assignment) => this.#onAssigned(assignment),
      onRecords: (topic, partition, records, control) =>
        this.#onRecords(topic, partition, records, control),
      onFatal: (error) => this.#fail(error),
    });
    await Promise.all([this.#member.start(), this.#startOffsets, ends]);
    await this.#ready;
  }

  // ---- fetching ----

  /** Up to `max` messages of the batch held; waits for one. */
  async fetch(max: number, signal: AbortSignal): Promise<Fetched> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      if (this.#closed) throw new StreamError("Closed", "kafka consumer has ended");
      const taken = this.#take(max);
      if (taken.length > 0) return taken;
      if (this.#finished()) {
        throw new StreamError(
          "Closed",
          "kafka: the topics' messages up to the start were delivered",
        );
      }
      await this.#changes.wait(signal);
      if (signal.aborted) return [];
    }
  }

  #take(max: number): KafkaMessage[] {
    const held = this.#held;
    if (held === undefined) return [];
    const { topic, partition, records } = held;
    const end = Math.min(records.length, held.index + max);
    const taken: KafkaMessage[] = new Array(end - held.index);
    for (let i = held.index; i < end; i++) {
      taken[i - held.index] = new KafkaMessage(topic, partition, records[i]);
    }
    held.index = end;
    if (end >= records.length) {
      this.#held = undefined;
      this.#changes.wake();
    }
    return taken;
  }

  /** `live: false`: whether every partition read has been delivered up to its end. */
  #finished(): boolean {
    const ends = this.#ends;
    if (ends === undefined || this.#held !== undefined || !this.#readySettled) return false;
    for (const key of this.#assignment.reading()) {
      const position = this.#positions.get(key);
      if (position === undefined || this.#positioning.has(key)) return false;
      if (position < (ends.get(key) ?? 0n)) return false;
    }
    return true;
  }

  /** Messages on the broker not yet fetched (as of the partitions' last batches). */
  lag(): number | undefined {
    let lag = 0n;
    for (const key of this.#assignment.reading()) {
      const high = this.#highWater.get(key);
      const position = this.#positions.get(key);
      if (high === undefined || position === undefined) return undefined;
      if (high > position) lag += high - position;
    }
    const held = this.#held;
    if (held !== undefined) lag += BigInt(held.records.length - held.index);
    return Number(lag);
  }

  // ---- group membership and positions ----

  #onAssigned(assignment: Map<string, number[]>): void {
    if (this.#closed) return;
    this.#epoch++;
    for (const key of this.#assignment.joined(assignment)) {
      this.#positioning.delete(key);
      // A real-time member is alone in its group; for the others, the new owner continues.
      if (!this.#private) this.#positions.delete(key);
    }
    // Messages of partitions taken away are the new owner's now.
    this.#dropBuffered((key) => !this.#assignment.has(key));
    const unpositioned: TopicPartition[] = [];
    for (const [key, tp] of this.#assignment.assigned) {
      const position = this.#positions.get(key);
      if (position !== undefined) {
        this.#member?.seek(tp.topic, tp.partition, position);
      } else {
        this.#positioning.add(key);
        unpositioned.push(tp);
      }
    }
    this.#applyPauses();
    this.#changes.wake();
    if (unpositioned.length > 0) this.#position(unpositioned, this.#epoch, 0);
    else if (this.#coversAll()) this.#markReady();
  }

  /**
   * Whether this member holds every known partition, as a real-time member (alone in
   * its group) must before it is ready: with stale metadata the client assigns fewer,
   * and re-joins once its metadata is fresh.
   */
  #coversAll(): boolean {
    return !this.#private || this.#assignment.coversAll();
  }

  /**
   * Find where `partitions` start (the group's committed offset, else
   * autoStreamReset; a real-time consumer's new partitions start at the beginning)
   * and send the client there. A lookup that fails because the broker is out of
   * reach is retried until it succeeds, the consumer ends or the group re-joins;
   * any other failure a few times.
   */
  #position(partitions: TopicPartition[], epoch: number, attempt: number): void {
    (async () => {
      const byTopic = new Map<string, number[]>();
      for (const { topic, partition } of partitions) {
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      }
      // A real-time member's partitions assigned before its start offsets were known.
      await this.#startOffsets;
      const found = await startOffsets(this.#driver, byTopic, {
        group: this.#private ? undefined : this.#config.groupId,
        reset: this.#settings.autoStreamReset,
        known: this.#private ? this.#positions : undefined,
      });
      if (this.#closed || epoch !== this.#epoch) return; // a newer join positions them
      const waiting = this.#waiting;
      for (const [key, offset] of found) {
        const tp = this.#assignment.assigned.get(key);
        if (!tp || !this.#positioning.delete(key)) continue;
        this.#positions.set(key, offset);
        // The batch the client holds shows where it fetches: no seek if it is there.
        if (waiting?.key === key && waiting.first <= offset && offset <= waiting.end) continue;
        this.#member?.seek(tp.topic, tp.partition, offset);
      }
      this.#changes.wake();
      if (this.#positioning.size === 0 && this.#coversAll()) this.#markReady();
    })().catch((error) => {
      if (this.#closed || epoch !== this.#epoch) return;
      // A broker restarting or out of reach is waited out (as the group's join is); any
      // other failure is tried a few times, then ends the consumer.
      if (attempt < 5 || isTransientError(error)) {
        const delay = Math.min(200 * (attempt + 1), POSITION_RETRY_MAX_MS);
        setTimeout(() => this.#position(partitions, epoch, attempt + 1), delay);
      } else {
        this.#fail(error);
      }
    });
  }

  #markReady(): void {
    if (this.#readySettled) return;
    this.#readySettled = true;
    this.#readyResolve();
    this.#changes.wake();
  }

  #fail(error: unknown): void {
    const failure = backendError(error, "the consumer failed");
    if (!this.#readySettled) {
      this.#readySettled = true;
      this.#readyReject(failure);
    }
    this.#failure ??= failure;
    this.#changes.wake();
  }

  // ---- records ----

  async #onRecords(
    topic: string,
    partition: number,
    records: FetchedRecord[],
    control: BatchControl,
  ): Promise<void> {
    const key = tpKey(topic, partition);
    if (control.highWatermark !== undefined) this.#highWater.set(key, control.highWatermark);
    // The previous batch goes first; meanwhile the client holds this one.
    if (this.#held !== undefined) await this.#waitFor(() => this.#held === undefined, control);
    if (this.#positioning.has(key) && this.#assignment.has(key)) {
      // The first batch after a join usually starts where the lookup will say: held
      // meanwhile, it spares the seek and the fetch again that dropping it would cost.
      this.#waiting = {
        key,
        first: records[0].offset,
        end: records[records.length - 1].offset + 1n,
      };
      const epoch = this.#epoch;
      try {
        await this.#waitFor(() => !this.#positioning.has(key) || epoch !== this.#epoch, control);
      } finally {
        this.#waiting = undefined;
      }
    }
    if (this.#closed || this.#failure || control.stale()) return;
    if (!this.#assignment.isReading(key) || this.#positioning.has(key)) return;
    // Skip what was delivered before (a re-join restarts from the committed offset).
    const position = this.#positions.get(key);
    let i = 0;
    while (i < records.length && position !== undefined && records[i].offset < position) i++;
    if (i >= records.length) return;
    let last = records.length;
    const end = this.#ends?.get(key);
    if (end !== undefined) {
      while (last > i && records[last - 1].offset >= end) last--;
      if (last <= i) {
        this.#changes.wake(); // a fetch waiting may now see the end
        return;
      }
    }
    // Offsets only grow within a batch: the whole batch is taken, and the client
    // fetches the next one while the consumer works through it.
    this.#positions.set(key, records[last - 1].offset + 1n);
    if (i > 0 || last < records.length) records = records.slice(i, last);
    this.#held = { key, topic, partition, records, index: 0 };
    this.#changes.wake();
  }

  /** Drop what was fetched and not handed out of the partitions `drop` matches. */
  #dropBuffered(drop: (key: string) => boolean): bigint | undefined {
    const dropped = this.#host.drop((m) => drop(tpKey(m.header.streamKey, m.header.shardId)));
    let first = dropped.length > 0 ? dropped[0].header.seqNo : undefined;
    const held = this.#held;
    if (held !== undefined && drop(held.key)) {
      if (first === undefined && held.index < held.records.length) {
        first = held.records[held.index].offset;
      }
      this.#held = undefined;
      this.#changes.wake();
    }
    return first;
  }

  // ---- manual assignment ----

  #applyPauses(): void {
    const { pause, resume } = this.#assignment.pauses();
    for (const [topic, partitions] of pause) this.#member?.pause(topic, partitions);
    for (const [topic, partitions] of resume) this.#member?.resume(topic, partitions);
  }

  /**
   * Read partition `shardId` of `stream`. The first call narrows the consumer
   * from every partition to the ones assigned this way. Real-time and resumable
   * consumers only (a load-balanced group's partitions are the broker's to assign).
   */
  assign(stream: StreamKey, shardId: ShardId): void {
    const { key, narrowed } = this.#assignment.assign(stream, shardId);
    if (narrowed) {
      this.#epoch++;
      this.#dropBuffered((k) => !this.#assignment.isWanted(k));
    } else {
      const position = this.#positions.get(key);
      if (position !== undefined && this.#assignment.has(key)) {
        this.#member?.seek(stream, shardId, position);
      }
    }
    this.#applyPauses();
    this.#changes.wake();
  }

  /** Stop reading partition `shardId` of `stream`; prefetched messages of it are dropped. */
  unassign(stream: StreamKey, shardId: ShardId): void {
    const key = this.#assignment.unassign(stream, shardId);
    this.#epoch++;
    const first = this.#dropBuffered((k) => k === key);
    // Reading it again later continues with the first message dropped now.
    if (first !== undefined) this.#positions.set(key, first);
    this.#applyPauses();
    this.#changes.wake();
  }

  // ---- rewind and seek ----

  /** Move every partition this member reads to `position` (`{ at }` is inclusive). */
  async rewind(position: SeqPos): Promise<void> {
    this.#moveTo(await rewindTargets(this.#driver, this.#assignment.readingByTopic(), position));
  }

  /** Move every partition this member reads to its first message with timestamp >= `timestamp`. */
  async seek(timestamp: Date): Promise<void> {
    this.#moveTo(await seekTargets(this.#driver, this.#assignment.readingByTopic(), timestamp));
  }

  /**
   * Move partition `shard.shardId` of `shard.stream` alone to `position`; the
   * others keep their place and what was fetched of them.
   */
  async rewindShard(position: SeqPos, shard: ShardRef): Promise<void> {
    const key = tpKey(shard.stream, shard.shardId);
    if (!this.#assignment.isReading(key)) {
      throw new StreamError(
        "StreamKeyNotFound",
        `kafka: this consumer reads no partition ${shard.shardId} of ${shard.stream}`,
      );
    }
    const byTopic = new Map([[shard.stream, [shard.shardId]]]);
    this.#moveTo(await rewindTargets(this.#driver, byTopic, position), key);
  }

  /** Send `targets` where they say; `only`: one partition moves, the rest is kept. */
  #moveTo(targets: Target[], only?: string): void {
    if (only === undefined) {
      this.#epoch++;
      this.#held = undefined;
    } else if (this.#held?.key === only) {
      this.#held = undefined;
    }
    for (const target of targets) {
      const key = tpKey(target.topic, target.partition);
      if (!this.#assignment.has(key)) continue; // moved to another member meanwhile
      this.#positioning.delete(key);
      this.#positions.set(key, target.position);
      this.#member?.seek(target.topic, target.partition, target.fetchFrom);
    }
    this.#changes.wake();
  }

  // ---- commits ----

  /**
   * Store, for each position's partition, the offset after it (Kafka's committed
   * offset is the next to read). A partition no longer assigned (the group
   * rebalanced) cannot be committed by this member: an error for it alone.
   */
  commit(positions: readonly MessageHeader[]): Promise<CommitResults> {
    return commitPositions(this.#member, this.#settings.streams, this.#assignment, positions);
  }

  /** Wait until `done()` or the consumer closes, heartbeating while the client holds a batch. */
  #waitFor(done: () => boolean, control: BatchControl): Promise<void> {
    const over = () => done() || this.#closed || this.#failure !== undefined || control.stale();
    return this.#changes.waitFor(over, this.#heartbeatMs, async () => {
      // Throws when the group rebalances: the client then re-joins (and we re-position).
      if (!this.#closed) await control.heartbeat();
    });
  }

  // ---- end ----

  /** Leave the group, and (real-time) delete the private group. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = undefined;
    this.#changes.wake();
    this.#markReady();
    let failure: unknown;
    try {
      // Leaving waits for a fetch in flight and a join in progress; a broker that
      // does not answer must not make end() hang (the member then times out).
      if (this.#member) {
        await timeout(
          this.#member.stop(),
          this.#config.sessionTimeoutMs + 15_000,
          "leaving the consumer group",
        );
      }
    } catch (error) {
      failure = backendError(error, "cannot leave the group");
    }
    if (this.#private && this.#member) {
      // The private group is empty now; remove it from the broker.
      await timeout(this.#driver.deleteGroup(this.#config.groupId), 5000).catch(() => {});
    }
    if (failure !== undefined) throw failure;
  }
}
