/**
 * The Redis producer driver: a batch goes out as one pipeline of XADDs (per key
 * on a cluster, where one pipeline cannot span nodes; per connection with
 * `redis.connections`); receipts come from the IDs the server returns.
 * Optional trimming (`MAXLEN ~`, `MINID ~`) and sharding over `stream:N` keys,
 * as SeaStreamer does.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Cluster, Command, Redis } from "ioredis";
import { ioredis } from "./library.ts";
import { type ProducerOptions, StreamError, type StreamKey } from "../../types.ts";
import type { PendingSend, ProducerDriver, SendResult } from "../../core/driver.ts";
import { positiveInteger } from "../../core/options.ts";
import { runtimeName, timeout } from "../../runtime/mod.ts";
import { bufferView } from "../../runtime/bytes.ts";
import { closeClient, type RedisClient } from "./client.ts";
import { backendError } from "./errors.ts";
import { type EntryId, parseIdText } from "./id.ts";
import { HEADER_PREFIX, KEY_FIELD, RedisHeader } from "./message.ts";

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

/** A payload as ioredis sends it: a string as is (encoded once, by the client), bytes as a Buffer. */
function wireValue(payload: string | Uint8Array): string | Buffer {
  // ioredis sends only Buffers as bytes (anything else is turned into a string): a view, no copy.
  return typeof payload === "string" ? payload : bufferView(payload);
}

/** An XADD's arguments. */
type XaddArgs = (string | Buffer | number)[];

/** One stream's keys and round-robin position. */
interface StreamKeys {
  /** Its Redis keys: the stream itself, or its `stream:N` shards. */
  keys: string[];
  /** The next shard of the round-robin. */
  next: number;
}

/** Writes stream entries with XADD. */
export class RedisProducer implements ProducerDriver {
  /** The connections written to: shard N goes to `connections[N % length]`. */
  readonly #connections: RedisClient[];
  /** Connections this producer opened (closed with it). */
  readonly #owned: readonly RedisClient[];
  readonly #cluster: boolean;
  readonly #field: string;
  readonly #maxLen: number | undefined;
  readonly #maxAgeMs: number | undefined;
  readonly #shards: number;
  readonly #byKey: boolean;
  readonly #streams = new Map<StreamKey, StreamKeys>();
  /** Per key, the bytes of `XADD key * field` (see {@link Xadd}). */
  readonly #heads = new Map<string, string>();
  /** How long a batch may wait for its replies (the sends then fail with Timeout). */
  readonly #timeoutMs: number | undefined;

  /**
   * A producer writing through `connections` (those in `owned` are its own),
   * entries with the payload in field `payloadField`.
   */
  constructor(
    connections: RedisClient[],
    owned: readonly RedisClient[],
    payloadField: string,
    options: ProducerOptions,
  ) {
    this.#connections = connections;
    this.#owned = owned;
    this.#cluster = connections[0] instanceof ioredis().Cluster;
    this.#field = payloadField;
    const redis = options.redis ?? {};
    this.#timeoutMs = options.timeoutMs === undefined
      ? undefined
      : positiveInteger("timeoutMs", options.timeoutMs, 1);
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

  /** Write `batch` as pipelined XADDs: one pipeline per connection (per key on a cluster). */
  async write(batch: readonly PendingSend[]): Promise<SendResult[]> {
    const results: SendResult[] = new Array(batch.length);
    const shards = new Int32Array(batch.length);
    const keys: string[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i];
      const stream = this.#keysOf(item.streamKey);
      const shard = this.#shardOf(item, stream);
      shards[i] = shard;
      keys[i] = stream.keys[shard];
    }
    const connections = this.#connections;
    if (connections.length === 1 && !this.#cluster) {
      await this.#pipeline(connections[0], undefined, batch, keys, shards, results);
      return results;
    }
    // A cluster pipeline cannot span slots: one per key. Else one per connection.
    const lanes = new Map<string | number, number[]>();
    for (let i = 0; i < batch.length; i++) {
      const lane = this.#cluster ? keys[i] : shards[i] % connections.length;
      const list = lanes.get(lane);
      if (list) list.push(i);
      else lanes.set(lane, [i]);
    }
    await Promise.all(
      [...lanes.values()].map((indexes) => {
        const connection = connections[shards[indexes[0]] % connections.length];
        return this.#pipeline(connection, indexes, batch, keys, shards, results);
      }),
    );
    return results;
  }

  #keysOf(stream: StreamKey): StreamKeys {
    let known = this.#streams.get(stream);
    if (known === undefined) {
      const keys = this.#shards === 0
        ? [stream]
        : Array.from({ length: this.#shards }, (_, shard) => shardKey(stream, shard));
      known = { keys, next: 0 };
      this.#streams.set(stream, known);
    }
    return known;
  }

  #shardOf(item: PendingSend, stream: StreamKeys): number {
    if (this.#shards === 0) return 0;
    const key = item.options?.key;
    if (this.#byKey && key !== undefined) return fnv1a(key) % this.#shards;
    const shard = stream.next;
    stream.next = (shard + 1) % this.#shards;
    return shard;
  }

  #xaddArgs(item: PendingSend, key: string): XaddArgs {
    const args: XaddArgs = [key];
    if (this.#maxLen !== undefined) args.push("MAXLEN", "~", this.#maxLen);
    else if (this.#maxAgeMs !== undefined) args.push("MINID", "~", Date.now() - this.#maxAgeMs);
    args.push("*", this.#field, wireValue(item.payload));
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

  /** Write the sends at `indexes` of `batch` (all of them if undefined) in one pipeline. */
  async #pipeline(
    connection: RedisClient,
    indexes: number[] | undefined,
    batch: readonly PendingSend[],
    keys: string[],
    shards: Int32Array,
    results: SendResult[],
  ): Promise<void> {
    const count = indexes === undefined ? batch.length : indexes.length;
    const commands: XaddArgs[] = new Array(count);
    const plain = this.#maxLen === undefined && this.#maxAgeMs === undefined;
    const field = this.#field;
    for (let j = 0; j < count; j++) {
      const i = indexes === undefined ? j : indexes[j];
      const item = batch[i];
      commands[j] = plain && item.options === undefined
        ? [keys[i], "*", field, wireValue(item.payload)]
        : this.#xaddArgs(item, keys[i]);
    }
    let replies: unknown[];
    try {
      const written = connection instanceof ioredis().Cluster
        ? clusterPipeline(connection, commands)
        : pipeline(connection, commands, this.#heads);
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
      const reply = replies[j];
      if (reply instanceof Error) results[i] = backendError(reply, "XADD failed");
      else if (typeof reply === "string" && parseIdText(reply, id)) {
        results[i] = new RedisHeader(batch[i].streamKey, shards[i], id.ms, id.seq);
      } else {
        results[i] = new StreamError("Backend", `redis: XADD replied ${String(reply)}`);
      }
    }
  }

  /** Close the connections of its own (the shared one is the streamer's). */
  async close(): Promise<void> {
    await Promise.all(this.#owned.map(closeClient));
  }
}

/** Replies as text (an entry ID). */
const XADD_OPTIONS = { replyEncoding: "utf8" as const };

/** An XADD made of its key's head and its payload (see {@link xaddClass}). */
type Xadd = Command;
type XaddConstructor = new (head: string, args: XaddArgs, value: string | Buffer | number) => Xadd;
let xadd: XaddConstructor | undefined;

/**
 * The class of an XADD whose bytes are its key's head, made once (`XADD key *
 * field`), and its payload: one length to measure and one concatenation per
 * message, where ioredis measures and joins every argument of every command.
 * Made once ioredis is loaded (it extends ioredis's `Command`).
 */
function xaddClass(): XaddConstructor {
  return xadd ??= class extends ioredis().Command {
    readonly #head: string;
    readonly #value: string | Buffer | number;

    constructor(head: string, args: XaddArgs, value: string | Buffer | number) {
      super("xadd", args, XADD_OPTIONS);
      this.#head = head;
      this.#value = value;
    }

    override toWritable(_socket: object): string | Buffer {
      const value = this.#value;
      if (typeof value !== "object") {
        const text = String(value);
        return `${this.#head}$${Buffer.byteLength(text)}\r\n${text}\r\n`;
      }
      return Buffer.concat([Buffer.from(`${this.#head}$${value.length}\r\n`), value, CRLF]);
    }
  };
}

const CRLF = Buffer.from("\r\n");
const UNTRACED = runtimeName === "bun";

/**
 * Send `commands` on one server as one pipeline: one socket write, one reply
 * (or error) per command, in order. ioredis's own `Pipeline` costs about as
 * much again per command (two more promises and a result pair each, and the
 * bytes gathered by string concatenation); this uses its `sendCommand(command,
 * stream)` with a pipeline stream of its own, which gathers the commands' bytes
 * and writes them at once.
 */
function pipeline(
  client: Redis,
  commands: XaddArgs[],
  heads: Map<string, string>,
): Promise<unknown[]> {
  return new Promise((resolve) => {
    const count = commands.length;
    const replies: unknown[] = new Array(count);
    let unanswered = count;
    const gather = new GatheredWrite(client, count);
    const Xadd = xaddClass();
    const Command = ioredis().Command;
    for (let j = 0; j < count; j++) {
      const args = commands[j];
      // Only a plain XADD (`key * field value`) has four arguments.
      const command: Command = args.length === 4
        ? new Xadd(headOf(heads, args[0] as string, args[2] as string), args, args[3])
        : new Command("xadd", args, XADD_OPTIONS);
      // Bun cannot tell ioredis that nobody traces (its tracing channels have no
      // `hasSubscribers`): ioredis would trace every command, a tenth of the time.
      if (UNTRACED) command.isTraced = true;
      command.promise.then((reply) => {
        replies[j] = reply;
        if (--unanswered === 0) resolve(replies);
      }, (error) => {
        replies[j] = error instanceof Error ? error : new Error(String(error));
        if (--unanswered === 0) resolve(replies);
      });
      client.sendCommand(command, gather);
    }
  });
}

/** The bytes of `XADD key * field`, made once per key. */
function headOf(heads: Map<string, string>, key: string, field: string): string {
  let head = heads.get(key);
  if (head === undefined) {
    head = `*5\r\n$4\r\nxadd\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$1\r\n*\r\n` +
      `$${Buffer.byteLength(field)}\r\n${field}\r\n`;
    heads.set(key, head);
  }
  return head;
}

/**
 * The stream a pipeline's commands are written to: their bytes are gathered
 * and written to the connection once the last one is in (at once, or after a
 * reconnect when they waited offline); a command sent again on its own after a
 * reconnect is written alone.
 */
class GatheredWrite {
  /** What ioredis's types ask of a pipeline's stream. */
  readonly isPipeline = true as const;
  /** The connection written to. */
  readonly destination: { redis: Redis };
  #parts: (string | Buffer)[] | undefined = [];
  #binary = false;
  #missing: number;

  constructor(client: Redis, count: number) {
    this.destination = { redis: client };
    this.#missing = count;
  }

  write(writable: string | Buffer): boolean {
    const parts = this.#parts;
    const socket = this.destination.redis.stream;
    if (parts === undefined) return socket.write(writable);
    parts.push(writable);
    if (typeof writable !== "string") this.#binary = true;
    if (--this.#missing > 0) return true;
    this.#parts = undefined;
    return socket.write(
      this.#binary
        ? Buffer.concat(parts.map((part) => typeof part === "string" ? Buffer.from(part) : part))
        : parts.join(""),
    );
  }
}

/** Send `commands` on a cluster as an ioredis pipeline (it routes them by slot). */
async function clusterPipeline(client: Cluster, commands: XaddArgs[]): Promise<unknown[]> {
  const pipeline = client.pipeline();
  for (const args of commands) pipeline.call("XADD", args);
  const replies = await pipeline.exec();
  return commands.map((_, j) => {
    const reply = replies?.[j];
    if (!reply) return new Error("no reply");
    return reply[0] ?? reply[1];
  });
}
