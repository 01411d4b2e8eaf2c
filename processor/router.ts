/**
 * The {@link Router}: consume, handle, produce, commit — at-least-once end to
 * end, on any backend, with bounded concurrency and graceful stop.
 *
 * @module
 */
import { StreamError } from "../types.ts";
import { shutdownSignal } from "../runtime/mod.ts";
import type {
  BatchHandler,
  BatchMiddleware,
  HandleBatchOptions,
  HandleOptions,
  Handler,
  Middleware,
  RouterOptions,
} from "./types.ts";
import { handlesBatches, type WorkHandler } from "./middleware/universal.ts";
import { Route, StreamerPool } from "./route.ts";

/**
 * Compose middleware around a handler; the first middleware is the outermost.
 *
 * @example Testing a handler with its middleware, without a router
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 * import { compose, type Middleware } from "@seastreamer/seastreamer/processor";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[words] hi\n")]);
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { input } });
 * const message = await (await streamer.createConsumer(["words"])).next();
 * const shout: Middleware = (next) => async (m, context) =>
 *   String(await next(m, context)).toUpperCase();
 * const handler = compose((m) => m.payload.text(), [shout]);
 * console.log(await handler(message, { attempt: 1, signal: new AbortController().signal })); // HI
 * ```
 */
export function compose(handler: Handler, middleware: readonly Middleware[]): Handler {
  return middleware.reduceRight((next, wrap) => wrap(next), handler);
}

/**
 * Runs handlers: each `handle()` consumes a stream URL, calls the handler for
 * every message, produces what it returns, and commits the input only after
 * its outputs are acknowledged (at-least-once end to end). The same router
 * runs unchanged on any backend; only the URLs change.
 *
 * @example Upper-case every message of a stream into another
 * ```ts
 * import { Router } from "@seastreamer/seastreamer/processor";
 *
 * const router = new Router();
 * router.handle("stdio:///words", (message) => message.payload.text().toUpperCase(), {
 *   output: "stdio:///shouted",
 *   connect: {
 *     stdio: {
 *       input: ReadableStream.from([new TextEncoder().encode("[words] hello\n")]),
 *       output: new WritableStream(),
 *     },
 *   },
 * });
 * await router.run(); // ends when the input ends
 * ```
 */
export class Router {
  readonly #options: RouterOptions;
  readonly #routes: Route[] = [];
  #running: Promise<void> | undefined;

  /** A router; see {@link RouterOptions}. */
  constructor(options: RouterOptions = {}) {
    this.#options = options;
  }

  /**
   * Register `handler` for the streams of the `input` URL (for example
   * `redis://localhost:6379/orders`). Call before {@link Router.run}.
   */
  handle(input: string, handler: Handler, options: HandleOptions = {}): this {
    if (this.#running) throw new StreamError("Unsupported", "add handlers before run()");
    const middleware = [...(this.#options.middleware ?? []), ...(options.middleware ?? [])];
    this.#routes.push(
      new Route(this, input, compose(handler, middleware) as WorkHandler, options),
    );
    return this;
  }

  /**
   * Register `handler` for batches of the streams of the `input` URL: it gets
   * 1 to `maxBatch` messages at a time, its outputs go out in order, and the
   * batch is committed once they are acknowledged. Router-wide middleware
   * applies when it handles batches (the built-in middleware does).
   */
  handleBatch(input: string, handler: BatchHandler, options: HandleBatchOptions = {}): this {
    if (this.#running) throw new StreamError("Unsupported", "add handlers before run()");
    const maxBatch = options.maxBatch ?? 1000;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) {
      throw new StreamError("Unsupported", "maxBatch must be a positive integer");
    }
    const shared = this.#options.middleware ?? [];
    const single = shared.findIndex((middleware) => !handlesBatches(middleware));
    if (single >= 0) {
      throw new StreamError(
        "Unsupported",
        `router middleware #${
          single + 1
        } wraps single messages only: give the batch route its own (options.middleware)`,
      );
    }
    const middleware: BatchMiddleware[] = [
      ...shared.filter(handlesBatches),
      ...(options.middleware ?? []),
    ];
    const wrapped = middleware.reduceRight((next, wrap) => wrap(next), handler);
    this.#routes.push(new Route(this, input, wrapped as WorkHandler, options, maxBatch));
    return this;
  }

  /**
   * Run every handler until {@link Router.stop}, the signal, SIGINT/SIGTERM
   * (with `handleSignals`) or the end of the inputs; then finish what is in
   * flight, commit, flush and disconnect. Rejects with the first failure (a
   * handler error without dead-letter middleware, a backend error).
   */
  run(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Stop taking messages; `run()` resolves once everything in flight is finished. */
  stop(): Promise<void> {
    for (const route of this.#routes) route.stop();
    return this.#running?.catch(() => {}) ?? Promise.resolve();
  }

  async #run(): Promise<void> {
    const pool = new StreamerPool();
    const { signal } = this.#options;
    const onAbort = () => this.stop();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const shutdown = this.#options.handleSignals ? shutdownSignal() : undefined;
    shutdown?.signal.addEventListener("abort", () => this.stop());
    try {
      const results = await Promise.allSettled(
        this.#routes.map((route) => route.run(pool, this.#options.stopTimeoutMs ?? 10_000)),
      );
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      shutdown?.dispose();
      await pool.disconnect();
    }
  }
}
