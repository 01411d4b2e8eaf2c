/**
 * Which partitions a Kafka consumer reads: those the group gave the member at
 * its latest join, narrowed to the ones chosen with `assign()`/`unassign()`.
 *
 * @module
 */
import { type ShardId, StreamError, type StreamKey } from "../../types.ts";
import type { ConsumerSettings } from "../../core/options.ts";

/** A partition of a topic. */
export interface TopicPartition {
  /** The topic. */
  topic: string;
  /** The partition. */
  partition: number;
}

/** The map key of a partition. */
export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** The partitions a consumer holds and reads. */
export class Assignment {
  readonly #settings: ConsumerSettings;
  /** Known partitions per topic (grows as joins show more). */
  readonly #partitions: Map<string, number[]>;
  /** The partitions the group gave this member (latest join). */
  #assigned = new Map<string, TopicPartition>();
  /** The partitions chosen with assign()/unassign(); undefined: all assigned ones. */
  #wanted: Set<string> | undefined;

  /** The assignment of a consumer with `settings`, knowing `partitions` per topic. */
  constructor(settings: ConsumerSettings, partitions: Map<string, number[]>) {
    this.#settings = settings;
    this.#partitions = partitions;
  }

  /** The partitions the group gave this member. */
  get assigned(): ReadonlyMap<string, TopicPartition> {
    return this.#assigned;
  }

  /** Take a join's assignment; returns the keys of the partitions taken away. */
  joined(assignment: Map<string, number[]>): string[] {
    const next = new Map<string, TopicPartition>();
    for (const [topic, partitions] of assignment) {
      const known = this.#partitions.get(topic) ?? [];
      for (const partition of partitions) {
        next.set(tpKey(topic, partition), { topic, partition });
        if (!known.includes(partition)) known.push(partition);
      }
      this.#partitions.set(topic, known);
    }
    const removed = [...this.#assigned.keys()].filter((key) => !next.has(key));
    this.#assigned = next;
    return removed;
  }

  /** Whether the group gave this member partition `key`. */
  has(key: string): boolean {
    return this.#assigned.has(key);
  }

  /** Whether `key` is wanted (all are, until `assign()` narrows them). */
  isWanted(key: string): boolean {
    return this.#wanted === undefined || this.#wanted.has(key);
  }

  /** Whether `key` is assigned and wanted. */
  isReading(key: string): boolean {
    return this.#assigned.has(key) && this.isWanted(key);
  }

  /** The keys of the partitions read. */
  *reading(): Iterable<string> {
    for (const key of this.#assigned.keys()) if (this.isWanted(key)) yield key;
  }

  /** The partitions read, per topic. */
  readingByTopic(): Map<string, number[]> {
    const result = new Map<string, number[]>();
    for (const [key, { topic, partition }] of this.#assigned) {
      if (!this.isWanted(key)) continue;
      result.set(topic, [...(result.get(topic) ?? []), partition]);
    }
    return result;
  }

  /** Whether every known partition of the consumer's topics is assigned. */
  coversAll(): boolean {
    for (const topic of this.#settings.streams) {
      for (const partition of this.#partitions.get(topic) ?? []) {
        if (!this.#assigned.has(tpKey(topic, partition))) return false;
      }
    }
    return true;
  }

  /** The assigned partitions to pause (not wanted) and to resume, per topic. */
  pauses(): { pause: Map<string, number[]>; resume: Map<string, number[]> } {
    const pause = new Map<string, number[]>();
    const resume = new Map<string, number[]>();
    for (const [key, { topic, partition }] of this.#assigned) {
      const target = this.isWanted(key) ? resume : pause;
      target.set(topic, [...(target.get(topic) ?? []), partition]);
    }
    return { pause, resume };
  }

  /** Want partition `shardId` of `stream`; `narrowed` says the first call narrowed to it. */
  assign(stream: StreamKey, shardId: ShardId): { key: string; narrowed: boolean } {
    const key = this.#check(stream, shardId, "assign");
    if (this.#wanted === undefined) {
      this.#wanted = new Set([key]);
      return { key, narrowed: true };
    }
    this.#wanted.add(key);
    return { key, narrowed: false };
  }

  /** Stop wanting partition `shardId` of `stream`; returns its key. */
  unassign(stream: StreamKey, shardId: ShardId): string {
    const key = this.#check(stream, shardId, "unassign");
    const wanted = this.#wanted ??
      new Set(
        [...this.#partitions].flatMap(([topic, list]) =>
          this.#settings.streams.includes(topic) ? list.map((p) => tpKey(topic, p)) : []
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
    return key;
  }

  #check(stream: StreamKey, shardId: ShardId, operation: string): string {
    const { mode, streams } = this.#settings;
    if (mode === "load-balanced") {
      throw new StreamError(
        "Unsupported",
        `kafka: ${operation} is not supported on a load-balanced consumer of this backend`,
      );
    }
    if (!streams.includes(stream)) {
      throw new StreamError(
        "StreamKeyNotFound",
        `kafka consumer reads ${streams.join(", ")}, not ${stream}`,
      );
    }
    const known = this.#partitions.get(stream) ?? [];
    if (!Number.isInteger(shardId) || !known.includes(shardId)) {
      throw new StreamError(
        "StreamKeyNotFound",
        `topic ${stream} has no partition ${shardId} (it has ${known.length})`,
      );
    }
    return tpKey(stream, shardId);
  }
}
