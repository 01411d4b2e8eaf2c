/**
 * The Redis backend on a Redis Cluster of three masters started for this file
 * (scripts/redis_cluster.ts): the conformance suite, sharded streams spread over
 * the nodes, and a slot that moves to another node mid-run (MOVED).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "ioredis";
import { SeaStreamer } from "../mod.ts";
import { conformanceSuite } from "./support/conformance.ts";
import { capabilities as features } from "../backends/redis/capabilities.ts";
import { hashSlot } from "../backends/redis/slot.ts";
import { redisCli, startRedisCluster } from "../scripts/redis_cluster.ts";
import { take, texts, uniqueName } from "./support/helpers.ts";

const cluster = await startRedisCluster();
const admin = new Cluster([{ host: "127.0.0.1", port: cluster.nodes[0].port }]);
after(async () => {
  admin.disconnect();
  await cluster.stop();
});

conformanceSuite({
  name: "redis cluster",
  features,
  connect: () => SeaStreamer.connect(cluster.url),
});

/** The port of the master that serves `key`'s slot. */
async function ownerPort(key: string): Promise<number> {
  const slot = hashSlot(key);
  const slots = await admin.cluster("SLOTS") as unknown as [number, number, [string, number]][];
  for (const [from, to, [, port]] of slots) if (slot >= from && slot <= to) return port;
  throw new Error(`no owner for slot ${slot}`);
}

describe("redis cluster", () => {
  it("the URL's hosts are seeds: one seed is enough to reach every node", async () => {
    const seed = `redis://127.0.0.1:${cluster.nodes[1].port}`;
    const streamer = await SeaStreamer.connect(seed, { redis: { cluster: true } });
    try {
      const streams = Array.from({ length: 6 }, () => uniqueName("seed"));
      const consumer = await streamer.createConsumer(streams, { autoStreamReset: "earliest" });
      const producer = await streamer.createProducer();
      await Promise.all(streams.map((stream) => producer.sendTo(stream, stream)));
      assert.deepEqual(texts(await take(consumer, 6)).sort(), [...streams].sort());
    } finally {
      await streamer.disconnect();
    }
  });

  it("a sharded stream spreads over the nodes and is read whole", async () => {
    const streamer = await SeaStreamer.connect(cluster.url);
    try {
      const stream = uniqueName("sharded");
      const producer = await streamer.createProducer(stream, { redis: { shards: 6 } });
      const payloads = Array.from({ length: 600 }, (_, i) => `s${i}`);
      const receipts = await Promise.all(payloads.map((p) => producer.send(p)));
      assert.deepEqual(
        [...new Set(receipts.map((r) => r.shardId))].sort(),
        [0, 1, 2, 3, 4, 5],
      );
      const owners = new Set<number>();
      for (let shard = 0; shard < 6; shard++) owners.add(await ownerPort(`${stream}:${shard}`));
      assert.ok(owners.size >= 2, "the shards all landed on one node");
      for (const mode of ["real-time", "resumable"] as const) {
        const consumer = await streamer.createConsumer([stream], {
          autoStreamReset: "earliest",
          mode,
          group: mode === "resumable" ? uniqueName("g") : undefined,
        });
        const messages = await take(consumer, 600, 30_000);
        assert.deepEqual(texts(messages).sort(), [...payloads].sort());
        for (let shard = 0; shard < 6; shard++) {
          const mine = messages.filter((m) => m.header.shardId === shard);
          assert.deepEqual(texts(mine), payloads.filter((_, i) => i % 6 === shard));
        }
        await consumer.end();
      }
      const listed = await streamer.listStreams();
      assert.equal(listed.filter((s) => s === stream).length, 1);
    } finally {
      await streamer.disconnect();
    }
  });

  it("a slot that moves to another node mid-run: MOVED is followed, nothing lost", async () => {
    const streamer = await SeaStreamer.connect(cluster.url);
    try {
      const stream = uniqueName("moving");
      const consumer = await streamer.createConsumer([stream], {
        mode: "resumable",
        group: uniqueName("g"),
      });
      const producer = await streamer.createProducer(stream);
      await Promise.all(Array.from({ length: 50 }, (_, i) => producer.send(`before${i}`)));
      // Move the stream's slot from its owner to another master, key and all.
      const slot = hashSlot(stream);
      const from = await ownerPort(stream);
      const to = cluster.nodes.find((node) => node.port !== from)!.port;
      const id = async (port: number) =>
        (await redisCli(["-p", String(port), "cluster", "myid"])).trim();
      const [fromId, toId] = [await id(from), await id(to)];
      await redisCli(["-p", String(to), "cluster", "setslot", String(slot), "importing", fromId]);
      await redisCli(["-p", String(from), "cluster", "setslot", String(slot), "migrating", toId]);
      await redisCli([
        "-p",
        String(from),
        "migrate",
        "127.0.0.1",
        String(to),
        "",
        "0",
        "5000",
        "KEYS",
        stream,
      ]);
      for (const node of cluster.nodes) {
        await redisCli(["-p", String(node.port), "cluster", "setslot", String(slot), "node", toId]);
      }
      assert.equal(await ownerPort(stream), to);
      await Promise.all(Array.from({ length: 50 }, (_, i) => producer.send(`after${i}`)));
      const got = texts(await take(consumer, 100, 30_000));
      for (let i = 0; i < 50; i++) {
        assert.ok(got.includes(`before${i}`) && got.includes(`after${i}`), `lost message ${i}`);
      }
    } finally {
      await streamer.disconnect();
    }
  });
});
