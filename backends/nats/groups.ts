/**
 * Consumer groups on JetStream: a group is the durable pull consumer named
 * after it, shared by its members; where a consumer starts; moving a group
 * (`Streamer.resetGroup`).
 *
 * @module
 */
import type { ConsumerConfig, ConsumerInfo } from "@nats-io/jetstream";
import { type SeqPos, StreamError, type StreamKey } from "../../types.ts";
import { API, apiErrorCode, type NatsClient, natsError } from "./client.ts";
import { jetStreamName } from "./mapping.ts";

/** Where a consumer starts: JetStream's deliver policy and its argument. */
export type Start =
  | { deliver_policy: "all" }
  | { deliver_policy: "by_start_sequence"; opt_start_seq: number }
  | { deliver_policy: "by_start_time"; opt_start_time: string };

/** How long the server waits for a member to commit a message before it delivers it again, by default, ms. */
export const DEFAULT_ACK_WAIT_MS = 30_000;

/** A group's durable consumer name: the group, each `.` written `~` (consumer names hold no dots). */
export function durableName(group: string): string {
  if (/[\s*>/\\]/.test(group)) {
    throw new StreamError(
      "Unsupported",
      `nats: a group name cannot hold whitespace, *, >, / or \\ (it names a durable consumer): ${
        JSON.stringify(group)
      }`,
    );
  }
  return group.replaceAll(".", "~");
}

/** The durable consumer a group's first member makes: explicit acks, redelivered after `ackWaitMs`. */
export function groupConfig(ackWaitMs: number, start: Start): Partial<ConsumerConfig> {
  return {
    ack_policy: "explicit" as ConsumerConfig["ack_policy"],
    ack_wait: ackWaitMs * 1_000_000,
    max_ack_pending: -1,
    max_deliver: -1,
    ...start,
  } as Partial<ConsumerConfig>;
}

/** Where `position` is in a stream whose last sequence is `lastSeq`, inclusive. */
export function startAt(position: SeqPos | Date, lastSeq: number): Start {
  if (position instanceof Date) {
    return { deliver_policy: "by_start_time", opt_start_time: position.toISOString() };
  }
  if (position === "beginning") return { deliver_policy: "all" };
  if (position === "end") {
    return { deliver_policy: "by_start_sequence", opt_start_seq: lastSeq + 1 };
  }
  const at = position.at;
  if (at <= 1n) return { deliver_policy: "all" };
  if (at > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new StreamError("Unsupported", `nats: seqNo ${at} is beyond any stream sequence`);
  }
  return { deliver_policy: "by_start_sequence", opt_start_seq: Number(at) };
}

/**
 * Move group `group` of `key` to `position`: its durable consumer is made
 * again there with its settings (JetStream cannot move a consumer), or made
 * there with the defaults if the group has none yet. Live members find the new
 * one and read on from there; what they hold uncommitted is not redelivered.
 */
export async function resetGroup(
  client: NatsClient,
  key: StreamKey,
  group: string,
  position: SeqPos | Date,
): Promise<void> {
  const stream = jetStreamName(key);
  const name = durableName(group);
  const { jsm } = client;
  let lastSeq: number;
  try {
    lastSeq = (await jsm.streams.info(stream)).state.last_seq;
  } catch (error) {
    if (apiErrorCode(error) === API.streamNotFound) {
      throw new StreamError("StreamKeyNotFound", `nats: no stream ${key}`, { cause: error });
    }
    throw natsError(error, `resetting group ${group} of ${key}`);
  }
  const start = startAt(position, lastSeq);
  // A member that saw its consumer deleted may make it again first: then delete that one too.
  for (let attempt = 0;; attempt++) {
    try {
      let info: ConsumerInfo | undefined;
      try {
        info = await jsm.consumers.info(stream, name);
      } catch (error) {
        if (apiErrorCode(error) !== API.consumerNotFound) throw error;
      }
      const config = info === undefined
        ? groupConfig(DEFAULT_ACK_WAIT_MS, start)
        : withStart(info.config, start);
      if (info !== undefined) await jsm.consumers.delete(stream, name);
      await jsm.consumers.add(stream, { ...config, durable_name: name });
      return;
    } catch (error) {
      if (attempt >= 3) throw natsError(error, `resetting group ${group} of ${key}`);
    }
  }
}

/** `config` starting at `start` instead. */
export function withStart(config: Partial<ConsumerConfig>, start: Start): Partial<ConsumerConfig> {
  const { deliver_policy: _, opt_start_seq: __, opt_start_time: ___, ...rest } = config;
  return { ...rest, ...start } as Partial<ConsumerConfig>;
}
