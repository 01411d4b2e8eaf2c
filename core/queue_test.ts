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

  it("poll takes the oldest item without waiting, undefined when empty, and makes room", async () => {
    const queue = new BoundedQueue<number>(1);
    assert.equal(queue.poll(), undefined);
    await queue.push(1);
    let second = false;
    const pushing = queue.push(2).then(() => second = true);
    assert.equal(queue.poll(), 1);
    await pushing;
    assert.equal(second, true, "polling must let a waiting pusher in");
    assert.equal(queue.poll(), 2);
    assert.equal(queue.poll(), undefined);
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

  it("waits sharing one signal, or using several, each end on their own signal", async () => {
    const queue = new BoundedQueue<number>(4);
    const stop = new AbortController();
    // The same signal on many waits: each wait gets its item.
    for (let i = 0; i < 3; i++) {
      const taking = queue.shift(stop.signal);
      await queue.push(i);
      assert.equal(await taking, i);
    }
    // Two waits on different signals: aborting one leaves the other waiting.
    const other = new AbortController();
    const first = queue.shift(stop.signal);
    const second = queue.shift(other.signal);
    other.abort(new Error("other"));
    await assert.rejects(second, /other/);
    stop.abort(new Error("stop"));
    await assert.rejects(first, /stop/);
    await queue.push(7);
    assert.equal(await queue.shift(), 7, "no aborted wait may take an item");
    // A new signal after an aborted one works, and an abort after close changes nothing.
    const later = new AbortController();
    const third = queue.shift(later.signal);
    await queue.push(8);
    assert.equal(await third, 8);
    queue.close();
    later.abort(new Error("late"));
    await assert.rejects(queue.shift(), (error) => isStreamError(error, "Closed"));
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
