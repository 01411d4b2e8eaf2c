import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { StreamMessage } from "../core/message.ts";
import { type Message, StreamError } from "../types.ts";
import { type MessageSource, StreamJoin } from "./join.ts";
import { sleep } from "../runtime/mod.ts";

function message(streamKey: string, at: number, text = `${streamKey}@${at}`): Message {
  return new StreamMessage(
    { streamKey, shardId: 0, seqNo: BigInt(at), timestamp: new Date(at) },
    new TextEncoder().encode(text),
  );
}

/** A source that yields `script` items (a message, or a pause in ms), then ends. */
function source(script: readonly (Message | number)[]): MessageSource {
  let index = 0;
  return {
    async next() {
      while (index < script.length) {
        const item = script[index++];
        if (typeof item === "number") await sleep(item);
        else return item;
      }
      throw new StreamError("Closed", "end");
    },
  };
}

async function all(join: StreamJoin): Promise<string[]> {
  const out: string[] = [];
  for await (const m of join) out.push(m.payload.text());
  return out;
}

describe("StreamJoin", () => {
  it("buffers the fast stream until the slow one catches up (SeaStreamer's example)", async () => {
    const join = new StreamJoin(
      source([
        message("fast", 1),
        message("fast", 2),
        message("slow", 2),
        message("fast", 3),
        message("fast", 4),
        message("fast", 5),
        message("slow", 6),
      ]),
      { align: ["fast", "slow"] },
    );
    assert.deepEqual(await all(join), [
      "fast@1",
      "fast@2",
      "slow@2",
      "fast@3",
      "fast@4",
      "fast@5",
      "slow@6",
    ]);
  });

  it("orders by timestamp across streams; ties by stream key", async () => {
    const join = new StreamJoin(source([message("b", 5), message("a", 1), message("a", 5)]), {
      align: ["a", "b"],
    });
    assert.deepEqual(await all(join), ["a@1", "a@5", "b@5"]);
  });

  it("a late aligned stream is waited for at most windowMs", async () => {
    const join = new StreamJoin(source([message("fast", 1), 300, message("slow", 0)]), {
      align: ["fast", "slow"],
      windowMs: 50,
    });
    const started = performance.now();
    const first = await join.next();
    assert.equal(first.payload.text(), "fast@1");
    assert.ok(performance.now() - started < 250, "released by the window, not the late message");
    assert.equal((await join.next()).payload.text(), "slow@0");
  });

  it("never buffers more than maxBuffered", async () => {
    const script = Array.from({ length: 50 }, (_, i) => message("fast", i));
    const join = new StreamJoin(source(script), { align: ["fast", "never"], maxBuffered: 5 });
    const out: string[] = [];
    for (let i = 0; i < 50; i++) {
      out.push((await join.next()).payload.text());
      assert.ok(join.buffered <= 5);
    }
    assert.deepEqual(out, script.map((m) => m.payload.text()));
  });

  it("a source failure is raised after what was buffered", async () => {
    let calls = 0;
    const join = new StreamJoin({
      next() {
        calls++;
        return calls === 1
          ? Promise.resolve(message("a", 1))
          : Promise.reject(new StreamError("Backend", "gone"));
      },
    });
    assert.equal((await join.next()).payload.text(), "a@1");
    await assert.rejects(join.next(), /gone/);
  });
});
