import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TextChunks } from "./text_chunks.ts";

const encoder = new TextEncoder();

/** The bytes of `view` as a plain Uint8Array (chunks may be of a subclass), for comparing. */
const plain = (view: Uint8Array) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

describe("TextChunks", () => {
  it("encodes text of every UTF-8 width, a lone surrogate as U+FFFD, views staying valid", () => {
    const chunks = new TextChunks();
    const texts = ["", "ascii", "é ü", "€ 中文", "🎉 emoji", "lone \ud800 high", "x".repeat(5000)];
    const views: Uint8Array[] = [];
    // Enough rounds to fill several chunks: earlier views must not change.
    for (let round = 0; round < 200; round++) {
      for (const text of texts) {
        const start = chunks.put(text);
        views.push(chunks.chunk.subarray(start, chunks.position));
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
    const first = chunks.chunk;
    // 3 bytes per unit may be needed: 90,000 units do not fit in what is left of 256 KiB.
    const start = chunks.put("b".repeat(90_000));
    assert.equal(start, 0);
    assert.notEqual(chunks.chunk, first);
    assert.equal(chunks.position, 90_000);
    // Longer than a chunk at 3 bytes per unit: a chunk of its own size.
    const wide = "€".repeat(100_000);
    assert.equal(chunks.put(wide), 0);
    assert.deepEqual(plain(chunks.chunk.subarray(0, chunks.position)), encoder.encode(wide));
  });
});
