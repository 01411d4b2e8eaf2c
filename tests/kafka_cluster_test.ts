/**
 * A 3-broker Kafka cluster (started by this test on loopback ports 19092-19097):
 * a broker killed while producing with acks=all loses no acknowledged message.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type MessageHeader, SeaStreamer } from "../mod.ts";
import { sleep, timeout } from "../runtime/mod.ts";
import { type KafkaCluster, startKafkaCluster } from "../scripts/kafka.ts";
import { take, texts, uniqueName } from "./support/helpers.ts";

describe("kafka cluster", () => {
  it("a broker killed while producing with acks=all: no acknowledged message is lost", async () => {
    const cluster = await startKafkaCluster();
    try {
      // A hang anywhere fails the test instead of holding up the whole run.
      await timeout(failover(cluster), 180_000, "the failover scenario");
    } finally {
      await cluster.stop();
    }
  });
});

/** Produce with acks=all, kill a broker midway, read everything back. */
async function failover(cluster: KafkaCluster): Promise<void> {
  const topic = uniqueName("ha");
  const streamer = await SeaStreamer.connect(cluster.url, { kafka: { partitions: 3 } });
  const producer = await streamer.createProducer(topic, { kafka: { acks: -1 } });
  await producer.send("first"); // creates the topic, replicated to all 3 brokers
  // A consumer joined before the failure (its group's offsets topic needs 3 live brokers
  // to be created); it reads everything back afterwards.
  const reader = await SeaStreamer.connect(cluster.url);
  const consumer = await reader.createConsumer([topic], { autoStreamReset: "earliest" });
  const acknowledged: string[] = ["first"];
  let failed = 0;
  const batches = 40;
  for (let batch = 0; batch < batches; batch++) {
    if (batch === 10) {
      // Kill one broker (no clean shutdown) while sends are in flight.
      cluster.nodes[0].kill().catch(() => {});
    }
    const payloads = Array.from({ length: 50 }, (_, i) => `b${batch}-${i}`);
    const results = await Promise.allSettled(payloads.map((p) => producer.send(p)));
    await producer.flush().catch(() => {});
    results.forEach((result, i) => {
      if (result.status === "fulfilled") acknowledged.push(payloads[i]);
      else failed++;
    });
    await sleep(50);
  }
  assert.ok(!cluster.nodes[0].running, "the broker was killed");
  // The cluster keeps accepting writes on the two brokers left.
  const last: MessageHeader = await producer.send("last");
  acknowledged.push("last");
  assert.equal(last.streamKey, topic);
  await producer.end();
  await streamer.disconnect();

  try {
    const received = new Set<string>();
    const deadline = Date.now() + 60_000;
    while (!acknowledged.every((p) => received.has(p))) {
      assert.ok(Date.now() < deadline, "acknowledged messages are missing");
      for (const text of texts(await take(consumer, 1, 30_000))) received.add(text);
    }
    const lost = acknowledged.filter((p) => !received.has(p));
    assert.deepEqual(lost, []);
    console.log(
      `cluster failover: ${acknowledged.length} acknowledged, ${failed} failed sends, none lost`,
    );
  } finally {
    await reader.disconnect();
  }
}
