/**
 * stdio throughput: parsing and formatting SeaStreamer lines, against a plain
 * loop that counts the same lines, in the same run.
 *
 * `deno run -A bench/stdio.ts`, `bun bench/stdio.ts`, `node npm/bench/stdio.js`
 *
 * @module
 */
import { SeaStreamer } from "../mod.ts";
import { compare, rate, report } from "./report.ts";

const COUNT = 1_000_000;
const CHUNK = 64 * 1024;

function input(): Uint8Array[] {
  const payload = JSON.stringify({ id: 0, note: "x".repeat(80) });
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

const chunks = input();
// Warm up both paths once, then measure.
countLines(chunks);
await parse(chunks.slice(0, 100), countLines(chunks.slice(0, 100)) + 1);
const baseline = await rate(COUNT, () => {
  if (countLines(chunks) !== COUNT) throw new Error("line count");
});
const parsed = await rate(COUNT, () => parse(chunks));
const relayed = await rate(COUNT, () => relay(chunks));
report([
  compare("stdio parse (line -> message)", "line-count loop", parsed, baseline),
  compare("stdio parse + format (relay)", "line-count loop", relayed, baseline),
]);
