/**
 * The Kafka backend's admin operations: list topics, describe one (its
 * partitions' low and high offsets, the groups that committed offsets of it),
 * trim one (deleteRecords) and move a group (its committed offsets).
 *
 * @module
 */
import {
  type GroupInfo,
  type SeqPos,
  StreamError,
  type StreamInfo,
  type StreamKey,
  type TrimOptions,
} from "../../types.ts";
import type { KafkaDriver } from "./driver.ts";
import { backendError } from "./errors.ts";

/** The topics, but Kafka's internal ones (`__consumer_offsets`, …), sorted. */
export async function listStreams(client: KafkaDriver): Promise<StreamKey[]> {
  try {
    return (await client.topics()).filter((topic) => !topic.startsWith("__")).sort();
  } catch (error) {
    throw backendError(error, "cannot list the topics");
  }
}

/** Each partition's first and end offsets; `StreamKeyNotFound` if there is no such topic. */
async function bounds(
  client: KafkaDriver,
  topic: StreamKey,
): Promise<Map<number, { low: bigint; high: bigint }>> {
  let partitions: number[] | undefined;
  try {
    partitions = (await client.partitions([topic])).get(topic);
  } catch (error) {
    throw backendError(error, `cannot look up ${topic}`);
  }
  if (partitions === undefined) {
    throw new StreamError("StreamKeyNotFound", `kafka: there is no topic ${topic}`);
  }
  try {
    const [low, high] = await Promise.all([
      client.offsets(topic, "earliest"),
      client.offsets(topic, "latest"),
    ]);
    const result = new Map<number, { low: bigint; high: bigint }>();
    for (const partition of partitions) {
      result.set(partition, { low: low.get(partition) ?? 0n, high: high.get(partition) ?? 0n });
    }
    return result;
  } catch (error) {
    throw backendError(error, `cannot look up the offsets of ${topic}`);
  }
}

/**
 * What `topic` holds: its records over all partitions, the smallest and
 * largest offsets held, and each group that committed offsets of it (its lag:
 * the records after its committed offsets; pending is not known to Kafka, 0).
 */
export async function describeStream(client: KafkaDriver, topic: StreamKey): Promise<StreamInfo> {
  const partitions = await bounds(client, topic);
  let length = 0n;
  let firstSeqNo: bigint | undefined;
  let lastSeqNo: bigint | undefined;
  for (const { low, high } of partitions.values()) {
    if (high <= low) continue;
    length += high - low;
    if (firstSeqNo === undefined || low < firstSeqNo) firstSeqNo = low;
    if (lastSeqNo === undefined || high - 1n > lastSeqNo) lastSeqNo = high - 1n;
  }
  const groups: GroupInfo[] = [];
  try {
    for (const group of await client.groups?.(topic) ?? []) {
      let lag = 0n;
      for (const [partition, { low, high }] of partitions) {
        const committed = group.committed.get(partition);
        const from = committed === undefined || committed < low ? low : committed;
        if (high > from) lag += high - from;
      }
      groups.push({ name: group.name, members: group.members, pending: 0, lag: Number(lag) });
    }
  } catch (error) {
    throw backendError(error, `cannot describe the groups of ${topic}`);
  }
  return {
    length: Number(length),
    ...(firstSeqNo === undefined ? {} : { firstSeqNo, lastSeqNo }),
    shards: partitions.size,
    groups,
  };
}

/** Delete the oldest records of `topic` as `options` say; resolves with how many went. */
export async function trimStream(
  client: KafkaDriver,
  topic: StreamKey,
  options: TrimOptions,
): Promise<number> {
  if (client.deleteRecords === undefined) {
    throw new StreamError("Unsupported", "kafka: this client cannot delete records");
  }
  const { maxLength, minSeqNo, olderThan } = options;
  if (maxLength !== undefined) {
    if (typeof maxLength !== "number" || !Number.isSafeInteger(maxLength) || maxLength < 0) {
      throw new StreamError("Unsupported", `maxLength is a count, not ${maxLength}`);
    }
  } else if (minSeqNo !== undefined) {
    if (typeof minSeqNo !== "bigint" || minSeqNo < 0n) {
      throw new StreamError("Unsupported", `minSeqNo is a bigint >= 0, not ${minSeqNo}`);
    }
  } else if (!(olderThan instanceof Date) || Number.isNaN(olderThan.getTime())) {
    throw new StreamError("Unsupported", "olderThan is a valid Date");
  }
  const partitions = await bounds(client, topic);
  let byTime: Map<number, bigint> | undefined;
  if (olderThan !== undefined && maxLength === undefined && minSeqNo === undefined) {
    try {
      byTime = await client.offsets(topic, olderThan);
    } catch (error) {
      throw backendError(error, `cannot look up the offsets of ${topic}`);
    }
  }
  const cuts = new Map<number, bigint>();
  let removed = 0n;
  for (const [partition, { low, high }] of partitions) {
    let cut = maxLength !== undefined
      ? high - BigInt(maxLength)
      : minSeqNo !== undefined
      ? minSeqNo
      : byTime?.get(partition) ?? high;
    if (cut > high) cut = high;
    if (cut <= low) continue;
    cuts.set(partition, cut);
    removed += cut - low;
  }
  if (cuts.size === 0) return 0;
  try {
    await client.deleteRecords(topic, cuts);
  } catch (error) {
    throw backendError(error, `cannot trim ${topic}`);
  }
  return Number(removed);
}

/**
 * Move `group`'s committed offsets of `topic` to `position` on every
 * partition: its next member starts there. Kafka refuses while the group has
 * members.
 */
export async function resetGroup(
  client: KafkaDriver,
  topic: StreamKey,
  group: string,
  position: SeqPos | Date,
): Promise<void> {
  if (client.setOffsets === undefined) {
    throw new StreamError("Unsupported", "kafka: this client cannot set a group's offsets");
  }
  const partitions = await bounds(client, topic);
  let byTime: Map<number, bigint> | undefined;
  if (position instanceof Date) {
    try {
      byTime = await client.offsets(topic, position);
    } catch (error) {
      throw backendError(error, `cannot look up the offsets of ${topic}`);
    }
  }
  const offsets = new Map<number, bigint>();
  for (const [partition, { low, high }] of partitions) {
    let offset: bigint;
    if (position === "beginning") offset = low;
    else if (position === "end") offset = high;
    else if (byTime !== undefined) offset = byTime.get(partition) ?? high;
    else offset = (position as { at: bigint }).at;
    offsets.set(partition, offset < low ? low : offset > high ? high : offset);
  }
  try {
    await client.setOffsets(group, topic, offsets);
  } catch (error) {
    throw backendError(error, `cannot reset group ${group} of ${topic}`);
  }
}
