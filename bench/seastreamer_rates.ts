/**
 * seastreamer's side of the broker benchmarks (bench/redis.ts, bench/kafka.ts):
 * the same produce and consume loops against any URL, so every backend is
 * measured the same way. Each returns messages per second.
 *
 * @module
 */
import { type ConsumerOptions, SeaStreamer } from "../mod.ts";

/**
 * Send `count` × `payload` to `stream` at `url`, `batch` at a time, each batch
 * flushed before the next (as a raw client awaits each pipeline or sendBatch).
 * Timed from the first send to the last receipt; connecting is not counted.
 */
export async function produceRate(
  url: string,
  stream: string,
  payload: Uint8Array,
  count: number,
  batch: number,
): Promise<number> {
  const streamer = await SeaStreamer.connect(url);
  const producer = await streamer.createProducer(stream, { maxBatchSize: batch });
  const started = performance.now();
  for (let sent = 0; sent < count; sent += batch) {
    for (let i = sent; i < Math.min(count, sent + batch); i++) producer.send(payload);
    await producer.flush();
  }
  const elapsed = performance.now() - started;
  await streamer.disconnect();
  return count / (elapsed / 1000);
}

/**
 * Read `count` messages of `size` bytes from the start of `stream` at `url`, one
 * `next()` at a time, with `options` (mode, group). Timed from creating the
 * consumer (joining a group counts) to the last message; throws if the bytes
 * read are not `count * size`.
 */
export async function consumeRate(
  url: string,
  stream: string,
  count: number,
  size: number,
  options: ConsumerOptions,
): Promise<number> {
  const streamer = await SeaStreamer.connect(url);
  const started = performance.now();
  const consumer = await streamer.createConsumer([stream], {
    autoStreamReset: "earliest",
    ...options,
  });
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += (await consumer.next()).payload.size;
  const elapsed = performance.now() - started;
  if (bytes !== count * size) throw new Error(`consumed ${bytes} bytes`);
  await streamer.disconnect();
  return count / (elapsed / 1000);
}
