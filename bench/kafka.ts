/**
 * Kafka throughput: 100,000 messages of 256 bytes produced and consumed through
 * seastreamer and through raw kafkajs (sendBatch of 1,000; an eachBatch
 * consumer) in the same run, against the same broker, with `kcat` (librdkafka,
 * the Debian package) as the native reference when it is installed.
 *
 * `deno run -A bench/kafka.ts`, `bun bench/kafka.ts`, `node npm/bench/kafka.js`.
 * The broker: KAFKA_URL, one answering on 127.0.0.1:9092, or one started from
 * its jars (scripts/kafka.ts). Each side runs `ROUNDS` times (`--rounds=N`, default
 * 3), alternating; the best round of each counts (the machine is shared and noisy).
 * kcat is timed as a whole process (start-up and connection included), so its
 * figures are lower bounds.
 *
 * "user shape" rows (bench/seastreamer_rates.ts): 100,000 `producer.send(string)`
 * with the ~256-byte string built in the loop, not awaited, then one `flush()`,
 * against kafkajs sendBatch of 1,000 with the same strings as values, each
 * awaited; `for await` reading `payload.text()` (resumable group and real-time)
 * against the eachBatch consumer decoding every value to a string.
 *
 * kafkajs is loaded by seastreamer first, as in a program that uses seastreamer
 * (which then groups its own producers' batches by partition in one pass instead
 * of kafkajs's quadratic way); the baseline uses the same module, unchanged for it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { SeaStreamer } from "../mod.ts";
import { args, makeTempDir, remove, spawnProcess, writeFile } from "../runtime/mod.ts";
import { parseKafkaUri } from "../backends/kafka/mod.ts";
import { ensureKafka } from "../scripts/kafka.ts";
import {
  consumeRate,
  produceRate,
  USER_PAYLOAD_SIZE,
  userConsumeRate,
  userPayload,
  userProduceRate,
} from "./seastreamer_rates.ts";
import { alternate, type BenchResult, compare, rate, report } from "./report.ts";

const COUNT = 100_000;
const SIZE = 256;
const BATCH = 1000;
const ROUNDS = Number(args().find((a) => a.startsWith("--rounds="))?.slice(9) ?? 3);

const broker = await ensureKafka();
const brokers = parseKafkaUri(broker.url).brokers;
const payload = new Uint8Array(SIZE).fill(0x61); // "aaaa…"
const payloadBuffer = Buffer.from(payload);
let topicCounter = 0;
const topicName = (what: string) =>
  `bench-${what}-${Date.now().toString(36)}-${++topicCounter}-${
    Math.random().toString(36).slice(2, 6)
  }`;

// Loads kafkajs the way a seastreamer program does, before the baseline uses it.
await (await SeaStreamer.connect(broker.url)).disconnect();
const { Kafka, logLevel } = await import("kafkajs");
const kafka = new Kafka({ clientId: "bench-kafkajs", brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();

async function createTopic(topic: string): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
}

// Each side is timed from its first message to its last acknowledged (produce) or
// received (consume) one: connecting and disconnecting are not counted, joining the
// consumer group is. Each returns messages per second.

// ---- producing ----

function produceSeastreamer(stream: string, count = COUNT): Promise<number> {
  // As the baseline sends: 1,000 at a time, then wait.
  return produceRate(broker.url, stream, payload, count, BATCH);
}

/** sendBatch of 1,000, each awaited; `valueOf(i)` is the i-th value. */
async function produceKafkajs(
  topic: string,
  count = COUNT,
  valueOf: (i: number) => Buffer | string = () => payloadBuffer,
): Promise<number> {
  const producer = kafka.producer();
  await producer.connect();
  const started = performance.now();
  for (let sent = 0; sent < count; sent += BATCH) {
    const messages = Array.from({ length: Math.min(BATCH, count - sent) }, (_, i) => ({
      value: valueOf(sent + i),
    }));
    await producer.sendBatch({ topicMessages: [{ topic, messages }] });
  }
  const elapsed = performance.now() - started;
  await producer.disconnect();
  return count / (elapsed / 1000);
}

// ---- consuming ----

function consumeSeastreamer(
  stream: string,
  mode: "resumable" | "real-time",
  count = COUNT,
): Promise<number> {
  const options = mode === "resumable" ? { mode, group: topicName("group") } : {};
  return consumeRate(broker.url, stream, count, SIZE, options);
}

function userConsumeSeastreamer(
  stream: string,
  mode: "resumable" | "real-time",
  count = COUNT,
): Promise<number> {
  const options = mode === "resumable" ? { mode, group: topicName("group") } : {};
  return userConsumeRate(broker.url, [stream], count, USER_PAYLOAD_SIZE, options);
}

/** An eachBatch consumer in a fresh group; `text`: each value decoded to a string. */
async function consumeKafkajs(topic: string, count = COUNT, text = false): Promise<number> {
  const consumer = kafka.consumer({ groupId: topicName("group"), maxWaitTimeInMs: 200 });
  await consumer.connect();
  const started = performance.now();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let received = 0;
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    consumer.run({
      eachBatch: ({ batch }) => {
        for (const message of batch.messages) {
          bytes += (text ? message.value?.toString() : message.value)?.length ?? 0;
        }
        received += batch.messages.length;
        if (received >= count) resolve();
        return Promise.resolve();
      },
    }).catch(reject);
  });
  const elapsed = performance.now() - started;
  if (bytes !== count * SIZE) throw new Error(`consumed ${bytes} bytes`);
  await consumer.disconnect();
  return count / (elapsed / 1000);
}

// ---- kcat (librdkafka), if installed ----

async function kcat(kcatArgs: string[]): Promise<number> {
  const child = spawnProcess("kcat", kcatArgs, { stdin: "ignore", stdout: "ignore" });
  const stderr = new Response(child.stderr).text();
  const { code } = await child.status;
  if (code !== 0) throw new Error(`kcat ${kcatArgs.join(" ")} exited ${code}: ${await stderr}`);
  return code;
}

async function kcatAvailable(): Promise<boolean> {
  try {
    await kcat(["-V"]);
    return true;
  } catch {
    return false;
  }
}

async function best(body: () => Promise<void>): Promise<number> {
  let top = 0;
  for (let round = 0; round < ROUNDS; round++) top = Math.max(top, await rate(COUNT, body));
  return top;
}

const results: BenchResult[] = [];
try {
  // Warm up both clients (JIT, connections, broker caches).
  const warm = topicName("warm");
  await createTopic(warm);
  await produceSeastreamer(warm, 5000);
  await produceKafkajs(warm, 5000);
  await consumeSeastreamer(warm, "real-time", 10_000);
  await consumeKafkajs(warm, 10_000);
  const userWarm = topicName("warm");
  await createTopic(userWarm);
  await userProduceRate(broker.url, userWarm, 5000);
  await produceKafkajs(userWarm, 5000, userPayload);
  await userConsumeSeastreamer(userWarm, "real-time", 10_000);
  await userConsumeSeastreamer(userWarm, "resumable", 10_000);
  await consumeKafkajs(userWarm, 10_000, true);

  // Produce: alternate the two clients, each into fresh topics.
  const filled: string[] = [];
  const produce = await alternate(ROUNDS, {
    ours: async () => {
      const topic = topicName("ss");
      await createTopic(topic);
      filled.push(topic);
      return produceSeastreamer(topic);
    },
    theirs: async () => {
      const topic = topicName("kjs");
      await createTopic(topic);
      return produceKafkajs(topic);
    },
  });
  const produceOurs = produce.ours;
  results.push(
    compare("kafka produce 100k x 256 B", "kafkajs sendBatch of 1000", produceOurs, produce.theirs),
  );

  // Consume the same topic (100,000 messages) with each, alternating.
  const source = filled[0];
  const consume = await alternate(ROUNDS, {
    resumable: () => consumeSeastreamer(source, "resumable"),
    theirs: () => consumeKafkajs(source),
    realTime: () => consumeSeastreamer(source, "real-time"),
  });
  const consumeOurs = consume.resumable;
  results.push(
    compare(
      "kafka consume 100k (resumable, autoCommit)",
      "kafkajs eachBatch consumer",
      consumeOurs,
      consume.theirs,
    ),
    compare(
      "kafka consume 100k (real-time)",
      "kafkajs eachBatch consumer",
      consume.realTime,
      consume.theirs,
    ),
  );

  // The user's shape: string payloads built in the loop; sends not awaited, one flush.
  const userFilled: string[] = [];
  const userProduce = await alternate(ROUNDS, {
    ours: async () => {
      const topic = topicName("ss-user");
      await createTopic(topic);
      userFilled.push(topic);
      return userProduceRate(broker.url, topic, COUNT);
    },
    theirs: async () => {
      const topic = topicName("kjs-user");
      await createTopic(topic);
      return produceKafkajs(topic, COUNT, userPayload);
    },
  });
  results.push(
    compare(
      "kafka produce user shape (100k string sends ~256 B, not awaited, one flush)",
      "kafkajs sendBatch of 1000 strings, each awaited",
      userProduce.ours,
      userProduce.theirs,
    ),
  );
  const userSource = userFilled[0];
  const userConsume = await alternate(ROUNDS, {
    resumable: () => userConsumeSeastreamer(userSource, "resumable"),
    theirs: () => consumeKafkajs(userSource, COUNT, true),
    realTime: () => userConsumeSeastreamer(userSource, "real-time"),
  });
  results.push(
    compare(
      "kafka consume user shape 100k (for await + text(), resumable)",
      "kafkajs eachBatch consumer, values decoded to strings",
      userConsume.resumable,
      userConsume.theirs,
    ),
    compare(
      "kafka consume user shape 100k (for await + text(), real-time)",
      "kafkajs eachBatch consumer, values decoded to strings",
      userConsume.realTime,
      userConsume.theirs,
    ),
  );

  if (await kcatAvailable()) {
    const dir = await makeTempDir("seastreamer-bench-");
    try {
      const lines = `${"a".repeat(SIZE)}\n`.repeat(COUNT);
      await writeFile(`${dir}/messages.txt`, lines);
      const target = topicName("kcat");
      await createTopic(target);
      const bootstrap = brokers.join(",");
      const kcatProduce = await best(() =>
        kcat(["-P", "-b", bootstrap, "-t", target, "-l", `${dir}/messages.txt`]).then(() => {})
      );
      const kcatConsume = await best(() =>
        kcat(["-C", "-b", bootstrap, "-t", source, "-o", "beginning", "-e", "-q", "-c", `${COUNT}`])
          .then(() => {})
      );
      results.push(
        compare("kafka produce 100k x 256 B", "kcat -P (librdkafka)", produceOurs, kcatProduce),
        compare(
          "kafka consume 100k (resumable, autoCommit)",
          "kcat -C (librdkafka)",
          consumeOurs,
          kcatConsume,
        ),
      );
    } finally {
      await remove(dir);
    }
  } else {
    console.error("kcat is not installed (apt-get install kcat): no native reference");
  }
} finally {
  await admin.disconnect();
  await broker.stop();
}
report(results);
