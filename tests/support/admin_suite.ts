/**
 * The universal tests of `live: false` and `Streamer.resetGroup`, run against
 * each backend that has them (Watermill's universal tests): a consumer that
 * ends at what its streams held when it started, and a group moved to a
 * seqNo, the beginning, the end or a time.
 *
 * seqNos are the backend's own (Redis entry ids, Kafka offsets, NATS stream
 * sequences): the tests take them from the receipts of the sends.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Streamer } from "../../mod.ts";
import { rejectsWith, take, texts, uniqueName, untilEnd } from "./helpers.ts";
import { sleep } from "../../runtime/mod.ts";

/** What the suite needs of a backend. */
export interface AdminSuiteTarget {
  /** The backend's name, in the tests' names. */
  name: string;
  /** A new streamer for the suite (disconnected after it). */
  connect: () => Promise<Streamer>;
  /** Whether the backend has load-balanced groups (default true). */
  loadBalanced?: boolean;
}

/** Register the `live: false` and `resetGroup` tests for `target`. */
export function adminSuite(target: AdminSuiteTarget): void {
  let connected: Streamer | undefined;
  before(async () => {
    connected = await target.connect();
  });
  after(async () => {
    await connected?.disconnect();
  });
  const streamer = () => connected!;

  /** A new stream holding `payloads`, sent in order; their seqNos. */
  async function streamOf(payloads: readonly string[]): Promise<[string, bigint[]]> {
    const stream = uniqueName("admin");
    const producer = await streamer().createProducer(stream);
    const receipts = payloads.length > 0 ? await producer.sendBatch(payloads) : [];
    await producer.end();
    return [stream, receipts.map((receipt) => receipt.seqNo)];
  }

  describe(`${target.name}: live: false`, () => {
    it("real-time from the earliest: what the stream held, then the end; later sends are not read", async () => {
      const [stream] = await streamOf(["a", "b", "c"]);
      const consumer = await streamer().createConsumer([stream], {
        autoStreamReset: "earliest",
        live: false,
      });
      const producer = await streamer().createProducer(stream);
      await producer.send("later");
      assert.deepEqual(await untilEnd(consumer), ["a", "b", "c"]);
      await rejectsWith(consumer.next(), "Closed");
      await consumer.end();
      await producer.end();
    });

    it("a consumer that ended rewinds and reads up to the same end again", async () => {
      const [stream, seqNos] = await streamOf(["e1", "e2", "e3"]);
      const consumer = await streamer().createConsumer([stream], {
        autoStreamReset: "earliest",
        live: false,
      });
      assert.deepEqual(await untilEnd(consumer), ["e1", "e2", "e3"]);
      const producer = await streamer().createProducer(stream);
      await producer.send("e4");
      await consumer.rewind({ at: seqNos[1] });
      assert.deepEqual(await untilEnd(consumer), ["e2", "e3"]);
      await consumer.rewind("beginning");
      assert.deepEqual(await untilEnd(consumer), ["e1", "e2", "e3"]);
      await consumer.end();
      await producer.end();
    });

    it("an empty stream, or one read from its end, ends at once", async () => {
      const [empty] = await streamOf([]);
      const [held] = await streamOf(["x"]);
      for (const [stream, reset] of [[empty, "earliest"], [held, "latest"]] as const) {
        const consumer = await streamer().createConsumer([stream], {
          autoStreamReset: reset,
          live: false,
        });
        assert.deepEqual(await untilEnd(consumer), []);
        await consumer.end();
      }
    });

    it("several streams: the consumer ends once each has delivered what it held", async () => {
      const [one] = await streamOf(["1a", "1b"]);
      const [two] = await streamOf(["2a"]);
      const consumer = await streamer().createConsumer([one, two], {
        autoStreamReset: "earliest",
        live: false,
      });
      assert.deepEqual((await untilEnd(consumer)).sort(), ["1a", "1b", "2a"]);
      await consumer.end();
    });

    it("a resumable group reads on from its commit up to the end, and the next run sees the rest", async () => {
      const [stream] = await streamOf(["r1", "r2", "r3", "r4"]);
      const options = {
        mode: "resumable",
        group: uniqueName("g"),
        autoStreamReset: "earliest",
        live: false,
      } as const;
      const first = await streamer().createConsumer([stream], { ...options, live: true });
      const firstTwo = await take(first, 2);
      assert.deepEqual(texts(firstTwo), ["r1", "r2"]);
      await first.commit(firstTwo[1]);
      await first.end();
      const producer = await streamer().createProducer(stream);
      await producer.send("r5");
      const second = await streamer().createConsumer([stream], options);
      assert.deepEqual(await untilEnd(second), ["r3", "r4", "r5"]);
      await second.end();
      await producer.send("r6");
      const third = await streamer().createConsumer([stream], options);
      assert.deepEqual(await untilEnd(third), ["r6"]);
      await third.end();
      await producer.end();
    });

    if (target.loadBalanced !== false) {
      it("load-balanced members end once the group has been given everything up to the end", async () => {
        const payloads = Array.from({ length: 300 }, (_, i) => `m${i}`);
        const [stream] = await streamOf(payloads);
        const options = {
          mode: "load-balanced",
          group: uniqueName("g"),
          autoStreamReset: "earliest",
          prefetch: 50,
          live: false,
        } as const;
        const [a, b] = [
          await streamer().createConsumer([stream], options),
          await streamer().createConsumer([stream], options),
        ];
        const [fromA, fromB] = await Promise.all([untilEnd(a), untilEnd(b)]);
        assert.deepEqual([...fromA, ...fromB].sort(), [...payloads].sort());
        await Promise.all([a.end(), b.end()]);
      });
    }
  });

  describe(`${target.name}: resetGroup`, () => {
    const group = () =>
      ({ mode: "resumable", group: uniqueName("g"), autoStreamReset: "earliest" }) as const;

    it("moves a group to a seqNo, the beginning, the end or a time; the next consumer starts there", async () => {
      const [stream, seqNos] = await streamOf(["p1", "p2", "p3", "p4"]);
      const options = group();
      const read = async (count: number) => {
        const consumer = await streamer().createConsumer([stream], options);
        const got = await take(consumer, count);
        await consumer.commit(got[got.length - 1]);
        await consumer.end();
        return texts(got);
      };
      assert.deepEqual(await read(4), ["p1", "p2", "p3", "p4"]);
      await streamer().resetGroup(stream, options.group, { at: seqNos[1] });
      assert.deepEqual(await read(3), ["p2", "p3", "p4"]);
      await streamer().resetGroup(stream, options.group, "beginning");
      assert.deepEqual(await read(1), ["p1"]);
      const before = new Date();
      await sleep(20);
      const producer = await streamer().createProducer(stream);
      await producer.send("p5");
      await streamer().resetGroup(stream, options.group, before);
      assert.deepEqual(await read(1), ["p5"]);
      await streamer().resetGroup(stream, options.group, "end");
      await producer.send("p6");
      assert.deepEqual(await read(1), ["p6"]);
      await producer.end();
    });

    it("a group that does not exist yet is made at the position", async () => {
      const [stream, seqNos] = await streamOf(["n1", "n2", "n3"]);
      const options = group();
      await streamer().resetGroup(stream, options.group, { at: seqNos[2] });
      const consumer = await streamer().createConsumer([stream], options);
      assert.deepEqual(texts(await take(consumer, 1)), ["n3"]);
      await consumer.end();
    });

    it("a missing stream is StreamKeyNotFound", async () => {
      await rejectsWith(
        streamer().resetGroup(uniqueName("none"), "g", "beginning"),
        "StreamKeyNotFound",
      );
    });
  });
}
