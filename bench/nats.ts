/**
 * NATS JetStream throughput: 100,000 messages of ~256 bytes produced and
 * consumed through seastreamer and through raw `@nats-io/jetstream` in the same
 * run, against the same server, in the user's shape and by batch:
 *
 * - produce, per message: 100,000 `producer.send(string)` with the string built
 *   in the loop, not awaited, one `flush()`; against 100,000 `js.publish(subject,
 *   string)`, not awaited, then one `Promise.all`;
 * - produce, by batch: `sendBatch` of 1,000 strings, each awaited; against
 *   `Promise.all` of 1,000 `js.publish`, each batch awaited;
 * - consume, per message: `for await` reading `payload.text()` (real-time);
 *   against an ordered consumer's `consume()` iterated with `for await` reading
 *   `string()` (the same 1,000 messages ahead);
 * - consume, by batch: `nextBatch({ max: 1000 })` reading `text()` of each;
 *   against an ordered consumer's `fetch({ max_messages: 1000 })` loop reading
 *   `string()` of each.
 *
 * `deno run -A bench/nats.ts`, `bun bench/nats.ts`, `node npm/bench/nats.js`.
 * The server: NATS_URL, one answering on 127.0.0.1:4222, or a nats-server -js
 * started on a free port (scripts/nats.ts). Each side runs `ROUNDS` times
 * (`--rounds=N`, default 3), alternating; the best round of each counts.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { SeaStreamer } from "../mod.ts";
import { args } from "../runtime/mod.ts";
import { ensureNats } from "../scripts/nats.ts";
import { parseNatsUri } from "../backends/nats/mod.ts";
import {
  USER_PAYLOAD_SIZE,
  userConsumeRate,
  userPayload,
  userProduceRate,
} from "./seastreamer_rates.ts";
import { alternate, type BenchResult, compare, report } from "./report.ts";

const COUNT = 100_000;
const BATCH = 1000;
const ROUNDS = Number(args().find((a) => a.startsWith("--rounds="))?.slice(9) ?? 3);

const server = await ensureNats();
const nc = await connect({ servers: parseNatsUri(server.url).servers });
// 100k publishes in flight outlast the default 5 s request timeout.
const js = jetstream(nc, { timeout: 60_000 });
const jsm = await jetstreamManager(nc);
let counter = 0;
const streamName = (what: string) =>
  `bench-${what}-${Date.now().toString(36)}-${++counter}-${Math.random().toString(36).slice(2, 6)}`;
const created: string[] = [];

/** A stream made as seastreamer makes it (subjects `name.*`), for the raw side. */
async function rawStream(what: string): Promise<string> {
  const name = streamName(what);
  created.push(name);
  await jsm.streams.add({ name, subjects: [`${name}.*`] });
  return name;
}

/** The user's raw loop: every publish started, none awaited, then all awaited at once. */
async function rawProduce(stream: string, count = COUNT): Promise<number> {
  const started = performance.now();
  const acks = new Array(count);
  for (let i = 0; i < count; i++) acks[i] = js.publish(`${stream}.0`, userPayload(i));
  await Promise.all(acks);
  return count / ((performance.now() - started) / 1000);
}

/** `Promise.all` of 1,000 publishes, each batch awaited. */
async function rawProduceBatches(stream: string, count = COUNT): Promise<number> {
  const started = performance.now();
  for (let sent = 0; sent < count; sent += BATCH) {
    const acks = [];
    for (let i = sent; i < Math.min(count, sent + BATCH); i++) {
      acks.push(js.publish(`${stream}.0`, userPayload(i)));
    }
    await Promise.all(acks);
  }
  return count / ((performance.now() - started) / 1000);
}

/** `sendBatch` of 1,000 strings, each awaited. */
async function produceBatches(stream: string, count = COUNT): Promise<number> {
  const streamer = await SeaStreamer.connect(server.url);
  const producer = await streamer.createProducer(stream);
  const started = performance.now();
  for (let sent = 0; sent < count; sent += BATCH) {
    const items: string[] = [];
    for (let i = sent; i < Math.min(count, sent + BATCH); i++) items.push(userPayload(i));
    await producer.sendBatch(items);
  }
  const elapsed = performance.now() - started;
  await streamer.disconnect();
  return count / (elapsed / 1000);
}

function check(received: number, chars: number, count: number): void {
  if (received !== count || chars !== count * USER_PAYLOAD_SIZE) {
    throw new Error(`consumed ${received} messages, ${chars} characters`);
  }
}

/** An ordered consumer's `consume()`, iterated with `for await`. */
async function rawConsume(stream: string, count = COUNT): Promise<number> {
  const started = performance.now();
  const consumer = await js.consumers.get(stream, { deliver_policy: "all" });
  const messages = await consumer.consume({ max_messages: BATCH });
  let received = 0;
  let chars = 0;
  for await (const m of messages) {
    chars += m.string().length;
    if (++received === count) break;
  }
  const elapsed = performance.now() - started;
  check(received, chars, count);
  return count / (elapsed / 1000);
}

/** An ordered consumer's `fetch()` of 1,000 at a time. */
async function rawConsumeBatches(stream: string, count = COUNT): Promise<number> {
  const started = performance.now();
  const consumer = await js.consumers.get(stream, { deliver_policy: "all" });
  let received = 0;
  let chars = 0;
  while (received < count) {
    const batch = await consumer.fetch({ max_messages: Math.min(BATCH, count - received) });
    for await (const m of batch) {
      chars += m.string().length;
      received++;
    }
  }
  const elapsed = performance.now() - started;
  check(received, chars, count);
  return count / (elapsed / 1000);
}

/** `nextBatch({ max: 1000 })` reading each `text()`. */
async function consumeBatches(stream: string, count = COUNT): Promise<number> {
  const streamer = await SeaStreamer.connect(server.url);
  const started = performance.now();
  const consumer = await streamer.createConsumer([stream], { autoStreamReset: "earliest" });
  let received = 0;
  let chars = 0;
  while (received < count) {
    const batch = await consumer.nextBatch({ max: Math.min(BATCH, count - received) });
    for (const m of batch) chars += m.payload.text().length;
    received += batch.length;
  }
  const elapsed = performance.now() - started;
  check(received, chars, count);
  await streamer.disconnect();
  return count / (elapsed / 1000);
}

const results: BenchResult[] = [];
try {
  // Warm both sides up (JIT, connections) on streams of their own.
  const warm = await rawStream("warm");
  await userProduceRate(server.url, warm, 20_000);
  await rawProduce(warm, 20_000);
  await produceBatches(warm, 20_000);
  await rawProduceBatches(warm, 20_000);
  await userConsumeRate(server.url, [warm], 40_000, USER_PAYLOAD_SIZE, {});
  await rawConsume(warm, 40_000);
  await consumeBatches(warm, 40_000);
  await rawConsumeBatches(warm, 40_000);

  const filled: string[] = [];
  const produce = await alternate(ROUNDS, {
    ours: async () => {
      const stream = streamName("ss");
      created.push(stream);
      const rate = await userProduceRate(server.url, stream, COUNT);
      filled.push(stream);
      return rate;
    },
    theirs: async () => rawProduce(await rawStream("js")),
    oursBatch: () => {
      const stream = streamName("ssb");
      created.push(stream);
      return produceBatches(stream);
    },
    theirsBatch: async () => rawProduceBatches(await rawStream("jsb")),
  });
  results.push(
    compare(
      "nats produce user shape (100k string sends ~256 B, not awaited, one flush)",
      "js.publish x100k, not awaited, one Promise.all",
      produce.ours,
      produce.theirs,
    ),
    compare(
      "nats produce by batch (sendBatch of 1000 strings, awaited)",
      "Promise.all of 1000 js.publish, awaited",
      produce.oursBatch,
      produce.theirsBatch,
    ),
  );

  const source = filled[0];
  const consume = await alternate(ROUNDS, {
    ours: () => userConsumeRate(server.url, [source], COUNT, USER_PAYLOAD_SIZE, {}),
    theirs: () => rawConsume(source),
    oursBatch: () => consumeBatches(source),
    theirsBatch: () => rawConsumeBatches(source),
  });
  results.push(
    compare(
      "nats consume user shape 100k (for await + text(), real-time)",
      "ordered consumer consume(), for await + string()",
      consume.ours,
      consume.theirs,
    ),
    compare(
      "nats consume by batch 100k (nextBatch max 1000 + text())",
      "ordered consumer fetch(max_messages 1000) loop + string()",
      consume.oursBatch,
      consume.theirsBatch,
    ),
  );
} finally {
  for (const name of created) await jsm.streams.delete(name).catch(() => {});
  await nc.close();
  await server.stop();
}
report(results);
