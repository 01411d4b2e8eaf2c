/**
 * The processor suite: the same Router, handlers and middleware run on each
 * backend; only the URLs and connect options differ.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type ConnectOptions,
  type ConsumerOptions,
  SeaStreamer,
  type StreamKey,
} from "../../mod.ts";
import {
  type BatchHandler,
  deadLetter,
  type DeadLetterRecord,
  type HandleBatchOptions,
  type HandleOptions,
  type Handler,
  retry,
  Router,
} from "../../processor/mod.ts";
import { sleep, timeout } from "../../runtime/mod.ts";
import { take, texts, uniqueName } from "./helpers.ts";

/** A backend prepared for one processor run. */
export interface ProcessorFixture {
  /** The input URL of `streams`. */
  inputUrl(streams: readonly StreamKey[]): string;
  /** The output URL of `stream`. */
  outputUrl(stream: StreamKey): string;
  /** Connect options for the router. */
  connect?: ConnectOptions;
  /** Consumer options for the router (e.g. `file: { live: false }`). */
  consumer?: ConsumerOptions;
  /** Route options this backend needs, overriding the tests' (e.g. stdio's `mode: "real-time"`). */
  handle?: HandleOptions;
  /** Whether `run()` ends by itself once the input is consumed. */
  endsByItself: boolean;
  /** The first `count` payloads on `stream` (waits for them). */
  outputs(stream: StreamKey, count: number): Promise<string[]>;
  /** Release what the fixture holds. */
  cleanup(): Promise<void>;
}

/** A backend under the processor suite. */
export interface ProcessorBackend {
  /** Shown in test names. */
  name: string;
  /** Whether it has resumable groups (restart tests). */
  persistent: boolean;
  /** Put `inputs` (payloads per stream) in place and describe how to reach them. */
  setup(inputs: Record<StreamKey, string[]>): Promise<ProcessorFixture>;
}

/**
 * A broker backend (Redis, Kafka) under the processor suite: inputs are produced
 * to streams at `url` first, outputs read back from the start; `ready` waits for
 * the broker.
 */
export function serverBackend(
  name: string,
  url: string,
  ready: () => Promise<void>,
): ProcessorBackend {
  return {
    name,
    persistent: true,
    async setup(inputs) {
      await ready();
      const streamer = await SeaStreamer.connect(url);
      const producer = await streamer.createProducer();
      for (const [stream, payloads] of Object.entries(inputs)) {
        for (const payload of payloads) producer.sendTo(stream, payload);
      }
      await producer.end();
      return {
        inputUrl: (streams) => `${url}/${streams.join(",")}`,
        outputUrl: (stream) => `${url}/${stream}`,
        endsByItself: false,
        async outputs(stream, count) {
          const consumer = await streamer.createConsumer([stream], {
            autoStreamReset: "earliest",
          });
          try {
            return texts(await take(consumer, count, 60_000));
          } finally {
            await consumer.end();
          }
        },
        cleanup: () => streamer.disconnect(),
      };
    },
  };
}

const numbered = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** Run `router` until `until` resolves (stopping it, unless it ends by itself). */
async function runUntil<T>(router: Router, fixture: ProcessorFixture, until: Promise<T>) {
  const running = router.run();
  running.catch(() => {});
  const result = await timeout(until, 60_000, "processor outputs");
  if (!fixture.endsByItself) await router.stop();
  await timeout(running, 60_000, "processor run");
  return result;
}

/** Register the processor tests for `backend`. */
export function processorSuite(backend: ProcessorBackend): void {
  describe(`processor: ${backend.name}`, () => {
    async function withFixture(
      inputs: Record<StreamKey, string[]>,
      body: (fixture: ProcessorFixture) => Promise<void>,
    ) {
      const fixture = await backend.setup(inputs);
      try {
        await body(fixture);
      } finally {
        await fixture.cleanup();
      }
    }

    function route(fixture: ProcessorFixture, extra: HandleOptions = {}): HandleOptions {
      return { connect: fixture.connect, consumer: fixture.consumer, ...extra, ...fixture.handle };
    }

    function batchRoute(
      fixture: ProcessorFixture,
      extra: HandleBatchOptions = {},
    ): HandleBatchOptions {
      const { middleware: _, ...handle } = fixture.handle ?? {};
      return { connect: fixture.connect, consumer: fixture.consumer, ...extra, ...handle };
    }

    it("transforms every message, outputs in input order, with concurrency", async () => {
      const input = uniqueName("in");
      const output = uniqueName("out");
      const payloads = numbered(200, "p");
      await withFixture({ [input]: payloads }, async (fixture) => {
        let running = 0;
        let peak = 0;
        const handler: Handler = async (message) => {
          running++;
          peak = Math.max(peak, running);
          await sleep(Math.random() * 3);
          running--;
          return message.payload.text().toUpperCase();
        };
        const router = new Router().handle(
          fixture.inputUrl([input]),
          handler,
          route(fixture, {
            output: fixture.outputUrl(output),
            group: uniqueName("g"),
            concurrency: 8,
          }),
        );
        const got = await runUntil(router, fixture, fixture.outputs(output, payloads.length));
        assert.deepEqual(got, payloads.map((p) => p.toUpperCase()));
        assert.ok(peak > 1, `handlers should overlap (peak ${peak})`);
        assert.ok(peak <= 8, `at most 8 at once (peak ${peak})`);
      });
    });

    it("a handler failing every 7th message twice: retried, nothing lost or duplicated", async () => {
      const input = uniqueName("in");
      const output = uniqueName("out");
      const payloads = numbered(100, "f");
      await withFixture({ [input]: payloads }, async (fixture) => {
        const failures = new Map<string, number>();
        const handler: Handler = (message) => {
          const text = message.payload.text();
          const index = Number(text.slice(1));
          if (index % 7 === 0 && (failures.get(text) ?? 0) < 2) {
            failures.set(text, (failures.get(text) ?? 0) + 1);
            throw new Error(`flaky on ${text}`);
          }
          return `done ${text}`;
        };
        const router = new Router({ middleware: [retry({ maxAttempts: 3, initialDelayMs: 1 })] })
          .handle(
            fixture.inputUrl([input]),
            handler,
            route(fixture, {
              output: fixture.outputUrl(output),
              group: uniqueName("g"),
              concurrency: 4,
            }),
          );
        const got = await runUntil(router, fixture, fixture.outputs(output, payloads.length));
        assert.deepEqual(got, payloads.map((p) => `done ${p}`));
        assert.equal(failures.size, 15);
        for (const count of failures.values()) assert.equal(count, 2);
      });
    });

    it("a poison message ends in the dead-letter stream with its error; the rest flows", async () => {
      const input = uniqueName("in");
      const output = uniqueName("out");
      const payloads = ['{"n":1}', "not json", '{"n":3}'];
      await withFixture({ [input]: payloads }, async (fixture) => {
        const handler: Handler = (message) => `n=${message.payload.json<{ n: number }>().n}`;
        const router = new Router({ middleware: [deadLetter(), retry({ initialDelayMs: 1 })] })
          .handle(
            fixture.inputUrl([input]),
            handler,
            route(fixture, {
              output: fixture.outputUrl(output),
              group: uniqueName("g"),
            }),
          );
        const [outputs, dead] = await runUntil(
          router,
          fixture,
          Promise.all([fixture.outputs(output, 2), fixture.outputs(`${input}.dlq`, 1)]),
        );
        assert.deepEqual(outputs, ["n=1", "n=3"]);
        const record = JSON.parse(dead[0]) as DeadLetterRecord;
        assert.equal(record.stream, input);
        assert.equal(record.payload, "not json");
        assert.equal(record.attempts, 1, "a JSON error is not retried");
        assert.equal(record.errorName, "StreamError");
        assert.match(record.error, /not valid JSON/);
        assert.match(record.seq, /^\d+$/);
      });
    });

    it("a handler error without a dead-letter stream stops the run with that error", async () => {
      const input = uniqueName("in");
      await withFixture({ [input]: ["a", "boom", "c"] }, async (fixture) => {
        const seen: string[] = [];
        const router = new Router().handle(fixture.inputUrl([input]), (message) => {
          seen.push(message.payload.text());
          if (message.payload.text() === "boom") throw new Error("handler exploded");
        }, route(fixture, { group: uniqueName("g") }));
        await assert.rejects(timeout(router.run(), 60_000), /handler exploded/);
        assert.deepEqual(seen.slice(0, 2), ["a", "boom"]);
      });
    });

    it("a batch handler gets batches in order; its outputs go out in order", async () => {
      const input = uniqueName("in");
      const output = uniqueName("out");
      const payloads = numbered(300, "b");
      await withFixture({ [input]: payloads }, async (fixture) => {
        const sizes: number[] = [];
        const handler: BatchHandler = (messages) => {
          sizes.push(messages.length);
          return messages.map((m) => m.payload.text().toUpperCase());
        };
        const router = new Router().handleBatch(
          fixture.inputUrl([input]),
          handler,
          batchRoute(fixture, {
            ...{ output: fixture.outputUrl(output), group: uniqueName("g") },
            maxBatch: 64,
          }),
        );
        const got = await runUntil(router, fixture, fixture.outputs(output, payloads.length));
        assert.deepEqual(got, payloads.map((p) => p.toUpperCase()));
        assert.ok(sizes.every((size) => size >= 1 && size <= 64), `sizes ${sizes}`);
      });
    });

    it("a failing batch is retried whole, then dead-lettered message by message", async () => {
      const input = uniqueName("in");
      const output = uniqueName("out");
      const payloads = ["ok1", "poison", "ok2"];
      await withFixture({ [input]: payloads }, async (fixture) => {
        let attempts = 0;
        const handler: BatchHandler = (messages) => {
          if (messages.some((m) => m.payload.text() === "poison")) {
            attempts++;
            throw new Error("a poisoned batch");
          }
          return messages.map((m) => m.payload.text());
        };
        // With a batch of 1, only the poison message fails; the rest flows.
        const router = new Router({
          middleware: [deadLetter(), retry({ maxAttempts: 2, initialDelayMs: 1 })],
        }).handleBatch(
          fixture.inputUrl([input]),
          handler,
          batchRoute(fixture, {
            ...{ output: fixture.outputUrl(output), group: uniqueName("g") },
            maxBatch: 1,
          }),
        );
        const [outputs, dead] = await runUntil(
          router,
          fixture,
          Promise.all([fixture.outputs(output, 2), fixture.outputs(`${input}.dlq`, 1)]),
        );
        assert.deepEqual(outputs, ["ok1", "ok2"]);
        assert.equal(attempts, 2, "retried once");
        const record = JSON.parse(dead[0]) as DeadLetterRecord;
        assert.equal(record.payload, "poison");
        assert.equal(record.attempts, 2);
        assert.match(record.error, /a poisoned batch/);
      });
    });

    if (backend.persistent) {
      it("a batch route's graceful stop commits whole batches: a restart continues after them", async () => {
        const input = uniqueName("in");
        const output = uniqueName("out");
        const group = uniqueName("g");
        const payloads = numbered(200, "c");
        await withFixture({ [input]: payloads }, async (fixture) => {
          const first = new Router();
          let handled = 0;
          first.handleBatch(
            fixture.inputUrl([input]),
            (messages) => {
              handled += messages.length;
              if (handled >= 50) first.stop();
              return messages.map((m) => m.payload.text());
            },
            batchRoute(fixture, { output: fixture.outputUrl(output), group, maxBatch: 10 }),
          );
          await timeout(first.run(), 60_000, "first run");
          const second = new Router().handleBatch(
            fixture.inputUrl([input]),
            (messages) => messages.map((m) => m.payload.text()),
            batchRoute(fixture, { output: fixture.outputUrl(output), group, maxBatch: 10 }),
          );
          const got = await runUntil(second, fixture, fixture.outputs(output, payloads.length));
          assert.deepEqual(got, payloads, "nothing lost or repeated");
        });
      });

      it("graceful stop commits what finished: a restart continues, nothing lost or repeated", async () => {
        const input = uniqueName("in");
        const output = uniqueName("out");
        const group = uniqueName("g");
        const payloads = numbered(60, "s");
        await withFixture({ [input]: payloads }, async (fixture) => {
          const first = new Router();
          let handled = 0;
          first.handle(fixture.inputUrl([input]), (message) => {
            if (++handled === 25) first.stop();
            return message.payload.text();
          }, route(fixture, { output: fixture.outputUrl(output), group, concurrency: 3 }));
          await timeout(first.run(), 60_000, "first run");
          const second = new Router().handle(
            fixture.inputUrl([input]),
            (message) => message.payload.text(),
            route(fixture, { output: fixture.outputUrl(output), group }),
          );
          const got = await runUntil(second, fixture, fixture.outputs(output, payloads.length));
          assert.deepEqual(got, payloads);
        });
      });

      it("after a failed run, the failed message is delivered again on restart", async () => {
        const input = uniqueName("in");
        const output = uniqueName("out");
        const group = uniqueName("g");
        await withFixture({ [input]: ["a", "b", "c"] }, async (fixture) => {
          let fail = true;
          const handler: Handler = (message) => {
            if (fail && message.payload.text() === "b") throw new Error("not yet");
            return message.payload.text();
          };
          const options = route(fixture, { output: fixture.outputUrl(output), group });
          await assert.rejects(
            timeout(new Router().handle(fixture.inputUrl([input]), handler, options).run(), 60_000),
            /not yet/,
          );
          fail = false;
          const again = new Router().handle(fixture.inputUrl([input]), handler, options);
          const got = await runUntil(again, fixture, fixture.outputs(output, 3));
          assert.deepEqual(got, ["a", "b", "c"]);
        });
      });
    }
  });
}
