/**
 * `seastreamer consume` (alias `tail`) and `seastreamer relay`.
 *
 * @module
 */
import { SeaStreamer } from "../socket.ts";
import {
  type Consumer,
  type ConsumerMode,
  type ConsumerOptions,
  isStreamError,
  type Message,
  parseStreamUrl,
  type Streamer,
  StreamError,
  type StreamKey,
} from "../types.ts";
import { stdout } from "../runtime/mod.ts";
import { integerOption, type ParsedArgs, required, UsageError } from "./args.ts";
import { formatMessage, LineWriter, type MessageFormat } from "./output.ts";
import { WRITER_OPTIONS } from "./produce.ts";
import { Progress } from "./progress.ts";
import { seqNoOf } from "../backends/redis/id.ts";
import type { Shutdown } from "../runtime/mod.ts";

type From =
  | { reset: "earliest" | "latest" }
  | { seq: bigint }
  | { time: Date }
  | { last: number }
  | { partitions: Map<number, bigint> };

/** A UTC time (`2026-01-01T00:00:00`, a zone allowed) or a time ago (`-30s`, `-5m`, `-2h`). */
export function parseTime(text: string): Date | undefined {
  const ago = /^-(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (ago) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2]]!;
    return new Date(Date.now() - Number(ago[1]) * unit);
  }
  if (!/^\d{4}-\d\d-\d\d/.test(text)) return undefined;
  const time = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** `0:100,2:250` (kcat's `-p 0 -o 100`): an offset per partition. */
function parsePartitions(text: string): Map<number, bigint> {
  const partitions = new Map<number, bigint>();
  for (const part of text.split(",")) {
    const pair = /^(\d+):(\d+)$/.exec(part);
    if (!pair) {
      throw new UsageError(
        `--from ${text}: "${part}" is not PARTITION:OFFSET (two whole numbers, e.g. 0:100)`,
      );
    }
    const partition = Number(pair[1]);
    if (!Number.isSafeInteger(partition)) {
      throw new UsageError(`--from ${text}: no partition ${pair[1]}`);
    }
    if (partitions.has(partition)) {
      throw new UsageError(`--from ${text}: partition ${partition} is named twice`);
    }
    partitions.set(partition, BigInt(pair[2]));
  }
  return partitions;
}

function parseFrom(text: string | undefined, uri: string): From {
  if (text === undefined || text === "latest") return { reset: "latest" };
  // A time has colons too, after its date.
  if (text.includes(":") && !/^\d{4}-\d\d-\d\d/.test(text)) {
    return { partitions: parsePartitions(text) };
  }
  if (text === "earliest") return { reset: "earliest" };
  if (/^\d+$/.test(text)) return { seq: BigInt(text) };
  if (/^-\d+$/.test(text)) return { last: Number(text.slice(1)) };
  const entryId = /^(\d+)-(\d+)$/.exec(text);
  if (entryId) {
    if (!/^rediss?:/.test(uri)) throw new UsageError(`--from ${text}: entry IDs are Redis's`);
    return { seq: seqNoOf(Number(entryId[1]), Number(entryId[2])) };
  }
  const time = parseTime(text);
  if (time === undefined) {
    throw new UsageError(
      `--from is earliest, latest, a seqNo, a Redis entry ID, a UTC time (2026-01-01T00:00:00), ` +
        `a time ago (-5m), the last N (-100) or PARTITION:OFFSET,… (0:100,1:250), not ${text}`,
    );
  }
  return { time };
}

/**
 * Skip to the last `n` messages of the one stream: rewind to the seqNo `n` before the
 * end where a stream's seqNos are dense (one shard of a file, Kafka or NATS), else
 * read past the first `length - n` of it (Redis's entry IDs have gaps).
 */
/**
 * Read only the partitions named, each from its offset (kcat's `-p P -o OFFSET`):
 * the consumer is narrowed to them, and each is moved alone.
 */
async function startAtPartitions(
  streamer: Streamer,
  consumer: Consumer,
  streams: readonly StreamKey[],
  partitions: ReadonlyMap<number, bigint>,
): Promise<void> {
  if (streams.length !== 1) throw new UsageError("--from PARTITION:OFFSET reads one stream");
  if (!streamer.capabilities.rewindShard) {
    throw new StreamError(
      "Unsupported",
      `--from PARTITION:OFFSET: ${streamer.backend} cannot move one shard alone (Kafka can)`,
    );
  }
  const [stream] = streams;
  for (const [shardId, at] of partitions) {
    try {
      consumer.assign(stream, shardId);
    } catch (error) {
      if (!isStreamError(error, "StreamKeyNotFound")) throw error;
      throw new UsageError(`--from ${shardId}:${at}: ${error.message}`);
    }
    await consumer.rewind({ at }, { stream, shardId });
  }
}

async function skipToLast(
  streamer: Streamer,
  consumer: Consumer,
  streams: readonly StreamKey[],
  n: number,
): Promise<void> {
  const info = streams.length === 1 ? await streamer.describeStream(streams[0]) : undefined;
  if (info === undefined || info.shards > 1) {
    throw new UsageError("--from -N reads one stream of one shard");
  }
  const { firstSeqNo: first, lastSeqNo: last } = info;
  if (first !== undefined && last !== undefined && last - first + 1n === BigInt(info.length)) {
    const at = last - BigInt(n) + 1n;
    await consumer.rewind({ at: at > first ? at : first });
    return;
  }
  let skip = Math.max(0, info.length - n);
  while (skip > 0) skip -= (await consumer.nextBatch({ max: Math.min(skip, 1000) })).length;
}

function consumerOptions(args: ParsedArgs, from: From): ConsumerOptions {
  return {
    mode: args.options.get("mode") as ConsumerMode | undefined,
    group: args.options.get("group"),
    // A seek or rewind starts from the beginning and moves.
    autoStreamReset: "reset" in from ? from.reset : "earliest",
    live: !args.flags.has("no-follow"),
    file: { live: !args.flags.has("no-follow") },
  };
}

/** Open a consumer of the streams `url` names, positioned as `--from` says. */
async function openConsumer(
  url: string,
  args: ParsedArgs,
): Promise<{ streamer: Streamer; consumer: Consumer }> {
  const { streamer: uri, streams } = parseStreamUrl(url);
  if (streams.length === 0) throw new UsageError(`${url} names no stream (e.g. ${uri}/orders)`);
  const from = parseFrom(args.options.get("from"), uri);
  const streamer = await SeaStreamer.connect(uri);
  try {
    const consumer = await streamer.createConsumer(streams, consumerOptions(args, from));
    if ("seq" in from) await consumer.rewind({ at: from.seq });
    if ("time" in from) await consumer.seek(from.time);
    if ("last" in from) await skipToLast(streamer, consumer, streams, from.last);
    if ("partitions" in from) await startAtPartitions(streamer, consumer, streams, from.partitions);
    return { streamer, consumer };
  } catch (error) {
    await streamer.disconnect().catch(() => {});
    throw error;
  }
}

/**
 * Take messages until `count` are taken, the consumer ends or shutdown is asked;
 * `handle` each. A shutdown stops the wait for the next message, not the handling.
 */
async function drain(
  consumer: Consumer,
  count: number,
  shutdown: Shutdown,
  handle: (message: Message) => Promise<void> | void,
): Promise<void> {
  for (let taken = 0; taken < count && !shutdown.signal.aborted; taken++) {
    let message: Message;
    try {
      message = await consumer.next(shutdown.signal);
    } catch (error) {
      if (shutdown.signal.aborted || isStreamError(error, "Closed")) return;
      throw error;
    }
    await handle(message);
  }
}

/** `consume --input URL [--format log|ndjson|payload] [--from …] [--group G] [--mode M] [--count N]`. */
export async function consume(args: ParsedArgs, shutdown: Shutdown): Promise<number> {
  const format = (args.options.get("format") ?? "log") as MessageFormat;
  if (!["log", "ndjson", "payload"].includes(format)) {
    throw new UsageError(`--format is log, ndjson or payload, not ${format}`);
  }
  const count = integerOption(args, "count", Infinity);
  const { streamer, consumer } = await openConsumer(required(args, "input"), args);
  const out = new LineWriter(stdout());
  const progress = new Progress("consumed");
  try {
    await drain(consumer, count, shutdown, (message) => {
      progress.add(message.payload.size);
      return out.write(formatMessage(message, format));
    });
    await consumer.end();
    progress.done();
  } finally {
    await out.close().catch(() => {});
    await streamer.disconnect();
  }
  return 0;
}

/**
 * `relay --input URL --output URL`: copy messages. With no stream in the
 * output URL, each message keeps its stream; with streams, it goes to each.
 */
export async function relay(args: ParsedArgs, shutdown: Shutdown): Promise<number> {
  const output = parseStreamUrl(required(args, "output"));
  const count = integerOption(args, "count", Infinity);
  const { streamer: input, consumer } = await openConsumer(required(args, "input"), args);
  let target: Streamer | undefined;
  try {
    target = await SeaStreamer.connect(output.streamer, WRITER_OPTIONS);
    const producer = await target.createProducer();
    const progress = new Progress("relayed");
    let sent = 0;
    await drain(consumer, count, shutdown, async (message) => {
      const bytes = message.payload.bytes();
      progress.add(bytes.byteLength);
      const streams = output.streams.length > 0 ? output.streams : [message.header.streamKey];
      for (const stream of streams) producer.sendTo(stream, bytes);
      // Commit (autoCommit, on the next take) only after the copies are out.
      if (++sent % 256 === 0 || consumer.mode !== "real-time") await producer.flush();
    });
    await producer.end();
    await consumer.end();
    progress.done();
    return 0;
  } finally {
    await target?.disconnect();
    await input.disconnect();
  }
}
