/**
 * The kafkajs consumer behind a {@link DriverConsumer}: one group member whose
 * batches go to a {@link ConsumerHandler}, restarted after any crash while open,
 * and stopped only once a join in progress is done (so it leaves the group).
 *
 * @module
 */
import type {
  Consumer as KafkajsConsumer,
  ConsumerRunConfig,
  IHeaders,
  Kafka,
  KafkaMessage,
} from "kafkajs";
import { settledWithin } from "../../runtime/mod.ts";
import { innermostCause } from "./errors.ts";
import { plainView } from "../../runtime/bytes.ts";
import type {
  BatchControl,
  ConsumerHandler,
  DriverConsumer,
  DriverConsumerOptions,
  FetchedRecord,
} from "./driver.ts";

const EMPTY = new Uint8Array(0);

const textDecoder = new TextDecoder();

function headersOf(headers: IHeaders | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  let result: Record<string, string> | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    result ??= {};
    result[name] = typeof last === "string" ? last : textDecoder.decode(last);
  }
  return result;
}

/** A fetched kafkajs message, converted field by field on first use (most are never read). */
class KafkajsRecord implements FetchedRecord {
  readonly #message: KafkaMessage;
  #offset: bigint | undefined;

  constructor(message: KafkaMessage) {
    this.#message = message;
  }

  get offset(): bigint {
    return this.#offset ??= BigInt(this.#message.offset);
  }

  get timestamp(): number {
    return Number(this.#message.timestamp);
  }

  get value(): Uint8Array {
    // The Buffer itself: the payload makes a plain view only if its bytes are asked for.
    return this.#message.value ?? EMPTY;
  }

  get key(): Uint8Array | undefined {
    return this.#message.key === null ? undefined : plainView(this.#message.key);
  }

  get headers(): Record<string, string> | undefined {
    return headersOf(this.#message.headers);
  }
}

function fetched(message: KafkaMessage): FetchedRecord {
  return new KafkajsRecord(message);
}

/** A kafkajs consumer as a driver consumer. */
export class KafkajsConsumerDriver implements DriverConsumer {
  readonly #consumer: KafkajsConsumer;
  readonly #options: DriverConsumerOptions;
  readonly #handler: ConsumerHandler;
  /** Set once `stop()` is called: no restart, nothing delivered. */
  #stopped = false;
  #stopping: Promise<void> | undefined;
  /** The join in progress (or done); `stop()` waits for it so the member leaves cleanly. */
  #joined: Promise<void> | undefined;
  #onJoined: (() => void) | undefined;
  #onJoinFailed: ((error: unknown) => void) | undefined;
  /** Incremented on each commit kafkajs reports as stored. */
  #commitsStored = 0;
  /** Waiting for the next join (a commit while kafkajs restarts the consumer). */
  readonly #joinWaiters: (() => void)[] = [];
  /** What `run` was given, to run again after a crash of kafkajs's own. */
  #runConfig: ConsumerRunConfig | undefined;
  #bugRestarts = 0;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(kafka: Kafka, options: DriverConsumerOptions, handler: ConsumerHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#consumer = kafka.consumer({
      groupId: options.group,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs * 2, 20_000),
      maxWaitTimeInMs: options.maxWaitMs,
      allowAutoTopicCreation: false,
      // kafkajs assigns only the partitions its cached metadata lists, and re-checks
      // only when the cache expires (default 5 minutes): a topic created a moment ago
      // on another broker would go partly unread that long.
      metadataMaxAge: 5000,
      retry: {
        // Restart after any crash while open (kafkajs only restarts "retriable" ones
        // by itself, and a REBALANCE_IN_PROGRESS at the wrong time is not).
        restartOnFailure: () => Promise.resolve(!this.#stopped),
      },
    });
    const events = this.#consumer.events;
    this.#consumer.on(events.GROUP_JOIN, (event) => {
      if (this.#stopped) return;
      const assignment = new Map<string, number[]>();
      for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
        assignment.set(topic, [...partitions]);
      }
      this.#handler.onAssigned(assignment);
      this.#bugRestarts = 0;
      this.#onJoined?.();
      for (const wake of this.#joinWaiters.splice(0)) wake();
    });
    this.#consumer.on(events.COMMIT_OFFSETS, () => {
      this.#commitsStored++;
    });
    this.#consumer.on(events.CRASH, (event) => {
      if (this.#stopped) return;
      const { error, restart } = event.payload;
      if (restart) return;
      // A TypeError of kafkajs's own (its offset manager of an older generation resolving
      // topics a newer one cleared, after a rebalance): run again, as it does after a
      // retriable crash; a few times in a row at most.
      if (innermostCause(error) instanceof TypeError && this.#runConfig && this.#bugRestarts < 5) {
        this.#bugRestarts++;
        const config = this.#runConfig;
        this.#restartTimer = setTimeout(() => {
          if (!this.#stopped) this.#consumer.run(config).catch((e) => this.#fail(e));
        }, 100);
        return;
      }
      this.#fail(error);
    });
  }

  async start(): Promise<void> {
    await this.#consumer.connect();
    await this.#consumer.subscribe({
      topics: this.#options.topics,
      fromBeginning: this.#options.fromBeginning,
    });
    this.#joined = new Promise<void>((resolve, reject) => {
      this.#onJoined = resolve;
      this.#onJoinFailed = reject;
    });
    this.#joined.catch(() => {});
    this.#runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, heartbeat, isStale }) => {
        if (this.#stopped) return;
        const control: BatchControl = {
          heartbeat,
          stale: () => this.#stopped || isStale(),
          highWatermark: BigInt(batch.highWatermark),
        };
        await this.#handler.onRecords(
          batch.topic,
          batch.partition,
          batch.messages.map(fetched),
          control,
        );
      },
    };
    await this.#consumer.run(this.#runConfig);
    await this.#joined;
  }

  /** The consumer failed for good. */
  #fail(error: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#onJoinFailed?.(error);
    this.#handler.onFatal(error);
  }

  seek(topic: string, partition: number, offset: bigint): void {
    if (this.#stopped) return;
    this.#consumer.seek({ topic, partition, offset: offset.toString() });
  }

  pause(topic: string, partitions: number[]): void {
    if (this.#stopped || partitions.length === 0) return;
    this.#consumer.pause([{ topic, partitions }]);
  }

  resume(topic: string, partitions: number[]): void {
    if (this.#stopped || partitions.length === 0) return;
    this.#consumer.resume([{ topic, partitions }]);
  }

  async commit(
    offsets: readonly { topic: string; partition: number; offset: bigint }[],
  ): Promise<void> {
    if (offsets.length === 0) return;
    if (this.#stopped) throw new Error("the consumer has stopped");
    const before = this.#commitsStored;
    const toCommit = offsets.map(({ topic, partition, offset }) => ({
      topic,
      partition,
      offset: offset.toString(),
    }));
    try {
      await this.#consumer.commitOffsets(toCommit);
    } catch (error) {
      // kafkajs restarting the consumer (after a dropped connection): commit once it has re-joined.
      if (this.#stopped || !/not initialized/.test(String((error as Error)?.message))) throw error;
      await settledWithin(
        new Promise<void>((wake) => this.#joinWaiters.push(wake)),
        this.#options.sessionTimeoutMs,
      );
      await this.#consumer.commitOffsets(toCommit);
    }
    if (this.#commitsStored === before) {
      throw new Error("the offsets were not committed: the consumer is not running in its group");
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      // A join in progress is waited for (briefly): kafkajs's stop() during a join
      // returns at once, and the member would then start fetching and never leave.
      if (this.#joined) {
        await settledWithin(this.#joined, this.#options.sessionTimeoutMs);
        // The runner marks itself running just after the join event.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      this.#stopped = true;
      clearTimeout(this.#restartTimer);
      await this.#consumer.disconnect();
    })();
    return this.#stopping;
  }
}
