/**
 * Kafka throughput: 100,000 messages of 256 bytes produced and consumed through
 * seastreamer with each of its Kafka drivers (kafkajs, the default, and
 * `?driver=platformatic`), each against the same client used raw in the same run
 * (bench/kafka_clients.ts: batches of 1,000 with acks=all, each awaited; a group
 * consumer), and with `kcat` (librdkafka, the Debian package) as the native
 * reference when it is installed.
 *
 * `deno run -A bench/kafka.ts`, `bun bench/kafka.ts`, `node npm/bench/kafka.js`.
 * The broker: KAFKA_URL, one answering on 127.0.0.1:9092, or one started from
 * its jars (scripts/kafka.ts). Each side runs `ROUNDS` times (`--rounds=N`, default
 * 3), alternating; the best round of each counts (the machine is shared and noisy).
 * Producing 100,000 takes a third of a second, and one round's rate moves by up to
 * half either way with the broker's own work on the same cores: the produce sides
 * run three times as many rounds, and their median round counts (the best of 9
 * compared lucky tails: the prepared-bytes row on Bun read 0.75 where 9 rounds
 * taking turns in one process had a median ratio of 0.98, its rounds 0.60–1.39).
 * `--driver=NAME` measures one driver only. kcat is timed as a whole process
 * (start-up and connection included), so its figures are lower bounds.
 *
 * Shapes of seastreamer's side (bench/seastreamer_rates.ts):
 * - library: a prepared Uint8Array payload, a flush every 1,000; `next()`;
 * - user: 100,000 `producer.send(string)` with the ~256-byte string built in the
 *   loop, not awaited, then one `flush()`; `for await` reading `payload.text()`;
 * - batch API: `sendBatch` of 1,000 such strings, each awaited; `nextBatch` reading
 *   `payload.text()`.
 * The raw side of a string row sends the same strings and decodes every value to
 * a string. Consumers read three of the topics produced at once (300,000 messages).
 *
 * kafkajs is loaded by seastreamer first, as in a program that uses seastreamer
 * (which then groups its own producers' batches by partition in one pass instead
 * of kafkajs's quadratic way); the baseline uses the same module, unchanged for it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { SeaStreamer } from "../mod.ts";
import { args, makeTempDir, remove, writeFile } from "../runtime/mod.ts";
import { parseKafkaUri } from "../backends/kafka/mod.ts";
import { ensureKafka } from "../scripts/kafka.ts";
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
import {
  BATCH,
  type ConsumeCheck,
  kafkajsClient,
  kafkajsConsume,
  kafkajsProduce,
  kcatAvailable,
  kcatGroupConsume,
  kcatProduce,
  platformaticConsume,
  platformaticProduce,
  type ValueOf,
} from "./kafka_clients.ts";
import { alternate, type BenchResult, compare, report } from "./report.ts";

const COUNT = 100_000;
const SIZE = 256;
const ROUNDS = Number(args().find((a) => a.startsWith("--rounds="))?.slice(9) ?? 3);
const PRODUCE_ROUNDS = ROUNDS * 3;
const ONLY = args().find((a) => a.startsWith("--driver="))?.slice(9);

const broker = await ensureKafka();
const brokers = parseKafkaUri(broker.url).brokers;
const payload = new Uint8Array(SIZE).fill(0x61); // "aaaa…"
const payloadBuffer = Buffer.from(payload);
const bytesOf: ValueOf = () => payloadBuffer;
let topicCounter = 0;
const topicName = (what: string) =>
  `bench-${what}-${Date.now().toString(36)}-${++topicCounter}-${
    Math.random().toString(36).slice(2, 6)
  }`;

// Loads kafkajs the way a seastreamer program does, before the baseline uses it.
await (await SeaStreamer.connect(broker.url)).disconnect();
const kafka = await kafkajsClient(brokers);
const admin = kafka.admin();
await admin.connect();

async function createTopic(topic: string): Promise<string> {
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  return topic;
}

/** A seastreamer driver and the raw client it wraps. */
interface Driver {
  name: string;
  /** The URL that selects the driver. */
  url: string;
  /** The raw client's name in the rows. */
  raw: string;
  produce(topic: string, count: number, valueOf: ValueOf): Promise<number>;
  consume(topics: string[], check: ConsumeCheck): Promise<number>;
}

const allDrivers: Driver[] = [
  {
    name: "kafkajs",
    url: broker.url,
    raw: "kafkajs",
    produce: (topic, count, valueOf) => kafkajsProduce(kafka, topic, count, valueOf),
    consume: (topics, check) => kafkajsConsume(kafka, topics, check),
  },
  {
    name: "platformatic",
    url: `${broker.url}?driver=platformatic`,
    raw: "@platformatic/kafka",
    produce: (topic, count, valueOf) => platformaticProduce(brokers, topic, count, valueOf),
    consume: (topics, check) => platformaticConsume(brokers, topics, check),
  },
];
const drivers = allDrivers.filter((driver) => ONLY === undefined || driver.name === ONLY);

/** Whether seastreamer connects and produces with `driver` (the platformatic one may be absent). */
async function works(driver: Driver): Promise<boolean> {
  try {
    const topic = await createTopic(topicName("probe"));
    await userProduceRate(driver.url, topic, 10);
    return true;
  } catch (error) {
    console.error(`seastreamer with driver ${driver.name} does not work here: ${error}`);
    return false;
  }
}

const group = () => ({ mode: "resumable" as const, group: topicName("group") });
const warmBytes = { count: 10_000, size: SIZE, text: false };
const warmChars = { count: 10_000, size: USER_PAYLOAD_SIZE, text: true };

/**
 * Every row of one driver against its raw client; also the best user-shape produce
 * and group-consume rates, for the kcat rows, and a filled topic of each payload.
 */
async function measure(driver: Driver, results: BenchResult[]) {
  const { url, raw } = driver;
  const row = (what: string, baseline: string, ours: number, theirs: number) =>
    results.push(compare(`kafka[${driver.name}] ${what}`, `raw ${raw} ${baseline}`, ours, theirs));

  // Warm up both (JIT, connections, broker caches).
  const warm = await createTopic(topicName("warm"));
  await produceRate(url, warm, payload, 5000, BATCH);
  await driver.produce(warm, 5000, bytesOf);
  await consumeRate(url, warm, 10_000, SIZE, {});
  await driver.consume([warm], warmBytes);
  const userWarm = await createTopic(topicName("warm"));
  await userProduceRate(url, userWarm, 5000);
  await batchProduceRate(url, userWarm, 5000, BATCH);
  await driver.produce(userWarm, 5000, userPayload);
  await userConsumeRate(url, [userWarm], 10_000, USER_PAYLOAD_SIZE, group());
  await batchConsumeRate(url, [userWarm], 10_000, USER_PAYLOAD_SIZE, BATCH, group());
  await driver.consume([userWarm], warmChars);

  // Produce, alternating, each into a fresh topic; keep three filled topics of each payload.
  const filled: Record<"bytes" | "text", string[]> = { bytes: [], text: [] };
  const into = async (kind: "bytes" | "text") => {
    const topic = await createTopic(topicName(`${driver.name}-${kind}`));
    filled[kind].push(topic);
    return topic;
  };
  const produce = await alternate(PRODUCE_ROUNDS, {
    library: async () => produceRate(url, await into("bytes"), payload, COUNT, BATCH),
    rawBytes: async () => driver.produce(await into("bytes"), COUNT, bytesOf),
    user: async () => userProduceRate(url, await into("text"), COUNT),
    batch: async () => batchProduceRate(url, await into("text"), COUNT, BATCH),
    rawText: async () => driver.produce(await into("text"), COUNT, userPayload),
  }, "median");
  // The consumers read three of each: the rest go (25 MB each, on the broker's disk).
  await admin.deleteTopics({ topics: [...filled.bytes.splice(3), ...filled.text.splice(3)] });
  row(
    "produce 100k x 256 B (flush every 1000)",
    "batches of 1000",
    produce.library,
    produce.rawBytes,
  );
  row(
    "produce user shape (100k string sends, not awaited, one flush)",
    "batches of 1000 strings",
    produce.user,
    produce.rawText,
  );
  row(
    "produce sendBatch of 1000 strings",
    "batches of 1000 strings",
    produce.batch,
    produce.rawText,
  );

  // Consume three filled topics at once (300,000 messages: 100,000 take too little
  // time to time), alternating.
  const sources = filled.bytes;
  const texts = filled.text;
  const n = COUNT * sources.length;
  const m = COUNT * texts.length;
  const bytes = { count: n, size: SIZE, text: false };
  const chars = { count: m, size: USER_PAYLOAD_SIZE, text: true };
  const consume = await alternate(ROUNDS, {
    library: () => consumeRate(url, sources, n, SIZE, group()),
    libraryRealTime: () => consumeRate(url, sources, n, SIZE, {}),
    rawBytes: () => driver.consume(sources, bytes),
    user: () => userConsumeRate(url, texts, m, USER_PAYLOAD_SIZE, group()),
    userRealTime: () => userConsumeRate(url, texts, m, USER_PAYLOAD_SIZE, {}),
    batch: () => batchConsumeRate(url, texts, m, USER_PAYLOAD_SIZE, BATCH, group()),
    rawText: () => driver.consume(texts, chars),
  });
  const k = (count: number) => `${count / 1000}k`;
  row(
    `consume ${k(n)} next() (resumable group)`,
    "group consumer",
    consume.library,
    consume.rawBytes,
  );
  row(
    `consume ${k(n)} next() (real-time)`,
    "group consumer",
    consume.libraryRealTime,
    consume.rawBytes,
  );
  row(
    `consume user shape ${k(m)} (for await + text(), resumable group)`,
    "group consumer, values as strings",
    consume.user,
    consume.rawText,
  );
  row(
    `consume user shape ${k(m)} (for await + text(), real-time)`,
    "group consumer, values as strings",
    consume.userRealTime,
    consume.rawText,
  );
  row(
    `consume ${k(m)} nextBatch(1000) + text() (resumable group)`,
    "group consumer, values as strings",
    consume.batch,
    consume.rawText,
  );
  return { produce: produce.user, consume: consume.user, texts, m };
}

const results: BenchResult[] = [];
try {
  const measured: {
    driver: Driver;
    produce: number;
    consume: number;
    texts: string[];
    m: number;
  }[] = [];
  for (const driver of drivers) {
    if (await works(driver)) measured.push({ driver, ...await measure(driver, results) });
  }
  if (measured.length > 0 && await kcatAvailable()) {
    const dir = await makeTempDir("seastreamer-bench-");
    try {
      const file = `${dir}/messages.txt`;
      let lines = "";
      for (let i = 0; i < COUNT; i++) lines += `${userPayload(i)}\n`;
      await writeFile(file, lines);
      const { texts, m } = measured[0];
      const kcat = await alternate(ROUNDS, {
        produce: async () =>
          kcatProduce(brokers, await createTopic(topicName("kcat")), file, COUNT),
        consume: () => kcatGroupConsume(brokers, texts, m),
      });
      for (const { driver, produce, consume } of measured) {
        results.push(
          compare(
            `kafka[${driver.name}] produce user shape (100k string sends, not awaited, one flush)`,
            "kcat -P -l FILE -X acks=all (librdkafka)",
            produce,
            kcat.produce,
          ),
          compare(
            `kafka[${driver.name}] consume user shape ${
              m / 1000
            }k (for await + text(), resumable group)`,
            `kcat -G GROUP -c ${m} (librdkafka)`,
            consume,
            kcat.consume,
          ),
        );
      }
    } finally {
      await remove(dir);
    }
  } else if (measured.length > 0) {
    console.error("kcat is not installed (apt-get install kcat): no native reference");
  }
} finally {
  await admin.disconnect();
  await broker.stop();
}
report(results);
