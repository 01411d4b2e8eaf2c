/** Client errors as StreamErrors: what a client threw reaches the user's message only if it is an Error. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { StreamError } from "../types.ts";
import { messageOf, thrownError, wrapError } from "./errors.ts";

describe("core: client errors", () => {
  it("an Error's message is kept, and the Error is the cause", () => {
    const original = new Error("connection refused");
    const error = wrapError("redis", original, "cannot read", "Connect");
    assert.equal(error.code, "Connect");
    assert.equal(error.message, "redis: cannot read: connection refused");
    assert.equal(error.cause, original);
  });

  it("something else thrown is named by its type only: not in the message, not the cause", () => {
    for (const thrown of ["redis://:hunter2@host", { password: "hunter2" }, 987654321]) {
      const error = wrapError("kafka", thrown, "cannot send");
      assert.equal(error.code, "Backend");
      assert.equal(error.message, `kafka: cannot send: threw ${typeof thrown}, not an Error`);
      assert.equal(error.cause, undefined);
      assert.doesNotMatch(inspect(error, { depth: 5 }), /hunter2|987654321/);
      assert.doesNotMatch(messageOf(thrown), /hunter2|987654321/);
      const converted = thrownError(thrown, "kafka: the client");
      assert.ok(converted instanceof StreamError);
      assert.equal(converted.message, `kafka: the client threw ${typeof thrown}, not an Error`);
    }
  });

  it("a StreamError passes through unchanged", () => {
    const original = new StreamError("Timeout", "nats: no acknowledgement");
    assert.equal(wrapError("nats", original, "cannot publish"), original);
    assert.equal(thrownError(original, "nats"), original);
  });
});
