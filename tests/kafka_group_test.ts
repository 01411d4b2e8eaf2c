/**
 * Kafka consumer groups under failure: a member killed (SIGKILL, no goodbye)
 * loses its partitions to the others after the session timeout, and no message
 * is lost (those it had not committed are delivered again).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Consumer, SeaStreamer } from "../mod.ts";
import { sleep } from "../runtime/mod.ts";
import { readLines, spawnScript } from "./support/spawn.ts";
import { uniqueName } from "./support/helpers.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";

const SESSION_TIMEOUT_MS = 6000; // the broker's default minimum

interface Seen {
  partition: number;
  payload: string;
  at: number;
}

/** Read `consumer` in the background into `into` until `stop` aborts. */
function collect(consumer: Consumer, into: Seen[], stop: AbortSignal): Promise<void> {
  return (async () => {
    while (!stop.aborted) {
      try {
        const message = await consumer.next(stop);
        into.push({
          partition: message.header.shardId,
          payload: message.payload.text(),
          at: Date.now(),
        });
      } catch (error) {
        if (stop.aborted) return;
        throw error;
      }
    }
  })();
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("kafka consumer groups", () => {
  it("3 members over 6 partitions: one killed, the others take its partitions, nothing lost", async () => {
    await requireKafka();
    const topic = uniqueName("lb6");
    const group = uniqueName("g");
    const streamer = await SeaStreamer.connect(KAFKA_URL, { kafka: { partitions: 6 } });
    const stop = new AbortController();
    const child = spawnScript(
      "./testdata/kafka_member",
      import.meta.url,
      [KAFKA_URL, topic, group, String(SESSION_TIMEOUT_MS)],
      { stdin: "ignore", stderr: "inherit" },
    );
    try {
      const producer = await streamer.createProducer(topic);
      await producer.send("created"); // creates the topic with 6 partitions
      const sent = ["created"];

      // The child member: its lines, as they come.
      const fromChild: Seen[] = [];
      let childReady = false;
      const reading = (async () => {
        for await (const line of readLines(child.stdout!)) {
          if (line === "ready") {
            childReady = true;
            continue;
          }
          const [partition, _offset, payload] = line.split(" ");
          fromChild.push({ partition: Number(partition), payload, at: Date.now() });
        }
      })();
      reading.catch(() => {});
      await until(() => childReady, 60_000, "the child member to join");

      const options = {
        mode: "load-balanced",
        group,
        autoStreamReset: "earliest",
        prefetch: 20,
        kafka: { sessionTimeoutMs: SESSION_TIMEOUT_MS },
      } as const;
      const a = await streamer.createConsumer([topic], options);
      const b = await streamer.createConsumer([topic], options);
      const fromA: Seen[] = [];
      const fromB: Seen[] = [];
      const readers = [collect(a, fromA, stop.signal), collect(b, fromB, stop.signal)];
      readers.forEach((r) => r.catch(() => {}));

      const send = async (from: number, count: number) => {
        for (let i = from; i < from + count; i++) {
          producer.send(`m${i}`);
          sent.push(`m${i}`);
        }
        await producer.flush();
      };
      await send(0, 600);
      // Every member holds two partitions and reads.
      await until(
        () => fromChild.length > 0 && fromA.length > 0 && fromB.length > 0,
        30_000,
        "all three members to receive",
      );
      const childPartitions = new Set(fromChild.map((s) => s.partition));
      child.kill("SIGKILL");
      await child.status;
      const killedAt = Date.now();
      await send(600, 600);

      const all = () => new Set([...fromChild, ...fromA, ...fromB].map((s) => s.payload));
      await until(
        () => sent.every((payload) => all().has(payload)),
        SESSION_TIMEOUT_MS + 45_000,
        "every message to be received by a member",
      );
      // The survivors took over what the killed member held.
      const takenOver = new Set(
        [...fromA, ...fromB].filter((s) => s.at > killedAt).map((s) => s.partition),
      );
      for (const partition of childPartitions) {
        assert.ok(takenOver.has(partition), `partition ${partition} was not taken over`);
      }
      // Each survivor got every message of its partitions once (redelivery is of the killed one's).
      for (const member of [fromA, fromB]) {
        const own = member.filter((s) => !childPartitions.has(s.partition)).map((s) => s.payload);
        assert.equal(new Set(own).size, own.length, "a survivor got a message twice");
      }
      stop.abort();
      await Promise.allSettled(readers);
      await Promise.all([a.end(), b.end()]);
    } finally {
      stop.abort();
      child.kill("SIGKILL");
      await streamer.disconnect();
    }
  });
});
