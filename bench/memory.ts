/**
 * Bounded memory: 1,000,000 messages of 256 bytes consumed slowly while a
 * producer in the same process writes them as fast as it can; the resident
 * memory is sampled as the consumer goes. The backlog must stay on the backend
 * (or in the pipe), not in this process: the peak must not grow with the count.
 *
 *   deno run -A bench/memory.ts [URL] [COUNT]   (URL: stdio://, file://…, redis://…, kafka://…)
 *
 * @module
 */
import { SeaStreamer } from "../mod.ts";
import { args, makeTempDir, memoryUsage, remove, sleep } from "../runtime/mod.ts";
import { compare, report } from "./report.ts";

const [given, countText = "1000000"] = args().filter((a) => a !== "--json");
const COUNT = Number(countText);
const SIZE = 256;
const MiB = 1024 * 1024;

const dir = given === undefined || given.startsWith("file") ? await makeTempDir() : undefined;
const url = given ?? `file://${dir}/memory.ss`;
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
report([
  compare(
    `slow consumer of ${COUNT} messages (${url.split(":")[0]})`,
    "itself",
    COUNT / seconds,
    COUNT / seconds,
    "msg/s",
    `RSS before ${(before / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, growth ${
      growth.toFixed(0)
    } MiB`,
  ),
]);
