/**
 * Bounded memory: 1,000,000 messages of 256 bytes consumed slowly while a
 * producer in the same process writes them as fast as it can; the resident
 * memory is sampled as the consumer goes. The backlog must stay on the backend
 * (or in the pipe), not in this process: the peak must not grow with the count.
 *
 *   deno run -A bench/memory.ts [URL] [COUNT]   (URL: stdio://, file (a temp file), file://…, redis://…, kafka://…)
 *
 * Without a URL: stdio, file, Redis and Kafka, each in a process of its own (so
 * one backend's peak does not carry into the next). Redis is REDIS_URL, a server
 * on 127.0.0.1:6379 or one started for the run; Kafka likewise (KAFKA_URL, 9092).
 *
 * @module
 */
import { SeaStreamer } from "../mod.ts";
import { args, makeTempDir, memoryUsage, remove, sleep } from "../runtime/mod.ts";
import { ensureRedis } from "../scripts/redis.ts";
import { ensureKafka } from "../scripts/kafka.ts";
import { type BenchResult, compare, report, resultsInChild } from "./report.ts";

const [given, countText = "1000000"] = args().filter((a) => a !== "--json");
const COUNT = Number(countText);
const SIZE = 256;
const MiB = 1024 * 1024;

/** This benchmark for `url` in a child process of this runtime; its results. */
function measureInChild(url: string): Promise<BenchResult[]> {
  return resultsInChild(import.meta.url, [url, String(COUNT)]);
}

if (given === undefined) {
  const redis = await ensureRedis();
  const kafka = await ensureKafka();
  try {
    const results: BenchResult[] = [];
    for (const url of ["stdio://", "file", redis.url, kafka.url]) {
      results.push(...await measureInChild(url));
    }
    report(results);
  } finally {
    await redis.stop();
    await kafka.stop();
  }
} else {
  report([await measure(given)]);
}

/** Produce and slowly consume COUNT messages through `given`; the rate and the RSS figures. */
async function measure(given: string): Promise<BenchResult> {
  const dir = given === "file" ? await makeTempDir() : undefined;
  const url = dir ? `file://${dir}/memory.ss` : given;
  const stream = `memory-${Date.now().toString(36)}`;

  function stdioInput(): ReadableStream<Uint8Array> {
    const line = new TextEncoder().encode(`[${stream}] ${"x".repeat(SIZE)}\n`.repeat(1000));
    let sent = 0;
    return new ReadableStream({
      pull(controller) {
        if (sent >= COUNT) return controller.close();
        controller.enqueue(line);
        sent += 1000;
      },
    }, { highWaterMark: 0 });
  }

  const stdio = url.startsWith("stdio");
  const streamer = await SeaStreamer.connect(stdio ? "stdio://" : url, {
    file: { createIfNotExists: true },
    stdio: { input: stdioInput(), output: new WritableStream() },
  });
  const consumer = await streamer.createConsumer([stream], { autoStreamReset: "earliest" });
  const before = memoryUsage().rss;
  let peak = before;

  const producing = stdio ? Promise.resolve() : (async () => {
    const producer = await streamer.createProducer(stream);
    const payload = new Uint8Array(SIZE).fill(0x78);
    for (let i = 0; i < COUNT; i++) {
      producer.send(payload);
      if (i % 1000 === 999) await producer.flush();
    }
    await producer.end();
  })();

  const started = performance.now();
  for (let i = 0; i < COUNT; i++) {
    await consumer.next();
    if (i % 1000 === 999) await sleep(1); // the slow part: at most ~1000 messages per ms
    if (i % 20_000 === 0) peak = Math.max(peak, memoryUsage().rss);
  }
  peak = Math.max(peak, memoryUsage().rss);
  await producing;
  const seconds = (performance.now() - started) / 1000;
  await streamer.disconnect();
  if (dir) await remove(dir);

  const growth = (peak - before) / MiB;
  return compare(
    `slow consumer of ${COUNT} messages (${url.split(":")[0]})`,
    "itself",
    COUNT / seconds,
    COUNT / seconds,
    "msg/s",
    `RSS before ${(before / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, growth ${
      growth.toFixed(0)
    } MiB`,
  );
}
