import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChunkPool, MAX_POOLED_CHUNKS, TextChunks } from "./text_chunks.ts";
import { SendSegment } from "./send_segment.ts";

const encoder = new TextEncoder();

/** The bytes of `view` as a plain Uint8Array (chunks may be of a subclass), for comparing. */
const plain = (view: Uint8Array) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

describe("TextChunks", () => {
  it("encodes text of every UTF-8 width, a lone surrogate as U+FFFD, views staying valid", () => {
    const chunks = new TextChunks();
    const texts = ["", "ascii", "é ü", "€ 中文", "🎉 emoji", "lone \ud800 high", "x".repeat(5000)];
    const views: Uint8Array[] = [];
    // Held by a segment not yet written, as queued sends are.
    const queued = new SendSegment("s");
    // Enough rounds to fill several chunks: earlier views must not change.
    for (let round = 0; round < 200; round++) {
      for (const text of texts) {
        const start = chunks.put(text);
        queued.addText("s", chunks.chunk, start, chunks.position, undefined);
        views.push(chunks.chunk.bytes.subarray(start, chunks.position));
      }
    }
    for (let i = 0; i < views.length; i++) {
      assert.deepEqual(plain(views[i]), encoder.encode(texts[i % texts.length]), `text ${i}`);
    }
    const distinct = new Set(views.map((view) => view.buffer));
    assert.ok(distinct.size > 1, "several chunks were used");
  });

  it("a text that may not fit where the chunk is filled goes into a fresh chunk", () => {
    const chunks = new TextChunks();
    chunks.put("a");
    const first = chunks.chunk.bytes;
    // 3 bytes per unit may be needed: 90,000 units do not fit in what is left of 256 KiB.
    const start = chunks.put("b".repeat(90_000));
    assert.equal(start, 0);
    assert.notEqual(chunks.chunk.bytes, first);
    assert.equal(chunks.position, 90_000);
    // Longer than a chunk at 3 bytes per unit: a chunk of its own size.
    const wide = "€".repeat(100_000);
    assert.equal(chunks.put(wide), 0);
    assert.deepEqual(plain(chunks.chunk.bytes.subarray(0, chunks.position)), encoder.encode(wide));
  });

  it("a chunk is reused once its filler moved on and every segment with a text in it was written", () => {
    const { chunks, segment, first } = filled(30);
    segment.settle(receipts(30), undefined, true);
    // The pool hands out the chunk it was given last.
    const other = new TextChunks();
    other.put("next");
    assert.equal(other.chunk.bytes, first);
    assert.notEqual(chunks.chunk.bytes, first, "the chunk being filled is not given away");
  });

  it("a chunk with a text whose write failed is never reused: its bytes stay as they were", () => {
    const { segment, first } = filled(30);
    const before = plain(first).slice(0, 20_000);
    segment.settle(receipts(30), undefined, false);
    const other = new TextChunks();
    for (let i = 0; i < 100; i++) other.put("z".repeat(10_000));
    assert.notEqual(other.chunk.bytes, first);
    assert.deepEqual(plain(first).slice(0, 20_000), before);
  });

  it("a chunk is not reused while a segment with a text in it is not written", () => {
    const { segment, first } = filled(30);
    const other = new TextChunks();
    for (let i = 0; i < 30; i++) {
      other.put("z".repeat(10_000));
      assert.notEqual(other.chunk.bytes, first);
    }
    assert.equal(new TextDecoder().decode(segment.pending()[0].payload as Uint8Array), text(0));
  });
});

describe("ChunkPool", () => {
  it("keeps at most its size, takes the last given first", () => {
    const pool = new ChunkPool(2, 60_000);
    const [a, b, c] = [new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)];
    pool.give(a);
    pool.give(b);
    pool.give(c);
    assert.equal(pool.size, 2);
    assert.equal(pool.take(), b);
    assert.equal(pool.take(), a);
    assert.equal(pool.take(), undefined);
    assert.equal(MAX_POOLED_CHUNKS, 128);
  });

  it("lets its chunks go once none was taken for its idle time", async () => {
    const pool = new ChunkPool(4, 20);
    pool.give(new Uint8Array(1));
    pool.give(new Uint8Array(1));
    assert.equal(pool.size, 2);
    for (let waited = 0; pool.size > 0 && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(pool.size, 0);
  });
});

/** Text `i`: 10,000 units, so 30 of them fill more than one chunk. */
function text(i: number): string {
  return `${i}`.padEnd(10_000, "x");
}

/** `count` texts put into chunks and added to one segment, as a producer queues them. */
function filled(count: number) {
  const chunks = new TextChunks();
  const segment = new SendSegment("s");
  let first: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const start = chunks.put(text(i));
    first ??= chunks.chunk.bytes;
    segment.addText("s", chunks.chunk, start, chunks.position, undefined);
  }
  assert.notEqual(chunks.chunk.bytes, first, "the texts fill more than one chunk");
  return { chunks, segment, first: first! };
}

/** `count` receipts, all written. */
function receipts(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    streamKey: "s",
    shardId: 0,
    seqNo: BigInt(i),
    timestamp: new Date(0),
  }));
}
