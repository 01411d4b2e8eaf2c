/** withSchema with real schema libraries from npm (valibot, zod) and with a hand-written `parse`. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { z } from "zod";
import { StreamMessage } from "../core/message.ts";
import { type Message, StreamError } from "../types.ts";
import {
  compose,
  deadLetter,
  type DeadLetterRecord,
  type Handler,
  type Output,
  retry,
  type StandardSchemaV1,
  withSchema,
} from "./mod.ts";

function message(payload: string): Message {
  const bytes = new TextEncoder().encode(payload);
  return new StreamMessage(
    { streamKey: "s", shardId: 0, seqNo: 0n, timestamp: new Date(0) },
    bytes,
  );
}

const context = () => ({ attempt: 1, signal: new AbortController().signal });

/** Whether `error` is the schema failure StreamError("Json") whose message matches `detail`. */
function schemaFailure(detail: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof StreamError, String(error));
    assert.equal(error.code, "Json");
    assert.match(error.message, /^payload fails the schema: /);
    assert.match(error.message, detail);
    return true;
  };
}

/** Dead-letters what `handler` fails, retrying (what it retries): the record of `payload`. */
async function parked(handler: Handler, payload: string) {
  let calls = 0;
  const wrapped = compose((m, c) => {
    calls++;
    return handler(m, c);
  }, [deadLetter(), retry({ initialDelayMs: 1 })]);
  const output = await wrapped(message(payload), context()) as Output;
  return { calls, record: JSON.parse(output.payload as string) as DeadLetterRecord };
}

describe("typed payloads: withSchema and a parse function", () => {
  const schema = {
    parse(value: unknown): { id: number } {
      if (typeof (value as { id?: unknown })?.id !== "number") {
        throw new Error("id must be a number");
      }
      return value as { id: number };
    },
  };
  const handler: Handler = withSchema(schema, (order) => `order ${order.id}`);

  it("hands the handler the parsed value", async () => {
    assert.equal(await handler(message('{"id":5}'), context()), "order 5");
  });

  it("bad JSON and schema failures are StreamError(Json), which retry does not retry", async () => {
    assert.throws(() => handler(message("{"), context()), (e: unknown) => {
      return e instanceof StreamError && e.code === "Json";
    });
    assert.throws(
      () => handler(message('{"id":"5"}'), context()),
      schemaFailure(/id must be a number/),
    );
    const { calls, record } = await parked(handler, '{"id":"x"}');
    assert.equal(calls, 1);
    assert.match(record.error, /id must be a number/);
  });
});

describe("typed payloads: withSchema and valibot (Standard Schema)", () => {
  const order = v.object({ id: v.number(), total: v.pipe(v.string(), v.transform(Number)) });
  const handler = withSchema(order, (value) => value.total.toFixed(2) + ` for ${value.id}`);

  it("hands the handler the validated, transformed value, synchronously", () => {
    assert.equal(handler(message('{"id":5,"total":"12.5"}'), context()), "12.50 for 5");
  });

  it("a failure is StreamError(Json) with each issue's path and message, never retried", async () => {
    assert.throws(
      () => handler(message('{"id":"5","total":3}'), context()),
      schemaFailure(/id: Invalid type: Expected number but received "5"; total: Invalid type/),
    );
    const { calls, record } = await parked(handler, '{"total":"1"}');
    assert.equal(calls, 1);
    assert.match(record.error, /id: Invalid key: Expected "id"/);
  });

  it("an async schema's result is awaited; its failure rejects", async () => {
    const known = v.pipeAsync(
      v.object({ id: v.number() }),
      v.checkAsync(async ({ id }) => await Promise.resolve(id < 100), "unknown order"),
    );
    const asyncHandler = withSchema(known, (value) => `order ${value.id}`);
    const result = asyncHandler(message('{"id":7}'), context());
    assert.ok(result instanceof Promise);
    assert.equal(await result, "order 7");
    await assert.rejects(
      async () => await asyncHandler(message('{"id":700}'), context()),
      schemaFailure(/: unknown order$/),
    );
  });
});

describe("typed payloads: withSchema and zod (Standard Schema first, parse unused)", () => {
  const order = z.object({ id: z.number(), tags: z.array(z.string()).default([]) });

  it("hands the handler zod's output", async () => {
    const handler = withSchema(order, (value) => `${value.id}:${value.tags.length}`);
    assert.equal(await handler(message('{"id":1}'), context()), "1:0");
  });

  it("a failure names the path of each issue (the Standard Schema path, not zod's parse)", () => {
    const handler = withSchema(order, () => "unreached");
    assert.throws(
      () => handler(message('{"id":1,"tags":["a",2]}'), context()),
      schemaFailure(/tags\.1: /),
    );
  });

  it("async refinements resolve through validate", async () => {
    const even = order.refine(async ({ id }) => await Promise.resolve(id % 2 === 0), "odd id");
    const handler = withSchema(even, (value) => `even ${value.id}`);
    assert.equal(await handler(message('{"id":2}'), context()), "even 2");
    await assert.rejects(
      async () => await handler(message('{"id":3}'), context()),
      schemaFailure(/odd id/),
    );
  });
});

describe("typed payloads: withSchema and a hand-written Standard Schema", () => {
  it("a validate that throws or rejects is StreamError(Json) too; issues are the cause", async () => {
    const throwing: StandardSchemaV1<unknown, number> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate() {
          throw new Error("validator bug");
        },
      },
    };
    assert.throws(
      () => withSchema(throwing, () => "unreached")(message("1"), context()),
      schemaFailure(/validator bug/),
    );
    const rejecting: StandardSchemaV1<unknown, number> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: () => Promise.reject(new Error("lookup failed")),
      },
    };
    await assert.rejects(
      async () => await withSchema(rejecting, () => "unreached")(message("1"), context()),
      schemaFailure(/lookup failed/),
    );
    const issues = [{ message: "too small", path: [{ key: "a" }, 0] }];
    const failing: StandardSchemaV1<unknown, number> = {
      "~standard": { version: 1, vendor: "test", validate: () => ({ issues }) },
    };
    assert.throws(
      () => withSchema(failing, () => "unreached")(message("1"), context()),
      (error: unknown) => {
        schemaFailure(/fails the schema: a\.0: too small$/)(error);
        assert.deepEqual((error as StreamError).cause, { issues });
        return true;
      },
    );
  });
});
