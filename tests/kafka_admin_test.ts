/**
 * The Kafka backend's admin operations and bounded reading against a real
 * broker: describeStream (partitions' offsets, groups' lag), trimStream
 * (deleteRecords by length, offset, age), resetGroup (a group's committed
 * offsets) and consumers with `live: false` (they end at what the topics
 * held when they started).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Consumer, type Message, SeaStreamer, type Streamer } from "../mod.ts";
import { rejectsWith, take, uniqueName } from "./support/helpers.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";
import { adminSuite } from "./support/admin_suite.ts";
import { sleep } from "../runtime/mod.ts";

async function withStreamer(
  body: (streamer: Streamer) => Promise<void>,
  partitions = 1,
): Promise<void> {
  await requireKafka();
  const streamer = await SeaStreamer.connect(KAFKA_URL, { kafka: { partitions } });
  try {
    await body(streamer);
  } finally {
    await streamer.disconnect();
  }
}

async function produce(streamer: Streamer, topic: string, count: number, from = 0) {
  const producer = await streamer.createProducer(topic);
  const payloads = Array.from({ length: count }, (_, i) => `m${from + i}`);
  // Keyed: spread over the partitions.
  const receipts = await producer.sendBatch(payloads.map((payload) => ({ payload, key: payload })));
  await producer.end();
  return receipts;
}

/** Every message until the consumer ends (`live: false`), within `ms`. */
async function readToEnd(consumer: Consumer, ms = 20_000): Promise<Message[]> {
  const messages: Message[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reading = (async () => {
    for await (const message of consumer) messages.push(message);
  })();
  try {
    await Promise.race([
      reading,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the consumer did not end (${messages.length} read)`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return messages;
}

const texts = (messages: Message[]) => messages.map((m) => m.payload.text()).sort();
const payloads = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `m${from + i}`).sort();

describe("kafka admin", () => {
  it("describeStream: length, offsets, partitions, and each group's lag", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("ds");
      await rejectsWith(streamer.describeStream(topic), "StreamKeyNotFound");
      const receipts = await produce(streamer, topic, 10);
      const before = await streamer.describeStream(topic);
      assert.equal(before.length, 10);
      assert.equal(before.shards, 2);
      assert.deepEqual(before.groups, []);
      const offsets = receipts.map((r) => r.seqNo);
      assert.equal(before.firstSeqNo, 0n);
      assert.equal(before.lastSeqNo, offsets.reduce((a, b) => a > b ? a : b));
      const group = uniqueName("g");
      const consumer = await streamer.createConsumer([topic], {
        mode: "resumable",
        group,
        autoStreamReset: "earliest",
        autoCommit: false,
      });
      await consumer.commit(await take(consumer, 4));
      await consumer.end();
      const after = await streamer.describeStream(topic);
      assert.deepEqual(after.groups, [{ name: group, members: 0, pending: 0, lag: 6 }]);
    }, 2);
  });

  it("trimStream: by length, by offset and by age", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("tr");
      await rejectsWith(streamer.trimStream(topic, { maxLength: 1 }), "StreamKeyNotFound");
      await produce(streamer, topic, 10);
      assert.equal(await streamer.trimStream(topic, { maxLength: 3 }), 7);
      let info = await streamer.describeStream(topic);
      assert.equal(info.length, 3);
      assert.equal(info.firstSeqNo, 7n);
      assert.equal(await streamer.trimStream(topic, { maxLength: 5 }), 0);
      assert.equal(await streamer.trimStream(topic, { minSeqNo: 8n }), 1);
      assert.equal(await streamer.trimStream(topic, { olderThan: new Date(0) }), 0);
      assert.equal(
        await streamer.trimStream(topic, { olderThan: new Date(Date.now() + 60_000) }),
        2,
      );
      info = await streamer.describeStream(topic);
      assert.equal(info.length, 0);
      assert.equal(info.firstSeqNo, undefined);
      // What is sent later is kept, and read from where the log now starts.
      await produce(streamer, topic, 1, 10);
      const consumer = await streamer.createConsumer([topic], { autoStreamReset: "earliest" });
      const [message] = await take(consumer, 1);
      assert.equal(message.header.seqNo, 10n);
      assert.equal(message.payload.text(), "m10");
    });
  });

  it("resetGroup: beginning, { at }, a date and end move the group's next member", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("rg");
      const group = uniqueName("g");
      const options = { mode: "resumable", group, autoStreamReset: "earliest" } as const;
      await produce(streamer, topic, 10);
      const read = async (count: number) => {
        const consumer = await streamer.createConsumer([topic], options);
        const messages = await take(consumer, count);
        await consumer.end();
        return messages;
      };
      assert.deepEqual(texts(await read(10)), payloads(0, 10));
      await streamer.resetGroup(topic, group, "beginning");
      assert.deepEqual(texts(await read(10)), payloads(0, 10));
      await streamer.resetGroup(topic, group, { at: 6n });
      assert.deepEqual(texts(await read(4)), payloads(6, 10));
      await sleep(20);
      const cut = new Date();
      await sleep(20);
      await produce(streamer, topic, 3, 10);
      await streamer.resetGroup(topic, group, cut);
      assert.deepEqual(texts(await read(3)), payloads(10, 13));
      await streamer.resetGroup(topic, group, "end");
      const consumer = await streamer.createConsumer([topic], { ...options, live: false });
      assert.deepEqual(await readToEnd(consumer), []);
      await consumer.end();
    });
  });

  it("resetGroup is refused while the group has a member", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("rgm");
      const group = uniqueName("g");
      await produce(streamer, topic, 2);
      const consumer = await streamer.createConsumer([topic], {
        mode: "resumable",
        group,
        autoStreamReset: "earliest",
      });
      await take(consumer, 2);
      await rejectsWith(streamer.resetGroup(topic, group, "beginning"), "Backend");
      await consumer.end();
    });
  });

  it("live: false ends at what the topics held at the start", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("lf");
      const other = uniqueName("lf");
      await produce(streamer, topic, 8);
      const consumer = await streamer.createConsumer([topic, other], {
        autoStreamReset: "earliest",
        live: false,
      });
      await produce(streamer, topic, 4, 8); // after the start: not read
      assert.deepEqual(texts(await readToEnd(consumer)), payloads(0, 8));
      await rejectsWith(consumer.next(), "Closed");
      await consumer.end();
      // Latest: nothing to read, it ends at once.
      const latest = await streamer.createConsumer([topic], { live: false });
      assert.deepEqual(await readToEnd(latest), []);
      await latest.end();
    }, 3);
  });

  it("live: false on a group continues after its commits and ends", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("lfg");
      const group = uniqueName("g");
      await produce(streamer, topic, 10);
      const options = { mode: "resumable", group, autoStreamReset: "earliest" } as const;
      const first = await streamer.createConsumer([topic], { ...options, autoCommit: false });
      const taken = await take(first, 4);
      await first.commit(taken);
      await first.end();
      const second = await streamer.createConsumer([topic], { ...options, live: false });
      const rest = await readToEnd(second);
      await second.end();
      assert.deepEqual(texts([...taken, ...rest]), payloads(0, 10));
      assert.equal(rest.length, 6);
    }, 2);
  });

  it("stats().lag: what the broker holds that the consumer has not fetched", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("lag");
      await produce(streamer, topic, 20);
      const consumer = await streamer.createConsumer([topic], { autoStreamReset: "earliest" });
      await take(consumer, 20);
      assert.equal(consumer.stats().lag, 0);
      await consumer.end();
    });
  });
});

adminSuite({
  name: "kafka",
  connect: async () => {
    await requireKafka();
    return await SeaStreamer.connect(KAFKA_URL);
  },
});
