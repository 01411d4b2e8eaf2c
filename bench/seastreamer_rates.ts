/**
 * seastreamer's side of the benchmarks (bench/redis.ts, bench/kafka.ts, and the
 * "user shape" rows of bench/file.ts and bench/stdio.ts): the same produce and
 * consume loops against any URL, so every backend is measured the same way.
 * Each returns messages per second.
 *
 * Three shapes: the library's (a prepared Uint8Array payload, a flush every batch,
 * `next()` reading the size), the user's, as a new user writes the loops
 * ({@link userProduceRate}: a string built in the loop, sends not awaited, one
 * flush at the end; {@link userConsumeRate}: `for await` reading `payload.text()`),
 * and the batch API's ({@link batchProduceRate}: `sendBatch` of arrays of those
 * strings; {@link batchConsumeRate}: `nextBatch` reading `payload.text()`).
 *
 * @module
 */
import {
  type ConnectOptions,
  type Consumer,
  type ConsumerOptions,
  type ProducerOptions,
  SeaStreamer,
} from "../mod.ts";
import { memoryUsage } from "../runtime/mod.ts";

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
 * Read `count` messages of `size` bytes from the start of `stream` (or streams) at
 * `url`, one `next()` at a time, with `options` (mode, group). Timed from creating
 * the consumer (joining a group counts) to the last message; throws if the bytes
 * read are not `count * size`.
 */
export async function consumeRate(
  url: string,
  stream: string | string[],
  count: number,
  size: number,
  options: ConsumerOptions,
): Promise<number> {
  const streamer = await SeaStreamer.connect(url);
  const started = performance.now();
  const consumer = await streamer.createConsumer(typeof stream === "string" ? [stream] : stream, {
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

/** Size in bytes of {@link userPayload}'s strings (ASCII). */
export const USER_PAYLOAD_SIZE = 256;
const FILLER = "x".repeat(USER_PAYLOAD_SIZE - 27);

/**
 * The user's payload: a 256-byte string built from the counter with a template
 * literal, as a user's loop builds it (every side of a user-shape row calls it).
 */
export function userPayload(i: number): string {
  return `{"id":${String(i).padStart(10, "0")},"note":"${FILLER}"}`;
}

/**
 * The user's produce loop: `count` × `producer.send(userPayload(i))` to `stream`,
 * none awaited, then one `await producer.flush()`. Default producer options.
 * Timed from the first send to the flush; connecting and disconnecting are not
 * counted. `sample` (if given) is called every 10,000 sends (memory sampling).
 */
export async function userProduceRate(
  url: string,
  stream: string,
  count: number,
  connect?: ConnectOptions,
  sample?: () => void,
): Promise<number> {
  const streamer = await SeaStreamer.connect(url, connect);
  const producer = await streamer.createProducer(stream);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    producer.send(userPayload(i));
    if (sample && i % 10_000 === 0) sample();
  }
  await producer.flush();
  const elapsed = performance.now() - started;
  await streamer.disconnect();
  return count / (elapsed / 1000);
}

/**
 * The user's consume loop: `for await (const m of consumer)` adding
 * `m.payload.text().length`, breaking after `count` (or ending with the
 * consumer). Timed from creating the consumer to the last message; throws
 * unless `count` messages of `chars` characters each were read.
 */
export function userConsumeRate(
  url: string,
  streams: string[],
  count: number,
  chars: number,
  options: ConsumerOptions,
  connect?: ConnectOptions,
): Promise<number> {
  return textConsumeRate(url, streams, count, chars, options, connect, async (consumer) => {
    let received = 0;
    let length = 0;
    for await (const m of consumer) {
      length += m.payload.text().length;
      if (++received === count) break;
    }
    return [received, length];
  });
}

/**
 * Time `read` (which returns the messages and characters it read) on a new
 * consumer of `streams` from the earliest, from creating the consumer to its
 * end; throws unless `count` messages of `chars` characters each were read.
 */
async function textConsumeRate(
  url: string,
  streams: string[],
  count: number,
  chars: number,
  options: ConsumerOptions,
  connect: ConnectOptions | undefined,
  read: (consumer: Consumer) => Promise<[number, number]>,
): Promise<number> {
  const streamer = await SeaStreamer.connect(url, connect);
  const started = performance.now();
  const consumer = await streamer.createConsumer(streams, {
    autoStreamReset: "earliest",
    ...options,
  });
  const [received, length] = await read(consumer);
  const elapsed = performance.now() - started;
  if (received !== count || length !== count * chars) {
    throw new Error(`consumed ${received} messages, ${length} characters`);
  }
  await streamer.disconnect();
  return count / (elapsed / 1000);
}

/**
 * {@link userProduceRate} with the resident memory sampled every 10,000 sends
 * and every 5 ms while the flush runs: the rate and the peak RSS growth in bytes
 * over the RSS before connecting. Run it first in a fresh process, before any
 * other work raises the RSS high-water mark.
 */
export async function userProduceMemory(
  url: string,
  stream: string,
  count: number,
  connect?: ConnectOptions,
): Promise<{ rate: number; before: number; peak: number }> {
  const before = memoryUsage().rss;
  let peak = before;
  const sample = () => void (peak = Math.max(peak, memoryUsage().rss));
  const timer = setInterval(sample, 5);
  try {
    const rate = await userProduceRate(url, stream, count, connect, sample);
    sample();
    return { rate, before, peak };
  } finally {
    clearInterval(timer);
  }
}

/**
 * The batch produce loop: `count` {@link userPayload} strings to `stream`, built
 * `batch` at a time into an array, each array sent with one awaited
 * `producer.sendBatch(items)`; `options` for the producer (e.g. sharding).
 * Timed from the first batch to the last receipt; connecting is not counted.
 */
export async function batchProduceRate(
  url: string,
  stream: string,
  count: number,
  batch: number,
  options: ProducerOptions = {},
): Promise<number> {
  const streamer = await SeaStreamer.connect(url);
  const producer = await streamer.createProducer(stream, options);
  const started = performance.now();
  for (let sent = 0; sent < count; sent += batch) {
    const items: string[] = new Array(Math.min(batch, count - sent));
    for (let i = 0; i < items.length; i++) items[i] = userPayload(sent + i);
    await producer.sendBatch(items);
  }
  const elapsed = performance.now() - started;
  await streamer.disconnect();
  return count / (elapsed / 1000);
}

/**
 * The batch consume loop: `consumer.nextBatch({ max })` until `count` messages,
 * adding each `m.payload.text().length`. Timed from creating the consumer to
 * the last batch; throws unless `count` messages of `chars` characters were read.
 */
export function batchConsumeRate(
  url: string,
  streams: string[],
  count: number,
  chars: number,
  max: number,
  options: ConsumerOptions,
): Promise<number> {
  return textConsumeRate(url, streams, count, chars, options, undefined, async (consumer) => {
    let received = 0;
    let length = 0;
    while (received < count) {
      const batch = await consumer.nextBatch({ max: Math.min(max, count - received) });
      for (const m of batch) length += m.payload.text().length;
      received += batch.length;
    }
    return [received, length];
  });
}
