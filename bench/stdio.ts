/**
 * stdio throughput: parsing and formatting SeaStreamer lines, against a plain
 * loop that counts the same lines, in the same run.
 *
 * "user shape" rows (bench/seastreamer_rates.ts): `for await` reading
 * `payload.text()` of the same lines, against `node:readline` counting them
 * over a Readable of the same chunks; and the memory a user's loop takes: the
 * peak RSS growth while 1,000,000 unawaited sends (256-byte strings built in the
 * loop, to a discarding WritableStream) wait for one flush, against the payload
 * bytes (in a child process of its own, so its RSS starts fresh).
 *
 * `deno run -A bench/stdio.ts`, `bun bench/stdio.ts`, `node npm/bench/stdio.js`
 *
 * @module
 */
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { SeaStreamer } from "../mod.ts";
import { args } from "../runtime/mod.ts";
import { alternate, compare, rate, report, resultsInChild } from "./report.ts";
import { USER_PAYLOAD_SIZE, userConsumeRate, userProduceMemory } from "./seastreamer_rates.ts";

const COUNT = 1_000_000;
const CHUNK = 64 * 1024;
const MiB = 1024 * 1024;
const payload = JSON.stringify({ id: 0, note: "x".repeat(80) });

function input(): Uint8Array[] {
  const lines: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    lines.push(
      `[2026-01-01T00:00:00.${String(i % 1000).padStart(3, "0")} | bench | ${i}] ${payload}`,
    );
  }
  const bytes = new TextEncoder().encode(lines.join("\n") + "\n");
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK) {
    chunks.push(bytes.subarray(offset, offset + CHUNK));
  }
  return chunks;
}

function countLines(chunks: readonly Uint8Array[]): number {
  let lines = 0;
  for (const chunk of chunks) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

/** Parse every line into a message (stdin side). */
async function parse(chunks: readonly Uint8Array[], expected = COUNT): Promise<void> {
  const streamer = await SeaStreamer.connect("stdio://", {
    stdio: { input: ReadableStream.from(chunks), output: new WritableStream() },
  });
  const consumer = await streamer.createConsumer(["bench"]);
  let received = 0;
  for await (const _ of consumer) received++;
  if (received !== expected) throw new Error(`parsed ${received} of ${expected}`);
  await streamer.disconnect();
}

/** Parse every line and print it again on another stream (a relay). */
async function relay(chunks: readonly Uint8Array[]): Promise<void> {
  let bytes = 0;
  const streamer = await SeaStreamer.connect("stdio://", {
    stdio: {
      input: ReadableStream.from(chunks),
      output: new WritableStream({ write: (chunk) => void (bytes += chunk.byteLength) }),
    },
  });
  const consumer = await streamer.createConsumer(["bench"]);
  const producer = await streamer.createProducer("copy");
  let relayed = 0;
  for await (const message of consumer) {
    producer.send(message.payload.bytes());
    if (++relayed % 1000 === 0) await producer.flush();
  }
  await producer.end();
  if (relayed !== COUNT || bytes === 0) throw new Error(`relayed ${relayed} of ${COUNT}`);
  await streamer.disconnect();
}

/** The user's `for await` + `text()` over the lines (bench/seastreamer_rates.ts). */
function userConsume(chunks: readonly Uint8Array[], count = COUNT): Promise<number> {
  return userConsumeRate("stdio://", ["bench"], count, payload.length, {}, {
    stdio: { input: ReadableStream.from(chunks), output: new WritableStream() },
  });
}

/** `consumer.batches({ max: 1000 })` reading every payload's `text()`. */
async function batchConsume(chunks: readonly Uint8Array[], count = COUNT): Promise<number> {
  const streamer = await SeaStreamer.connect("stdio://", {
    stdio: { input: ReadableStream.from(chunks), output: new WritableStream() },
  });
  const started = performance.now();
  const consumer = await streamer.createConsumer(["bench"]);
  let received = 0;
  let length = 0;
  for await (const batch of consumer.batches({ max: 1000 })) {
    for (const m of batch) length += m.payload.text().length;
    received += batch.length;
    if (received >= count) break;
  }
  const elapsed = performance.now() - started;
  if (received !== count || length !== count * payload.length) {
    throw new Error(`consumed ${received} messages, ${length} characters`);
  }
  await streamer.disconnect();
  return count / (elapsed / 1000);
}

/** `node:readline` counting the lines of a Readable of the chunks. */
async function readlineCount(chunks: readonly Uint8Array[], count = COUNT): Promise<number> {
  const started = performance.now();
  const rl = createInterface({ input: Readable.from(chunks), crlfDelay: Infinity });
  let lines = 0;
  for await (const _line of rl) lines++;
  const elapsed = performance.now() - started;
  if (lines !== count) throw new Error(`readline counted ${lines} of ${count}`);
  return count / (elapsed / 1000);
}

/** The peak RSS growth while COUNT unawaited sends wait for one flush; against the payload bytes. */
async function userMemory() {
  const m = await userProduceMemory("stdio://", "bench", COUNT, {
    stdio: { output: new WritableStream() },
  });
  return compare(
    `stdio memory user shape (${COUNT} string sends not awaited, one flush, output discarded): peak RSS growth`,
    "payload bytes",
    (m.peak - m.before) / MiB,
    COUNT * USER_PAYLOAD_SIZE / MiB,
    "MiB",
    `RSS before ${(m.before / MiB).toFixed(0)} MiB, peak ${(m.peak / MiB).toFixed(0)} MiB; ${
      Math.round(m.rate)
    } msg/s`,
  );
}

if (args().includes("--user-memory")) {
  report([await userMemory()]);
} else {
  const chunks = input();
  // Warm up both paths once, then measure.
  countLines(chunks);
  await parse(chunks.slice(0, 100), countLines(chunks.slice(0, 100)) + 1);
  const baseline = await rate(COUNT, () => {
    if (countLines(chunks) !== COUNT) throw new Error("line count");
  });
  const parsed = await rate(COUNT, () => parse(chunks));
  const relayed = await rate(COUNT, () => relay(chunks));
  const few = chunks.slice(0, 100);
  const fewLines = countLines(few);
  await userConsume(few, fewLines);
  await readlineCount(few, fewLines + 1); // and the cut last line
  await batchConsume(few, fewLines);
  const user = await alternate(3, {
    ours: () => userConsume(chunks),
    batches: () => batchConsume(chunks),
    readline: () => readlineCount(chunks),
  });
  report([
    compare("stdio parse (line -> message)", "line-count loop", parsed, baseline),
    compare("stdio parse + format (relay)", "line-count loop", relayed, baseline),
    compare(
      "stdio consume user shape (for await + text())",
      "node:readline line count over Readable.from(chunks)",
      user.ours,
      user.readline,
    ),
    compare(
      "stdio consume batches({ max: 1000 }) + text()",
      "node:readline line count over Readable.from(chunks)",
      user.batches,
      user.readline,
    ),
    ...await resultsInChild(import.meta.url, ["--user-memory"]),
  ]);
}
