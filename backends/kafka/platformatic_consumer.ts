/**
 * The `@platformatic/kafka` consumer behind a {@link DriverConsumer}.
 *
 * Its group membership (join, sync, heartbeats, re-joins after a rebalance) is
 * the library's; the fetching is ours. Its `MessagesStream` fetches every
 * assigned partition from where the stream started, and moving one partition
 * means closing the stream and opening another in manual mode (a new
 * connection pool, offsets listed again), while pausing one partition is not
 * possible at all. So this driver runs its own loop over the library's
 * `fetch()`, on a connection pool of its own (a fetch waiting on the broker
 * then holds up no heartbeat or commit):
 *
 * - it fetches only the partitions this member holds that were positioned
 *   (`seek`) since the last join and are not paused: the backend positions every
 *   partition after each join, so nothing is read from where the library guesses;
 * - a fetch's records are handed over one partition at a time while the next
 *   fetch goes out; the fetch after that waits until the handler took them
 *   (backpressure: one fetch waits at most);
 * - a seek, a pause, a rebalance notice or a new join makes the batches fetched
 *   before it stale: they are dropped, and the handler's `stale()` says so;
 * - a re-join that the library gives up on (a broker away longer than its
 *   retries) is tried again until the consumer stops.
 *
 * @module
 */
import type {
  ClusterMetadata,
  ConnectionPool,
  Consumer,
  GroupAssignment,
  GroupOptions,
  RecordsBatch,
} from "@platformatic/kafka";
import type {
  BatchControl,
  ConsumerHandler,
  DriverConsumer,
  DriverConsumerOptions,
  FetchedRecord,
} from "./driver.ts";
import { type ClientSetup, guardConnections, hasErrorId } from "./platformatic_driver.ts";
import { PlatformaticRecord } from "./platformatic_record.ts";
import { settledWithin } from "../../runtime/mod.ts";

/** The most one fetch returns per partition (its default is 50 MiB, as for a whole fetch). */
const MAX_BYTES_PER_PARTITION = 1024 * 1024;
/** The most one fetch returns. */
const MAX_BYTES = 10 * 1024 * 1024;

/** Record batch attribute: a control batch (transaction markers), not records. */
const IS_CONTROL = 0x20;

/** What the library's `fetch()` resolves to (its type is not exported). */
type FetchResponse = Awaited<ReturnType<Consumer["fetch"]>>;

/** A partition to fetch: where from, and the seeks made on it when asked. */
interface Wanted {
  key: string;
  topic: string;
  partition: number;
  offset: bigint;
  seeks: number;
}

/** What one fetch brought for a partition. */
interface Fetched {
  wanted: Wanted;
  batches: RecordsBatch[];
  highWatermark: bigint;
}

function tpKey(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

/** A `@platformatic/kafka` group member as a driver consumer. */
export class PlatformaticConsumerDriver implements DriverConsumer {
  readonly #setup: ClientSetup;
  readonly #consumer: Consumer;
  readonly #pool: ConnectionPool;
  readonly #options: DriverConsumerOptions;
  readonly #handler: ConsumerHandler;
  readonly #group: GroupOptions;
  /** Set once `stop()` is called: nothing more is fetched or delivered. */
  #stopped = false;
  #stopping: Promise<void> | undefined;
  #joined: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  /** Bumped on every join and rebalance notice: what was fetched before is stale. */
  #generation = 0;
  /** Between a rebalance notice and the next join: nothing is fetched. */
  #rejoining = false;
  /** The partitions the group gave this member. */
  #assigned = new Map<string, { topic: string; partition: number }>();
  /** Where to fetch each partition next: set by `seek` after each join. */
  readonly #positions = new Map<string, bigint>();
  /** Per partition, the seeks made on it. */
  readonly #seeks = new Map<string, number>();
  readonly #paused = new Set<string>();
  #wake: (() => void) | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(setup: ClientSetup, options: DriverConsumerOptions, handler: ConsumerHandler) {
    this.#setup = setup;
    this.#options = options;
    this.#handler = handler;
    this.#group = {
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs * 2, 20_000),
    };
    this.#consumer = new setup.platformatic.Consumer({
      ...setup.base,
      ...this.#group,
      groupId: options.group,
      autocommit: false,
      maxWaitTime: options.maxWaitMs,
      minBytes: 1,
      maxBytes: MAX_BYTES,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    });
    this.#pool = new setup.platformatic.ConnectionPool(setup.base.clientId, setup.connection);
    guardConnections(this.#pool);
    setup.watch(this.#consumer);
    this.#consumer.on("consumer:group:join", (payload) => this.#onJoin(payload.assignments ?? []));
    this.#consumer.on("consumer:group:rebalance", () => {
      if (this.#stopped) return;
      this.#generation++;
      this.#rejoining = true;
    });
    // A re-join after a rebalance failed for good (the library stops heartbeating): again.
    this.#consumer.on("error", () => this.#retryJoin());
  }

  async start(): Promise<void> {
    for (const topic of this.#options.topics) this.#consumer.topics.track(topic);
    this.#joined = this.#consumer.joinGroup({ ...this.#group }).then(() => {});
    await this.#joined;
    if (this.#stopped) return;
    this.#loop = this.#run();
  }

  #onJoin(assignments: GroupAssignment[]): void {
    if (this.#stopped) return;
    this.#generation++;
    this.#rejoining = false;
    // Positions belong to a generation: the handler positions every partition again.
    this.#positions.clear();
    const assignment = new Map<string, number[]>();
    this.#assigned = new Map();
    for (const { topic, partitions } of assignments) {
      assignment.set(topic, [...partitions]);
      for (const partition of partitions) {
        this.#assigned.set(tpKey(topic, partition), { topic, partition });
      }
    }
    this.#handler.onAssigned(assignment);
    this.#signal();
  }

  #retryJoin(): void {
    if (this.#stopped || this.#retryTimer !== undefined) return;
    this.#generation++;
    this.#rejoining = true;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#stopped) return;
      this.#consumer.joinGroup({ ...this.#group }).catch(() => this.#retryJoin());
    }, 1000);
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Wait for a seek, a resume, a join or a stop, at most `ms`. */
  #idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** The partitions to fetch now. */
  #wanted(): Wanted[] {
    const wanted: Wanted[] = [];
    for (const [key, { topic, partition }] of this.#assigned) {
      if (this.#paused.has(key)) continue;
      const offset = this.#positions.get(key);
      if (offset === undefined) continue;
      wanted.push({ key, topic, partition, offset, seeks: this.#seeks.get(key) ?? 0 });
    }
    return wanted;
  }

  async #run(): Promise<void> {
    // What the last fetch brought, being handed over while the next fetch goes out.
    let handing: Promise<void> = Promise.resolve();
    try {
      await this.#fetchWhileHanding((next) => {
        const before = handing;
        handing = before.then(next);
        return before;
      });
    } finally {
      await handing;
    }
  }

  /**
   * The fetch loop. Each fetch's records are handed over (`handOver`, which
   * resolves once the fetch before it is handed over) while the next fetch
   * goes out: a fetch's round trip overlaps the consumer's work.
   */
  async #fetchWhileHanding(handOver: (next: () => Promise<void>) => Promise<void>): Promise<void> {
    while (!this.#stopped) {
      const generation = this.#generation;
      const wanted = this.#rejoining ? [] : this.#wanted();
      if (wanted.length === 0) {
        await this.#idle(1000);
        continue;
      }
      let metadata: ClusterMetadata;
      try {
        metadata = await this.#consumer.metadata({ topics: this.#options.topics });
      } catch {
        if (!this.#stopped) await this.#idle(500);
        continue;
      }
      // One fetch per partition leader, at once.
      const byNode = new Map<number, Wanted[]>();
      for (const item of wanted) {
        const leader = metadata.topics.get(item.topic)?.partitions[item.partition]?.leader;
        if (leader === undefined || leader < 0) continue;
        const list = byNode.get(leader);
        if (list) list.push(item);
        else byNode.set(leader, [item]);
      }
      if (byNode.size === 0) {
        this.#consumer.clearMetadata();
        await this.#idle(200);
        continue;
      }
      const results = await Promise.all(
        [...byNode].map(([node, list]) => this.#fetchFrom(node, list, metadata)),
      );
      // Positions move past what was fetched now (the next fetch asks from there); the
      // records are handed over in order, after those before them.
      const deliveries = results.flat().map((fetched) => this.#take(fetched, generation));
      await handOver(async () => {
        for (const deliver of deliveries) {
          if (this.#stopped) return;
          await deliver?.();
        }
      });
    }
  }

  /** One fetch from broker `node`; what it brought per partition (nothing if it failed). */
  async #fetchFrom(node: number, list: Wanted[], metadata: ClusterMetadata): Promise<Fetched[]> {
    const names = new Map<string, string>();
    const byTopic = new Map<string, Wanted[]>();
    for (const item of list) {
      const id = metadata.topics.get(item.topic)!.id;
      names.set(id, item.topic);
      const items = byTopic.get(id);
      if (items) items.push(item);
      else byTopic.set(id, [item]);
    }
    let response: FetchResponse;
    try {
      response = await this.#consumer.fetch({
        node,
        topics: [...byTopic].map(([topicId, items]) => ({
          topicId,
          partitions: items.map((item) => ({
            partition: item.partition,
            fetchOffset: item.offset,
            partitionMaxBytes: MAX_BYTES_PER_PARTITION,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          })),
        })),
        maxWaitTime: this.#options.maxWaitMs,
        minBytes: 1,
        maxBytes: MAX_BYTES,
        connectionPool: this.#pool,
      });
    } catch (error) {
      if (this.#stopped) return [];
      if (hasErrorId(error, "OFFSET_OUT_OF_RANGE")) {
        await this.#resetOutOfRange(error, names, list).catch(() => {});
      } else {
        // A broker away or a leader moving: the library retried already; wait a little.
        this.#consumer.clearMetadata();
        await this.#idle(250);
      }
      return [];
    }
    const fetched: Fetched[] = [];
    for (const topicResponse of response.responses) {
      const topic = names.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const p of topicResponse.partitions) {
        const wanted = byTopic.get(topicResponse.topicId)!.find((item) =>
          item.partition === p.partitionIndex
        );
        if (!wanted || p.errorCode !== 0) continue;
        fetched.push({ wanted, batches: p.records ?? [], highWatermark: p.highWatermark });
      }
    }
    return fetched;
  }

  /**
   * A position outside the log (trimmed, or past its end): start again from its
   * beginning or its end, as `fromBeginning` says.
   */
  async #resetOutOfRange(error: unknown, names: Map<string, string>, list: Wanted[]) {
    const response = (error as { response?: FetchResponse }).response ??
      (error as { errors?: { response?: FetchResponse }[] }).errors?.find((e) => e.response)
        ?.response;
    const reset: Wanted[] = [];
    for (const topicResponse of response?.responses ?? []) {
      const topic = names.get(topicResponse.topicId);
      for (const p of topicResponse.partitions) {
        if (p.errorCode === 0) continue;
        const item = list.find((w) => w.topic === topic && w.partition === p.partitionIndex);
        if (item) reset.push(item);
      }
    }
    for (const item of reset.length > 0 ? reset : list) {
      const offsets = await this.#consumer.listOffsets({
        topics: [item.topic],
        partitions: { [item.topic]: [item.partition] },
        timestamp: this.#options.fromBeginning ? -2n : -1n,
      });
      const offset = offsets.get(item.topic)?.[item.partition];
      if (offset === undefined || offset < 0n) continue;
      // Unless it moved meanwhile.
      if ((this.#seeks.get(item.key) ?? 0) !== item.seeks) continue;
      if (this.#positions.get(item.key) !== item.offset) continue;
      if (offset !== item.offset) this.#positions.set(item.key, offset);
    }
  }

  /**
   * Take one partition's fetched records, unless a seek, a pause or a join made
   * them stale: its position moves past them, and what hands them over is
   * returned (nothing if there is nothing to hand over).
   */
  #take(fetched: Fetched, generation: number): (() => Promise<void>) | undefined {
    const { key, topic, partition, offset: from, seeks } = fetched.wanted;
    if (
      generation !== this.#generation || (this.#seeks.get(key) ?? 0) !== seeks ||
      this.#paused.has(key) || !this.#assigned.has(key) || this.#positions.get(key) !== from
    ) {
      return undefined;
    }
    const records: FetchedRecord[] = [];
    let next = from;
    for (const batch of fetched.batches) {
      const after = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
      if (after > next) next = after;
      if (batch.attributes & IS_CONTROL) continue;
      // A compressed batch may start before the offset asked for.
      const whole = batch.firstOffset >= from;
      for (const record of batch.records) {
        const fetched = new PlatformaticRecord(batch, record);
        if (whole || fetched.offset >= from) records.push(fetched);
      }
    }
    this.#positions.set(key, next);
    if (records.length === 0) return undefined;
    const control: BatchControl = {
      // The library heartbeats on its own; a rebalance shows as a newer generation.
      heartbeat: () =>
        generation === this.#generation
          ? Promise.resolve()
          : Promise.reject(new Error("the group is rebalancing")),
      stale: () =>
        this.#stopped || generation !== this.#generation || (this.#seeks.get(key) ?? 0) !== seeks,
      highWatermark: fetched.highWatermark,
    };
    return async () => {
      // A seek or a join since the fetch: the partition is positioned anew.
      if (control.stale()) return;
      try {
        await this.#handler.onRecords(topic, partition, records, control);
      } catch {
        // A rebalance while the handler waited: the next join positions the partitions again.
      }
    };
  }

  seek(topic: string, partition: number, offset: bigint): void {
    if (this.#stopped) return;
    const key = tpKey(topic, partition);
    this.#positions.set(key, offset);
    this.#seeks.set(key, (this.#seeks.get(key) ?? 0) + 1);
    this.#signal();
  }

  pause(topic: string, partitions: number[]): void {
    for (const partition of partitions) this.#paused.add(tpKey(topic, partition));
  }

  resume(topic: string, partitions: number[]): void {
    for (const partition of partitions) this.#paused.delete(tpKey(topic, partition));
    this.#signal();
  }

  async commit(
    offsets: readonly { topic: string; partition: number; offset: bigint }[],
  ): Promise<void> {
    if (offsets.length === 0) return;
    if (this.#stopped) throw new Error("the consumer has stopped");
    await this.#consumer.commit({
      offsets: offsets.map(({ topic, partition, offset }) => ({
        topic,
        partition,
        offset,
        leaderEpoch: -1,
      })),
    });
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      // A join in progress is waited for (briefly), so the member then leaves the group.
      if (this.#joined) await settledWithin(this.#joined, this.#options.sessionTimeoutMs);
      this.#stopped = true;
      clearTimeout(this.#retryTimer);
      this.#signal();
      // The loop ends after its fetch in flight (at most maxWaitMs on the broker).
      await this.#loop;
      try {
        await this.#consumer.close();
      } finally {
        await this.#pool.close();
      }
    })();
    return this.#stopping;
  }
}
