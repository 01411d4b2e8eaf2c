/**
 * A Kafka consumer's commits: the offset after each position, for the
 * partitions this member still holds.
 *
 * @module
 */
import { type MessageHeader, StreamError, type StreamKey } from "../../types.ts";
import type { CommitResults } from "../../core/driver.ts";
import type { DriverConsumer } from "./driver.ts";
import { type Assignment, tpKey } from "./assignment.ts";
import { backendError, isRebalanceError } from "./errors.ts";

/**
 * Store, for each position's partition, the offset after it (Kafka's committed
 * offset is the next to read). A partition no longer assigned (the group
 * rebalanced) cannot be committed by this member: an error for it alone, as
 * for all when the broker refuses because of a rebalance (trying again cannot
 * store them). Any other failure rejects (core tries auto-commits again).
 */
export async function commitPositions(
  member: DriverConsumer | undefined,
  streams: readonly StreamKey[],
  assignment: Assignment,
  positions: readonly MessageHeader[],
): Promise<CommitResults> {
  const results: (Error | undefined)[] = new Array(positions.length).fill(undefined);
  const owned: { topic: string; partition: number; offset: bigint }[] = [];
  const ownedAt: number[] = [];
  for (let i = 0; i < positions.length; i++) {
    const { streamKey: topic, shardId: partition } = positions[i];
    if (!streams.includes(topic)) {
      results[i] = new StreamError("StreamKeyNotFound", `kafka consumer does not read ${topic}`);
    } else if (!assignment.has(tpKey(topic, partition))) {
      results[i] = new StreamError(
        "Backend",
        `kafka: partition ${partition} of ${topic} is no longer assigned to this member (the group rebalanced): not committed`,
      );
    } else {
      owned.push({ topic, partition, offset: positions[i].seqNo + 1n });
      ownedAt.push(i);
    }
  }
  if (owned.length === 0) return results;
  try {
    if (!member) throw new Error("not started");
    await member.commit(owned);
  } catch (error) {
    const failure = backendError(error, "commit failed");
    if (!isRebalanceError(error)) throw failure;
    for (const i of ownedAt) results[i] = failure;
  }
  return results;
}
