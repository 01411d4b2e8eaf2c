/**
 * NATS JetStream beyond the conformance suite, against the real server
 * (NATS_URL): consumers that end at what the stream held (`live: false`),
 * `stats().lag`, `trimStream` (JetStream's purge) and `resetGroup` (a durable
 * consumer made again at the new place).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { SeaStreamer, type Streamer } from "../mod.ts";
import { parseNatsUri } from "../backends/nats/mod.ts";
import { rejectsWith, take, texts, uniqueName, untilEnd } from "./support/helpers.ts";
import { NATS_URL, requireNats } from "./support/nats.ts";
import { adminSuite } from "./support/admin_suite.ts";
import { sleep } from "../runtime/mod.ts";

let streamer: Streamer;
let raw: NatsConnection;

before(async () => {
  await requireNats();
  streamer = await SeaStreamer.connect(NATS_URL);
  raw = await connect({ servers: parseNatsUri(NATS_URL).servers });
});
after(async () => {
  await streamer?.disconnect();
  await raw?.close();
});

/** A new stream holding `payloads`, sent in order. */
async function streamOf(payloads: readonly string[], prefix = "admin"): Promise<string> {
  const stream = uniqueName(prefix);
  const producer = await streamer.createProducer(stream);
  if (payloads.length > 0) await producer.sendBatch(payloads);
  await producer.end();
  return stream;
}

adminSuite({ name: "nats", connect: () => SeaStreamer.connect(NATS_URL) });

describe("nats consumer lag", () => {
  it("is what the server still holds for the consumer, as of the last message received", async () => {
    const stream = await streamOf(Array.from({ length: 50 }, (_, i) => `l${i}`));
    const consumer = await streamer.createConsumer([stream], {
      autoStreamReset: "earliest",
      prefetch: 10,
    });
    const first = consumer.stats().lag!;
    assert.ok(first >= 40 && first <= 50, `at most a prefetch of 10 fetched: lag ${first}`);
    await take(consumer, 50);
    assert.equal(consumer.stats().lag, 0);
    await consumer.end();
    const group = await streamer.createConsumer([stream], {
      mode: "resumable",
      group: uniqueName("g"),
      autoStreamReset: "earliest",
      prefetch: 10,
    });
    await take(group, 1);
    const lag = group.stats().lag!;
    assert.ok(lag >= 30 && lag < 50, `a group prefetching 10 of 50: lag ${lag}`);
    await group.end();
  });
});

describe("nats trimStream", () => {
  it("maxLength keeps the newest of each shard; minSeqNo and olderThan remove what is before", async () => {
    const stream = await streamOf(Array.from({ length: 10 }, (_, i) => `s${i}`));
    const js = jetstream(raw);
    for (let i = 0; i < 4; i++) await js.publish(`${stream}.1`, `other${i}`);
    assert.equal(await streamer.trimStream(stream, { maxLength: 3 }), 7 + 1);
    let info = await streamer.describeStream(stream);
    assert.equal(info.length, 6);
    assert.equal(info.shards, 2);
    assert.equal(await streamer.trimStream(stream, { maxLength: 3 }), 0);

    const seqStream = await streamOf(Array.from({ length: 10 }, (_, i) => `q${i}`));
    assert.equal(await streamer.trimStream(seqStream, { minSeqNo: 4n }), 3);
    info = await streamer.describeStream(seqStream);
    assert.equal(info.firstSeqNo, 4n);
    assert.equal(await streamer.trimStream(seqStream, { minSeqNo: 2n }), 0);

    const timeStream = await streamOf(["old1", "old2"]);
    await sleep(20);
    const cut = new Date();
    await sleep(20);
    const producer = await streamer.createProducer(timeStream);
    await producer.sendBatch(["new1", "new2"]);
    await producer.end();
    assert.equal(await streamer.trimStream(timeStream, { olderThan: cut }), 2);
    const consumer = await streamer.createConsumer([timeStream], {
      autoStreamReset: "earliest",
      live: false,
    });
    assert.deepEqual(await untilEnd(consumer), ["new1", "new2"]);
    await consumer.end();
    assert.equal(
      await streamer.trimStream(timeStream, { olderThan: new Date(Date.now() + 60_000) }),
      2,
    );
    assert.equal((await streamer.describeStream(timeStream)).length, 0);
  });

  it("a missing stream is StreamKeyNotFound; a bad option Unsupported", async () => {
    await rejectsWith(
      streamer.trimStream(uniqueName("none"), { maxLength: 1 }),
      "StreamKeyNotFound",
    );
    const stream = await streamOf(["x"]);
    await rejectsWith(streamer.trimStream(stream, { maxLength: -1 }), "Unsupported");
    await rejectsWith(streamer.trimStream(stream, {}), "Unsupported");
    await rejectsWith(streamer.trimStream(stream, { minSeqNo: 1n, maxLength: 1 }), "Unsupported");
  });
});

describe("nats resetGroup", () => {
  it("a live member reads on from the new position; the group's lag is 0 at the end", async () => {
    const stream = await streamOf(["v1", "v2", "v3"]);
    const options = {
      mode: "resumable",
      group: uniqueName("g"),
      autoStreamReset: "earliest",
    } as const;
    const consumer = await streamer.createConsumer([stream], options);
    assert.deepEqual(texts(await take(consumer, 3)), ["v1", "v2", "v3"]);
    await streamer.resetGroup(stream, options.group, "beginning");
    assert.deepEqual(texts(await take(consumer, 3)), ["v1", "v2", "v3"]);
    await consumer.end();
    await streamer.resetGroup(stream, options.group, "end");
    const [described] = (await streamer.describeStream(stream)).groups.filter((g) =>
      g.name === options.group
    );
    assert.equal(described.lag, 0);
  });
});
