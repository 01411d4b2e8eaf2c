/**
 * Redis throughput: 100,000 messages of 256 bytes produced and consumed through
 * seastreamer and through raw ioredis (pipelined XADD in batches of 1,000; an
 * XREAD COUNT 1000 loop with the Buffer variant) in the same run, against the
 * same server. Resumable consumers are compared with a raw XREADGROUP + XACK loop
 * (the server's own work for a group is several times XREAD's).
 *
 * "user shape" rows: the loops a new user writes (bench/seastreamer_rates.ts):
 * 100,000 `producer.send(string)` with the ~256-byte string built in the loop,
 * not awaited, then one `flush()`, against ioredis pipelines of 1,000 XADD with
 * the same strings, each pipeline awaited; `for await` reading `payload.text()`
 * against the same XREAD / XREADGROUP + XACK loops with string replies (ioredis
 * decodes every payload to a string).
 *
 * "batch" rows: the batch API (bench/seastreamer_rates.ts): `sendBatch` of 1,000
 * of those strings, each awaited, against the same ioredis pipelines;
 * `nextBatch({ max: 1000 })` reading `payload.text()` against the XREAD loop
 * with string replies.
 *
 * "sharded" row: a producer sharded over `SHARDS` `stream:N` keys, each on a
 * connection of its own (`redis: { shards, connections }`), sending batches of
 * 1,000, against `redis-benchmark -P 1000` pipelining the same XADD (50
 * connections, its default) in the same run; the absolute target is
 * 700k msg/s.
 *
 * `deno run -A bench/redis.ts`, `bun bench/redis.ts`, `node npm/bench/redis.js`.
 * The server: REDIS_URL, one answering on 127.0.0.1:6379, or a redis-server
 * started on a free port (scripts/redis.ts). Each side runs `ROUNDS` times
 * (`--rounds=N`, default 3), alternating; the best round of each counts.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { args, spawnProcess } from "../runtime/mod.ts";
import { ensureRedis } from "../scripts/redis.ts";
import {
  batchConsumeRate,
  batchProduceRate,
  consumeRate,
  produceRate,
  USER_PAYLOAD_SIZE,
  userConsumeRate,
  userPayload,
  userProduceRate,
} from "./seastreamer_rates.ts";
import { alternate, type BenchResult, compare, report } from "./report.ts";

const COUNT = 100_000;
const SIZE = 256;
const BATCH = 1000;
/** Shards (and connections) of the sharded producer. */
const SHARDS = 4;
/** Messages of the sharded row (each side). */
const SHARDED_COUNT = 500_000;
const ROUNDS = Number(args().find((a) => a.startsWith("--rounds="))?.slice(9) ?? 3);

const server = await ensureRedis();
const payload = new Uint8Array(SIZE).fill(0x61);
const payloadBuffer = Buffer.from(payload);
let counter = 0;
const streamName = (what: string) =>
  `bench-${what}-${Date.now().toString(36)}-${++counter}-${Math.random().toString(36).slice(2, 6)}`;
const raw = new Redis(server.url);
const created: string[] = [];

// Each side is timed from its first message to its last acknowledged (produce) or
// received (consume) one; connecting is not counted. Each returns messages per second.

function produceSeastreamer(stream: string, count = COUNT): Promise<number> {
  // As the baseline sends: 1,000 at a time, then wait.
  return produceRate(server.url, stream, payload, count, BATCH);
}

/** Pipelines of 1,000 XADD, each awaited; `payloadOf(i)` is the i-th payload. */
async function produceIoredis(
  stream: string,
  count = COUNT,
  payloadOf: (i: number) => Buffer | string = () => payloadBuffer,
): Promise<number> {
  const started = performance.now();
  for (let sent = 0; sent < count; sent += BATCH) {
    const pipeline = raw.pipeline();
    for (let i = sent; i < Math.min(count, sent + BATCH); i++) {
      pipeline.xadd(stream, "*", "msg", payloadOf(i));
    }
    await pipeline.exec();
  }
  return count / ((performance.now() - started) / 1000);
}

function consumeSeastreamer(
  stream: string,
  mode: "resumable" | "real-time",
  count = COUNT,
): Promise<number> {
  const options = mode === "resumable" ? { mode, group: streamName("group") } : {};
  return consumeRate(server.url, stream, count, SIZE, options);
}

function userConsumeSeastreamer(
  stream: string,
  mode: "resumable" | "real-time",
  count = COUNT,
): Promise<number> {
  const options = mode === "resumable" ? { mode, group: streamName("group") } : {};
  return userConsumeRate(server.url, [stream], count, USER_PAYLOAD_SIZE, options);
}

/** An XREAD reply: Buffers from `callBuffer`, strings (payloads decoded) from `call`. */
type Reply = [Buffer | string, [Buffer | string, (Buffer | string)[]][]][] | null;

/** The raw client's command: `callBuffer` (payloads as Buffers) or `call` (decoded to strings). */
const command = (text: boolean) => text ? raw.call.bind(raw) : raw.callBuffer.bind(raw);

/** An XREAD COUNT 1000 loop; `text`: with string replies (each payload decoded). */
async function consumeIoredis(stream: string, count = COUNT, text = false): Promise<number> {
  const call = command(text);
  const started = performance.now();
  let last: string | Buffer = "0-0";
  let received = 0;
  let bytes = 0;
  while (received < count) {
    const reply = await call("XREAD", "COUNT", BATCH, "STREAMS", stream, last) as Reply;
    if (reply === null) continue;
    const entries = reply[0][1];
    for (const [, fields] of entries) bytes += fields[1].length;
    received += entries.length;
    last = entries[entries.length - 1][0];
  }
  const elapsed = performance.now() - started;
  if (bytes !== count * SIZE) throw new Error(`consumed ${bytes} bytes`);
  return count / (elapsed / 1000);
}

/** A group member as a raw ioredis user writes it: XREADGROUP >, then XACK each batch. */
async function consumeIoredisGroup(stream: string, count = COUNT, text = false): Promise<number> {
  const call = command(text);
  const group = streamName("group");
  await raw.xgroup("CREATE", stream, group, "0");
  const started = performance.now();
  let received = 0;
  let bytes = 0;
  const acks: Promise<unknown>[] = [];
  while (received < count) {
    const reply = await call(
      "XREADGROUP",
      "GROUP",
      group,
      "bench",
      "COUNT",
      BATCH,
      "STREAMS",
      stream,
      ">",
    ) as Reply;
    if (reply === null) continue;
    const entries = reply[0][1];
    for (const [, fields] of entries) bytes += fields[1].length;
    received += entries.length;
    acks.push(raw.xack(stream, group, ...entries.map(([id]) => id)));
  }
  await Promise.all(acks);
  const elapsed = performance.now() - started;
  if (bytes !== count * SIZE) throw new Error(`consumed ${bytes} bytes`);
  return count / (elapsed / 1000);
}

/**
 * redis-benchmark's pipelined XADD rate of `count` user-sized payloads (1,000
 * per pipeline, its 50 connections) against the server; 0 if it cannot run.
 */
async function redisBenchmarkRate(stream: string, count: number): Promise<number> {
  const { hostname, port } = new URL(server.url);
  const child = spawnProcess("redis-benchmark", [
    "-h",
    hostname,
    "-p",
    port || "6379",
    "-q",
    "-n",
    String(count),
    "-P",
    "1000",
    "XADD",
    stream,
    "*",
    "msg",
    userPayload(0),
  ], { stdin: "ignore", stderr: "ignore" });
  let text = "";
  try {
    for await (const chunk of child.stdout!) text += new TextDecoder().decode(chunk);
    await child.status;
  } catch {
    return 0; // not installed
  }
  // `-q` prints "XADD …: 812345.67 requests per second, p50=…" after progress lines ending in \r.
  const rates = [...text.matchAll(/([\d.]+) requests per second/g)];
  return rates.length > 0 ? Number(rates[rates.length - 1][1]) : 0;
}

const results: BenchResult[] = [];

/**
 * One produce row: each side writes a new stream each round; the first stream
 * ours filled (for the consume rows).
 */
async function produceRow(
  name: string,
  baseline: string,
  ours: (stream: string) => Promise<number>,
  theirs: (stream: string) => Promise<number>,
): Promise<string> {
  const filled: string[] = [];
  const rates = await alternate(ROUNDS, {
    ours: () => {
      const stream = streamName("ss");
      created.push(stream);
      filled.push(stream);
      return ours(stream);
    },
    theirs: () => {
      const stream = streamName("io");
      created.push(stream);
      return theirs(stream);
    },
  });
  results.push(compare(name, baseline, rates.ours, rates.theirs));
  return filled[0];
}
try {
  const warm = streamName("warm");
  created.push(warm);
  await produceSeastreamer(warm, 20_000);
  await produceIoredis(warm, 20_000);
  await consumeSeastreamer(warm, "real-time", 40_000);
  await consumeSeastreamer(warm, "resumable", 40_000);
  await consumeIoredis(warm, 40_000);
  await consumeIoredisGroup(warm, 40_000);
  const userWarm = streamName("warm");
  created.push(userWarm);
  await userProduceRate(server.url, userWarm, 20_000);
  await produceIoredis(userWarm, 20_000, userPayload);
  await userConsumeSeastreamer(userWarm, "real-time", 40_000);
  await userConsumeSeastreamer(userWarm, "resumable", 40_000);
  await consumeIoredis(userWarm, 40_000, true);
  await consumeIoredisGroup(userWarm, 40_000, true);

  const source = await produceRow(
    "redis produce 100k x 256 B",
    "ioredis pipelined XADD x1000",
    produceSeastreamer,
    produceIoredis,
  );
  const consume = await alternate(ROUNDS, {
    realTime: () => consumeSeastreamer(source, "real-time"),
    theirs: () => consumeIoredis(source),
    resumable: () => consumeSeastreamer(source, "resumable"),
    theirGroup: () => consumeIoredisGroup(source),
  });
  results.push(
    compare(
      "redis consume 100k (real-time)",
      "ioredis XREAD COUNT 1000 loop",
      consume.realTime,
      consume.theirs,
    ),
    compare(
      "redis consume 100k (resumable, autoCommit)",
      "ioredis XREADGROUP COUNT 1000 + XACK loop",
      consume.resumable,
      consume.theirGroup,
    ),
  );

  // The user's shape: string payloads built in the loop; sends not awaited, one flush.
  const userSource = await produceRow(
    "redis produce user shape (100k string sends ~256 B, not awaited, one flush)",
    "ioredis pipelined XADD x1000 of strings, each awaited",
    (stream) => userProduceRate(server.url, stream, COUNT),
    (stream) => produceIoredis(stream, COUNT, userPayload),
  );
  const userConsume = await alternate(ROUNDS, {
    realTime: () => userConsumeSeastreamer(userSource, "real-time"),
    theirs: () => consumeIoredis(userSource, COUNT, true),
    resumable: () => userConsumeSeastreamer(userSource, "resumable"),
    theirGroup: () => consumeIoredisGroup(userSource, COUNT, true),
  });
  results.push(
    compare(
      "redis consume user shape 100k (for await + text(), real-time)",
      "ioredis XREAD COUNT 1000 loop, string replies",
      userConsume.realTime,
      userConsume.theirs,
    ),
    compare(
      "redis consume user shape 100k (for await + text(), resumable)",
      "ioredis XREADGROUP COUNT 1000 + XACK loop, string replies",
      userConsume.resumable,
      userConsume.theirGroup,
    ),
  );

  // The batch API: sendBatch of 1,000 strings; nextBatch({ max: 1000 }) reading text().
  const batchSource = await produceRow(
    "redis produce batch (sendBatch of 1,000 strings ~256 B, each awaited)",
    "ioredis pipelined XADD x1000 of strings, each awaited",
    (stream) => batchProduceRate(server.url, stream, COUNT, BATCH),
    (stream) => produceIoredis(stream, COUNT, userPayload),
  );
  const batchConsume = await alternate(ROUNDS, {
    ours: () => batchConsumeRate(server.url, [batchSource], COUNT, USER_PAYLOAD_SIZE, BATCH, {}),
    theirs: () => consumeIoredis(batchSource, COUNT, true),
  });
  results.push(
    compare(
      "redis consume batch 100k (nextBatch({ max: 1000 }) + text(), real-time)",
      "ioredis XREAD COUNT 1000 loop, string replies",
      batchConsume.ours,
      batchConsume.theirs,
    ),
  );

  // Sharded over connections, against redis-benchmark's pipelined XADD.
  const sharded = await alternate(ROUNDS, {
    ours: () => {
      const stream = streamName("ss-sharded");
      for (let shard = 0; shard < SHARDS; shard++) created.push(`${stream}:${shard}`);
      const redis = { shards: SHARDS, connections: SHARDS };
      return batchProduceRate(server.url, stream, SHARDED_COUNT, BATCH, { redis })
        .finally(() => raw.del(...created.splice(-SHARDS)));
    },
    theirs: () => {
      const stream = streamName("rb");
      return redisBenchmarkRate(stream, SHARDED_COUNT).finally(() => raw.del(stream));
    },
  });
  results.push(
    compare(
      `redis produce sharded (${SHARDS} shards on ${SHARDS} connections, sendBatch of 1,000; target 700k msg/s)`,
      "redis-benchmark -P 1000 XADD of the same payload (50 connections)",
      sharded.ours,
      sharded.theirs,
    ),
  );
} finally {
  if (created.length > 0) await raw.del(...created).catch(() => {});
  raw.disconnect();
  await server.stop();
}
report(results);
