/** The CLI's line output: every line is out when `close` returns, whichever write carried it. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sleep } from "../runtime/mod.ts";
import { LineWriter } from "./output.ts";

/** A byte stream that takes `delayMs` per chunk, and the text it has finished writing. */
function slowSink(delayMs: number) {
  const done: string[] = [];
  const stream = new WritableStream<Uint8Array>({
    async write(chunk) {
      await sleep(delayMs);
      done.push(new TextDecoder().decode(chunk));
    },
  });
  return { stream, written: () => done.join("") };
}

describe("cli: LineWriter", () => {
  it("close waits for a chunk the timer is still writing (the process may exit right after)", async () => {
    const sink = slowSink(50);
    const out = new LineWriter(sink.stream);
    await out.write("one");
    await out.write("two");
    await sleep(10); // the timer has sent both lines to the slow sink; nothing is pending
    await out.close();
    assert.equal(sink.written(), "one\ntwo\n");
  });

  it("flush waits for the timer's chunk even when nothing is pending", async () => {
    const sink = slowSink(50);
    const out = new LineWriter(sink.stream);
    await out.write("only");
    await sleep(10);
    await out.flush();
    assert.equal(sink.written(), "only\n");
    await out.close();
  });
});
