/**
 * The conformance suite: the semantics every backend keeps, written once as a
 * function of a backend factory and the features the backend declares (as
 * Watermill's universal pub/sub tests are). A backend plugs in with one call:
 *
 * ```ts
 * conformanceSuite({ name: "redis", features: {...}, connect: () => SeaStreamer.connect(url) });
 * ```
 *
 * A backend's `createConsumer` must resolve only once the consumer is
 * positioned: a message sent after it resolves is never missed.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type {
  BackendCapabilities,
  ConsumerOptions,
  Message,
  MessageHeader,
  Producer,
  Streamer,
} from "../../mod.ts";
import { sleep } from "../../runtime/mod.ts";
import { expectNothing, rejectsWith, take, texts, uniqueName } from "./helpers.ts";

/** What a backend can do: the suite checks that what it cannot do is `Unsupported`. */
export type BackendFeatures = BackendCapabilities;

/** A backend under test. */
export interface BackendUnderTest {
  /** Shown in test names. */
  name: string;
  /** What it supports. */
  features: BackendFeatures;
  /** A new streamer on the backend (the suite disconnects it). */
  connect(): Promise<Streamer>;
  /**
   * A streamer for the load-balanced test, where the backend balances by shard
   * (Kafka shares a topic by partitions: its streams need several). Default: `connect`.
   */
  connectForLoadBalancing?(): Promise<Streamer>;
}

/**
 * Register the conformance tests for `backend` (with node:test's `describe`/`it`,
 * so it runs under `deno test`, `node --test` and `bun test`).
 */
export function conformanceSuite(backend: BackendUnderTest): void {
  const { features } = backend;
  const start: ConsumerOptions = features.history ? { autoStreamReset: "earliest" } : {};

  /** Connect, run `body`, always disconnect. */
  async function withStreamer(
    body: (streamer: Streamer) => Promise<void>,
    connect: () => Promise<Streamer> = () => backend.connect(),
  ): Promise<void> {
    const streamer = await connect();
    try {
      await body(streamer);
    } finally {
      await streamer.disconnect();
    }
  }

  /** Send `payloads` without waiting between them; their receipts. */
  async function sendAll(
    producer: Producer,
    payloads: readonly string[],
  ): Promise<MessageHeader[]> {
    const receipts = payloads.map((payload) => producer.send(payload));
    await producer.flush();
    return await Promise.all(receipts);
  }

  const numbered = (count: number, prefix = "m") =>
    Array.from({ length: count }, (_, i) => `${prefix}${i}`);

  describe(`conformance: ${backend.name}`, () => {
    it("round trip: payload as text, bytes and JSON; header and receipt agree", async () => {
      await withStreamer(async (streamer) => {
        const stream = uniqueName();
        const consumer = await streamer.createConsumer([stream], start);
        const producer = await streamer.createProducer(stream);
        assert.equal(producer.anchored, stream);
        const receipts = await sendAll(producer, ['{"n":1}', "plain text", "ünïcødé ✓"]);
        const messages = await take(consumer, 3);
        assert.deepEqual(texts(messages), ['{"n":1}', "plain text", "ünïcødé ✓"]);
        assert.deepEqual(messages[0].payload.json(), { n: 1 });
        assert.deepEqual(messages[1].payload.bytes(), new TextEncoder().encode("plain text"));
        assert.equal(messages[2].payload.size, new TextEncoder().encode("ünïcødé ✓").length);
        for (let i = 0; i < 3; i++) {
          const { header } = messages[i];
          assert.equal(header.streamKey, stream);
          assert.equal(header.seqNo, receipts[i].seqNo);
          assert.equal(header.shardId, receipts[i].shardId);
          assert.equal(typeof header.seqNo, "bigint");
          assert.ok(header.timestamp instanceof Date);
          assert.ok(Math.abs(header.timestamp.getTime() - Date.now()) < 60_000);
        }
        await rejectsWith(() => messages[1].payload.json(), "Json");
      });
    });

    it("receipts: seqNo strictly increases per shard, in send order", async () => {
      await withStreamer(async (streamer) => {
        const stream = uniqueName();
        const producer = await streamer.createProducer(stream);
        const receipts = await sendAll(producer, numbered(500));
        for (let i = 1; i < receipts.length; i++) {
          assert.equal(receipts[i].streamKey, stream);
          if (receipts[i].shardId === receipts[i - 1].shardId) {
            assert.ok(receipts[i].seqNo > receipts[i - 1].seqNo, `receipt ${i} out of order`);
          }
        }
      });
    });

    it("ordering: 2,000 messages arrive in order, seqNo strictly increasing per shard", async () => {
      await withStreamer(async (streamer) => {
        const stream = uniqueName();
        const consumer = await streamer.createConsumer([stream], start);
        const producer = await streamer.createProducer(stream);
        const payloads = numbered(2000);
        const receiving = take(consumer, payloads.length, 60_000);
        await sendAll(producer, payloads);
        const messages = await receiving;
        assert.deepEqual(texts(messages), payloads);
        const last = new Map<number, bigint>();
        for (const { header } of messages) {
          const previous = last.get(header.shardId);
          if (previous !== undefined) assert.ok(header.seqNo > previous);
          last.set(header.shardId, header.seqNo);
        }
      });
    });

    it("stream isolation: a consumer sees only its streams", async () => {
      await withStreamer(async (streamer) => {
        const [a, b] = [uniqueName("a"), uniqueName("b")];
        const consumer = await streamer.createConsumer([a], start);
        const producer = await streamer.createProducer();
        await Promise.all([producer.sendTo(b, "not for you"), producer.sendTo(a, "for you")]);
        const [message] = await take(consumer, 1);
        assert.equal(message.payload.text(), "for you");
        assert.equal(message.header.streamKey, a);
        await expectNothing(consumer);
      });
    });

    it("several streams in one consumer", async () => {
      await withStreamer(async (streamer) => {
        const streams = [uniqueName("x"), uniqueName("y"), uniqueName("z")];
        const consumer = await streamer.createConsumer(streams, start);
        assert.deepEqual([...consumer.streams], streams);
        const producer = await streamer.createProducer();
        const sent = streams.flatMap((stream) =>
          [0, 1, 2].map((i) => producer.sendTo(stream, `${stream}:${i}`))
        );
        await producer.flush();
        await Promise.all(sent);
        const messages = await take(consumer, 9);
        for (const stream of streams) {
          const mine = messages.filter((m) => m.header.streamKey === stream);
          assert.deepEqual(texts(mine), [0, 1, 2].map((i) => `${stream}:${i}`));
        }
      });
    });

    it(
      features.history ? "listStreams finds a stream once written" : "listStreams is Unsupported",
      async () => {
        await withStreamer(async (streamer) => {
          if (!features.history) {
            await rejectsWith(streamer.listStreams(), "Unsupported");
            return;
          }
          const stream = uniqueName();
          await sendAll(await streamer.createProducer(stream), ["a", "b"]);
          const listed = await streamer.listStreams();
          assert.ok(listed.includes(stream), `${stream} not in ${listed.length} streams listed`);
          assert.deepEqual(listed, [...listed].sort(), "sorted");
          assert.equal(new Set(listed).size, listed.length, "each stream once");
        });
      },
    );

    it("anchoring: AlreadyAnchored, NotAnchored, sendTo on a generic producer", async () => {
      await withStreamer(async (streamer) => {
        const stream = uniqueName();
        const anchored = await streamer.createProducer(stream);
        await rejectsWith(() => anchored.anchor(uniqueName()), "AlreadyAnchored");
        const generic = await streamer.createProducer();
        assert.equal(generic.anchored, undefined);
        await rejectsWith(generic.send("x"), "NotAnchored");
        await rejectsWith(generic.flush(), "NotAnchored");
        const consumer = await streamer.createConsumer([stream], start);
        const receipt = await generic.sendTo(stream, "via sendTo");
        assert.equal(receipt.streamKey, stream);
        generic.anchor(stream);
        assert.equal(generic.anchored, stream);
        await generic.send("via send");
        assert.deepEqual(texts(await take(consumer, 2)), ["via sendTo", "via send"]);
      });
    });

    it("stream keys are validated everywhere", async () => {
      await withStreamer(async (streamer) => {
        for (const bad of ["", "has space", "slash/no", "ü", "x".repeat(250)]) {
          await rejectsWith(streamer.createProducer(bad), "StreamKey");
          await rejectsWith(streamer.createConsumer([bad]), "StreamKey");
        }
        await rejectsWith(streamer.createConsumer([]), "StreamKeyEmpty");
        const producer = await streamer.createProducer();
        await rejectsWith(producer.sendTo("bad key", "x"), "StreamKey");
        await rejectsWith(producer.flush(), "StreamKey");
        // The longest valid key works.
        const long = "k".repeat(240) + uniqueName("").slice(-9);
        await producer.sendTo(long.slice(0, 249), "ok");
      });
    });

    it("a payload of the wrong type is refused, and an unawaited failure does not crash", async () => {
      await withStreamer(async (streamer) => {
        const producer = await streamer.createProducer(uniqueName());
        producer.send(42 as unknown as string); // not awaited on purpose
        producer.send(null as unknown as string);
        await sleep(20);
        await rejectsWith(producer.flush(), "Unsupported");
        await producer.flush(); // the failure was reported once
      });
    });

    it("10,000 messages from 10 concurrent producers: none lost, none duplicated", async () => {
      await withStreamer(async (streamer) => {
        const stream = uniqueName();
        const consumer = await streamer.createConsumer([stream], start);
        const producers = await Promise.all(
          Array.from({ length: 10 }, () => streamer.createProducer(stream)),
        );
        const receiving = take(consumer, 10_000, 120_000);
        await Promise.all(producers.map(async (producer, p) => {
          for (let i = 0; i < 1000; i += 100) {
            for (let j = i; j < i + 100; j++) producer.send(`${p}:${j}`);
            await producer.flush();
          }
          await producer.end();
        }));
        const messages = await receiving;
        const seen = new Set(texts(messages));
        assert.equal(seen.size, 10_000, "duplicates received");
        for (let p = 0; p < 10; p++) {
          const mine = texts(messages).filter((t) => t.startsWith(`${p}:`));
          assert.deepEqual(mine, Array.from({ length: 1000 }, (_, j) => `${p}:${j}`));
        }
        await expectNothing(consumer, 200);
      });
    });

    it("producer end() delivers everything still in flight", async () => {
      await withStreamer(async (streamer) => {
        const stream = uniqueName();
        const consumer = await streamer.createConsumer([stream], start);
        const producer = await streamer.createProducer(stream);
        const payloads = numbered(3000, "e");
        const receiving = take(consumer, payloads.length, 60_000);
        const receipts = payloads.map((payload) => producer.send(payload));
        await producer.end();
        assert.equal((await Promise.all(receipts)).length, payloads.length);
        assert.deepEqual(texts(await receiving), payloads);
        await rejectsWith(producer.send("late"), "Closed");
        await producer.end(); // a second end is harmless
      });
    });

    it("concurrent close: pending next() rejects Closed, end() twice is fine", async () => {
      await withStreamer(async (streamer) => {
        const consumer = await streamer.createConsumer([uniqueName()], start);
        const pending = consumer.next();
        await sleep(20);
        await Promise.all([consumer.end(), consumer.end()]);
        await rejectsWith(pending, "Closed");
        await rejectsWith(consumer.next(), "Closed");
        let iterated = 0;
        for await (const _ of consumer) iterated++;
        assert.equal(iterated, 0);
      });
    });

    it("disconnect ends producers (flushing) and consumers; the streamer refuses new ones", async () => {
      const streamer = await backend.connect();
      const stream = uniqueName();
      const consumer = await streamer.createConsumer([stream], start);
      const producer = await streamer.createProducer(stream);
      const receipt = producer.send("before disconnect");
      const [message] = await take(consumer, 1);
      assert.equal(message.payload.text(), "before disconnect");
      await streamer.disconnect();
      assert.equal((await receipt).streamKey, stream);
      await rejectsWith(producer.send("after"), "Closed");
      await rejectsWith(consumer.next(), "Closed");
      await rejectsWith(streamer.createProducer(stream), "Closed");
      await rejectsWith(streamer.createConsumer([stream]), "Closed");
      await streamer.disconnect(); // twice is harmless
    });

    // What `await using` calls (Node 20 cannot parse the syntax itself).
    it("Symbol.asyncDispose disposes the streamer, its producers and consumers", async () => {
      const streamer = await backend.connect();
      const consumer = await streamer.createConsumer([uniqueName()], start);
      const producer = await streamer.createProducer(uniqueName());
      await streamer[Symbol.asyncDispose]();
      await rejectsWith(consumer.next(), "Closed");
      await rejectsWith(producer.send("x"), "Closed");
    });

    it("stream(): messages as a ReadableStream", async () => {
      await withStreamer(async (streamer) => {
        const stream = uniqueName();
        const consumer = await streamer.createConsumer([stream], start);
        const producer = await streamer.createProducer(stream);
        await sendAll(producer, ["s0", "s1", "s2"]);
        const reader = consumer.stream().getReader();
        const got: string[] = [];
        for (let i = 0; i < 3; i++) got.push((await reader.read()).value!.payload.text());
        assert.deepEqual(got, ["s0", "s1", "s2"]);
        await reader.cancel();
        await rejectsWith(consumer.next(), "Closed");
      });
    });

    it("real-time consumers cannot commit", async () => {
      await withStreamer(async (streamer) => {
        const stream = uniqueName();
        const consumer = await streamer.createConsumer([stream], start);
        const producer = await streamer.createProducer(stream);
        await producer.send("x");
        const [message] = await take(consumer, 1);
        await rejectsWith(consumer.commit(message), "CommitNotAllowed");
      });
    });

    it("resumable and load-balanced consumers need a group", async () => {
      await withStreamer(async (streamer) => {
        await rejectsWith(
          streamer.createConsumer([uniqueName()], { mode: "resumable" }),
          "ConsumerGroupNotSet",
        );
        await rejectsWith(
          streamer.createConsumer([uniqueName()], { mode: "load-balanced" }),
          "ConsumerGroupNotSet",
        );
        await rejectsWith(
          streamer.createConsumer([uniqueName()], { mode: "sideways" as "resumable" }),
          "Unsupported",
        );
      });
    });

    const groupMode = features.resumable
      ? "resumable"
      : features.realTimeGroups
      ? "real-time"
      : undefined;
    if (groupMode) {
      it(`two groups (${groupMode}) each receive everything`, async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const options = { ...start, mode: groupMode } as const;
          const one = await streamer.createConsumer([stream], {
            ...options,
            group: uniqueName("g"),
          });
          const two = await streamer.createConsumer([stream], {
            ...options,
            group: uniqueName("g"),
          });
          const producer = await streamer.createProducer(stream);
          const payloads = numbered(200, "g");
          const receiving = Promise.all([take(one, 200), take(two, 200)]);
          await sendAll(producer, payloads);
          const [a, b] = await receiving;
          assert.deepEqual(texts(a), payloads);
          assert.deepEqual(texts(b), payloads);
        });
      });
    }

    if (features.loadBalanced) {
      it("load-balanced: each message goes to exactly one member", async () => {
        await withStreamer(
          async (streamer) => {
            const stream = uniqueName();
            const group = uniqueName("lb");
            const options: ConsumerOptions = {
              ...start,
              mode: "load-balanced",
              group,
              prefetch: 10,
            };
            const members = [
              await streamer.createConsumer([stream], options),
              await streamer.createConsumer([stream], options),
            ];
            const producer = await streamer.createProducer(stream);
            const payloads = numbered(300, "lb");
            await sendAll(producer, payloads);
            const received: Message[][] = [[], []];
            const deadline = Date.now() + 30_000;
            while (received[0].length + received[1].length < payloads.length) {
              assert.ok(Date.now() < deadline, "load-balanced members did not get every message");
              await Promise.all(members.map(async (member, i) => {
                const controller = new AbortController();
                const timer = setTimeout(() => controller.abort(new Error("idle")), 500);
                try {
                  received[i].push(await member.next(controller.signal));
                } catch (error) {
                  if ((error as Error).message !== "idle") throw error;
                } finally {
                  clearTimeout(timer);
                }
              }));
            }
            const all = [...texts(received[0]), ...texts(received[1])];
            assert.equal(new Set(all).size, payloads.length, "a message went to two members");
            assert.deepEqual(all.sort(), [...payloads].sort());
            assert.ok(received[0].length > 0 && received[1].length > 0, "one member got nothing");
          },
          () =>
            backend.connectForLoadBalancing ? backend.connectForLoadBalancing() : backend.connect(),
        );
      });
    } else {
      it("load-balanced mode is Unsupported", async () => {
        await withStreamer(async (streamer) => {
          await rejectsWith(
            streamer.createConsumer([uniqueName()], { mode: "load-balanced", group: "g" }),
            "Unsupported",
          );
        });
      });
    }

    if (features.resumable) {
      it("resumable: consumers closed and recreated repeatedly lose nothing", async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const group = uniqueName("r");
          const producer = await streamer.createProducer(stream);
          const payloads = numbered(1000, "r");
          await sendAll(producer, payloads);
          const got: string[] = [];
          for (let round = 0; round < 10; round++) {
            const consumer = await streamer.createConsumer([stream], {
              mode: "resumable",
              group,
              autoStreamReset: "earliest",
              prefetch: 37,
            });
            got.push(...texts(await take(consumer, 100)));
            await consumer.end();
          }
          assert.deepEqual(got, payloads);
        });
      });

      it("resumable without autoCommit: what was not committed comes again", async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const group = uniqueName("r");
          const options: ConsumerOptions = {
            mode: "resumable",
            group,
            autoStreamReset: "earliest",
            autoCommit: false,
          };
          const producer = await streamer.createProducer(stream);
          await sendAll(producer, numbered(10, "c"));
          const first = await streamer.createConsumer([stream], options);
          const messages = await take(first, 6);
          await first.commit(messages[3]);
          await first.end();
          const second = await streamer.createConsumer([stream], options);
          assert.deepEqual(texts(await take(second, 6)), numbered(10, "c").slice(4));
          await second.end();
        });
      });
    } else {
      it("resumable mode is Unsupported", async () => {
        await withStreamer(async (streamer) => {
          await rejectsWith(
            streamer.createConsumer([uniqueName()], { mode: "resumable", group: "g" }),
            "Unsupported",
          );
        });
      });
    }

    if (features.history) {
      it("real-time: latest skips what came before, earliest replays it", async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const producer = await streamer.createProducer(stream);
          await sendAll(producer, ["old0", "old1"]);
          const latest = await streamer.createConsumer([stream]);
          const earliest = await streamer.createConsumer([stream], { autoStreamReset: "earliest" });
          await sendAll(producer, ["new0"]);
          assert.deepEqual(texts(await take(latest, 1)), ["new0"]);
          assert.deepEqual(texts(await take(earliest, 3)), ["old0", "old1", "new0"]);
        });
      });
    }

    if (features.rewind) {
      it("rewind: beginning, and { at } inclusive", async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const producer = await streamer.createProducer(stream);
          const receipts = await sendAll(producer, numbered(20, "w"));
          const consumer = await streamer.createConsumer([stream], start);
          await take(consumer, 12);
          await consumer.rewind({ at: receipts[5].seqNo });
          assert.deepEqual(texts(await take(consumer, 3)), ["w5", "w6", "w7"]);
          await consumer.rewind("beginning");
          assert.deepEqual(texts(await take(consumer, 2)), ["w0", "w1"]);
          await consumer.rewind("end");
          await sendAll(producer, ["after-end"]);
          assert.deepEqual(texts(await take(consumer, 1)), ["after-end"]);
        });
      });
    } else {
      it("rewind is Unsupported", async () => {
        await withStreamer(async (streamer) => {
          const consumer = await streamer.createConsumer([uniqueName()], start);
          await rejectsWith(consumer.rewind("beginning"), "Unsupported");
          await rejectsWith(consumer.rewind({ at: 3n }), "Unsupported");
        });
      });
    }

    if (features.rewindShard) {
      it("rewind of one shard: it moves; a stream or shard not read is StreamKeyNotFound", async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const producer = await streamer.createProducer(stream);
          const receipts = await sendAll(producer, numbered(10, "s"));
          const consumer = await streamer.createConsumer([stream], start);
          await take(consumer, 7);
          const shardId = receipts[0].shardId;
          await consumer.rewind({ at: receipts[2].seqNo }, { stream, shardId });
          assert.deepEqual(texts(await take(consumer, 2)), ["s2", "s3"]);
          await rejectsWith(
            consumer.rewind("beginning", { stream: uniqueName(), shardId }),
            "StreamKeyNotFound",
          );
          await rejectsWith(
            consumer.rewind("beginning", { stream, shardId: 9999 }),
            "StreamKeyNotFound",
          );
        });
      });
    } else {
      it("rewind of one shard is Unsupported", async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const consumer = await streamer.createConsumer([stream], start);
          await rejectsWith(consumer.rewind("beginning", { stream, shardId: 0 }), "Unsupported");
        });
      });
    }

    if (features.seek) {
      it("seek: the next message is the earliest with timestamp >= the date", async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const producer = await streamer.createProducer(stream);
          await sendAll(producer, ["before0", "before1"]);
          await sleep(30);
          const cut = new Date();
          await sleep(30);
          await sendAll(producer, ["after0", "after1"]);
          const consumer = await streamer.createConsumer([stream], start);
          await consumer.seek(cut);
          assert.deepEqual(texts(await take(consumer, 2)), ["after0", "after1"]);
          await consumer.seek(new Date(0));
          assert.deepEqual(texts(await take(consumer, 1)), ["before0"]);
        });
      });
    } else {
      it("seek is Unsupported", async () => {
        await withStreamer(async (streamer) => {
          const consumer = await streamer.createConsumer([uniqueName()], start);
          await rejectsWith(consumer.seek(new Date()), "Unsupported");
        });
      });
    }

    if (features.binary) {
      it("binary payloads round-trip; text() of non-UTF-8 is Utf8Error", async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const consumer = await streamer.createConsumer([stream], start);
          const producer = await streamer.createProducer(stream);
          const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
          await producer.send(bytes);
          await producer.send(new Uint8Array(0));
          const [binary, empty] = await take(consumer, 2);
          assert.deepEqual(binary.payload.bytes(), bytes);
          assert.equal(empty.payload.size, 0);
          await rejectsWith(() => binary.payload.text(), "Utf8Error");
        });
      });
    } else {
      it("payloads that are not one line of UTF-8 are refused", async () => {
        await withStreamer(async (streamer) => {
          const producer = await streamer.createProducer(uniqueName());
          await rejectsWith(producer.send(new Uint8Array([0xff, 0xfe])), "Utf8Error");
          await rejectsWith(producer.send("two\nlines"), "Unsupported");
          await rejectsWith(producer.flush(), "Utf8Error");
        });
      });
    }

    it("sendBatch: one promise, receipts in order; nextBatch: 1..max in order", async () => {
      await withStreamer(async (streamer) => {
        const stream = uniqueName();
        const consumer = await streamer.createConsumer([stream], start);
        const producer = await streamer.createProducer(stream);
        const payloads = numbered(250, "b");
        const receipts = await producer.sendBatch(payloads);
        assert.equal(receipts.length, payloads.length);
        for (let i = 0; i < receipts.length; i++) {
          assert.equal(receipts[i].streamKey, stream);
          if (i > 0 && receipts[i].shardId === receipts[i - 1].shardId) {
            assert.ok(receipts[i].seqNo > receipts[i - 1].seqNo, `receipt ${i} out of order`);
          }
        }
        const got: Message[] = [];
        while (got.length < payloads.length) {
          const batch = await consumer.nextBatch({ max: 40, signal: AbortSignal.timeout(20_000) });
          assert.ok(batch.length >= 1 && batch.length <= 40, `a batch of ${batch.length}`);
          got.push(...batch);
        }
        assert.deepEqual(texts(got), payloads);
        assert.deepEqual(
          got.map((m) => m.header.seqNo),
          receipts.map((r) => r.seqNo),
          "the messages are the receipts' messages",
        );
        assert.deepEqual(await producer.sendBatch([]), []);
        await expectNothing(consumer);
      });
    });

    it("sendBatchTo, sendBatch on a generic producer, and batches() iterate in order", async () => {
      await withStreamer(async (streamer) => {
        const [a, b] = [uniqueName("a"), uniqueName("b")];
        const consumer = await streamer.createConsumer([a, b], start);
        const generic = await streamer.createProducer();
        await rejectsWith(generic.sendBatch(["x"]), "NotAnchored");
        await rejectsWith(generic.flush(), "NotAnchored");
        const bytes = new TextEncoder().encode("as bytes");
        const [toA, toB] = await Promise.all([
          generic.sendBatchTo(a, ["a0", bytes, { payload: "a2" }]),
          generic.sendBatchTo(b, numbered(5, "b")),
        ]);
        assert.deepEqual(toA.map((r) => r.streamKey), [a, a, a]);
        assert.deepEqual(toB.map((r) => r.streamKey), [b, b, b, b, b]);
        const got: Message[] = [];
        for await (const batch of consumer.batches({ max: 3 })) {
          assert.ok(batch.length >= 1 && batch.length <= 3);
          got.push(...batch);
          if (got.length >= 8) break;
        }
        assert.deepEqual(
          texts(got.filter((m) => m.header.streamKey === a)),
          ["a0", "as bytes", "a2"],
        );
        assert.deepEqual(texts(got.filter((m) => m.header.streamKey === b)), numbered(5, "b"));
        await expectNothing(consumer);
      });
    });

    it("a batch with a bad item is refused whole, and the next flush rejects", async () => {
      await withStreamer(async (streamer) => {
        const stream = uniqueName();
        const consumer = await streamer.createConsumer([stream], start);
        const producer = await streamer.createProducer(stream);
        const refused = producer.sendBatch(["fine", 42 as unknown as string, "also fine"]);
        await rejectsWith(refused, "Unsupported");
        await rejectsWith(producer.flush(), "Unsupported");
        await rejectsWith(producer.sendBatch("x" as unknown as string[]), "Unsupported");
        await rejectsWith(producer.flush(), "Unsupported");
        await producer.sendBatch(["after"]);
        assert.deepEqual(texts(await take(consumer, 1)), ["after"], "nothing of the refused batch");
        await expectNothing(consumer);
      });
    });

    it("nextBatch: max is a positive integer; an aborted wait rejects with the reason", async () => {
      await withStreamer(async (streamer) => {
        const consumer = await streamer.createConsumer([uniqueName()], start);
        await rejectsWith(consumer.nextBatch({ max: 0 }), "Unsupported");
        await rejectsWith(consumer.nextBatch({ max: 1.5 }), "Unsupported");
        const controller = new AbortController();
        const waiting = consumer.nextBatch({ signal: controller.signal });
        controller.abort(new Error("stop waiting"));
        await assert.rejects(waiting, /stop waiting/);
        await consumer.end();
        await rejectsWith(consumer.nextBatch(), "Closed");
      });
    });

    if (features.resumable) {
      it("resumable batches: asking for the next batch commits the one before; end commits the last", async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const group = uniqueName("rb");
          const options: ConsumerOptions = {
            mode: "resumable",
            group,
            autoStreamReset: "earliest",
          };
          const payloads = numbered(100, "rb");
          await (await streamer.createProducer(stream)).sendBatch(payloads);
          const first = await streamer.createConsumer([stream], options);
          const got: Message[] = [];
          while (got.length < 30) got.push(...await first.nextBatch({ max: 30 - got.length }));
          await first.end();
          const second = await streamer.createConsumer([stream], options);
          assert.deepEqual(texts(await take(second, 70)), payloads.slice(30));
          await second.end();
        });
      });

      it("commit(batch) without autoCommit commits the batch's last message", async () => {
        await withStreamer(async (streamer) => {
          const stream = uniqueName();
          const group = uniqueName("rc");
          const options: ConsumerOptions = {
            mode: "resumable",
            group,
            autoStreamReset: "earliest",
            autoCommit: false,
          };
          const payloads = numbered(20, "rc");
          await (await streamer.createProducer(stream)).sendBatch(payloads);
          const first = await streamer.createConsumer([stream], options);
          const batch: Message[] = [];
          while (batch.length < 8) batch.push(...await first.nextBatch({ max: 8 - batch.length }));
          await first.commit(batch);
          await first.end();
          const second = await streamer.createConsumer([stream], options);
          assert.deepEqual(texts(await take(second, 12)), payloads.slice(8));
          await second.end();
        });
      });
    }

    if (!features.keysAndHeaders) {
      it("keys and headers are Unsupported", async () => {
        await withStreamer(async (streamer) => {
          const producer = await streamer.createProducer(uniqueName());
          await rejectsWith(producer.send("x", { key: "k" }), "Unsupported");
          await rejectsWith(producer.send("x", { headers: { a: "b" } }), "Unsupported");
          await rejectsWith(producer.flush(), "Unsupported");
        });
      });
    }
  });
}
