/**
 * The Redis streamer's admin operations against a real server: listStreams,
 * describeStream (length, seqNos, shards, groups with pending and lag) and
 * trimStream (by length, seqNo, age), over every `stream:N` shard; and the universal
 * tests of `live: false` and `resetGroup`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { MessageHeader, Streamer } from "../mod.ts";
import { rejectsWith, uniqueName } from "./support/helpers.ts";
import { redisTestbed } from "./support/redis.ts";
import { adminSuite } from "./support/admin_suite.ts";
import { sleep } from "../runtime/mod.ts";

const { connect, rawClient } = redisTestbed();

async function produce(
  streamer: Streamer,
  stream: string,
  count: number,
  shards = 0,
): Promise<MessageHeader[]> {
  const producer = await streamer.createProducer(stream, { redis: { shards } });
  const receipts = await producer.sendBatch(Array.from({ length: count }, (_, i) => `m${i}`));
  await producer.end();
  return receipts;
}

const seqNos = (receipts: MessageHeader[]) => receipts.map((r) => r.seqNo);
const min = (values: bigint[]) => values.reduce((a, b) => a < b ? a : b);
const max = (values: bigint[]) => values.reduce((a, b) => a > b ? a : b);

describe("redis admin", () => {
  it("listStreams lists a sharded stream once", async () => {
    const streamer = await connect();
    const [plain, sharded] = [uniqueName("ls"), uniqueName("ls")];
    await produce(streamer, plain, 2);
    await produce(streamer, sharded, 6, 3);
    const listed = await streamer.listStreams();
    assert.ok(listed.includes(plain));
    assert.ok(listed.includes(sharded));
    assert.ok(!listed.some((key) => key.startsWith(`${sharded}:`)));
  });

  it("describeStream: length, seqNos, and each group's members, pending and lag", async () => {
    const streamer = await connect();
    const client = await rawClient();
    const stream = uniqueName("ds");
    await rejectsWith(streamer.describeStream(stream), "StreamKeyNotFound");
    const receipts = await produce(streamer, stream, 10);
    await client.xgroup("CREATE", stream, "caught-up", "$");
    await client.xgroup("CREATE", stream, "idle", "0");
    await client.xgroup("CREATE", stream, "reading", "0");
    const read = await client.xreadgroup(
      "GROUP",
      "reading",
      "member",
      "COUNT",
      4,
      "STREAMS",
      stream,
      ">",
    ) as [string, [string, string[]][]][];
    const ids = read[0][1].map(([id]) => id);
    await client.xack(stream, "reading", ids[0], ids[1]);
    const info = await streamer.describeStream(stream);
    assert.deepEqual(info, {
      length: 10,
      firstSeqNo: receipts[0].seqNo,
      lastSeqNo: receipts[9].seqNo,
      shards: 1,
      groups: [
        { name: "caught-up", members: 0, pending: 0, lag: 0 },
        { name: "idle", members: 0, pending: 0, lag: 10 },
        { name: "reading", members: 1, pending: 2, lag: 6 },
      ],
    });
  });

  it("describeStream: lag counts entries after the group's position, deleted ones aside", async () => {
    const streamer = await connect();
    const client = await rawClient();
    const stream = uniqueName("dl");
    const receipts = await produce(streamer, stream, 2500);
    await client.xgroup("CREATE", stream, "g", "0");
    await client.xreadgroup("GROUP", "g", "m", "COUNT", 100, "STREAMS", stream, ">");
    const read = await client.xrange(stream, "-", "+", "COUNT", 3) as [string, string[]][];
    await client.xdel(stream, read[2][0]); // an entry the group has read
    const [last] = await client.xrevrange(stream, "+", "-", "COUNT", 1) as [string, string[]][];
    await client.xdel(stream, last[0]); // one it has not
    const info = await streamer.describeStream(stream);
    assert.equal(info.length, 2498);
    assert.equal(info.firstSeqNo, receipts[0].seqNo);
    assert.equal(info.lastSeqNo, receipts[2498].seqNo);
    assert.deepEqual(info.groups, [{ name: "g", members: 1, pending: 100, lag: 2399 }]);
  });

  it("describeStream and trimStream cover every shard of a sharded stream", async () => {
    const streamer = await connect();
    const stream = uniqueName("dsh");
    const receipts = await produce(streamer, stream, 30, 3);
    const consumer = await streamer.createConsumer([stream], {
      mode: "load-balanced",
      group: "lb",
      autoStreamReset: "earliest",
      autoCommit: false,
    });
    const got = await consumer.nextBatch({ max: 30, signal: AbortSignal.timeout(10_000) });
    const info = await streamer.describeStream(stream);
    assert.equal(info.length, 30);
    assert.equal(info.shards, 3);
    assert.equal(info.firstSeqNo, min(seqNos(receipts)));
    assert.equal(info.lastSeqNo, max(seqNos(receipts)));
    assert.deepEqual(info.groups, [{
      name: "lb",
      members: 1,
      pending: got.length,
      lag: 30 - got.length,
    }]);
    assert.equal(await streamer.trimStream(stream, { maxLength: 4 }), 18);
    assert.equal((await streamer.describeStream(stream)).length, 12);
    await consumer.end();
  });

  it("trimStream by maxLength, minSeqNo and olderThan; how many were removed", async () => {
    const streamer = await connect();
    const client = await rawClient();
    const stream = uniqueName("tr");
    await rejectsWith(streamer.trimStream(stream, { maxLength: 1 }), "StreamKeyNotFound");
    const before = await produce(streamer, stream, 20);
    await sleep(5);
    const after = await produce(streamer, stream, 10);
    assert.equal(await streamer.trimStream(stream, { maxLength: 25 }), 5);
    assert.equal(await client.xlen(stream), 25);
    assert.equal(await streamer.trimStream(stream, { minSeqNo: before[10].seqNo }), 5);
    assert.equal((await streamer.describeStream(stream)).firstSeqNo, before[10].seqNo);
    assert.equal(await streamer.trimStream(stream, { olderThan: after[0].timestamp }), 10);
    assert.equal(await client.xlen(stream), 10);
    assert.equal(await streamer.trimStream(stream, { olderThan: new Date(0) }), 0);
    await rejectsWith(streamer.trimStream(stream, { maxLength: -1 }), "Unsupported");
    await rejectsWith(streamer.trimStream(stream, { maxLength: 1, minSeqNo: 1n }), "Unsupported");
    await rejectsWith(streamer.trimStream(stream, { olderThan: new Date(NaN) }), "Unsupported");
    assert.equal(await client.xlen(stream), 10);
  });
});

adminSuite({ name: "redis", connect });
