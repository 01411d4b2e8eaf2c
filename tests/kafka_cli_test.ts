/**
 * Offsets per partition on a real Kafka broker (KAFKA_URL), with a topic of three
 * partitions: `consume --from P:OFFSET,…` (kcat's `-p P -o OFFSET`) and the API
 * under it, `consumer.rewind(position, { stream, shardId })`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type MessageHeader, SeaStreamer, type Streamer } from "../mod.ts";
import { runCli } from "./support/spawn.ts";
import { uniqueName, untilEnd } from "./support/helpers.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";

/** A new topic of three partitions holding `count` messages `p0`…; each message's receipt. */
async function filledTopic(
  count: number,
): Promise<{ topic: string; sent: { header: MessageHeader; text: string }[] }> {
  await requireKafka();
  const streamer = await SeaStreamer.connect(KAFKA_URL, { kafka: { partitions: 3 } });
  try {
    const topic = uniqueName("parts");
    const producer = await streamer.createProducer(topic);
    const texts = Array.from({ length: count }, (_, i) => `p${i}`);
    const receipts = await producer.sendBatch(texts);
    await producer.end();
    const sent = receipts.map((header, i) => ({ header, text: texts[i] }));
    for (const shard of [0, 1, 2]) {
      assert.ok(
        sent.filter((s) => s.header.shardId === shard).length >= 6,
        `partition ${shard} should hold at least 6 messages`,
      );
    }
    return { topic, sent };
  } finally {
    await streamer.disconnect();
  }
}

/** `consume --input input --from from --no-follow --format format`: the lines it printed. */
async function linesRead(input: string, from: string, format = "payload"): Promise<string[]> {
  const run = await runCli([
    "consume",
    "--input",
    input,
    "--from",
    from,
    "--no-follow",
    "--format",
    format,
  ]);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.trim().split("\n");
}

/** The texts `sent` to partition `shard` from offset `from` on, in order. */
function expectedOf(
  sent: readonly { header: MessageHeader; text: string }[],
  shard: number,
  from: bigint,
): string[] {
  return sent.filter((s) => s.header.shardId === shard && s.header.seqNo >= from)
    .sort((a, b) => Number(a.header.seqNo - b.header.seqNo)).map((s) => s.text);
}

/** Run `body` with a streamer of the test broker, always disconnected. */
async function withStreamer(body: (streamer: Streamer) => Promise<void>): Promise<void> {
  const streamer = await SeaStreamer.connect(KAFKA_URL);
  try {
    await body(streamer);
  } finally {
    await streamer.disconnect();
  }
}

describe("kafka: offsets per partition", () => {
  it("consume --from 0:2,2:5 reads partition 0 from offset 2 and partition 2 from 5, not 1", async () => {
    const { topic, sent } = await filledTopic(60);
    const lines = await linesRead(`${KAFKA_URL}/${topic}`, "0:2,2:5", "ndjson");
    const records = lines.map((line) => JSON.parse(line));
    const byShard = (shard: number) =>
      records.filter((r) => r.shard === shard).map((r) => r.payload);
    assert.deepEqual(byShard(0), expectedOf(sent, 0, 2n));
    assert.deepEqual(byShard(2), expectedOf(sent, 2, 5n));
    assert.deepEqual(byShard(1), []);
    assert.equal(records.length, byShard(0).length + byShard(2).length);
  });

  it("a bad --from P:OFFSET exits 2 naming it; a backend that cannot exits 1 with Unsupported", async () => {
    const { topic } = await filledTopic(30);
    const url = `${KAFKA_URL}/${topic}`;
    const cases: [string, string, RegExp][] = [
      [url, "0:abc", /"0:abc" is not PARTITION:OFFSET/],
      [url, "-1:5", /"-1:5" is not PARTITION:OFFSET/],
      [url, "0:1,0:2", /partition 0 is named twice/],
      [url, "0:1,", /"" is not PARTITION:OFFSET/],
      [url, "7:0", /--from 7:0: topic .* has no partition 7 \(it has 3\)/],
      [`${url},${uniqueName("other")}`, "0:1", /--from PARTITION:OFFSET reads one stream/],
    ];
    for (const [input, from, message] of cases) {
      const run = await runCli(["consume", "--input", input, "--from", from, "--no-follow"]);
      assert.equal(run.code, 2, `--from ${from}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    // A time has colons too: it is not taken for partitions.
    assert.equal((await linesRead(url, "2000-01-01T00:00:00")).length, 30);
    const stdio = await runCli(["consume", "--input", "stdio:///orders", "--from", "0:1"]);
    assert.equal(stdio.code, 1, stdio.stderr);
    assert.match(stdio.stderr, /Unsupported.*cannot move one shard alone/);
  });

  it("a stream URL's query names the driver: ?driver=platformatic reads, ?driver=bogus is refused", async () => {
    const { topic } = await filledTopic(30);
    const read = await linesRead(`${KAFKA_URL}/${topic}?driver=platformatic`, "earliest");
    assert.equal(read.length, 30);
    const bogus = await runCli(["consume", "--input", `${KAFKA_URL}/${topic}?driver=bogus`]);
    assert.notEqual(bogus.code, 0);
    assert.match(bogus.stderr, /the Kafka driver is "kafkajs" or "platformatic", not "bogus"/);
  });

  it("rewind of one partition moves it alone: the others keep their place and prefetch", async () => {
    const { topic, sent } = await filledTopic(60);
    await withStreamer(async (streamer) => {
      const consumer = await streamer.createConsumer([topic], {
        autoStreamReset: "earliest",
        live: false,
        prefetch: 8,
      });
      // Partition 1 has moved past its start before the rewind: it must come again from 3.
      const first = await consumer.nextBatch({ max: 4 });
      await consumer.rewind({ at: 3n }, { stream: topic, shardId: 1 });
      const rest = await untilEnd(consumer);
      const seen = [...first.map((m) => m.payload.text()), ...rest];
      const ofShard = (shard: number) =>
        seen.filter((text) => sent.find((s) => s.text === text)!.header.shardId === shard);
      assert.deepEqual(ofShard(0), expectedOf(sent, 0, 0n));
      assert.deepEqual(ofShard(2), expectedOf(sent, 2, 0n));
      const firstOfOne = first.filter((m) => m.header.shardId === 1).map((m) => m.payload.text());
      assert.deepEqual(ofShard(1), [...firstOfOne, ...expectedOf(sent, 1, 3n)]);
    });
  });
});
