import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BatchProducer, type PendingSend, type SendResult } from "./batch_producer.ts";
import { isStreamError, StreamError } from "../types.ts";

/** A producer whose "backend" records batches: a unit test of the batching machinery. */
class RecordingProducer extends BatchProducer {
  protected readonly backendName = "recording";
  readonly batches: string[][] = [];
  failOn = new Set<string>();
  closed = false;

  protected writeBatch(batch: readonly PendingSend[]): Promise<SendResult[]> {
    this.batches.push(batch.map((item) => new TextDecoder().decode(item.bytes)));
    return Promise.resolve(batch.map((item, i) => {
      const text = new TextDecoder().decode(item.bytes);
      if (this.failOn.has(text)) return new StreamError("Backend", `refused ${text}`);
      return { streamKey: item.streamKey, shardId: 0, seqNo: BigInt(i), timestamp: new Date() };
    }));
  }

  protected close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

describe("BatchProducer", () => {
  it("sends made in one tick go out as one batch, later ones in the next", async () => {
    const producer = new RecordingProducer("s");
    producer.send("a");
    producer.send("b");
    producer.send("c");
    await producer.flush();
    producer.send("d");
    await producer.flush();
    assert.deepEqual(producer.batches, [["a", "b", "c"], ["d"]]);
  });

  it("batches are cut at maxBatchSize, in order", async () => {
    const producer = new RecordingProducer("s", { maxBatchSize: 2 });
    for (const text of ["1", "2", "3", "4", "5"]) producer.send(text);
    await producer.flush();
    assert.deepEqual(producer.batches, [["1", "2"], ["3", "4"], ["5"]]);
  });

  it("a failed message rejects its own promise and the next flush, once", async () => {
    const producer = new RecordingProducer("s");
    producer.failOn.add("bad");
    const good = producer.send("good");
    const bad = producer.send("bad");
    await assert.rejects(bad, /refused bad/);
    assert.equal((await good).streamKey, "s");
    await assert.rejects(producer.flush(), /refused bad/);
    await producer.flush();
  });

  it("end flushes, closes, and refuses later sends", async () => {
    const producer = new RecordingProducer("s");
    const sent = producer.send("last");
    await producer.end();
    assert.ok(producer.closed);
    await sent;
    await assert.rejects(producer.send("after"), (e: unknown) => isStreamError(e, "Closed"));
  });

  it("maxBatchSize must be a positive integer", () => {
    assert.throws(
      () => new RecordingProducer("s", { maxBatchSize: 0 }),
      (e: unknown) => isStreamError(e, "Unsupported"),
    );
  });
});
