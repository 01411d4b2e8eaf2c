/**
 * The baselines of bench/kafka.ts: raw kafkajs, raw @platformatic/kafka and
 * kcat (librdkafka), each driven as its own documentation shows, against the
 * same broker. Each function returns messages per second.
 *
 * Producers send batches of {@link BATCH} with acks=all, awaiting each; consumers
 * join a fresh group and read from the earliest, timed from subscribing (the
 * group join counts) to the last message, and check the bytes or characters read.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { spawnProcess } from "../runtime/mod.ts";

/** Messages per producer batch, for every side that sends batches. */
export const BATCH = 1000;
/** Fetch sizes of the raw platformatic consumer (issue 16: its 50 MiB defaults are slow). */
export const PLATFORMATIC_FETCH = { maxBytesPerPartition: 1 << 20, maxBytes: 10 << 20 };

/** One value of a produce loop: the i-th message's payload. */
export type ValueOf = (i: number) => Buffer | string;

/** What a consumer baseline checks: `count` values of `size` bytes, or characters if `text`. */
export interface ConsumeCheck {
  count: number;
  size: number;
  text: boolean;
}

const uniqueGroup = () => `bench-group-${Date.now().toString(36)}-${Math.random().toString(36)}`;

function checked(read: number, check: ConsumeCheck, elapsed: number): number {
  if (read !== check.count * check.size) throw new Error(`consumed ${read} bytes or characters`);
  return check.count / (elapsed / 1000);
}

// ---- kafkajs ----

type KafkajsModule = typeof import("kafkajs");
type Kafkajs = InstanceType<KafkajsModule["Kafka"]>;

/** A kafkajs client on `brokers`, with its logging off. */
export async function kafkajsClient(brokers: string[]): Promise<Kafkajs> {
  const { Kafka, logLevel } = await import("kafkajs");
  return new Kafka({ clientId: "bench-kafkajs", brokers, logLevel: logLevel.NOTHING });
}

/** kafkajs `sendBatch` of {@link BATCH} (acks=all, its default), each awaited. */
export async function kafkajsProduce(
  kafka: Kafkajs,
  topic: string,
  count: number,
  valueOf: ValueOf,
): Promise<number> {
  const producer = kafka.producer();
  await producer.connect();
  const started = performance.now();
  for (let sent = 0; sent < count; sent += BATCH) {
    const messages = Array.from({ length: Math.min(BATCH, count - sent) }, (_, i) => ({
      value: valueOf(sent + i),
    }));
    await producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 });
  }
  const elapsed = performance.now() - started;
  await producer.disconnect();
  return count / (elapsed / 1000);
}

/** A kafkajs eachBatch consumer of `topics` in a fresh group; with `text`, each value decoded to a string. */
export async function kafkajsConsume(
  kafka: Kafkajs,
  topics: string[],
  check: ConsumeCheck,
): Promise<number> {
  const consumer = kafka.consumer({ groupId: uniqueGroup(), maxWaitTimeInMs: 200 });
  await consumer.connect();
  const started = performance.now();
  await consumer.subscribe({ topics, fromBeginning: true });
  let received = 0;
  let read = 0;
  await new Promise<void>((resolve, reject) => {
    consumer.run({
      eachBatch: ({ batch }) => {
        for (const message of batch.messages) {
          if (received === check.count) break;
          read += (check.text ? message.value?.toString() : message.value)?.length ?? 0;
          if (++received === check.count) resolve();
        }
        return Promise.resolve();
      },
    }).catch(reject);
  });
  const rate = checked(read, check, performance.now() - started);
  await consumer.disconnect();
  return rate;
}

// ---- @platformatic/kafka ----

/** A raw platformatic `Producer.send` of {@link BATCH} messages, acks=all, each awaited. */
export async function platformaticProduce(
  brokers: string[],
  topic: string,
  count: number,
  valueOf: ValueOf,
): Promise<number> {
  const { Producer, ProduceAcks, stringSerializer } = await import("@platformatic/kafka");
  const producer = new Producer<Buffer, Buffer | string, string, string>({
    clientId: "bench-platformatic",
    bootstrapBrokers: brokers,
    acks: ProduceAcks.ALL,
    serializers: {
      value: (value?: Buffer | string) =>
        typeof value === "string" ? stringSerializer(value) : value,
    },
  });
  // Connecting and the topic's metadata are not timed, as kafkajs's connect() is not.
  await producer.metadata({ topics: [topic] });
  const started = performance.now();
  for (let sent = 0; sent < count; sent += BATCH) {
    const messages = Array.from({ length: Math.min(BATCH, count - sent) }, (_, i) => ({
      topic,
      value: valueOf(sent + i),
    }));
    await producer.send({ messages });
  }
  const elapsed = performance.now() - started;
  await producer.close();
  return count / (elapsed / 1000);
}

/**
 * A raw platformatic consumer of `topics` in a fresh group ({@link PLATFORMATIC_FETCH}, autocommit),
 * reading its stream's `data` events; with `text`, values through its string deserializer.
 */
export async function platformaticConsume(
  brokers: string[],
  topics: string[],
  check: ConsumeCheck,
): Promise<number> {
  const { Consumer, stringDeserializer } = await import("@platformatic/kafka");
  const consumer = new Consumer<Buffer, Buffer | string, Buffer, Buffer>({
    clientId: "bench-platformatic",
    groupId: uniqueGroup(),
    bootstrapBrokers: brokers,
    maxWaitTime: 200,
    ...PLATFORMATIC_FETCH,
    ...(check.text ? { deserializers: { value: stringDeserializer } } : {}),
  });
  const started = performance.now();
  const stream = await consumer.consume({
    topics,
    mode: "committed",
    fallbackMode: "earliest",
    autocommit: true,
  });
  let received = 0;
  let read = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("data", (message) => {
      if (received === check.count) return;
      read += message.value?.length ?? 0;
      if (++received === check.count) resolve();
    });
  });
  const rate = checked(read, check, performance.now() - started);
  await stream.close();
  await consumer.close(true);
  return rate;
}

// ---- kcat (librdkafka) ----

async function kcat(kcatArgs: string[]): Promise<void> {
  const child = spawnProcess("kcat", kcatArgs, { stdin: "ignore", stdout: "ignore" });
  const stderr = new Response(child.stderr).text();
  const { code } = await child.status;
  if (code !== 0) throw new Error(`kcat ${kcatArgs.join(" ")} exited ${code}: ${await stderr}`);
}

/** Whether `kcat` runs here. */
export async function kcatAvailable(): Promise<boolean> {
  try {
    await kcat(["-V"]);
    return true;
  } catch {
    return false;
  }
}

/**
 * `kcat -P -l FILE -X acks=all` of `count` lines: timed as a whole process (start-up
 * and connection included), so a lower bound of librdkafka's rate.
 */
export async function kcatProduce(
  brokers: string[],
  topic: string,
  file: string,
  count: number,
): Promise<number> {
  const started = performance.now();
  await kcat(["-P", "-b", brokers.join(","), "-t", topic, "-l", file, "-X", "acks=all"]);
  return count / ((performance.now() - started) / 1000);
}

/** `kcat -G GROUP -c N` of `topics` in a fresh group from the earliest, timed as a whole process. */
export async function kcatGroupConsume(
  brokers: string[],
  topics: string[],
  count: number,
): Promise<number> {
  const started = performance.now();
  await kcat([
    "-G",
    uniqueGroup(),
    "-b",
    brokers.join(","),
    "-X",
    "auto.offset.reset=earliest",
    "-q",
    "-c",
    `${count}`,
    ...topics,
  ]);
  return count / ((performance.now() - started) / 1000);
}
