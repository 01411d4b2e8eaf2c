/**
 * The Redis producer: a batch of sends goes out as one pipeline of XADDs (per
 * key on a cluster, where one pipeline cannot span nodes); receipts come from
 * the IDs the server returns. Optional trimming (`MAXLEN ~`, `MINID ~`) and
 * sharding over `stream:shard` keys, as SeaStreamer does.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type ProducerOptions, StreamError, type StreamKey } from "../../types.ts";
import { BatchProducer, type PendingSend, type SendResult } from "../../core/batch_producer.ts";
import { positiveInteger } from "../../core/options.ts";
import type { RedisClient } from "./client.ts";
import { backendError } from "./errors.ts";
import { type EntryId, parseIdText } from "./id.ts";
import { HEADER_PREFIX, KEY_FIELD, RedisHeader } from "./message.ts";
import { Cluster } from "ioredis";
import { timeout } from "../../runtime/mod.ts";

/** What the producer needs from its streamer. */
export interface ProducerHost {
  /** The shared command connection. */
  readonly client: RedisClient;
  /** The payload field name. */
  readonly payloadField: string;
  /** Forget an ended producer. */
  dropProducer(producer: RedisProducer): void;
}

/**
 * The Redis key of shard `shard` of `stream` when sharded (`stream:shard`).
 *
 * @example
 * ```ts
 * import { shardKey } from "@seastreamer/seastreamer/redis";
 *
 * console.log(shardKey("orders", 2)); // orders:2
 * ```
 */
export function shardKey(stream: StreamKey, shard: number): string {
  return `${stream}:${shard}`;
}

/** FNV-1a of `text`: the key-hash sharder's choice is stable across processes. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function toBuffer(bytes: Uint8Array): Buffer {
  // ioredis sends only Buffers as bytes (anything else is turned into a string): no copy.
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A producer writing stream entries with XADD. */
export class RedisProducer extends BatchProducer {
  /** For error messages. */
  protected readonly backendName = "redis";
  /** Entries carry a key and headers as fields. */
  protected override readonly keysAndHeaders = true;
  readonly #host: ProducerHost;
  readonly #field: Buffer;
  readonly #maxLen: number | undefined;
  readonly #maxAgeMs: number | undefined;
  readonly #shards: number;
  readonly #byKey: boolean;
  readonly #roundRobin = new Map<StreamKey, number>();
  /** How long a batch may wait for its replies (the sends then fail with Timeout). */
  readonly #timeoutMs: number | undefined;

  /** A producer over the streamer's connection. */
  constructor(host: ProducerHost, stream: StreamKey | undefined, options: ProducerOptions = {}) {
    super(stream, options);
    const redis = options.redis ?? {};
    this.#host = host;
    this.#timeoutMs = options.timeoutMs === undefined
      ? undefined
      : positiveInteger("timeoutMs", options.timeoutMs, 1);
    this.#field = Buffer.from(host.payloadField);
    this.#maxLen = redis.maxLen === undefined
      ? undefined
      : positiveInteger("redis.maxLen", redis.maxLen, 1);
    this.#maxAgeMs = redis.maxAgeMs === undefined
      ? undefined
      : positiveInteger("redis.maxAgeMs", redis.maxAgeMs, 1);
    this.#shards = redis.shards === undefined || redis.shards === 0
      ? 0
      : positiveInteger("redis.shards", redis.shards, 1);
    const sharder = redis.sharder ?? "round-robin";
    if (sharder !== "round-robin" && sharder !== "key-hash") {
      throw new StreamError(
        "Unsupported",
        `redis.sharder is "round-robin" or "key-hash", not ${JSON.stringify(sharder)}`,
      );
    }
    this.#byKey = sharder === "key-hash";
  }

  #shardOf(item: PendingSend): number {
    if (this.#shards === 0) return 0;
    const key = item.options?.key;
    if (this.#byKey && key !== undefined) return fnv1a(key) % this.#shards;
    const next = this.#roundRobin.get(item.streamKey) ?? 0;
    this.#roundRobin.set(item.streamKey, (next + 1) % this.#shards);
    return next;
  }

  #xaddArgs(item: PendingSend, key: string): (string | Buffer | number)[] {
    const args: (string | Buffer | number)[] = [key];
    if (this.#maxLen !== undefined) args.push("MAXLEN", "~", this.#maxLen);
    else if (this.#maxAgeMs !== undefined) args.push("MINID", "~", Date.now() - this.#maxAgeMs);
    args.push("*", this.#field, toBuffer(item.bytes));
    const options = item.options;
    if (options !== undefined) {
      if (options.key !== undefined) args.push(KEY_FIELD, options.key);
      if (options.headers !== undefined) {
        for (const [name, value] of Object.entries(options.headers)) {
          args.push(HEADER_PREFIX + name, value);
        }
      }
    }
    return args;
  }

  /** Write `batch` as pipelined XADDs. */
  protected async writeBatch(batch: readonly PendingSend[]): Promise<SendResult[]> {
    const client = this.#host.client;
    const shards = new Int32Array(batch.length);
    const keys: string[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i];
      const shard = this.#shardOf(item);
      shards[i] = shard;
      keys[i] = this.#shards === 0 ? item.streamKey : shardKey(item.streamKey, shard);
    }
    const results: SendResult[] = new Array(batch.length);
    if (client instanceof Cluster) {
      // One pipeline per key: a cluster pipeline cannot span slots.
      const groups = new Map<string, number[]>();
      for (let i = 0; i < batch.length; i++) {
        const list = groups.get(keys[i]);
        if (list) list.push(i);
        else groups.set(keys[i], [i]);
      }
      await Promise.all(
        [...groups.values()].map((indexes) =>
          this.#pipeline(indexes, batch, keys, shards, results)
        ),
      );
    } else {
      await this.#pipeline(undefined, batch, keys, shards, results);
    }
    return results;
  }

  /** Write the sends at `indexes` of `batch` (all of them if undefined) in one pipeline. */
  async #pipeline(
    indexes: number[] | undefined,
    batch: readonly PendingSend[],
    keys: string[],
    shards: Int32Array,
    results: SendResult[],
  ): Promise<void> {
    const pipeline = this.#host.client.pipeline();
    const plain = this.#maxLen === undefined && this.#maxAgeMs === undefined;
    const count = indexes === undefined ? batch.length : indexes.length;
    for (let j = 0; j < count; j++) {
      const i = indexes === undefined ? j : indexes[j];
      const item = batch[i];
      if (plain && item.options === undefined) {
        pipeline.xadd(keys[i], "*", this.#field, toBuffer(item.bytes));
      } else {
        pipeline.call("XADD", this.#xaddArgs(item, keys[i]));
      }
    }
    let replies: [Error | null, unknown][] | null;
    try {
      const written = pipeline.exec();
      written.catch(() => {}); // after a timeout, a late failure is nobody's to handle
      replies = this.#timeoutMs === undefined
        ? await written
        : await timeout(written, this.#timeoutMs, "waiting for XADD replies");
    } catch (error) {
      const failure = backendError(error, "XADD failed");
      for (let j = 0; j < count; j++) results[indexes === undefined ? j : indexes[j]] = failure;
      return;
    }
    const id: EntryId = { ms: 0, seq: 0 };
    for (let j = 0; j < count; j++) {
      const i = indexes === undefined ? j : indexes[j];
      const reply = replies?.[j];
      if (!reply || reply[0]) {
        results[i] = backendError(reply?.[0] ?? new Error("no reply"), "XADD failed");
        continue;
      }
      if (parseIdText(reply[1] as string, id)) {
        results[i] = new RedisHeader(batch[i].streamKey, shards[i], id.ms, id.seq);
      } else {
        results[i] = new StreamError("Backend", `redis: XADD replied ${String(reply[1])}`);
      }
    }
  }

  /** Nothing of its own to close: the connection is the streamer's. */
  protected close(): Promise<void> {
    this.#host.dropProducer(this);
    return Promise.resolve();
  }
}
