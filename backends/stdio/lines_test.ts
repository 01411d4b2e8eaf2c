import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { StreamError } from "../../types.ts";
import { LineSplitter } from "./lines.ts";

async function split(
  chunks: string[],
  maxLineBytes?: number,
): Promise<{ lines: string[]; errors: StreamError[] }> {
  const errors: StreamError[] = [];
  const input = ReadableStream.from(chunks.map((chunk) => new TextEncoder().encode(chunk)));
  const lines: string[] = [];
  for await (
    const batch of input.pipeThrough(
      new LineSplitter({ maxLineBytes, onOverlong: (e) => errors.push(e) }),
    )
  ) {
    lines.push(...batch.map((line) => new TextDecoder().decode(line)));
  }
  return { lines, errors };
}

describe("LineSplitter", () => {
  it("splits lines within and across chunks, keeps empty lines and a last unterminated line", async () => {
    const { lines } = await split(["a\nb", "c\n\nd", "e", "\nlast"]);
    assert.deepEqual(lines, ["a", "bc", "", "de", "last"]);
  });

  it("a chunk of many lines yields them in one batch", async () => {
    const input = ReadableStream.from([new TextEncoder().encode("1\n2\n3\n")]);
    const batches: number[] = [];
    for await (const batch of input.pipeThrough(new LineSplitter())) batches.push(batch.length);
    assert.deepEqual(batches, [3]);
  });

  it("an over-long line is reported and dropped; the next lines still flow", async () => {
    const { lines, errors } = await split(
      ["ok\n", "x".repeat(10), "y".repeat(10), "\nafter\n"],
      15,
    );
    assert.deepEqual(lines, ["ok", "after"]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, "Backend");
  });

  it("without a handler, an over-long line errors the stream", async () => {
    const input = ReadableStream.from([new TextEncoder().encode("x".repeat(20) + "\n")]);
    await assert.rejects(async () => {
      for await (const _ of input.pipeThrough(new LineSplitter({ maxLineBytes: 5 }))) {
        /* drain */
      }
    }, StreamError);
  });
});
