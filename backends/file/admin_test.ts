/** The file backend's admin operations (resetGroup, describeStream) and replays (`live: false`). */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SeaStreamer, type Streamer } from "../../mod.ts";
import { makeTempDir, remove, sleep } from "../../runtime/mod.ts";
import { rejectsWith, take, texts, uniqueName } from "../../tests/support/helpers.ts";

const dir = await makeTempDir("seastreamer-file-admin-");
after(() => remove(dir));
let files = 0;
const newPath = () => `${dir}/a${++files}.ss`;
const create = { file: { createIfNotExists: true } };

/** A new file whose stream "s" holds `payloads`, and a streamer on it. */
async function fileWith(payloads: string[]): Promise<Streamer> {
  const streamer = await SeaStreamer.connect(`file://${newPath()}`, create);
  const producer = await streamer.createProducer("s");
  await producer.sendBatch(payloads);
  await producer.end();
  return streamer;
}

describe("file resetGroup", () => {
  const group = () =>
    ({ mode: "resumable", group: uniqueName("g"), autoStreamReset: "earliest" }) as const;

  it("moves a group to a seqNo, the beginning, the end or a time; the next consumer starts there", async () => {
    const streamer = await fileWith(["p1", "p2", "p3", "p4"]);
    const options = group();
    const read = async (count: number) => {
      const consumer = await streamer.createConsumer(["s"], options);
      const got = texts(await take(consumer, count));
      await consumer.end();
      return got;
    };
    assert.deepEqual(await read(4), ["p1", "p2", "p3", "p4"]);
    await streamer.resetGroup("s", options.group, { at: 2n });
    assert.deepEqual(await read(3), ["p2", "p3", "p4"]);
    await streamer.resetGroup("s", options.group, "beginning");
    assert.deepEqual(await read(1), ["p1"]);
    const before = new Date();
    await sleep(20);
    const producer = await streamer.createProducer("s");
    await producer.send("p5");
    await streamer.resetGroup("s", options.group, before);
    assert.deepEqual(await read(1), ["p5"]);
    await streamer.resetGroup("s", options.group, "end");
    await producer.send("p6");
    assert.deepEqual(await read(1), ["p6"]);
    await streamer.disconnect();
  });

  it("a group that has no commits yet starts at the position", async () => {
    const streamer = await fileWith(["n1", "n2", "n3"]);
    const options = { ...group(), autoStreamReset: "latest" } as const;
    await streamer.resetGroup("s", options.group, { at: 3n });
    const consumer = await streamer.createConsumer(["s"], options);
    assert.deepEqual(texts(await take(consumer, 1)), ["n3"]);
    await streamer.disconnect();
  });

  it("a running member of the group reads on from the new position", async () => {
    const streamer = await fileWith(["v1", "v2", "v3"]);
    const options = group();
    const consumer = await streamer.createConsumer(["s"], options);
    assert.deepEqual(texts(await take(consumer, 3)), ["v1", "v2", "v3"]);
    await streamer.resetGroup("s", options.group, "beginning");
    assert.deepEqual(texts(await take(consumer, 3)), ["v1", "v2", "v3"]);
    await streamer.resetGroup("s", options.group, { at: 3n });
    assert.deepEqual(texts(await take(consumer, 1)), ["v3"]);
    await consumer.end();
    const next = await streamer.createConsumer(["s"], options);
    const producer = await streamer.createProducer("s");
    await producer.send("v4");
    assert.deepEqual(texts(await take(next, 1)), ["v4"], "the member committed v3");
    await streamer.disconnect();
  });

  it("a stream the file does not hold is StreamKeyNotFound; a bad position is Unsupported", async () => {
    const streamer = await fileWith(["x"]);
    await rejectsWith(streamer.resetGroup("none", "g", "beginning"), "StreamKeyNotFound");
    await rejectsWith(
      streamer.resetGroup("s", "g", { at: 1 } as unknown as { at: bigint }),
      "Unsupported",
    );
    await streamer.disconnect();
  });
});

describe("file describeStream", () => {
  it("length, first and last seqNo, and each resumable group's lag", async () => {
    const streamer = await fileWith(["d1", "d2", "d3", "d4", "d5"]);
    const other = await streamer.createProducer("other");
    await other.send("o1");
    const options = {
      mode: "resumable",
      group: uniqueName("d"),
      autoStreamReset: "earliest",
    } as const;
    const consumer = await streamer.createConsumer(["s"], { ...options, autoCommit: false });
    await consumer.commit((await take(consumer, 2))[1]);
    await consumer.end();
    const info = await streamer.describeStream("s");
    assert.equal(info.length, 5);
    assert.equal(info.firstSeqNo, 1n);
    assert.equal(info.lastSeqNo, 5n);
    assert.equal(info.shards, 1);
    assert.deepEqual(info.groups, [{ name: options.group, members: 0, pending: 0, lag: 3 }]);
    assert.deepEqual((await streamer.describeStream("other")).groups, []);
    await rejectsWith(streamer.describeStream("none"), "StreamKeyNotFound");
    await streamer.disconnect();
  });
});

describe("file live: false", () => {
  it("a replay ends at what the file held when it began, whatever is written after", async () => {
    const streamer = await fileWith(["r1", "r2", "r3"]);
    const held = ["r1", "r2", "r3"];
    for (const options of [{ live: false }, { file: { live: false } }]) {
      const replay = await streamer.createConsumer(["s"], {
        autoStreamReset: "earliest",
        ...options,
      });
      await (await streamer.createProducer("s")).send("later");
      assert.deepEqual(texts(await take(replay, held.length)), held);
      await rejectsWith(replay.next(), "Closed");
      held.push("later");
    }
    const live = await streamer.createConsumer(["s"], { autoStreamReset: "earliest" });
    assert.deepEqual(texts(await take(live, 5)), ["r1", "r2", "r3", "later", "later"]);
    await streamer.disconnect();
  });
});
