/**
 * Consumer groups on JetStream: a group is the durable pull consumer named
 * after it, shared by its members; where a consumer starts; moving a group
 * (`Streamer.resetGroup`).
 *
 * @module
 */
import type { ConsumerConfig, ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";
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
      if (info === undefined) {
        const config = groupConfig(DEFAULT_ACK_WAIT_MS, start);
        await jsm.consumers.add(stream, { ...config, durable_name: name });
      } else {
        await remake(jsm, stream, name, info.config, start);
      }
      return;
    } catch (error) {
      if (attempt >= 3) throw natsError(error, `resetting group ${group} of ${key}`);
    }
  }
}

/** Delete the durable consumer `name` of `stream` and make it again with `config`, starting at `start`. */
async function remake(
  jsm: JetStreamManager,
  stream: string,
  name: string,
  config: Partial<ConsumerConfig>,
  start: Start,
): Promise<ConsumerInfo> {
  await jsm.consumers.delete(stream, name);
  return await jsm.consumers.add(stream, { ...withStart(config, start), durable_name: name });
}

/** Where a resumable group's reader stands: the last sequence it received, the lowest it holds. */
export interface ReaderPosition {
  /** The highest stream sequence received (0: none yet). */
  lastSeq: number;
  /** The lowest sequence delivered and not acknowledged, if any. */
  lowestHeld: number | undefined;
}

/**
 * The group's durable consumer `name` of `stream`, as a reader finds it, or
 * made with `config`. A resumable group's reader (`resumable` given: one member
 * at a time) makes it again when the server holds messages delivered but
 * neither acknowledged nor held by the reader, so that they come now and in
 * order rather than after the ack wait: at start (left by a member that
 * crashed), from the acknowledgement floor; later (lost with a connection),
 * from the first message not received or not acknowledged. `remade` says it was.
 */
export async function groupConsumer(
  jsm: JetStreamManager,
  stream: string,
  name: string,
  config: Partial<ConsumerConfig>,
  resumable?: ReaderPosition,
): Promise<{ info: ConsumerInfo; remade: boolean }> {
  let info: ConsumerInfo;
  try {
    info = await jsm.consumers.info(stream, name);
  } catch (error) {
    if (apiErrorCode(error) !== API.consumerNotFound) throw error;
    return {
      info: await jsm.consumers.add(stream, { ...config, durable_name: name }),
      remade: false,
    };
  }
  if (resumable === undefined) return { info, remade: false };
  let from: number;
  if (resumable.lastSeq === 0) {
    if (info.num_ack_pending === 0) return { info, remade: false };
    from = info.ack_floor.stream_seq + 1;
  } else {
    if (info.delivered.stream_seq <= resumable.lastSeq) return { info, remade: false };
    from = Math.min(resumable.lastSeq + 1, resumable.lowestHeld ?? Infinity);
  }
  const start: Start = { deliver_policy: "by_start_sequence", opt_start_seq: from };
  return { info: await remake(jsm, stream, name, info.config, start), remade: true };
}

/** `config` starting at `start` instead. */
export function withStart(config: Partial<ConsumerConfig>, start: Start): Partial<ConsumerConfig> {
  const { deliver_policy: _, opt_start_seq: __, opt_start_time: ___, ...rest } = config;
  return { ...rest, ...start } as Partial<ConsumerConfig>;
}
