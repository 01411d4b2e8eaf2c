/**
 * The JetStream streams behind seastreamer's stream keys: made on first use
 * (as Redis makes a stream on XADD and Kafka auto-creates topics), listed and
 * described for the admin operations.
 *
 * @module
 */
import type { StreamConfig, StreamInfo as JetStreamInfo } from "@nats-io/jetstream";
import { isValidStreamKey, StreamError, type StreamInfo, type StreamKey } from "../../types.ts";
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
}
