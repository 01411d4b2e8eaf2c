/**
 * Redis throughput: 100,000 messages of 256 bytes produced and consumed through
 * seastreamer and through raw ioredis (pipelined XADD in batches of 1,000; an
 * XREAD COUNT 1000 loop with the Buffer variant) in the same run, against the
 * same server. Resumable consumers are compared with a raw XREADGROUP + XACK loop
 * (the server's own work for a group is several times XREAD's).
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
import { args } from "../runtime/mod.ts";
import { ensureRedis } from "../scripts/redis.ts";
import { consumeRate, produceRate } from "./seastreamer_rates.ts";
import { alternate, type BenchResult, compare, report } from "./report.ts";

const COUNT = 100_000;
const SIZE = 256;
const BATCH = 1000;
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

async function produceIoredis(stream: string, count = COUNT): Promise<number> {
  const started = performance.now();
  for (let sent = 0; sent < count; sent += BATCH) {
    const pipeline = raw.pipeline();
    for (let i = sent; i < Math.min(count, sent + BATCH); i++) {
      pipeline.xadd(stream, "*", "msg", payloadBuffer);
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

type Reply = [Buffer, [Buffer, Buffer[]][]][] | null;

async function consumeIoredis(stream: string, count = COUNT): Promise<number> {
  const started = performance.now();
  let last: string | Buffer = "0-0";
  let received = 0;
  let bytes = 0;
  while (received < count) {
    const reply = await raw.callBuffer("XREAD", "COUNT", BATCH, "STREAMS", stream, last) as Reply;
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
async function consumeIoredisGroup(stream: string, count = COUNT): Promise<number> {
  const group = streamName("group");
  await raw.xgroup("CREATE", stream, group, "0");
  const started = performance.now();
  let received = 0;
  let bytes = 0;
  const acks: Promise<unknown>[] = [];
  while (received < count) {
    const reply = await raw.callBuffer(
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

const results: BenchResult[] = [];
try {
  const warm = streamName("warm");
  created.push(warm);
  await produceSeastreamer(warm, 20_000);
  await produceIoredis(warm, 20_000);
  await consumeSeastreamer(warm, "real-time", 40_000);
  await consumeSeastreamer(warm, "resumable", 40_000);
  await consumeIoredis(warm, 40_000);
  await consumeIoredisGroup(warm, 40_000);

  const filled: string[] = [];
  const produce = await alternate(ROUNDS, {
    ours: () => {
      const stream = streamName("ss");
      created.push(stream);
      filled.push(stream);
      return produceSeastreamer(stream);
    },
    theirs: () => {
      const stream = streamName("io");
      created.push(stream);
      return produceIoredis(stream);
    },
  });
  results.push(
    compare(
      "redis produce 100k x 256 B",
      "ioredis pipelined XADD x1000",
      produce.ours,
      produce.theirs,
    ),
  );

  const source = filled[0];
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
} finally {
  if (created.length > 0) await raw.del(...created).catch(() => {});
  raw.disconnect();
  await server.stop();
}
report(results);
