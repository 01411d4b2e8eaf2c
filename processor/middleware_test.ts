/** Unit tests of the middleware wrappers, on hand-made messages. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { StreamMessage } from "../core/message.ts";
import { isStreamError, type Message } from "../types.ts";
import {
  compose,
  deadLetter,
  type DeadLetterRecord,
  dedupe,
  type HandlerEvent,
  messageTimeout,
  observe,
  type Output,
  PermanentError,
  RetriesExhaustedError,
  retry,
  throttle,
} from "./mod.ts";
import { sleep } from "../runtime/mod.ts";

function message(payload: string | Uint8Array, seqNo = 0n): Message {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  return new StreamMessage({ streamKey: "s", shardId: 0, seqNo, timestamp: new Date(0) }, bytes);
}

const context = () => ({ attempt: 1, signal: new AbortController().signal });

describe("middleware: retry", () => {
  it("retries until success, telling the handler its attempt", async () => {
    const attempts: number[] = [];
    const handler = compose((_m, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error("again");
      return "ok";
    }, [retry({ maxAttempts: 5, initialDelayMs: 1 })]);
    assert.equal(await handler(message("x"), context()), "ok");
    assert.deepEqual(attempts, [1, 2, 3]);
  });

  it("gives up after maxAttempts with RetriesExhaustedError; backoff grows", async () => {
    const times: number[] = [];
    const handler = compose(() => {
      times.push(performance.now());
      throw new Error("always");
    }, [retry({ maxAttempts: 3, initialDelayMs: 20, multiplier: 3, jitter: 0 })]);
    const error = await Promise.resolve(handler(message("x"), context())).catch((e) => e);
    assert.ok(error instanceof RetriesExhaustedError);
    assert.equal(error.attempts, 3);
    assert.match(String((error.cause as Error).message), /always/);
    assert.ok(times[1] - times[0] >= 15, `first wait ${times[1] - times[0]}`);
    assert.ok(times[2] - times[1] >= 50, `second wait ${times[2] - times[1]}`);
  });

  it("does not retry permanent errors or bad payloads", async () => {
    let calls = 0;
    const permanent = compose(() => {
      calls++;
      throw new PermanentError("bad order");
    }, [retry({ initialDelayMs: 1 })]);
    await assert.rejects(Promise.resolve(permanent(message("x"), context())));
    assert.equal(calls, 1);
    const json = compose((m) => m.payload.json(), [retry({ initialDelayMs: 1 })]);
    await assert.rejects(Promise.resolve(json(message("{"), context())));
  });
});

describe("middleware: deadLetter", () => {
  it("turns a failure into a dead-letter output with the error, attempts and payload", async () => {
    const handler = compose(() => {
      throw new Error("broken");
    }, [deadLetter(), retry({ maxAttempts: 2, initialDelayMs: 1 })]);
    const output = await handler(message("payload", 42n), context()) as Output;
    assert.equal(output.stream, "s.dlq");
    assert.equal(output.deadLetter, true);
    const record = JSON.parse(output.payload as string) as DeadLetterRecord;
    assert.deepEqual(record, {
      error: "broken",
      errorName: "Error",
      attempts: 2,
      stream: "s",
      shard: 0,
      seq: "42",
      timestamp: "1970-01-01T00:00:00.000Z",
      payload: "payload",
    });
  });

  it("keeps a binary payload as base64 and honours a custom stream", async () => {
    const handler = compose(() => {
      throw new Error("x");
    }, [deadLetter({ stream: () => "parked" })]);
    const output = await handler(message(Uint8Array.from([0xff, 0x00])), context()) as Output;
    assert.equal(output.stream, "parked");
    assert.equal((JSON.parse(output.payload as string) as DeadLetterRecord).payloadBase64, "/wA=");
  });

  it("does not park a message while stopping (its signal aborted)", async () => {
    const controller = new AbortController();
    controller.abort();
    const handler = compose(() => {
      throw new Error("stopping");
    }, [deadLetter()]);
    await assert.rejects(
      Promise.resolve(handler(message("x"), { attempt: 1, signal: controller.signal })),
      /stopping/,
    );
  });
});

describe("middleware: messageTimeout, throttle, dedupe, observe", () => {
  it("messageTimeout fails slow handlers with Timeout and aborts their signal", async () => {
    let aborted = false;
    const handler = compose(async (_m, ctx) => {
      ctx.signal.addEventListener("abort", () => aborted = true);
      await sleep(1000, ctx.signal).catch(() => {});
      return "late";
    }, [messageTimeout(20)]);
    await assert.rejects(
      Promise.resolve(handler(message("x"), context())),
      (e: unknown) => isStreamError(e, "Timeout"),
    );
    assert.ok(aborted);
    const fast = compose(() => "quick", [messageTimeout(1000)]);
    assert.equal(await fast(message("x"), context()), "quick");
  });

  it("throttle holds the rate under concurrency", async () => {
    const handler = compose(() => "ok", [throttle(50)]);
    const started = performance.now();
    await Promise.all(Array.from({ length: 11 }, () => handler(message("x"), context())));
    const elapsed = performance.now() - started;
    // 1 token at once, then one every 20 ms: at least ~200 ms for 11.
    assert.ok(elapsed >= 180, `11 messages at 50/s took only ${elapsed} ms`);
  });

  it("dedupe skips a key seen within the window, not after, and not after a failure", async () => {
    let calls = 0;
    let fail = false;
    const handler = compose((m) => {
      calls++;
      if (fail) throw new Error("x");
      return m.payload.text();
    }, [dedupe({ key: (m) => m.payload.text(), windowMs: 50 })]);
    fail = true;
    await assert.rejects(Promise.resolve(handler(message("a"), context())));
    fail = false;
    assert.equal(await handler(message("a"), context()), "a");
    assert.equal(await handler(message("a"), context()), undefined);
    assert.equal(await handler(message("b"), context()), "b");
    await sleep(60);
    assert.equal(await handler(message("a"), context()), "a");
    assert.equal(calls, 4);
  });

  it("dedupe remembers at most maxKeys keys", async () => {
    const handler = compose((m) => m.payload.text(), [
      dedupe({ key: (m) => m.payload.text(), maxKeys: 2 }),
    ]);
    for (const key of ["a", "b", "c"]) await handler(message(key), context());
    assert.equal(await handler(message("a"), context()), "a", "a was forgotten");
    assert.equal(await handler(message("c"), context()), undefined, "c is remembered");
  });

  it("observe reports start, end and error with the message's position and a duration", async () => {
    const events: [string, HandlerEvent][] = [];
    const hooks = {
      onStart: (e: HandlerEvent) => events.push(["start", e]),
      onEnd: (e: HandlerEvent) => events.push(["end", e]),
      onError: (e: HandlerEvent) => events.push(["error", e]),
    };
    const ok = compose(async () => {
      await sleep(10);
      return "x";
    }, [observe(hooks)]);
    await ok(message("x", 7n), context());
    const failing = compose(() => {
      throw new Error("nope");
    }, [observe({
      ...hooks,
      onStart: () => {
        throw new Error("a broken hook is ignored");
      },
    })]);
    await assert.rejects(Promise.resolve(failing(message("x", 8n), context())), /nope/);
    assert.deepEqual(events.map(([kind, e]) => [kind, e.seqNo]), [["start", 7n], ["end", 7n], [
      "error",
      8n,
    ]]);
    assert.ok(events[1][1].durationMs >= 8);
    assert.match(String((events[2][1].error as Error).message), /nope/);
  });
});

describe("middleware on batches", () => {
  const batch = (...texts: string[]) => texts.map((text, i) => message(text, BigInt(i)));
  type BatchFn = (messages: readonly Message[], ctx: ReturnType<typeof context>) => unknown;
  const wrap = (handler: BatchFn, ...wrappers: ((next: BatchFn) => BatchFn)[]) =>
    wrappers.reduceRight((next, w) => w(next), handler);

  it("retry retries the whole batch; deadLetter dead-letters each of its messages", async () => {
    let calls = 0;
    const handler = wrap(
      () => {
        calls++;
        throw new Error("batch failed");
      },
      deadLetter() as never,
      retry({ maxAttempts: 2, initialDelayMs: 1 }) as never,
    );
    const outputs = await handler(batch("a", "b", "c"), context()) as Output[];
    assert.equal(calls, 2);
    assert.deepEqual(
      outputs.map((o) => (JSON.parse(String(o.payload)) as DeadLetterRecord).payload),
      ["a", "b", "c"],
    );
    assert.ok(outputs.every((o) => o.deadLetter && o.stream === "s.dlq"));
  });

  it("dedupe passes a batch on without its duplicates", async () => {
    const seen: string[][] = [];
    const handler = wrap(
      (messages) => void seen.push(messages.map((m) => m.payload.text())),
      dedupe({ key: (m) => m.payload.text() }) as never,
    );
    await handler(batch("a", "b"), context());
    await handler(batch("b", "c", "a"), context());
    assert.equal(await handler(batch("c"), context()), undefined, "all duplicates: not called");
    assert.deepEqual(seen, [["a", "b"], ["c"]]);
  });

  it("throttle counts a batch's messages; observe reports its size", async () => {
    const events: HandlerEvent[] = [];
    const handler = wrap(
      () => undefined,
      observe({ onEnd: (event) => events.push(event) }) as never,
      throttle(200) as never,
    );
    const started = performance.now();
    await handler(batch(...Array.from({ length: 40 }, (_, i) => `m${i}`)), context());
    await handler(batch(...Array.from({ length: 40 }, (_, i) => `n${i}`)), context());
    // 200 messages a second: 80 messages (the bucket starts with one token) take ~395 ms.
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 350, `80 messages at 200/s passed in ${elapsed} ms`);
    assert.deepEqual(events.map((e) => e.messages), [40, 40]);
  });
});
