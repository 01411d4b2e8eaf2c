import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CoreProducer } from "./producer.ts";
import type { PendingSend, ProducerDriver, SendResult } from "./driver.ts";
import { isStreamError, type ProducerOptions, StreamError } from "../types.ts";

/** A driver that records batches: a unit test of core's send queue, not of a backend. */
class RecordingDriver implements ProducerDriver {
  readonly batches: string[][] = [];
  failOn = new Set<string>();
  closed = false;

  write(batch: readonly PendingSend[]): Promise<SendResult[]> {
    const texts = batch.map((item) =>
      typeof item.payload === "string" ? item.payload : new TextDecoder().decode(item.payload)
    );
    this.batches.push(texts);
    return Promise.resolve(texts.map((text, i) => {
      if (this.failOn.has(text)) return new StreamError("Backend", `refused ${text}`);
      return { streamKey: batch[i].streamKey, shardId: 0, seqNo: BigInt(i), timestamp: new Date() };
    }));
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function producer(options: ProducerOptions = {}, keysAndHeaders = false) {
  const driver = new RecordingDriver();
  const made = new CoreProducer(driver, { name: "test", keysAndHeaders }, "s", options, () => {});
  return { driver, producer: made };
}

/**
 * A producer whose driver takes text as bytes, recording into a RecordingDriver;
 * `onWrite` sees each batch as written, `validate` (if given) each send.
 */
function bytesProducer(
  onWrite: (batch: readonly PendingSend[]) => void,
  validate?: (item: PendingSend) => void,
) {
  const driver = new RecordingDriver();
  const bytesDriver: ProducerDriver = {
    textAsBytes: true,
    validate,
    write: (batch) => {
      onWrite(batch);
      return driver.write(batch);
    },
    close: () => driver.close(),
  };
  const made = new CoreProducer(
    bytesDriver,
    { name: "test", keysAndHeaders: false },
    "s",
    {},
    () => {},
  );
  return { driver, producer: made };
}

describe("CoreProducer", () => {
  it("sends made in one tick go out as one batch, later ones in the next", async () => {
    const { driver, producer: p } = producer();
    p.send("a");
    p.send("b");
    p.send("c");
    await p.flush();
    p.send("d");
    await p.flush();
    assert.deepEqual(driver.batches, [["a", "b", "c"], ["d"]]);
  });

  it("batches are cut at maxBatchSize, in order", async () => {
    const { driver, producer: p } = producer({ maxBatchSize: 2 });
    for (const text of ["1", "2", "3", "4", "5"]) p.send(text);
    await p.flush();
    assert.deepEqual(driver.batches, [["1", "2"], ["3", "4"], ["5"]]);
  });

  it("each send's receipt is its own, across segments, stream keys and batches", async () => {
    const { driver, producer: p } = producer({ maxBatchSize: 2 });
    const sends = [p.sendTo("x", "1"), p.sendTo("y", "2"), p.sendTo("x", "3")];
    const batch = p.sendBatch(["b1", "b2"]);
    sends.push(p.sendTo("y", "4"));
    // The driver's seqNo is the index in its batch; each receipt must be its own send's.
    const receipts = await Promise.all(sends);
    assert.deepEqual(receipts.map((r) => [r.streamKey, r.seqNo]), [
      ["x", 0n],
      ["y", 1n],
      ["x", 0n],
      ["y", 0n],
    ]);
    assert.deepEqual((await batch).map((r) => r.seqNo), [0n, 1n]);
    assert.deepEqual(driver.batches, [["1", "2"], ["3"], ["b1", "b2"], ["4"]]);
  });

  it("a sendBatch is written alone, as one unit, after the sends before it", async () => {
    const { driver, producer: p } = producer({ maxBatchSize: 2 });
    p.send("a");
    const batch = p.sendBatch(["b1", "b2", "b3"]);
    p.send("c");
    p.send("d");
    p.send("e");
    const receipts = await batch;
    await p.flush();
    assert.deepEqual(driver.batches, [["a"], ["b1", "b2", "b3"], ["c", "d"], ["e"]]);
    assert.deepEqual(receipts.map((r) => r.seqNo), [0n, 1n, 2n]);
  });

  it("a failed message rejects its own promise and the next flush, once", async () => {
    const { driver, producer: p } = producer();
    driver.failOn.add("bad");
    const good = p.send("good");
    const bad = p.send("bad");
    await assert.rejects(bad, /refused bad/);
    assert.equal((await good).streamKey, "s");
    await assert.rejects(p.flush(), /refused bad/);
    await p.flush();
    // Not awaited: no unhandled rejection (the test runner fails on one), the flush reports it.
    p.send("bad");
    p.sendBatch(["bad"]);
    await assert.rejects(p.flush(), /refused bad/);
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it("a driver that throws something other than an Error fails the sends, counted as failed", async () => {
    const { driver, producer: p } = producer();
    driver.write = () => Promise.reject("password=hunter2");
    const sends = [p.send("a"), p.send("b")];
    for (const send of sends) {
      const error = await send.then(() => undefined, (e: unknown) => e);
      assert.ok(isStreamError(error) && error.code === "Backend", String(error));
      assert.match(error.message, /^test: the driver threw string, not an Error$/);
      assert.doesNotMatch(`${error.message} ${String(error.cause)}`, /hunter2/);
    }
    await assert.rejects(p.flush(), /the driver threw string/);
    assert.deepEqual({ sent: p.stats().sent, failed: p.stats().failed }, { sent: 0, failed: 2 });
  });

  it("a batch with a failed message rejects whole, and the next flush", async () => {
    const { driver, producer: p } = producer();
    driver.failOn.add("bad");
    await assert.rejects(p.sendBatch(["ok", "bad", "ok too"]), /refused bad/);
    await assert.rejects(p.flush(), /refused bad/);
    assert.deepEqual(await p.sendBatch([]), []);
  });

  it("string payloads reach the driver as strings; keys only where the backend stores them", async () => {
    const { driver, producer: p } = producer({}, false);
    await assert.rejects(
      p.send("x", { key: "k" }),
      (e: unknown) => isStreamError(e, "Unsupported"),
    );
    await assert.rejects(p.flush());
    const seen: PendingSend[] = [];
    const keyed = new CoreProducer(
      { write: (b) => (seen.push(...b), driver.write(b)), close: () => Promise.resolve() },
      { name: "test", keysAndHeaders: true },
      "s",
      {},
      () => {},
    );
    await keyed.sendBatch([{ payload: "v", key: "k", headers: { h: "1" } }, "plain"]);
    assert.equal(seen[0].payload, "v");
    assert.deepEqual(seen[0].options, { key: "k", headers: { h: "1" } });
    assert.equal(seen[1].options, undefined);
  });

  it("a driver that takes text as bytes gets it encoded; validate and stats as with strings", async () => {
    const seen: PendingSend[] = [];
    const validated: unknown[] = [];
    const { driver, producer: p } = bytesProducer(
      (batch) => void seen.push(...batch),
      (item) => void validated.push(item.payload),
    );
    const long = "l".repeat(20_000);
    const texts = ["ascii", "é €", "🎉", "", long];
    const bytes = new Uint8Array([1, 2, 3]);
    await Promise.all([...texts.map((text) => p.send(text)), p.send(bytes)]);
    assert.deepEqual(validated, [...texts, bytes], "validate sees what was sent");
    assert.deepEqual(driver.batches, [[...texts, "\u0001\u0002\u0003"]]);
    assert.ok(
      seen.slice(0, 4).every((item) => item.payload instanceof Uint8Array),
      "short text as bytes",
    );
    assert.equal(seen[4].payload, long, "a long text stays a string");
    assert.equal(seen[5].payload, bytes, "bytes as given");
    const size = texts.reduce((sum, text) => sum + new TextEncoder().encode(text).length, 0);
    assert.deepEqual(p.stats(), { sent: 6, bytes: size + 3, failed: 0, inFlight: 0 });
  });

  it("the memory of texts all written is reused once the producer ends; of a failed one never", async () => {
    /** A producer taking text as bytes; the memory each batch's first text is in. */
    const run = async (texts: string[], failOn: string[] = []) => {
      const memory: ArrayBufferLike[] = [];
      const { driver, producer: p } = bytesProducer(
        (batch) => void memory.push((batch[0].payload as Uint8Array).buffer),
      );
      driver.failOn = new Set(failOn);
      for (const text of texts) p.send(text);
      await p.end().catch(() => {});
      return { memory: memory[0], batches: driver.batches };
    };
    const written = await run(["a", "b"]);
    const next = await run(["c"]);
    assert.equal(next.memory, written.memory, "the chunk of a producer whose texts were written");
    const failed = await run(["bad", "d"], ["bad"]);
    const after = await run(["e".repeat(100)]);
    assert.notEqual(after.memory, failed.memory, "a chunk with a failed text is not reused");
    assert.equal(new TextDecoder().decode(new Uint8Array(failed.memory, 0, 4)), "badd");
    assert.deepEqual(failed.batches, [["bad", "d"]]);
  });

  it("results made on demand: the written are counted without a receipt made", async () => {
    const asked: number[] = [];
    const failure = new StreamError("Backend", "refused 1");
    const driver: ProducerDriver = {
      // Three results for four messages: the second failed, the fourth has none.
      write: () =>
        Promise.resolve({
          length: 3,
          at: (index: number): SendResult | undefined => {
            asked.push(index);
            if (index === 1) return failure;
            return index < 3
              ? { streamKey: "s", shardId: 0, seqNo: BigInt(index), timestamp: new Date(0) }
              : undefined;
          },
          written: (index: number) => index === 0 || index === 2,
        }),
      close: () => Promise.resolve(),
    };
    const p = new CoreProducer(driver, { name: "test", keysAndHeaders: false }, "s", {}, () => {});
    const receipts = ["a", "b", "c", "d"].map((text) => p.send(text));
    await assert.rejects(p.flush(), /refused 1/);
    assert.deepEqual(asked, [1, 3], "only the unwritten were asked for");
    assert.deepEqual(p.stats(), { sent: 2, bytes: 2, failed: 2, inFlight: 0 });
    assert.equal((await receipts[2]).seqNo, 2n);
    await assert.rejects(receipts[1], /refused 1/);
    await assert.rejects(receipts[3], /test: no receipt for a message/);
  });

  it("end flushes, closes, and refuses later sends", async () => {
    const { driver, producer: p } = producer();
    const sent = p.send("last");
    await p.end();
    assert.ok(driver.closed);
    await sent;
    await assert.rejects(p.send("after"), (e: unknown) => isStreamError(e, "Closed"));
    await assert.rejects(p.sendBatch(["after"]), (e: unknown) => isStreamError(e, "Closed"));
  });

  it("stats: sent, UTF-8 bytes, failed and in flight", async () => {
    const { driver, producer: p } = producer();
    driver.failOn.add("bad");
    p.send("héllo");
    p.send("bad");
    p.send(new Uint8Array(3));
    p.send(7 as unknown as string);
    assert.deepEqual(p.stats(), { sent: 0, bytes: 0, failed: 1, inFlight: 3 });
    await p.flush().catch(() => {});
    assert.deepEqual(p.stats(), { sent: 2, bytes: 9, failed: 2, inFlight: 0 });
  });

  it("maxBatchSize must be a positive integer", () => {
    assert.throws(
      () => producer({ maxBatchSize: 0 }),
      (e: unknown) => isStreamError(e, "Unsupported"),
    );
  });
});
