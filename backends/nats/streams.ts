/**
 * The JetStream streams behind seastreamer's stream keys: made on first use
 * (as Redis makes a stream on XADD and Kafka auto-creates topics), listed,
 * described and trimmed for the admin operations.
 *
 * @module
 */
import type { ConsumerConfig, StreamConfig, StreamInfo as JetStreamInfo } from "@nats-io/jetstream";
import {
  isValidStreamKey,
  StreamError,
  type StreamInfo,
  type StreamKey,
  type TrimOptions,
} from "../../types.ts";
import { API, apiErrorCode, type NatsClient, natsError } from "./client.ts";
import { jetStreamName, streamKeyOf, subjectsOf } from "./mapping.ts";
import type { NatsConnectOptions } from "./options.ts";

/** The streams of one connection. */
export class Streams {
  readonly #client: NatsClient;
  readonly #options: NatsConnectOptions;
  /** Streams known to exist with our subjects. */
  readonly #known = new Set<StreamKey>();

  /** The streams reached through `client`, made with `options`' storage and replicas. */
  constructor(client: NatsClient, options: NatsConnectOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Whether `key`'s stream is known to exist (a producer then skips asking). */
  known(key: StreamKey): boolean {
    return this.#known.has(key);
  }

  /** Forget that `key`'s stream exists (a publish found none). */
  forget(key: StreamKey): void {
    this.#known.delete(key);
  }

  /**
   * The JetStream stream of `key`, made if missing. A stream of that name
   * holding other subjects is `StreamError("Backend")`: it was not made by seastreamer.
   */
  async ensure(key: StreamKey): Promise<JetStreamInfo> {
    const name = jetStreamName(key);
    const subjects = subjectsOf(key);
    const { jsm } = this.#client;
    let info: JetStreamInfo;
    try {
      info = await jsm.streams.info(name);
    } catch (error) {
      if (apiErrorCode(error) !== API.streamNotFound) {
        throw natsError(error, `looking up stream ${key}`);
      }
      try {
        info = await jsm.streams.add({
          name,
          subjects,
          storage: (this.#options.storage ?? "file") as StreamConfig["storage"],
          num_replicas: this.#options.replicas ?? 1,
        });
      } catch (addError) {
        // Made by someone else meanwhile: use theirs.
        if (apiErrorCode(addError) !== API.streamNameInUse) {
          throw natsError(addError, `creating stream ${key}`);
        }
        info = await jsm.streams.info(name).catch((e) => {
          throw natsError(e, `looking up stream ${key}`);
        });
      }
    }
    const held = info.config.subjects ?? [];
    if (held.length !== 1 || held[0] !== subjects[0]) {
      throw new StreamError(
        "Backend",
        `nats: JetStream stream ${name} holds subjects ${JSON.stringify(held)}, not ${
          subjects[0]
        }: it was not made by seastreamer`,
      );
    }
    this.#known.add(key);
    return info;
  }

  /** The stream keys of the JetStream streams made as seastreamer makes them, sorted. */
  async list(): Promise<StreamKey[]> {
    const keys: StreamKey[] = [];
    try {
      for await (const info of this.#client.jsm.streams.list()) {
        const key = streamKeyOf(info.config.name);
        if (!isValidStreamKey(key) || key.includes("~")) continue;
        const held = info.config.subjects ?? [];
        if (held.length === 1 && held[0] === `${key}.*`) keys.push(key);
      }
    } catch (error) {
      throw natsError(error, "listing streams");
    }
    return keys.sort();
  }

  /** What `key`'s stream holds, and its groups (durable consumers). */
  async describe(key: StreamKey): Promise<StreamInfo> {
    const name = jetStreamName(key);
    const { jsm } = this.#client;
    let info: JetStreamInfo;
    try {
      info = await jsm.streams.info(name);
    } catch (error) {
      if (apiErrorCode(error) === API.streamNotFound) {
        throw new StreamError("StreamKeyNotFound", `nats: no stream ${key}`, { cause: error });
      }
      throw natsError(error, `describing stream ${key}`);
    }
    const groups = [];
    try {
      for await (const consumer of jsm.consumers.list(name)) {
        const durable = consumer.config.durable_name;
        if (durable === undefined || durable === "") continue;
        groups.push({
          name: streamKeyOf(durable),
          // Pull requests waiting: about one per live member.
          members: consumer.num_waiting,
          pending: consumer.num_ack_pending,
          lag: consumer.num_pending,
        });
      }
    } catch (error) {
      throw natsError(error, `listing the groups of ${key}`);
    }
    const { messages, first_seq, last_seq, num_subjects } = info.state;
    return {
      length: messages,
      ...(messages > 0 ? { firstSeqNo: BigInt(first_seq), lastSeqNo: BigInt(last_seq) } : {}),
      shards: Math.max(1, num_subjects ?? 1),
      groups: groups.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    };
  }

  /**
   * Remove the oldest messages of `key` as `options` say (JetStream's purge):
   * `maxLength` keeps the newest of each shard (subject), `minSeqNo` removes
   * the sequences below it, `olderThan` those before the first stored at or
   * after it. Resolves with how many were removed.
   */
  async trim(key: StreamKey, options: TrimOptions): Promise<number> {
    const name = jetStreamName(key);
    const { jsm } = this.#client;
    const { maxLength, minSeqNo, olderThan } = options;
    if (maxLength !== undefined && !(Number.isSafeInteger(maxLength) && maxLength >= 0)) {
      throw new StreamError("Unsupported", `maxLength is a whole number, not ${maxLength}`);
    }
    if (minSeqNo !== undefined && typeof minSeqNo !== "bigint") {
      throw new StreamError("Unsupported", `minSeqNo is a bigint, not ${minSeqNo}`);
    }
    if (olderThan !== undefined && !(olderThan instanceof Date && !isNaN(olderThan.getTime()))) {
      throw new StreamError("Unsupported", `olderThan is a valid Date, not ${olderThan}`);
    }
    try {
      const info = await jsm.streams.info(name, { subjects_filter: ">" });
      if (maxLength !== undefined) {
        let removed = 0;
        for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
          if (count <= maxLength) continue;
          removed += (await jsm.streams.purge(name, { filter: subject, keep: maxLength })).purged;
        }
        return removed;
      }
      const below = minSeqNo !== undefined
        ? Number(minSeqNo > BigInt(info.state.last_seq) ? info.state.last_seq + 1 : minSeqNo)
        : await this.#firstAtOrAfter(name, olderThan!);
      if (below <= info.state.first_seq) return 0;
      return (await jsm.streams.purge(name, { seq: below })).purged;
    } catch (error) {
      if (apiErrorCode(error) === API.streamNotFound) {
        throw new StreamError("StreamKeyNotFound", `nats: no stream ${key}`, { cause: error });
      }
      throw natsError(error, `trimming stream ${key}`);
    }
  }

  /**
   * The sequence of the first message of `stream` stored at or after `time`
   * (the last sequence + 1 if none is): where JetStream starts a consumer
   * made to start at that time.
   */
  async #firstAtOrAfter(stream: string, time: Date): Promise<number> {
    const { jsm } = this.#client;
    const probe = await jsm.consumers.add(stream, {
      ack_policy: "none",
      mem_storage: true,
      inactive_threshold: 10_000_000_000,
      deliver_policy: "by_start_time",
      opt_start_time: time.toISOString(),
    } as Partial<ConsumerConfig>);
    await jsm.consumers.delete(stream, probe.name).catch(() => {});
    return probe.delivered.stream_seq + 1;
  }
}
