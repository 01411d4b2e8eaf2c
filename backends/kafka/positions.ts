/**
 * Where a Kafka consumer's partitions start, and where a rewind or a seek
 * moves them: offsets looked up on the broker.
 *
 * @module
 */
import { type SeqPos, StreamError } from "../../types.ts";
import type { AutoStreamReset } from "../../types.ts";
import type { KafkaDriver, OffsetSpec } from "./driver.ts";
import type { TopicPartition } from "./assignment.ts";
import { tpKey } from "./assignment.ts";
import { backendError } from "./errors.ts";

/** Where a move sends a partition. */
export interface Target extends TopicPartition {
  /** Where the client fetches from next. */
  fetchFrom: bigint;
  /** The first offset delivered (records below are dropped; may be past `fetchFrom`). */
  position: bigint;
}

/** How to find where partitions start. */
export interface StartSpec {
  /** The group whose committed offsets come first (none for a real-time consumer). */
  group: string | undefined;
  /** Where to start without a committed offset. */
  reset: AutoStreamReset;
  /** A real-time consumer's start offsets taken at its start; others start at the beginning. */
  known: ReadonlyMap<string, bigint> | undefined;
}

/**
 * Per partition key, where `byTopic`'s partitions start: the group's committed
 * offset, else `spec.reset` (a real-time consumer: its known start, else the
 * beginning, for partitions added since).
 */
export async function startOffsets(
  client: KafkaDriver,
  byTopic: Map<string, number[]>,
  spec: StartSpec,
): Promise<Map<string, bigint>> {
  const { group, known } = spec;
  const found = new Map<string, bigint>();
  // Every topic at once: a consumer of several topics waits for one round trip, not one each.
  await Promise.all([...byTopic].map(async ([topic, list]) => {
    const key = (partition: number) => tpKey(topic, partition);
    const resetSpec: OffsetSpec = known ? "earliest" : spec.reset;
    // Both at once: the reset offsets are used where nothing is committed.
    const [committed, reset] = await Promise.all([
      group === undefined ? undefined : client.committed(group, topic),
      known && list.every((p) => known.has(key(p))) ? undefined : client.offsets(topic, resetSpec),
    ]);
    for (const partition of list) {
      const offset = (known ? known.get(key(partition)) : committed?.get(partition)) ??
        reset?.get(partition) ?? 0n;
      found.set(key(partition), offset);
    }
  }));
  return found;
}

async function offsets(
  client: KafkaDriver,
  topic: string,
  spec: OffsetSpec,
): Promise<Map<number, bigint>> {
  try {
    return await client.offsets(topic, spec);
  } catch (error) {
    throw backendError(error, `cannot look up offsets of ${topic}`);
  }
}

/** Where `rewind(position)` sends each of `byTopic`'s partitions (`{ at }` is inclusive). */
export async function rewindTargets(
  client: KafkaDriver,
  byTopic: Map<string, number[]>,
  position: SeqPos,
): Promise<Target[]> {
  const at = typeof position === "object" ? position.at : undefined;
  if (typeof position === "object" && typeof at !== "bigint") {
    throw new StreamError("Unsupported", "rewind({ at }) takes a bigint seqNo");
  }
  const targets: Target[] = [];
  for (const [topic, partitions] of byTopic) {
    const low = position === "end" ? undefined : await offsets(client, topic, "earliest");
    const high = position === "beginning" ? undefined : await offsets(client, topic, "latest");
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
  return targets;
}

/** Where `seek(timestamp)` sends each of `byTopic`'s partitions. */
export async function seekTargets(
  client: KafkaDriver,
  byTopic: Map<string, number[]>,
  timestamp: Date,
): Promise<Target[]> {
  if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime())) {
    throw new StreamError("Unsupported", "seek() takes a valid Date");
  }
  const targets: Target[] = [];
  for (const [topic, partitions] of byTopic) {
    const found = await offsets(client, topic, timestamp);
    for (const partition of partitions) {
      const offset = found.get(partition) ?? 0n;
      targets.push({ topic, partition, fetchFrom: offset, position: offset });
    }
  }
  return targets;
}
