/**
 * SeaStreamer's Redis scenarios (sea-streamer-redis/tests) on seastreamer, plus
 * what only Redis has: entry fields shared with other clients, sharding,
 * trimming, MKSTREAM and failover of a dead member's entries.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { Buffer } from "node:buffer";
import {
  type ConsumerOptions,
  type Message,
  SeaStreamer,
  type Streamer,
  type StreamError,
} from "../mod.ts";
import { RedisMessage } from "../backends/redis/mod.ts";
import { expectNothing, rejectsWith, take, texts, uniqueName } from "./support/helpers.ts";
import { REDIS_URL, redisTestbed, requireRedis } from "./support/redis.ts";
import { sleep } from "../runtime/mod.ts";

const { connect, rawClient, streamers } = redisTestbed();

const numbered = (count: number, prefix = "m") =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

async function produce(streamer: Streamer, stream: string, payloads: string[]) {
  const producer = await streamer.createProducer(stream);
  const receipts = payloads.map((p) => producer.send(p));
  await producer.end();
  return await Promise.all(receipts);
}

describe("redis scenarios", () => {
  it("real-time over several streams: latest sees only new messages, earliest everything", async () => {
    const streamer = await connect();
    const streams = [uniqueName("a"), uniqueName("b"), uniqueName("c")];
    for (const stream of streams) await produce(streamer, stream, [`${stream}-old`]);
    const latest = await streamer.createConsumer(streams);
    const earliest = await streamer.createConsumer(streams, { autoStreamReset: "earliest" });
    for (const stream of streams) await produce(streamer, stream, [`${stream}-new`]);
    const fresh = texts(await take(latest, 3)).sort();
    assert.deepEqual(fresh, streams.map((s) => `${s}-new`).sort());
    await expectNothing(latest);
    const all = texts(await take(earliest, 6)).sort();
    assert.deepEqual(all, streams.flatMap((s) => [`${s}-new`, `${s}-old`]).sort());
  });

  it("starvation: a busy stream does not hold back a quiet one", async () => {
    const streamer = await connect();
    const [busy, quiet] = [uniqueName("busy"), uniqueName("quiet")];
    await produce(streamer, busy, numbered(5000, "b"));
    await produce(streamer, quiet, ["q0"]);
    for (const mode of ["real-time", "resumable"] as const) {
      const consumer = await streamer.createConsumer([busy, quiet], {
        autoStreamReset: "earliest",
        mode,
        group: mode === "real-time" ? undefined : uniqueName("g"),
        prefetch: 100,
      });
      const first = texts(await take(consumer, 300));
      assert.ok(first.includes("q0"), `${mode}: the quiet stream waited behind the busy one`);
      await consumer.end();
    }
  });

  it("starvation: a stream that is quiet (or missing) at start is read once it gets messages", async () => {
    const streamer = await connect();
    const [busy, late] = [uniqueName("busy"), uniqueName("late")];
    const consumer = await streamer.createConsumer([busy, late], { prefetch: 50 });
    const producer = await streamer.createProducer();
    for (let i = 0; i < 2000; i++) producer.sendTo(busy, `b${i}`);
    await producer.flush();
    await producer.sendTo(late, "late0");
    const got = texts(await take(consumer, 2001, 30_000));
    assert.ok(got.includes("late0"));
    assert.deepEqual(got.filter((t) => t.startsWith("b")), numbered(2000, "b"));
  });

  for (const mode of ["resumable", "load-balanced"] as const) {
    describe(`${mode}: commit modes`, () => {
      const base = (group: string): ConsumerOptions => ({
        mode,
        group,
        autoStreamReset: "earliest",
        // A load-balanced member's entries go to the next member once idle this long.
        redis: mode === "load-balanced" ? { claimIdleMs: 200 } : { consumerName: group },
      });

      it("autoCommit: a restarted consumer continues after the last message it was given", async () => {
        const streamer = await connect();
        const stream = uniqueName();
        const group = uniqueName("g");
        await produce(streamer, stream, numbered(20));
        const first = await streamer.createConsumer([stream], base(group));
        assert.deepEqual(texts(await take(first, 8)), numbered(8));
        await first.end();
        const second = await streamer.createConsumer([stream], base(group));
        assert.deepEqual(texts(await take(second, 12)), numbered(20).slice(8));
        await expectNothing(second, 500);
        await second.end();
      });

      it("commit every message by hand", async () => {
        const streamer = await connect();
        const stream = uniqueName();
        const group = uniqueName("g");
        await produce(streamer, stream, numbered(10));
        const options = { ...base(group), autoCommit: false };
        const first = await streamer.createConsumer([stream], options);
        for (const message of await take(first, 5)) await first.commit(message);
        await first.end();
        const second = await streamer.createConsumer([stream], options);
        assert.deepEqual(texts(await take(second, 5)), numbered(10).slice(5));
        await second.end();
      });

      it("commit the last of a batch: everything before it on the shard is done", async () => {
        const streamer = await connect();
        const stream = uniqueName();
        const group = uniqueName("g");
        await produce(streamer, stream, numbered(10));
        const options = { ...base(group), autoCommit: false };
        const first = await streamer.createConsumer([stream], options);
        const batch = await take(first, 7);
        await first.commit(batch[6]);
        await first.end();
        const second = await streamer.createConsumer([stream], options);
        assert.deepEqual(texts(await take(second, 3)), ["m7", "m8", "m9"]);
        await expectNothing(second, 500);
        await second.end();
      });

      it("no commit: everything comes again", async () => {
        const streamer = await connect();
        const stream = uniqueName();
        const group = uniqueName("g");
        await produce(streamer, stream, numbered(6));
        const options = { ...base(group), autoCommit: false };
        const first = await streamer.createConsumer([stream], options);
        assert.deepEqual(texts(await take(first, 6)), numbered(6));
        await first.end();
        const second = await streamer.createConsumer([stream], options);
        assert.deepEqual(texts(await take(second, 6)), numbered(6));
        await second.end();
      });
    });
  }

  it("load-balanced: two members split a stream, each message once", async () => {
    const streamer = await connect();
    const stream = uniqueName();
    const group = uniqueName("lb");
    const options: ConsumerOptions = { mode: "load-balanced", group, prefetch: 5 };
    const [a, b] = [
      await streamer.createConsumer([stream], options),
      await streamer.createConsumer([stream], options),
    ];
    await produce(streamer, stream, numbered(200));
    const got: Message[][] = [[], []];
    const drain = async (consumer: typeof a, into: Message[]) => {
      while (got[0].length + got[1].length < 200) {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(new Error("idle")), 300);
        try {
          into.push(await consumer.next(controller.signal));
          await sleep(1); // a slow worker: let the other member take its share
        } catch (error) {
          if ((error as Error).message !== "idle") throw error;
        } finally {
          clearTimeout(timer);
        }
      }
    };
    await Promise.all([drain(a, got[0]), drain(b, got[1])]);
    const all = [...texts(got[0]), ...texts(got[1])];
    assert.equal(new Set(all).size, 200);
    assert.ok(got[0].length > 0 && got[1].length > 0, "one member got nothing");
  });

  it("a load-balanced member that ends holding nothing leaves the group; one holding entries stays", async () => {
    const streamer = await connect();
    const client = await rawClient();
    const stream = uniqueName();
    const group = uniqueName("lb");
    const options: ConsumerOptions = {
      mode: "load-balanced",
      group,
      autoStreamReset: "earliest",
      redis: { claimIdleMs: 60_000 },
    };
    await produce(streamer, stream, numbered(2));
    const done = await streamer.createConsumer([stream], options);
    await take(done, 2);
    await done.end(); // its last message is committed on end: it holds nothing
    const holding = await streamer.createConsumer([stream], { ...options, autoCommit: false });
    await produce(streamer, stream, numbered(2));
    await take(holding, 2);
    await holding.end();
    const members = await client.xinfo("CONSUMERS", stream, group) as unknown[][];
    assert.equal(members.length, 1, "one member left");
    assert.equal(members[0][3], 2, "the member that stayed holds its 2 entries");
  });

  it("failover: what a dead member never acknowledged goes to a living one", async () => {
    const streamer = await connect();
    const stream = uniqueName();
    const group = uniqueName("lb");
    const options: ConsumerOptions = {
      mode: "load-balanced",
      group,
      autoStreamReset: "earliest",
      autoCommit: false,
      redis: { claimIdleMs: 300 },
    };
    await produce(streamer, stream, numbered(10));
    const dead = await streamer.createConsumer([stream], options);
    assert.deepEqual(texts(await take(dead, 10)), numbered(10));
    await dead.end(); // never acknowledged: its entries stay pending under its name
    const living = await streamer.createConsumer([stream], options);
    const claimed = await take(living, 10, 10_000);
    assert.deepEqual(texts(claimed), numbered(10));
    for (const message of claimed) await living.commit(message);
    const client = await rawClient();
    const [count] = await client.xpending(stream, group) as [number];
    assert.equal(count, 0);
  });

  for (const batch of [1, 5, 25]) {
    it(`rewind with prefetch ${batch}`, async () => {
      const streamer = await connect();
      const stream = uniqueName();
      const receipts = await produce(streamer, stream, numbered(100));
      const consumer = await streamer.createConsumer([stream], {
        autoStreamReset: "earliest",
        prefetch: batch,
      });
      assert.deepEqual(texts(await take(consumer, 50)), numbered(50));
      await consumer.rewind({ at: receipts[10].seqNo });
      assert.deepEqual(texts(await take(consumer, 5)), numbered(15).slice(10));
      await consumer.rewind("beginning");
      assert.deepEqual(texts(await take(consumer, 100)), numbered(100));
      await consumer.seek(receipts[70].timestamp);
      const next = (await take(consumer, 1))[0];
      assert.ok(next.header.timestamp.getTime() >= receipts[70].timestamp.getTime());
      assert.ok(next.header.seqNo <= receipts[70].seqNo);
      await consumer.rewind("end");
      await expectNothing(consumer);
    });
  }

  it("sharding: 3 shards round-robin, and by key hash", async () => {
    const streamer = await connect();
    const stream = uniqueName("sh");
    const consumer = await streamer.createConsumer([stream], {
      autoStreamReset: "earliest",
      redis: { shardScanMs: 100 },
    });
    const producer = await streamer.createProducer(stream, { redis: { shards: 3 } });
    const receipts = await Promise.all(numbered(30).map((p) => producer.send(p)));
    assert.deepEqual(receipts.map((r) => r.shardId), numbered(30).map((_, i) => i % 3));
    const messages = await take(consumer, 30, 10_000);
    for (let shard = 0; shard < 3; shard++) {
      const mine = messages.filter((m) => m.header.shardId === shard);
      assert.deepEqual(texts(mine), numbered(30).filter((_, i) => i % 3 === shard));
    }
    const client = await rawClient();
    assert.equal(await client.xlen(`${stream}:1`), 10);
    const keyed = await streamer.createProducer(uniqueName("kh"), {
      redis: { shards: 3, sharder: "key-hash" },
    });
    const byKey = await Promise.all(
      ["a", "b", "a", "c", "a"].map((key) => keyed.send(key, { key })),
    );
    assert.equal(byKey[0].shardId, byKey[2].shardId);
    assert.equal(byKey[0].shardId, byKey[4].shardId);
  });

  it("sharding over connections of the producer's own: every shard written, in order", async () => {
    const streamer = await connect();
    const client = await rawClient();
    const stream = uniqueName("shc");
    const name = uniqueName("conns");
    const clients = async () =>
      (await client.call("CLIENT", "LIST") as string).split("\n").filter((line) =>
        line.includes(`name=${name}`)
      ).length;
    const own = await SeaStreamer.connect(REDIS_URL, { redis: { connectionName: name } });
    streamers.push(own);
    const producer = await own.createProducer(stream, { redis: { shards: 3, connections: 3 } });
    assert.equal(await clients(), 4, "the streamer's connection and three of the producer's");
    const receipts = await producer.sendBatch(numbered(300));
    assert.deepEqual(receipts.map((r) => r.shardId), numbered(300).map((_, i) => i % 3));
    const consumer = await streamer.createConsumer([stream], { autoStreamReset: "earliest" });
    const messages = await take(consumer, 300, 10_000);
    for (let shard = 0; shard < 3; shard++) {
      const mine = messages.filter((m) => m.header.shardId === shard);
      assert.deepEqual(texts(mine), numbered(300).filter((_, i) => i % 3 === shard));
    }
    await producer.end();
    assert.equal(await clients(), 1, "the producer's connections close with it");
    await rejectsWith(own.createProducer(stream, { redis: { connections: 0 } }), "Unsupported");
    await rejectsWith(
      own.createProducer(stream, { redis: { shards: 2, connections: 3 } }),
      "Unsupported",
    );
  });

  it("a move or end during a blocking read does not wait for the block to time out", async () => {
    const streamer = await connect();
    const stream = uniqueName("blk");
    await produce(streamer, stream, ["a", "b"]);
    for (const mode of ["real-time", "resumable"] as const) {
      const consumer = await streamer.createConsumer([stream], {
        mode,
        group: mode === "resumable" ? uniqueName("g") : undefined,
        autoStreamReset: "earliest",
        redis: { blockMs: 20_000 },
      });
      assert.deepEqual(texts(await take(consumer, 2)), ["a", "b"]);
      await sleep(100); // the next read is blocked now
      let started = Date.now();
      await consumer.rewind("beginning");
      assert.ok(Date.now() - started < 2000, `${mode}: rewind took ${Date.now() - started} ms`);
      assert.deepEqual(texts(await take(consumer, 2)), ["a", "b"]);
      await sleep(100);
      started = Date.now();
      await consumer.end();
      assert.ok(Date.now() - started < 2000, `${mode}: end took ${Date.now() - started} ms`);
    }
  });

  it("text() of a payload holding U+FFFD is that text; of bad UTF-8 a Utf8Error", async () => {
    const streamer = await connect();
    const client = await rawClient();
    const stream = uniqueName("utf");
    const consumer = await streamer.createConsumer([stream], { autoStreamReset: "earliest" });
    await produce(streamer, stream, ["a\uFFFDb", "ünïcödé"]);
    await client.xadd(stream, "*", "msg", Buffer.from([0x61, 0xff, 0x62]));
    const [replacement, accented, bad] = await take(consumer, 3);
    assert.equal(replacement.payload.text(), "a\uFFFDb");
    assert.equal(accented.payload.text(), "ünïcödé");
    assert.throws(() => bad.payload.text(), (error) => (error as StreamError).code === "Utf8Error");
  });

  it("a group's stream is created with MKSTREAM, or missing without it", async () => {
    const streamer = await connect();
    const client = await rawClient();
    const missing = uniqueName("nomk");
    await rejectsWith(
      streamer.createConsumer([missing], {
        mode: "resumable",
        group: "g",
        redis: { mkstream: false },
      }),
      "StreamKeyNotFound",
    );
    assert.equal(await client.exists(missing), 0);
    const made = uniqueName("mk");
    const consumer = await streamer.createConsumer([made], { mode: "resumable", group: "g" });
    assert.equal(await client.exists(made), 1);
    await consumer.end();
    const existing = await streamer.createConsumer([made], {
      mode: "resumable",
      group: "g2",
      redis: { mkstream: false },
    });
    await existing.end();
  });

  it("entries are shared with other clients: field msg, key and headers", async () => {
    const streamer = await connect();
    const client = await rawClient();
    const stream = uniqueName();
    const consumer = await streamer.createConsumer([stream], { autoStreamReset: "earliest" });
    await client.xadd(stream, "*", "other", "x", "msg", "from another client");
    const producer = await streamer.createProducer(stream);
    await producer.send("with extras", { key: "k1", headers: { trace: "t-1" } });
    const [foreign, ours] = await take(consumer, 2);
    assert.equal(foreign.payload.text(), "from another client");
    assert.ok(ours instanceof RedisMessage);
    assert.equal(ours.key, "k1");
    assert.deepEqual(ours.headers, { trace: "t-1" });
    const [[, fields]] = await client.xrange(stream, "-", "+", "COUNT", 1, ...[]) as [
      string,
      string[],
    ][];
    assert.deepEqual(fields, ["other", "x", "msg", "from another client"]);
    const entries = await client.xrange(stream, "-", "+");
    assert.deepEqual(entries[1][1], ["msg", "with extras", "key", "k1", "header:trace", "t-1"]);
  });

  it("the URL's db is used; refused credentials are Connect errors without the password", async () => {
    await requireRedis();
    const base = REDIS_URL.replace(/\/\d*$/, "");
    const streamer = await SeaStreamer.connect(`${base}/3`);
    streamers.push(streamer);
    const stream = uniqueName("db");
    await produce(streamer, stream, ["in db 3"]);
    const db3 = new Redis(`${base}/3`);
    try {
      assert.equal(await db3.xlen(stream), 1);
      assert.equal(await (await rawClient()).exists(stream), 0);
    } finally {
      db3.disconnect();
    }
    const bad = base.replace("redis://", "redis://nobody:hunter2@");
    const error = await rejectsWith(SeaStreamer.connect(bad, { timeoutMs: 3000 }), "Connect");
    assert.match(error.message, /WRONGPASS|NOAUTH|AUTH/);
    assert.doesNotMatch(error.message, /hunter2/);
  });

  it("a custom payload field; trimming with maxLen", async () => {
    await requireRedis();
    const streamer = await SeaStreamer.connect(REDIS_URL, { redis: { payloadField: "body" } });
    streamers.push(streamer);
    const client = await rawClient();
    const stream = uniqueName();
    const producer = await streamer.createProducer(stream, { redis: { maxLen: 10 } });
    for (let i = 0; i < 1000; i++) producer.send(`t${i}`);
    await producer.flush();
    const length = await client.xlen(stream);
    assert.ok(length < 1000 && length >= 10, `stream not trimmed: ${length} entries`);
    const [[, fields]] = await client.xrevrange(stream, "+", "-", "COUNT", 1);
    assert.deepEqual(fields, ["body", "t999"]);
  });
});
