/**
 * The Kafka consumer: one member of a consumer group (a private one for
 * real-time consumers), fed by a driver consumer into the bounded prefetch queue.
 *
 * Positions: for every partition it holds, the consumer knows the offset of the
 * next record it wants (`#positions`). Records below it are dropped (so a
 * re-join, which restarts the driver from the group's committed offsets, never
 * duplicates), and after every join the driver is sent there. A partition the
 * member gets without a known position starts at the group's committed offset,
 * else at `autoStreamReset`; `createConsumer` resolves only once every assigned
 * partition is positioned, so nothing sent afterwards is missed.
 *
 * Backpressure: the driver hands over a batch and waits; the handler moves
 * records into the queue while it has room and otherwise waits for room,
 * heartbeating meanwhile. So a slow consumer holds at most `prefetch` messages
 * plus the one batch the driver holds, and its heartbeats never wait on user code.
 *
 * @module
 */
import {
  type Message,
  type MessageHeader,
  type Payload,
  type SeqPos,
  type ShardId,
  StreamError,
  type StreamKey,
} from "../../types.ts";
import { QueueConsumer } from "../../core/queue_consumer.ts";
import type { ConsumerSettings } from "../../core/options.ts";
import { BytesPayload } from "../../core/message.ts";
import type {
  BatchControl,
  ConsumerHandler,
  DriverConsumer,
  FetchedRecord,
  KafkaDriver,
  OffsetSpec,
} from "./driver.ts";
import { backendError, isRebalanceError, isTransientError, messageOf } from "./errors.ts";
import { timeout } from "../../runtime/mod.ts";
import { LazyHeader } from "../../core/header.ts";

/**
 * A message's header. AutoCommit reads the header of every message handed out,
 * but only the last one's offset is ever sent: the offset and the timestamp are
 * converted from the record when first read.
 */
class KafkaHeader extends LazyHeader {
  readonly #record: FetchedRecord;

  constructor(topic: string, partition: number, record: FetchedRecord) {
    super(topic, partition);
    this.#record = record;
  }

  protected makeSeqNo(): bigint {
    return this.#record.offset;
  }

  protected timestampMs(): number {
    return this.#record.timestamp;
  }
}

/**
 * A message read from Kafka: a seastreamer message plus the record's key and
 * headers. Its parts are made from the record when first read.
 *
 * @example
 * ```ts
 * import { KafkaMessage } from "@seastreamer/seastreamer/kafka";
 *
 * // Kafka consumers deliver these: `message instanceof KafkaMessage` reaches the key and headers.
 * const message = new KafkaMessage("orders", 2, {
 *   offset: 41n,
 *   timestamp: 0,
 *   value: new TextEncoder().encode("hi"),
 *   key: new TextEncoder().encode("customer-7"),
 *   headers: { source: "web" },
 * });
 * console.log(
 *   message.header.shardId,
 *   message.header.seqNo,
 *   message.payload.text(),
 *   message.headers,
 * ); // 2 41n hi { source: "web" }
 * ```
 */
export class KafkaMessage implements Message {
  readonly #topic: string;
  readonly #partition: number;
  readonly #record: FetchedRecord;
  #header: MessageHeader | undefined;
  #payload: Payload | undefined;
  #headers: Readonly<Record<string, string>> | undefined;

  /** A message of `topic`/`partition` from a fetched record. */
  constructor(topic: string, partition: number, record: FetchedRecord) {
    this.#topic = topic;
    this.#partition = partition;
    this.#record = record;
  }

  /** Where it sits: the topic, partition, offset and the record's timestamp. */
  get header(): MessageHeader {
    return this.#header ??= new KafkaHeader(this.#topic, this.#partition, this.#record);
  }

  /** The record's value. */
  get payload(): Payload {
    return this.#payload ??= new BytesPayload(this.#record.value);
  }

  /** The record's key, if it has one. */
  get key(): Uint8Array | undefined {
    return this.#record.key;
  }

  /** The record's headers (values as UTF-8 text). */
  get headers(): Readonly<Record<string, string>> {
    return this.#headers ??= this.#record.headers ?? {};
  }
}

/** Options of a {@link KafkaConsumer} beyond the shared settings. */
export interface KafkaConsumerConfig {
  /** The group id on the broker (a private one for real-time consumers). */
  groupId: string;
  /** Known partitions per topic. */
  partitions: Map<string, number[]>;
  /** Session timeout, ms. */
  sessionTimeoutMs: number;
  /** Forget the consumer once ended. */
  onEnd(consumer: KafkaConsumer): void;
}

interface TopicPartition {
  topic: string;
  partition: number;
}

interface Target extends TopicPartition {
  /** Where the driver fetches from next. */
  fetchFrom: bigint;
  /** The first offset delivered (records below are dropped; may be past `fetchFrom`). */
  position: bigint;
}

interface PendingCommit extends TopicPartition {
  offset: bigint;
  waiters: { resolve(): void; reject(error: unknown): void }[];
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** The most time between an auto-committed message being handed out and its commit request, ms. */
export const AUTO_COMMIT_INTERVAL_MS = 100;
/** The longest wait between attempts to look up where newly assigned partitions start, ms. */
const POSITION_RETRY_MAX_MS = 5000;

/** How long a fetch waits on the broker when there is nothing new, ms. */
const MAX_WAIT_MS = 200;

/** A consumer over a driver consumer (one group member). */
export class KafkaConsumer extends QueueConsumer {
  /** For error messages. */
  protected readonly backendName = "kafka";
  readonly #driver: KafkaDriver;
  readonly #config: KafkaConsumerConfig;
  readonly #private: boolean;
  #member: DriverConsumer | undefined;
  /** The partitions the group gave this member (latest join). */
  #assigned = new Map<string, TopicPartition>();
  /** The partitions chosen with assign()/unassign(); undefined: all assigned ones. */
  #wanted: Set<string> | undefined;
  /** Per partition, the offset of the next record to deliver. */
  readonly #positions = new Map<string, bigint>();
  /** Partitions whose start position is being looked up (their records are dropped). */
  readonly #positioning = new Set<string>();
  /** Bumped whenever held batches become obsolete (join, rewind, seek, unassign). */
  #epoch = 0;
  #closed = false;
  #roomWaiters: (() => void)[] = [];
  #ready: Promise<void>;
  #readyResolve!: () => void;
  #readyReject!: (error: unknown) => void;
  #readySettled = false;
  readonly #pendingCommits = new Map<string, PendingCommit>();
  #commitChain: Promise<void> = Promise.resolve();
  #commitScheduled = false;
  /** The newest auto-committed header, not yet merged into `#pendingCommits`. */
  #lastAuto: MessageHeader | undefined;
  readonly #heartbeatMs: number;
  /**
   * The rest of the last batch that did not fit in the queue: it moves in as
   * `next()` makes room, and the driver's next batch waits until it has.
   */
  #overflow:
    | { topic: string; partition: number; records: FetchedRecord[]; index: number }
    | undefined;
  #autoCommitTimer: ReturnType<typeof setTimeout> | undefined;
  /** The offsets of the batch the driver holds while its partition's start is looked up. */
  #held: { key: string; first: bigint; end: bigint } | undefined;
  /** A real-time consumer's lookup of its start offsets (into `#positions`). */
  #startOffsets: Promise<void> | undefined;

  /** A consumer of `settings.streams` in group `config.groupId`; call `start()`. */
  constructor(driver: KafkaDriver, settings: ConsumerSettings, config: KafkaConsumerConfig) {
    super(settings);
    this.#driver = driver;
    this.#config = config;
    this.#private = settings.mode === "real-time";
    this.#heartbeatMs = Math.max(500, Math.min(3000, Math.floor(config.sessionTimeoutMs / 5)));
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    this.#ready.catch(() => {});
  }

  /**
   * Join the group and resolve once every assigned partition is positioned. A
   * real-time consumer's start offsets are the ones of now: looked up while it
   * joins (partitions assigned before they are known wait for them).
   */
  async start(): Promise<void> {
    if (this.#private) {
      const spec: OffsetSpec = this.settings.autoStreamReset;
      this.#startOffsets = Promise.all(this.streams.map(async (topic) => {
        for (const [partition, offset] of await this.#driver.offsets(topic, spec)) {
          this.#positions.set(tpKey(topic, partition), offset);
        }
      })).then(() => {});
      this.#startOffsets.catch(() => {});
    }
    const handler: ConsumerHandler = {
      onAssigned: (assignment) => this.#onAssigned(assignment),
      onRecords: (topic, partition, records, control) =>
        this.#onRecords(topic, partition, records, control),
      onFatal: (error) => this.#fail(error),
    };
    this.#member = this.#driver.consumer({
      group: this.#config.groupId,
      topics: [...this.streams],
      fromBeginning: this.settings.autoStreamReset === "earliest",
      sessionTimeoutMs: this.#config.sessionTimeoutMs,
      heartbeatIntervalMs: this.#heartbeatMs,
      maxWaitMs: MAX_WAIT_MS,
    }, handler);
    await Promise.all([this.#member.start(), this.#startOffsets]);
    await this.#ready;
  }

  /** The next message; the room it leaves is filled from the overflow. */
  override next(signal?: AbortSignal): ReturnType<QueueConsumer["next"]> {
    const waits = this.queue.length === 0;
    const taken = super.next(signal);
    // A wait may end in a rejection (end() closes the queue, which takes a while on
    // Kafka) before the caller gets to await it: that is not an unhandled rejection.
    if (waits) taken.catch(() => {});
    if (this.#overflow !== undefined) this.#refill();
    return taken;
  }

  /** Move overflow records into the queue while it has room; wake the handler once all moved. */
  #refill(): void {
    const overflow = this.#overflow;
    if (overflow === undefined) return;
    const { topic, partition, records } = overflow;
    let i = overflow.index;
    while (
      i < records.length && this.queue.offer(new KafkaMessage(topic, partition, records[i]))
    ) {
      i++;
    }
    overflow.index = i;
    if (i >= records.length) {
      this.#overflow = undefined;
      this.#wake();
    }
  }

  /** How many messages are fetched and waiting for `next()` (at most `prefetch`). */
  get prefetched(): number {
    return this.queue.length;
  }

  /** The partitions this member currently reads, as (stream, shard) pairs. */
  get assignment(): { streamKey: StreamKey; shardId: ShardId }[] {
    return [...this.#assigned].filter(([key]) => this.#isWanted(key))
      .map(([, tp]) => ({ streamKey: tp.topic, shardId: tp.partition }));
  }

  // ---- group membership and positions ----

  #onAssigned(assignment: Map<string, number[]>): void {
    if (this.#closed) return;
    this.#epoch++;
    const next = new Map<string, TopicPartition>();
    for (const [topic, partitions] of assignment) {
      const known = this.#config.partitions.get(topic) ?? [];
      for (const partition of partitions) {
        next.set(tpKey(topic, partition), { topic, partition });
        if (!known.includes(partition)) known.push(partition);
      }
      this.#config.partitions.set(topic, known);
    }
    for (const key of this.#assigned.keys()) {
      if (next.has(key)) continue;
      this.#positioning.delete(key);
      // A real-time member is alone in its group; for the others, the new owner continues.
      if (!this.#private) this.#positions.delete(key);
    }
    // Messages of partitions taken away are the new owner's now.
    this.#dropQueued((message) =>
      !next.has(tpKey(message.header.streamKey, message.header.shardId))
    );
    this.#assigned = next;
    const unpositioned: TopicPartition[] = [];
    for (const [key, tp] of next) {
      const position = this.#positions.get(key);
      if (position !== undefined) {
        this.#member?.seek(tp.topic, tp.partition, position);
      } else {
        this.#positioning.add(key);
        unpositioned.push(tp);
      }
    }
    this.#applyPauses();
    this.#wake();
    if (unpositioned.length > 0) this.#position(unpositioned, this.#epoch, 0);
    else if (this.#coversAll()) this.#markReady();
  }

  /**
   * Whether this member holds every known partition, as a real-time member (alone in
   * its group) must before it is ready: with stale metadata the driver assigns fewer,
   * and re-joins once its metadata is fresh.
   */
  #coversAll(): boolean {
    if (!this.#private) return true;
    for (const topic of this.streams) {
      for (const partition of this.#config.partitions.get(topic) ?? []) {
        if (!this.#assigned.has(tpKey(topic, partition))) return false;
      }
    }
    return true;
  }

  /**
   * Find where `partitions` start (the group's committed offset, else
   * autoStreamReset; a real-time consumer's new partitions start at the beginning)
   * and send the driver there. A lookup that fails because the broker is out of
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
      const found = new Map<string, bigint>();
      for (const [topic, list] of byTopic) {
        const key = (partition: number) => tpKey(topic, partition);
        const spec = this.#private ? "earliest" : this.settings.autoStreamReset;
        // Both at once: the reset offsets are used where nothing is committed.
        const [committed, reset] = await Promise.all([
          this.#private ? undefined : this.#driver.committed(this.#config.groupId, topic),
          this.#private && list.every((p) => this.#positions.has(key(p)))
            ? undefined
            : this.#driver.offsets(topic, spec),
        ]);
        for (const partition of list) {
          const offset =
            (this.#private ? this.#positions.get(key(partition)) : committed?.get(partition)) ??
              reset?.get(partition) ?? 0n;
          found.set(key(partition), offset);
        }
      }
      if (this.#closed || epoch !== this.#epoch) return; // a newer join positions them
      const held = this.#held;
      for (const [key, offset] of found) {
        const tp = this.#assigned.get(key);
        if (!tp || !this.#positioning.delete(key)) continue;
        this.#positions.set(key, offset);
        // The batch the driver holds shows where it fetches: no seek if it is there.
        if (held?.key === key && held.first <= offset && offset <= held.end) continue;
        this.#member?.seek(tp.topic, tp.partition, offset);
      }
      this.#wake();
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
  }

  #fail(error: unknown): void {
    const failure = backendError(error, "the consumer failed");
    if (!this.#readySettled) {
      this.#readySettled = true;
      this.#readyReject(failure);
    }
    this.queue.close(failure);
    this.#wake();
  }

  // ---- records ----

  async #onRecords(
    topic: string,
    partition: number,
    records: FetchedRecord[],
    control: BatchControl,
  ): Promise<void> {
    // The previous batch's rest goes first; meanwhile the driver holds this one.
    if (this.#overflow !== undefined) await this.#waitForRoom(control);
    const key = tpKey(topic, partition);
    if (this.#positioning.has(key) && this.#assigned.has(key)) {
      // The first batch after a join usually starts where the lookup will say: held
      // meanwhile, it spares the seek and the fetch again that dropping it would cost.
      this.#held = { key, first: records[0].offset, end: records[records.length - 1].offset + 1n };
      const epoch = this.#epoch;
      try {
        await this.#waitFor(() => !this.#positioning.has(key) || epoch !== this.#epoch, control);
      } finally {
        this.#held = undefined;
      }
    }
    if (this.#closed || this.queue.closed || control.stale()) return;
    if (!this.#assigned.has(key) || this.#positioning.has(key) || !this.#isWanted(key)) return;
    // Skip what was delivered before (a re-join restarts from the committed offset).
    const position = this.#positions.get(key);
    let i = 0;
    while (i < records.length && position !== undefined && records[i].offset < position) i++;
    if (i >= records.length) return;
    // Offsets only grow within a batch: the whole batch is taken (queued, or held in the
    // overflow) and the driver fetches the next one while the consumer works through it.
    this.#positions.set(key, records[records.length - 1].offset + 1n);
    this.#overflow = { topic, partition, records, index: i };
    this.#refill();
  }

  /** Wait until the overflow has moved into the queue (or was dropped), heartbeating meanwhile. */
  #waitForRoom(control: BatchControl): Promise<void> {
    return this.#waitFor(() => this.#overflow === undefined, control);
  }

  /** Wait until `done()` (checked on each wake) or the consumer closes, heartbeating meanwhile. */
  async #waitFor(done: () => boolean, control: BatchControl): Promise<void> {
    while (!done() && !this.#closed && !this.queue.closed) {
      const woken = await new Promise<boolean>((resolve) => {
        const waiter = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          const index = this.#roomWaiters.indexOf(waiter);
          if (index >= 0) this.#roomWaiters.splice(index, 1);
          resolve(false);
        }, this.#heartbeatMs);
        this.#roomWaiters.push(waiter);
      });
      // Throws when the group rebalances: the driver then re-joins (and we re-position).
      if (!woken && !this.#closed) await control.heartbeat();
    }
  }

  #wake(): void {
    if (this.#roomWaiters.length === 0) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Drop queued messages matching `drop`; the others keep their order. */
  #dropQueued(drop: (message: Message) => boolean): Message[] {
    const dropped: Message[] = [];
    if (this.queue.length > 0) {
      for (const message of this.queue.clear()) {
        if (drop(message)) dropped.push(message);
        else this.queue.offer(message);
      }
    }
    const overflow = this.#overflow;
    if (overflow !== undefined && overflow.index < overflow.records.length) {
      const first = new KafkaMessage(
        overflow.topic,
        overflow.partition,
        overflow.records[overflow.index],
      );
      if (drop(first)) {
        dropped.push(first);
        this.#overflow = undefined;
        this.#wake();
      } else {
        this.#refill();
      }
    }
    return dropped;
  }

  /** Drop everything fetched and not yet handed out (after a rewind or seek). */
  #clearBuffered(): void {
    this.queue.clear();
    this.#overflow = undefined;
    this.#wake();
  }

  // ---- manual assignment ----

  #isWanted(key: string): boolean {
    return this.#wanted === undefined || this.#wanted.has(key);
  }

  #applyPauses(): void {
    const pause = new Map<string, number[]>();
    const resume = new Map<string, number[]>();
    for (const [key, { topic, partition }] of this.#assigned) {
      const target = this.#isWanted(key) ? resume : pause;
      target.set(topic, [...(target.get(topic) ?? []), partition]);
    }
    for (const [topic, partitions] of pause) this.#member?.pause(topic, partitions);
    for (const [topic, partitions] of resume) this.#member?.resume(topic, partitions);
  }

  #checkShard(stream: StreamKey, shardId: ShardId, operation: string): string {
    if (this.mode === "load-balanced") throw this.unsupported(operation);
    if (this.ended) throw this.closedError();
    if (!this.streams.includes(stream)) {
      throw new StreamError(
        "StreamKeyNotFound",
        `kafka consumer reads ${this.streams.join(", ")}, not ${stream}`,
      );
    }
    const known = this.#config.partitions.get(stream) ?? [];
    if (!Number.isInteger(shardId) || !known.includes(shardId)) {
      throw new StreamError(
        "StreamKeyNotFound",
        `topic ${stream} has no partition ${shardId} (it has ${known.length})`,
      );
    }
    return tpKey(stream, shardId);
  }

  /**
   * Read partition `shardId` of `stream`. The first call narrows the consumer
   * from every partition to the ones assigned this way. Real-time and resumable
   * consumers only (a load-balanced group's partitions are the broker's to assign).
   */
  override assign(stream: StreamKey, shardId: ShardId): void {
    const key = this.#checkShard(stream, shardId, "assign");
    if (this.#wanted === undefined) {
      this.#wanted = new Set([key]);
      this.#epoch++;
      this.#dropQueued((m) => !this.#isWanted(tpKey(m.header.streamKey, m.header.shardId)));
    } else if (!this.#wanted.has(key)) {
      this.#wanted.add(key);
      const position = this.#positions.get(key);
      if (position !== undefined && this.#assigned.has(key)) {
        this.#member?.seek(stream, shardId, position);
      }
    }
    this.#applyPauses();
    this.#wake();
  }

  /** Stop reading partition `shardId` of `stream`; prefetched messages of it are dropped. */
  override unassign(stream: StreamKey, shardId: ShardId): void {
    const key = this.#checkShard(stream, shardId, "unassign");
    const wanted = this.#wanted ??
      new Set(
        [...this.#config.partitions].flatMap(([topic, list]) =>
          this.streams.includes(topic) ? list.map((p) => tpKey(topic, p)) : []
        ),
      );
    if (!wanted.has(key)) {
      throw new StreamError(
        "StreamKeyNotFound",
        `partition ${shardId} of ${stream} is not assigned`,
      );
    }
    if (wanted.size === 1) {
      throw new StreamError("StreamKeyEmpty", "cannot unassign the last partition of a consumer");
    }
    wanted.delete(key);
    this.#wanted = wanted;
    this.#epoch++;
    const dropped = this.#dropQueued((m) => tpKey(m.header.streamKey, m.header.shardId) === key);
    // Reading it again later continues with the first message dropped now.
    if (dropped.length > 0) this.#positions.set(key, dropped[0].header.seqNo);
    this.#applyPauses();
    this.#wake();
  }

  // ---- rewind and seek ----

  /** Move every partition this member reads to `position` (`{ at }` is inclusive). */
  override async rewind(position: SeqPos): Promise<void> {
    if (this.ended) throw this.closedError();
    const targets: Target[] = [];
    for (const [topic, partitions] of this.#readingByTopic()) {
      const at = typeof position === "object" ? position.at : undefined;
      if (typeof position === "object" && typeof at !== "bigint") {
        throw new StreamError("Unsupported", "rewind({ at }) takes a bigint seqNo");
      }
      const low = position === "end" ? undefined : await this.#offsets(topic, "earliest");
      const high = position === "beginning" ? undefined : await this.#offsets(topic, "latest");
      for (const partition of partitions) {
        const first = low?.get(partition) ?? 0n;
        const end = high?.get(partition) ?? 0n;
        if (position === "beginning") {
          targets.push({ topic, partition, fetchFrom: first, position: first });
        } else if (position === "end") {
          targets.push({ topic, partition, fetchFrom: end, position: end });
        } else {
          // Past the end, wait at the end and skip up to `at`; before the start, start there.
          const wanted = at! < first ? first : at!;
          targets.push({
            topic,
            partition,
            fetchFrom: wanted > end ? end : wanted,
            position: wanted,
          });
        }
      }
    }
    this.#moveTo(targets);
  }

  /** Move every partition this member reads to its first message with timestamp >= `timestamp`. */
  override async seek(timestamp: Date): Promise<void> {
    if (this.ended) throw this.closedError();
    if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime())) {
      throw new StreamError("Unsupported", "seek() takes a valid Date");
    }
    const targets: Target[] = [];
    for (const [topic, partitions] of this.#readingByTopic()) {
      const offsets = await this.#offsets(topic, timestamp);
      for (const partition of partitions) {
        const offset = offsets.get(partition) ?? 0n;
        targets.push({ topic, partition, fetchFrom: offset, position: offset });
      }
    }
    this.#moveTo(targets);
  }

  async #offsets(topic: string, spec: OffsetSpec): Promise<Map<number, bigint>> {
    try {
      return await this.#driver.offsets(topic, spec);
    } catch (error) {
      throw backendError(error, `cannot look up offsets of ${topic}`);
    }
  }

  #readingByTopic(): Map<string, number[]> {
    const result = new Map<string, number[]>();
    for (const [key, { topic, partition }] of this.#assigned) {
      if (!this.#isWanted(key)) continue;
      result.set(topic, [...(result.get(topic) ?? []), partition]);
    }
    return result;
  }

  #moveTo(targets: Target[]): void {
    if (this.ended) throw this.closedError();
    this.#epoch++;
    this.#clearBuffered();
    for (const target of targets) {
      const key = tpKey(target.topic, target.partition);
      if (!this.#assigned.has(key)) continue; // moved to another member meanwhile
      this.#positioning.delete(key);
      this.#positions.set(key, target.position);
      this.#member?.seek(target.topic, target.partition, target.fetchFrom);
    }
    this.#wake();
  }

  // ---- commits ----

  /** Commit `header` (the next offset, `seqNo + 1`) with any auto-commits owed. */
  protected override commitHeader(header: MessageHeader): Promise<void> {
    if (!this.streams.includes(header.streamKey)) {
      return Promise.reject(
        new StreamError("StreamKeyNotFound", `kafka consumer does not read ${header.streamKey}`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#takeLastAuto();
      this.#addCommit(header, { resolve, reject });
      this.#flushCommits();
    });
  }

  /**
   * Auto-commits are merged and sent at most every {@link AUTO_COMMIT_INTERVAL_MS}
   * (and on `end()`), one request at a time, never waiting on `next()`.
   */
  protected override autoCommit(header: MessageHeader): void {
    // Per message only the header is kept: offsets are worked out when the commit is sent.
    const last = this.#lastAuto;
    if (
      last !== undefined && last.streamKey === header.streamKey && last.shardId === header.shardId
    ) {
      this.#lastAuto = header;
    } else {
      if (last !== undefined) this.#addCommit(last);
      this.#lastAuto = header;
    }
    if (this.#commitScheduled) return;
    this.#commitScheduled = true;
    this.#autoCommitTimer = setTimeout(() => {
      this.#autoCommitTimer = undefined;
      this.#flushCommits();
    }, AUTO_COMMIT_INTERVAL_MS);
  }

  /** Move the latest auto-committed header into the pending commits. */
  #takeLastAuto(): void {
    const last = this.#lastAuto;
    this.#lastAuto = undefined;
    if (last !== undefined) this.#addCommit(last);
  }

  #addCommit(header: MessageHeader, waiter?: PendingCommit["waiters"][number]): void {
    const key = tpKey(header.streamKey, header.shardId);
    const offset = header.seqNo + 1n;
    const pending = this.#pendingCommits.get(key);
    if (pending) {
      // An explicit commit says exactly where; an auto-commit only moves forward.
      if (waiter || offset > pending.offset) pending.offset = offset;
      if (waiter) pending.waiters.push(waiter);
    } else {
      this.#pendingCommits.set(key, {
        topic: header.streamKey,
        partition: header.shardId,
        offset,
        waiters: waiter ? [waiter] : [],
      });
    }
  }

  /** Queue a commit request for what is pending then (requests go out one at a time). */
  #flushCommits(): void {
    clearTimeout(this.#autoCommitTimer);
    this.#autoCommitTimer = undefined;
    this.#commitChain = this.#commitChain.then(async () => {
      this.#commitScheduled = false;
      this.#takeLastAuto();
      if (this.#pendingCommits.size === 0) return;
      const batch = [...this.#pendingCommits.values()];
      this.#pendingCommits.clear();
      const owned: PendingCommit[] = [];
      for (const entry of batch) {
        if (this.#assigned.has(tpKey(entry.topic, entry.partition))) {
          owned.push(entry);
        } else {
          const error = new StreamError(
            "Backend",
            `kafka: partition ${entry.partition} of ${entry.topic} is no longer assigned to this member (the group rebalanced): not committed`,
          );
          for (const waiter of entry.waiters) waiter.reject(error);
        }
      }
      if (owned.length === 0) return;
      try {
        if (!this.#member) throw new Error("not started");
        await this.#member.commit(owned);
      } catch (error) {
        const failure = backendError(error, "commit failed");
        for (const entry of owned) {
          for (const waiter of entry.waiters) waiter.reject(failure);
          // An auto-commit is retried with the next one, unless a rebalance took the partition.
          if (
            entry.waiters.length === 0 && !this.#closed && !isRebalanceError(error) &&
            !this.#pendingCommits.has(tpKey(entry.topic, entry.partition))
          ) {
            this.#pendingCommits.set(tpKey(entry.topic, entry.partition), { ...entry });
          }
        }
        return;
      }
      for (const entry of owned) for (const waiter of entry.waiters) waiter.resolve();
    }).catch(() => {});
  }

  // ---- end ----

  /** Stop: send owed commits, leave the group, and (real-time) delete the private group. */
  protected async close(): Promise<void> {
    if (this.#closed) return;
    let failure: unknown;
    this.#takeLastAuto();
    if (!this.#private && this.#pendingCommits.size > 0) {
      // Auto-commits still owed go out before leaving; a rebalance's refusal is expected.
      await new Promise<void>((resolve) => {
        let left = this.#pendingCommits.size;
        const done = () => {
          if (--left === 0) resolve();
        };
        for (const entry of this.#pendingCommits.values()) {
          entry.waiters.push({
            resolve: done,
            reject: (error) => {
              if (!isRebalanceError(error) && !/no longer assigned/.test(messageOf(error))) {
                failure ??= error;
              }
              done();
            },
          });
        }
        this.#flushCommits();
      });
    }
    await this.#commitChain;
    this.#closed = true;
    this.#wake();
    this.#markReady();
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
      failure ??= backendError(error, "cannot leave the group");
    }
    if (this.#private && this.#member) {
      // The private group is empty now; remove it from the broker.
      await timeout(this.#driver.deleteGroup(this.#config.groupId), 5000).catch(() => {});
    }
    this.#config.onEnd(this);
    if (failure !== undefined) throw failure;
  }
}
