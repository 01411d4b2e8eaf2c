import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BoundedQueue } from "./queue.ts";
import { isStreamError } from "../types.ts";

describe("BoundedQueue", () => {
  it("is FIFO and makes pushers wait while full", async () => {
    const queue = new BoundedQueue<number>(2);
    await queue.push(1);
    await queue.push(2);
    let third = false;
    const pushing = queue.push(3).then(() => third = true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(third, false, "a full queue must make the pusher wait");
    assert.equal(queue.length, 2);
    assert.equal(await queue.shift(), 1);
    await pushing;
    assert.equal(third, true);
    assert.deepEqual([await queue.shift(), await queue.shift()], [2, 3]);
  });

  it("a waiting taker gets the next push directly", async () => {
    const queue = new BoundedQueue<string>(1);
    const taking = queue.shift();
    await queue.push("x");
    assert.equal(await taking, "x");
    assert.equal(queue.length, 0);
  });

  it("close: queued items are still taken, then the reason; pushes reject", async () => {
    const queue = new BoundedQueue<number>(5);
    await queue.push(1);
    queue.close();
    await assert.rejects(queue.push(2), (e: unknown) => isStreamError(e, "Closed"));
    assert.equal(await queue.shift(), 1);
    await assert.rejects(queue.shift(), (e: unknown) => isStreamError(e, "Closed"));
  });

  it("close rejects waiting takers and waiting pushers with the reason", async () => {
    const queue = new BoundedQueue<number>(1);
    await queue.push(1);
    const pusher = queue.push(2);
    queue.close(new Error("gone"));
    await assert.rejects(pusher, /gone/);
    assert.equal(await queue.shift(), 1);
    const empty = new BoundedQueue<number>(1);
    const taker = empty.shift();
    empty.close(new Error("gone too"));
    await assert.rejects(taker, /gone too/);
  });

  it("an aborted shift gives up without losing the next item", async () => {
    const queue = new BoundedQueue<number>(1);
    const controller = new AbortController();
    const taking = queue.shift(controller.signal);
    controller.abort(new Error("stop"));
    await assert.rejects(taking, /stop/);
    await queue.push(7);
    assert.equal(await queue.shift(), 7);
  });

  it("clear drops queued items and releases pushers", async () => {
    const queue = new BoundedQueue<number>(1);
    await queue.push(1);
    const pusher = queue.push(2);
    assert.deepEqual(queue.clear(), [1]);
    await pusher;
    assert.equal(await queue.shift(), 2);
  });

  it("stays correct over many items (head compaction)", async () => {
    const queue = new BoundedQueue<number>(5000);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5000; i++) await queue.push(i);
      for (let i = 0; i < 5000; i++) assert.equal(await queue.shift(), i);
    }
  });
});
