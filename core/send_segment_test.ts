import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { SendSegment } from "./send_segment.ts";
import { TextChunk } from "./text_chunks.ts";
import { type MessageHeader, StreamError } from "../types.ts";

function header(streamKey: string, seqNo: number): MessageHeader {
  return { streamKey, shardId: 0, seqNo: BigInt(seqNo), timestamp: new Date(0) };
}

describe("SendSegment", () => {
  it("hands each send over as added: its key, payload (text as a view of its chunk) and options", () => {
    const chunk = new TextChunk(new TextEncoder().encode("héllo world"));
    const bytes = new Uint8Array([1, 2]);
    const segment = new SendSegment("a");
    segment.add("a", "as given", undefined);
    segment.addText("a", chunk, 0, 6, undefined);
    segment.add("b", bytes, { key: "k" });
    segment.addText("a", chunk, 7, 12, undefined);
    assert.equal(segment.length, 4);
    const sends = segment.pending();
    assert.deepEqual(sends.map((send) => send.streamKey), ["a", "a", "b", "a"]);
    assert.deepEqual(sends.map((send) => send.options), [
      undefined,
      undefined,
      { key: "k" },
      undefined,
    ]);
    assert.equal(sends[0].payload, "as given");
    assert.equal(new TextDecoder().decode(sends[1].payload as Uint8Array), "héllo");
    assert.equal(sends[2].payload, bytes);
    assert.equal(new TextDecoder().decode(sends[3].payload as Uint8Array), "world");
    assert.deepEqual([0, 1, 2, 3].map((i) => segment.sizeOf(i)), [8, 6, 2, 5]);
  });

  it("one key and no options make no columns of them", () => {
    const segment = new SendSegment("only");
    for (let i = 0; i < 3; i++) segment.add("only", `m${i}`, undefined);
    const sends = segment.pending();
    assert.deepEqual(sends.map((send) => [send.streamKey, send.payload, send.options]), [
      ["only", "m0", undefined],
      ["only", "m1", undefined],
      ["only", "m2", undefined],
    ]);
  });

  it("each receipt settles with its own result, awaited before or after the write", async () => {
    const segment = new SendSegment("s");
    const early = segment.add("s", "0", undefined);
    const failing = segment.add("s", "1", undefined);
    const late = segment.add("s", "2", undefined);
    const unawaited = segment.add("s", "3", undefined);
    assert.equal(inspect(early), "Promise { <pending> }");
    const waiting = Promise.allSettled([early, failing]);
    segment.settle(
      [
        header("s", 10),
        new StreamError("Backend", "refused 1"),
        header("s", 12),
        header("s", 13),
      ],
      undefined,
      false,
    );
    const [first, second] = await waiting;
    assert.equal(first.status === "fulfilled" && first.value.seqNo, 10n);
    assert.equal(second.status === "rejected" && (second.reason as Error).message, "refused 1");
    assert.equal((await late).seqNo, 12n, "awaited after the write");
    assert.equal(inspect(unawaited), "Promise { <fulfilled> }");
    assert.equal(inspect(failing), "Promise { <rejected> }");
    await assert.rejects(failing, /refused 1/, "awaited again, the same error");
  });

  it("results made on demand, and a send the driver gave no result for", async () => {
    const segment = new SendSegment("s");
    const receipts = [0, 1, 2].map((i) => segment.add("s", `${i}`, undefined));
    const asked: number[] = [];
    const missing = new StreamError("Backend", "no receipt");
    segment.settle(
      {
        length: 2,
        at: (index) => {
          asked.push(index);
          return index < 2 ? header("s", 20 + index) : undefined;
        },
      },
      missing,
      false,
    );
    assert.deepEqual(asked, [], "nothing is made before it is asked for");
    assert.equal((await receipts[1]).seqNo, 21n);
    assert.equal((await receipts[0]).seqNo, 20n);
    await assert.rejects(receipts[2], /no receipt/);
    assert.deepEqual(asked, [1, 0, 2]);
  });

  it("a failure nobody awaits is no unhandled rejection", async () => {
    // The test runners fail a test that leaves an unhandled rejection.
    const segment = new SendSegment("s");
    const receipt = segment.add("s", "x", undefined);
    segment.settle([new StreamError("Backend", "nobody waits")], undefined, false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await assert.rejects(receipt, /nobody waits/, "awaited later, it rejects");
  });
});
