import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { LazyReceipt } from "./lazy_receipt.ts";

/** A receipt that holds something that must not be printed, as a queued send does. */
class Holding extends LazyReceipt<string> {
  readonly payload = "secret payload";
}

describe("LazyReceipt", () => {
  it("awaited before it settles: resolves with the value", async () => {
    const receipt = new LazyReceipt<string>();
    setTimeout(() => receipt.settle("written"), 5);
    assert.equal(await receipt, "written");
  });

  it("settled before it is awaited: resolves with the value", async () => {
    const receipt = new LazyReceipt<number>();
    receipt.settle(7);
    assert.equal(await receipt, 7);
    assert.equal(await receipt, 7, "awaited twice, the same value");
  });

  it("an Error rejects, awaited before or after it settles", async () => {
    const early = new LazyReceipt<string>();
    const waiting = assert.rejects(early, /refused early/);
    early.settle(new Error("refused early"));
    await waiting;
    const late = new LazyReceipt<string>();
    late.settle(new Error("refused late"));
    await assert.rejects(late, /refused late/);
    assert.equal(await late.catch((error) => (error as Error).message), "refused late");
  });

  it("settles once: a second outcome is ignored", async () => {
    const receipt = new LazyReceipt<string>();
    receipt.settle("first");
    receipt.settle(new Error("second"));
    assert.equal(await receipt, "first");
  });

  it("works with Promise.all, allSettled and finally, and calls back asynchronously", async () => {
    const a = new LazyReceipt<string>();
    const b = new LazyReceipt<string>();
    a.settle("a");
    const all = Promise.all([a, b]);
    b.settle("b");
    assert.deepEqual(await all, ["a", "b"]);
    const failed = new LazyReceipt<string>();
    failed.settle(new Error("no"));
    const settled = await Promise.allSettled([a, failed]);
    assert.deepEqual(settled.map((s) => s.status), ["fulfilled", "rejected"]);
    let finished = false;
    const order: string[] = [];
    const chained = a.then((value) => order.push(value)).finally(() => (finished = true));
    order.push("sync");
    await chained;
    assert.deepEqual(order, ["sync", "a"], "then's callback runs after the current code");
    assert.ok(finished);
  });

  it("a failure nobody awaits is no unhandled rejection", async () => {
    // The test runners fail a test that leaves an unhandled rejection.
    const receipt = new LazyReceipt<string>();
    receipt.settle(new Error("nobody waits"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await assert.rejects(receipt, /nobody waits/, "awaited later, it rejects");
  });

  it("says it is a promise, and prints its state only", () => {
    const receipt = new Holding();
    assert.equal(Object.prototype.toString.call(receipt), "[object Promise]");
    assert.equal(inspect(receipt), "Promise { <pending> }");
    receipt.settle("done");
    assert.equal(inspect(receipt), "Promise { <fulfilled> }");
    const failed = new Holding();
    failed.settle(new Error("no"));
    assert.equal(inspect(failed), "Promise { <rejected> }");
    assert.ok(!inspect(receipt).includes("secret"));
  });
});
