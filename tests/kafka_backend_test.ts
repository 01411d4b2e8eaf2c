/**
 * What the Kafka backend does beyond the conformance suite: keys and headers,
 * partitions, the commit rule, assign/unassign, bounded prefetch with live
 * heartbeats, producer options, connection errors, and the CLI on kafka URLs.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Consumer, type Message, SeaStreamer, type Streamer } from "../mod.ts";
import { connect as connectKafka, type DriverConfig, KafkaMessage } from "../backends/kafka/mod.ts";
import { createKafkajsDriver } from "../backends/kafka/kafkajs_driver.ts";
import { createPlatformaticDriver } from "../backends/kafka/platformatic_driver.ts";
import { MultipleErrors, NetworkError } from "@platformatic/kafka";
import { sleep } from "../runtime/mod.ts";
import { expectNothing, rejectsWith, take, texts, uniqueName } from "./support/helpers.ts";
import { KAFKA_DRIVER, KAFKA_URL, kafkajs, requireKafka } from "./support/kafka.ts";
import { runCli } from "./support/spawn.ts";

async function connect(options: Parameters<typeof SeaStreamer.connect>[1] = {}) {
  await requireKafka();
  return await SeaStreamer.connect(KAFKA_URL, options);
}

/** The driver of this run (`KAFKA_DRIVER`), made as the backend makes it. */
function makeDriver(config: DriverConfig) {
  return (KAFKA_DRIVER === "platformatic" ? createPlatformaticDriver : createKafkajsDriver)(config);
}

async function withStreamer(
  body: (streamer: Streamer) => Promise<void>,
  options: Parameters<typeof SeaStreamer.connect>[1] = {},
): Promise<void> {
  const streamer = await connect(options);
  try {
    await body(streamer);
  } finally {
    await streamer.disconnect();
  }
}

/** Take messages until none comes for `quietMs`. */
async function drain(consumer: Consumer, quietMs = 1000): Promise<Message[]> {
  const messages: Message[] = [];
  while (true) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error("quiet")), quietMs);
    try {
      messages.push(await consumer.next(controller.signal));
    } catch (error) {
      if ((error as Error).message === "quiet") return messages;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

describe("kafka backend", () => {
  it("keys and headers round-trip; a key picks one partition", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("kh");
      const producer = await streamer.createProducer(topic);
      const consumer = await streamer.createConsumer([topic], { autoStreamReset: "earliest" });
      const receipts = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          producer.send(`v${i}`, {
            key: i % 2 === 0 ? "even" : "odd",
            headers: { n: String(i), "content-type": "text/plain" },
          })),
      );
      const evens = new Set(receipts.filter((_, i) => i % 2 === 0).map((r) => r.shardId));
      const odds = new Set(receipts.filter((_, i) => i % 2 === 1).map((r) => r.shardId));
      assert.equal(evens.size, 1, "one key, one partition");
      assert.equal(odds.size, 1, "one key, one partition");
      const messages = await take(consumer, 20);
      const byText = new Map(messages.map((m) => [m.payload.text(), m]));
      for (let i = 0; i < 20; i++) {
        const message = byText.get(`v${i}`);
        assert.ok(message instanceof KafkaMessage);
        assert.equal(new TextDecoder().decode(message.key), i % 2 === 0 ? "even" : "odd");
        assert.deepEqual(message.headers, { n: String(i), "content-type": "text/plain" });
        assert.equal(message.header.shardId, receipts[i].shardId);
        assert.equal(message.header.seqNo, receipts[i].seqNo);
        assert.equal(message.header.timestamp.getTime(), receipts[i].timestamp.getTime());
      }
      await rejectsWith(producer.send("x", { key: 5 as unknown as string }), "Unsupported");
      await rejectsWith(producer.flush(), "Unsupported");
    }, { kafka: { partitions: 4 } });
  });

  it("shardId is the partition, seqNo the offset: partitions count from 0 each", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("p");
      const producer = await streamer.createProducer(topic);
      const receipts = await Promise.all(
        Array.from({ length: 30 }, (_, i) => producer.send(`m${i}`)),
      );
      const perPartition = new Map<number, bigint[]>();
      for (const r of receipts) {
        perPartition.set(r.shardId, [...(perPartition.get(r.shardId) ?? []), r.seqNo]);
      }
      assert.equal(perPartition.size, 3, "messages without a key spread over the partitions");
      for (const offsets of perPartition.values()) {
        assert.deepEqual(offsets, offsets.map((_, i) => BigInt(i)));
      }
    }, { kafka: { partitions: 3 } });
  });

  it("commit(msg) stores the next offset: a restarted group starts right after msg", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("c");
      const group = uniqueName("g");
      const producer = await streamer.createProducer(topic);
      for (let i = 0; i < 10; i++) producer.send(`c${i}`);
      await producer.flush();
      const options = {
        mode: "resumable",
        group,
        autoStreamReset: "earliest",
        autoCommit: false,
      } as const;
      const first = await streamer.createConsumer([topic], options);
      const got = await take(first, 5);
      await first.commit(got[2]); // c0..c2 done
      await first.commit(got[4].header); // a header works too: c0..c4
      await first.commit(got[1]); // an explicit commit may move back: c0..c1
      await first.end();
      const second = await streamer.createConsumer([topic], options);
      assert.deepEqual(texts(await take(second, 3)), ["c2", "c3", "c4"]);
      await rejectsWith(
        second.commit({ ...got[0].header, streamKey: uniqueName("other") }),
        "StreamKeyNotFound",
      );
      await second.end();
    });
  });

  it("autoCommit commits what was handed out when the next one is asked for, and on end()", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("ac");
      const group = uniqueName("g");
      const producer = await streamer.createProducer(topic);
      for (let i = 0; i < 6; i++) producer.send(`a${i}`);
      await producer.flush();
      const options = { mode: "resumable", group, autoStreamReset: "earliest" } as const;
      const first = await streamer.createConsumer([topic], options);
      assert.deepEqual(texts(await take(first, 3)), ["a0", "a1", "a2"]);
      await first.end(); // commits a2, which was handed out
      const second = await streamer.createConsumer([topic], options);
      assert.deepEqual(texts(await take(second, 3)), ["a3", "a4", "a5"]);
      await second.end();
    });
  });

  it("assign/unassign choose the partitions a consumer reads", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("as");
      const producer = await streamer.createProducer(topic);
      await producer.send("create");
      const consumer = await streamer.createConsumer([topic]);
      consumer.unassign(topic, 1);
      const receipts = await Promise.all(
        Array.from({ length: 30 }, (_, i) => producer.send(`u${i}`)),
      );
      const expected = receipts.filter((r) => r.shardId !== 1).length;
      const got = await take(consumer, expected);
      assert.ok(got.every((m) => m.header.shardId !== 1), "an unassigned partition was read");
      await expectNothing(consumer, 500);
      // Reading it again continues where it stopped.
      consumer.assign(topic, 1);
      const fromOne = await take(consumer, 30 - expected);
      assert.ok(fromOne.every((m) => m.header.shardId === 1));
      assert.deepEqual(
        fromOne.map((m) => m.header.seqNo),
        receipts.filter((r) => r.shardId === 1).map((r) => r.seqNo),
      );
      await rejectsWith(() => consumer.assign(uniqueName("nope"), 0), "StreamKeyNotFound");
      await rejectsWith(() => consumer.assign(topic, 7), "StreamKeyNotFound");
      // Only partition 2: the first assign() narrows the consumer.
      const only = await streamer.createConsumer([topic]);
      only.assign(topic, 2);
      const more = await Promise.all(
        Array.from({ length: 30 }, (_, i) => producer.send(`o${i}`)),
      );
      const onTwo = more.filter((r) => r.shardId === 2);
      const got2 = await take(only, onTwo.length);
      assert.deepEqual(got2.map((m) => m.header.seqNo), onTwo.map((r) => r.seqNo));
      await expectNothing(only, 500);
      await rejectsWith(() => only.unassign(topic, 2), "StreamKeyEmpty");
      const balanced = await streamer.createConsumer([topic], {
        mode: "load-balanced",
        group: uniqueName("g"),
      });
      await rejectsWith(() => balanced.assign(topic, 0), "Unsupported");
    }, { kafka: { partitions: 3 } });
  });

  it("rewind and seek move every partition; rewind past the end waits for that offset", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("rw");
      const producer = await streamer.createProducer(topic);
      const early = await Promise.all(Array.from({ length: 12 }, (_, i) => producer.send(`e${i}`)));
      await sleep(30);
      const cut = new Date();
      await sleep(30);
      await Promise.all(Array.from({ length: 12 }, (_, i) => producer.send(`l${i}`)));
      const consumer = await streamer.createConsumer([topic], { autoStreamReset: "earliest" });
      await consumer.seek(cut);
      const late = await take(consumer, 12);
      assert.deepEqual(texts(late).sort(), Array.from({ length: 12 }, (_, i) => `l${i}`).sort());
      await expectNothing(consumer, 300);
      await consumer.rewind({ at: 2n });
      const fromTwo = await drain(consumer, 800);
      assert.ok(fromTwo.every((m) => m.header.seqNo >= 2n));
      assert.equal(fromTwo.length, 24 - 3 * 2);
      // Past the end: nothing until a partition reaches that offset.
      assert.equal(early.length, 12);
      await consumer.rewind({ at: 10n });
      await Promise.all(Array.from({ length: 30 }, (_, i) => producer.send(`n${i}`)));
      const after = await drain(consumer, 800);
      assert.ok(after.length > 0 && after.every((m) => m.header.seqNo >= 10n));
    }, { kafka: { partitions: 3 } });
  });

  it("a slow consumer stays in its group while it reads nothing", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("slow");
      const group = uniqueName("g");
      const producer = await streamer.createProducer(topic);
      const created = await producer.send("create");
      const options = {
        mode: "load-balanced",
        group,
        autoStreamReset: "earliest",
        prefetch: 5,
        kafka: { sessionTimeoutMs: 6000 },
      } as const;
      const slow = await streamer.createConsumer([topic], options);
      const fast = await streamer.createConsumer([topic], options);
      const payloads = Array.from({ length: 2000 }, (_, i) => `s${i}`);
      // Keyed: both partitions get some.
      const receipts = await Promise.all(payloads.map((p) => producer.send(p, { key: p })));
      // The fast member reads its partition all along; the slow one reads nothing for
      // longer than the session timeout. Had its heartbeats stopped, the group would
      // move its partition to the fast member.
      const fastSeen: Message[] = [];
      const stop = new AbortController();
      const reading = (async () => {
        while (!stop.signal.aborted) fastSeen.push(await fast.next(stop.signal));
      })();
      reading.catch(() => {});
      await sleep(8000);
      // Each member holds one of the two partitions: the fast one read only its own all along.
      const fastPartitions = new Set(fastSeen.map((m) => m.header.shardId));
      assert.equal(fastPartitions.size, 1, "the slow member's partition went to the other member");
      const slowPartition = 1 - [...fastPartitions][0];
      const mine = receipts.filter((r) => r.shardId === slowPartition);
      const extra = created.shardId === slowPartition ? 1 : 0;
      const got = await take(slow, mine.length + extra, 30_000);
      assert.deepEqual(got.slice(extra).map((m) => m.header.seqNo), mine.map((r) => r.seqNo));
      stop.abort();
    }, { kafka: { partitions: 2 } });
  });

  it("a real-time consumer cannot have a group; a missing topic without autoCreateTopics", async () => {
    await withStreamer(async (streamer) => {
      await rejectsWith(
        streamer.createConsumer([uniqueName()], { group: "g" }),
        "ConsumerGroupIsSet",
      );
    });
    await withStreamer(async (streamer) => {
      const missing = uniqueName("missing");
      await rejectsWith(streamer.createConsumer([missing]), "StreamKeyNotFound");
      const producer = await streamer.createProducer(missing);
      await rejectsWith(producer.send("x"), "StreamKeyNotFound");
      await rejectsWith(producer.flush(), "StreamKeyNotFound");
    }, { kafka: { autoCreateTopics: false } });
  });

  it("an anchored producer looks its topic up when created (none is created until a send)", async () => {
    await requireKafka();
    const lookups: string[][] = [];
    const streamer = await connectKafka(KAFKA_URL, {}, async (config) => {
      const driver = await makeDriver(config);
      const partitions = driver.partitions.bind(driver);
      driver.partitions = (topics) => {
        lookups.push([...topics]);
        return partitions(topics);
      };
      return driver;
    });
    try {
      const topic = uniqueName("anchored");
      await withStreamer(async (other) => {
        await (await other.createProducer(topic)).send("first");
      });
      const producer = await streamer.createProducer(topic);
      assert.deepEqual(lookups, [[topic]]);
      assert.equal((await producer.send("second")).seqNo, 1n);
      assert.deepEqual(lookups, [[topic]], "the first send looks nothing up");

      const missing = uniqueName("anchored-missing");
      const waiting = await streamer.createProducer(missing);
      assert.deepEqual(lookups.slice(1), [[missing]]);
      assert.ok(!(await streamer.listStreams()).includes(missing), "created by a send only");
      assert.equal((await waiting.send("x")).seqNo, 0n);
      assert.ok((await streamer.listStreams()).includes(missing));
    } finally {
      await streamer.disconnect();
    }
  });

  it("producer options: gzip, idempotent, acks 1 and 0", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("po");
      const consumer = await streamer.createConsumer([topic], { autoStreamReset: "earliest" });
      const gzip = await streamer.createProducer(topic, { kafka: { compression: "gzip" } });
      const idempotent = await streamer.createProducer(topic, { kafka: { idempotent: true } });
      const leader = await streamer.createProducer(topic, { kafka: { acks: 1 } });
      const none = await streamer.createProducer(topic, { kafka: { acks: 0 } });
      const big = "z".repeat(10_000);
      const r1 = await gzip.send(big);
      const r2 = await idempotent.send("idempotent");
      const r3 = await leader.send("acks=1");
      assert.deepEqual([r1.seqNo, r2.seqNo, r3.seqNo], [0n, 1n, 2n]);
      const r4 = await none.send("acks=0");
      assert.equal(r4.seqNo, -1n, "acks=0: the broker tells no offset");
      assert.deepEqual(texts(await take(consumer, 4)), [big, "idempotent", "acks=1", "acks=0"]);
      await rejectsWith(
        streamer.createProducer(topic, { kafka: { idempotent: true, acks: 1 } }),
        "Unsupported",
      );
      await rejectsWith(
        streamer.createProducer(topic, { kafka: { compression: "lz4" as "gzip" } }),
        "Unsupported",
      );
    });
  });

  it("a rewind into a compressed batch starts at the offset asked for, with the right offsets", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("gz");
      const producer = await streamer.createProducer(topic, { kafka: { compression: "gzip" } });
      // Sent in one tick: one request, one compressed record batch of ten.
      const receipts = await Promise.all(
        Array.from({ length: 10 }, (_, i) => producer.send(`g${i}`)),
      );
      assert.deepEqual(receipts.map((r) => r.seqNo), receipts.map((_, i) => BigInt(i)));
      const consumer = await streamer.createConsumer([topic], { autoStreamReset: "earliest" });
      await consumer.rewind({ at: 6n });
      const rest = await take(consumer, 4);
      assert.deepEqual(texts(rest), ["g6", "g7", "g8", "g9"]);
      assert.deepEqual(rest.map((m) => m.header.seqNo), [6n, 7n, 8n, 9n]);
      for (const m of rest) {
        assert.ok(
          Math.abs(m.header.timestamp.getTime() - Date.now()) < 60_000,
          "a timestamp of now",
        );
        assert.equal(m.payload.bytes().constructor, Uint8Array, "bytes() is a plain Uint8Array");
      }
      await expectNothing(consumer, 300);
    });
  });

  it("large batches are split under the broker's request limit", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("big");
      const producer = await streamer.createProducer(topic);
      const payload = new Uint8Array(50_000).fill(7);
      const receipts = await Promise.all(Array.from({ length: 100 }, () => producer.send(payload)));
      assert.deepEqual(receipts.map((r) => r.seqNo), receipts.map((_, i) => BigInt(i)));
    });
  });

  it("bursts of unawaited text sends: memory reused from burst to burst, every text intact", async () => {
    await withStreamer(async (streamer) => {
      const topic = uniqueName("bursts");
      // Each burst fills several 256 KiB chunks; the next burst's producer reuses them.
      const text = (burst: number, i: number) =>
        `${burst}:${i}:`.padEnd(900 + (i % 7), "abcdefg"[burst]);
      for (let burst = 0; burst < 4; burst++) {
        const producer = await streamer.createProducer(topic);
        for (let i = 0; i < 1500; i++) producer.send(text(burst, i));
        await producer.end();
      }
      const consumer = await streamer.createConsumer([topic], { autoStreamReset: "earliest" });
      const got = texts(await take(consumer, 6000, 60_000));
      assert.deepEqual(
        got,
        [0, 1, 2, 3].flatMap((burst) => Array.from({ length: 1500 }, (_, i) => text(burst, i))),
      );
      await expectNothing(consumer, 300);
    });
  });

  it("connecting: an unreachable broker is Connect within timeoutMs; no password in errors", async () => {
    const started = Date.now();
    const error = await rejectsWith(
      SeaStreamer.connect("kafka://alice:s3cret-pw@127.0.0.1:1", { timeoutMs: 1500 }),
      "Connect",
    );
    assert.ok(Date.now() - started < 5000, "connect did not give up in time");
    assert.doesNotMatch(String(error), /s3cret-pw/);
    assert.match(String(error), /alice:\*\*\*@127\.0\.0\.1:1/);
    await rejectsWith(SeaStreamer.connect("kafka://"), "StreamUrl");
    await rejectsWith(SeaStreamer.connect("kafka://host:99999"), "StreamUrl");
    await rejectsWith(
      SeaStreamer.connect(KAFKA_URL, {
        kafka: { sasl: { mechanism: "gssapi" as "plain", username: "u", password: "p" } },
      }),
      "Unsupported",
    );
  });

  it("cli: produce, consume and relay with kafka URLs", async () => {
    await requireKafka();
    const [a, b] = [uniqueName("clia"), uniqueName("clib")];
    const produced = await runCli(
      ["produce", "--output", `${KAFKA_URL}/${a}`],
      "one\ntwo\nthree\n",
    );
    assert.equal(produced.code, 0, produced.stderr);
    const relayed = await runCli([
      "relay",
      "--input",
      `${KAFKA_URL}/${a}`,
      "--output",
      `${KAFKA_URL}/${b}`,
      "--from",
      "earliest",
      "--count",
      "3",
    ]);
    assert.equal(relayed.code, 0, relayed.stderr);
    const consumed = await runCli([
      "consume",
      "--input",
      `${KAFKA_URL}/${b}`,
      "--from",
      "earliest",
      "--count",
      "3",
      "--format",
      "ndjson",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    const lines = consumed.stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((l) => l.payload), ["one", "two", "three"]);
    assert.deepEqual(lines.map((l) => [l.stream, l.seq, l.shard]), [
      [b, "0", 0],
      [b, "1", 0],
      [b, "2", 0],
    ]);
    const fromSeq = await runCli([
      "consume",
      "--input",
      `${KAFKA_URL}/${a}`,
      "--from",
      "1",
      "--count",
      "2",
      "--format",
      "payload",
    ]);
    assert.equal(fromSeq.code, 0, fromSeq.stderr);
    assert.equal(fromSeq.stdout, "two\nthree\n");
  });

  it("a group coordinator out of reach while a consumer starts is waited out, past the 5 tries", async () => {
    await requireKafka();
    const topic = uniqueName("coordinator");
    await withStreamer(async (streamer) => {
      const producer = await streamer.createProducer(topic);
      for (let i = 0; i < 20; i++) producer.send(`m${i}`);
      await producer.end();
    });
    // The real driver, with the committed-offsets lookup failing as the client fails it
    // while no broker answers for the group (a broker restarting), for 5 s from the
    // first lookup: longer than the 5 tries (about 3 s) any other failure gets.
    const platformatic = KAFKA_DRIVER === "platformatic";
    const unreachable = () => {
      if (platformatic) {
        const lost = new NetworkError("Connection to 127.0.0.1:9092 failed.");
        return new MultipleErrors("listConsumerGroupOffsets failed 7 times.", [lost]);
      }
      const NotFound = kafkajs.KafkaJSGroupCoordinatorNotFound as unknown as new (
        message: string,
      ) => Error;
      return new NotFound("Failed to find group coordinator");
    };
    let failingSince: number | undefined;
    let failures = 0;
    const streamer = await connectKafka(KAFKA_URL, {}, async (config) => {
      const driver = await makeDriver(config);
      const committed = driver.committed.bind(driver);
      driver.committed = (group, t) => {
        failingSince ??= Date.now();
        if (Date.now() - failingSince >= 5000) return committed(group, t);
        failures++;
        return Promise.reject(unreachable());
      };
      return driver;
    });
    try {
      const consumer = await streamer.createConsumer([topic], {
        mode: "resumable",
        group: uniqueName("g"),
        autoStreamReset: "earliest",
      });
      assert.deepEqual(
        texts(await take(consumer, 20, 30_000)),
        Array.from({ length: 20 }, (_, i) => `m${i}`),
      );
      // Before this was waited out, the consumer failed after its 6th failed lookup.
      assert.ok(failures > 6, `${failures} failed lookups`);
    } finally {
      await streamer.disconnect();
    }
  });

  it("the driver: kafka.driver or ?driver=, an unknown one refused, two that disagree refused", async () => {
    await requireKafka();
    for (const driver of ["kafkajs", "platformatic"] as const) {
      const streamer = await SeaStreamer.connect(KAFKA_URL, { kafka: { driver } });
      const topic = uniqueName(`drv-${driver}`);
      const consumer = await streamer.createConsumer([topic], { autoStreamReset: "earliest" });
      const producer = await streamer.createProducer(topic);
      await producer.send(driver);
      assert.deepEqual(texts(await take(consumer, 1)), [driver]);
      await streamer.disconnect();
    }
    const bad = { kafka: { driver: "rdkafka" as "kafkajs" } };
    assert.match(
      (await rejectsWith(SeaStreamer.connect(KAFKA_URL, bad), "Backend")).message,
      /"kafkajs" or "platformatic"/,
    );
    await rejectsWith(SeaStreamer.connect("kafka://127.0.0.1:9092?driver=rdkafka"), "StreamUrl");
    await rejectsWith(
      SeaStreamer.connect("kafka://127.0.0.1:9092?driver=kafkajs", {
        kafka: { driver: "platformatic" },
      }),
      "StreamUrl",
    );
  });
});
