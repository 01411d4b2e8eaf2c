/**
 * The processor's vocabulary: handlers, what they return, middleware.
 *
 * @module
 */
import type {
  AutoStreamReset,
  ConnectOptions,
  ConsumerMode,
  ConsumerOptions,
  Message,
  PayloadInput,
  StreamKey,
} from "../types.ts";

/**
 * One message a handler asks to produce.
 *
 * @example
 * ```ts
 * import { type Handler, type Output, Router } from "@seastreamer/seastreamer/processor";
 *
 * const input = ReadableStream.from([new TextEncoder().encode('[orders] {"id":7}\n')]);
 * const lines: string[] = [];
 * const output = new WritableStream({
 *   write: (bytes) => void lines.push(new TextDecoder().decode(bytes)),
 * });
 * const handler: Handler = (message) => {
 *   const audit: Output = { payload: message.payload.text(), stream: "audit" };
 *   return [`invoice ${message.payload.json<{ id: number }>().id}`, audit]; // two outputs
 * };
 * const router = new Router();
 * router.handle("stdio:///orders", handler, {
 *   output: "stdio:///invoices",
 *   connect: { stdio: { input, output } },
 * });
 * await router.run();
 * console.log(lines.join("")); // [… | invoices | 0] invoice 7, then [… | audit | 0] {"id":7}
 * ```
 */
export interface Output {
  /** The payload. */
  payload: PayloadInput;
  /** The stream to send to (default: the output URL's first stream). */
  stream?: StreamKey;
  /** A message key (backends that cannot store keys reject it). */
  key?: string;
  /** Message headers (backends that cannot store headers reject them). */
  headers?: Record<string, string>;
  /** Send it on the input's backend instead of the output's (dead letters sit beside their stream). */
  deadLetter?: boolean;
}

/**
 * What a handler returns: nothing, one payload or output, or several.
 *
 * @example
 * ```ts
 * import type { HandlerResult } from "@seastreamer/seastreamer/processor";
 *
 * // Nothing (skip), one payload, or several outputs, each possibly to another stream:
 * function route(text: string): HandlerResult {
 *   if (text === "") return;
 *   if (!text.startsWith("refund")) return text;
 *   return [text, { payload: text, stream: "refunds" }];
 * }
 * console.log(route(""), route("order 1"), route("refund 2")); // undefined order 1 [ "refund 2", { payload: "refund 2", stream: "refunds" } ]
 * ```
 */
export type HandlerResult = void | PayloadInput | Output | ReadonlyArray<PayloadInput | Output>;

/**
 * What a handler knows besides the message.
 *
 * @example
 * ```ts
 * import { type HandlerContext, Router } from "@seastreamer/seastreamer/processor";
 * import { sleep } from "@seastreamer/seastreamer/runtime";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[jobs] resize photo.png\n")]);
 * const router = new Router();
 * router.handle("stdio:///jobs", async (message, context: HandlerContext) => {
 *   await sleep(1, context.signal); // gives up when the router gives up on the message
 *   console.log(`${message.payload.text()}, attempt ${context.attempt}`); // resize photo.png, attempt 1
 * }, { connect: { stdio: { input } } });
 * await router.run();
 * ```
 */
export interface HandlerContext {
  /** 1 for the first try; the retry middleware counts up. */
  attempt: number;
  /** Aborted when the processor gives up on the message (stop timeout, per-message timeout). */
  signal: AbortSignal;
}

/**
 * Handles one message: returns the outputs to produce. Throwing fails the
 * message (and, without retry/dead-letter middleware, stops the processor
 * without committing it, so it is delivered again after a restart).
 *
 * @example
 * ```ts
 * import { type Handler, Router } from "@seastreamer/seastreamer/processor";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[sentences] to be\n")]);
 * const lines: string[] = [];
 * const output = new WritableStream({
 *   write: (bytes) => void lines.push(new TextDecoder().decode(bytes)),
 * });
 * const words: Handler = (message) => message.payload.text().split(" "); // one output per word
 * const router = new Router();
 * router.handle("stdio:///sentences", words, {
 *   output: "stdio:///words",
 *   connect: { stdio: { input, output } },
 * });
 * await router.run();
 * console.log(lines.join("")); // [… | words | 0] to, then [… | words | 1] be
 * ```
 */
export type Handler = (
  message: Message,
  context: HandlerContext,
) => HandlerResult | Promise<HandlerResult>;

/**
 * Wraps a handler with behaviour (retry, timeout, tracing…).
 *
 * @example
 * ```ts
 * import { type Middleware, Router } from "@seastreamer/seastreamer/processor";
 *
 * const logged: Middleware = (next) => async (message, context) => {
 *   const result = await next(message, context);
 *   console.log(`handled ${message.header.streamKey} #${message.header.seqNo}`); // handled orders #0
 *   return result;
 * };
 * const input = ReadableStream.from([new TextEncoder().encode("[orders] hi\n")]);
 * const router = new Router({ middleware: [logged] });
 * router.handle("stdio:///orders", () => {}, { connect: { stdio: { input } } });
 * await router.run();
 * ```
 */
export type Middleware = (next: Handler) => Handler;

/**
 * Handles a batch of 1 to `maxBatch` messages (as Kafka's `eachBatch` does):
 * returns the outputs of the whole batch. They are produced in order, and the
 * batch is committed once they are acknowledged. Throwing fails the whole batch.
 *
 * @example
 * ```ts
 * import { type BatchHandler, Router } from "@seastreamer/seastreamer/processor";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[n] 1\n[n] 2\n[n] 3\n")]);
 * const lines: string[] = [];
 * const output = new WritableStream({
 *   write: (bytes) => void lines.push(new TextDecoder().decode(bytes)),
 * });
 * const sum: BatchHandler = (messages) =>
 *   String(messages.reduce((total, m) => total + Number(m.payload.text()), 0));
 * const router = new Router();
 * router.handleBatch("stdio:///n", sum, { output: "stdio:///sums", connect: { stdio: { input, output } } });
 * await router.run();
 * console.log(lines.join("")); // [… | sums | 0] 6 (one batch here)
 * ```
 */
export type BatchHandler = (
  messages: readonly Message[],
  context: HandlerContext,
) => HandlerResult | Promise<HandlerResult>;

/**
 * Wraps a batch handler with behaviour. The built-in middleware (retry,
 * deadLetter, messageTimeout, throttle, dedupe, observe) wraps both handlers of
 * single messages and of batches.
 *
 * @example
 * ```ts
 * import { type BatchMiddleware, Router } from "@seastreamer/seastreamer/processor";
 *
 * const sizes: number[] = [];
 * const measured: BatchMiddleware = (next) => (messages, context) => {
 *   sizes.push(messages.length);
 *   return next(messages, context);
 * };
 * const input = ReadableStream.from([new TextEncoder().encode("[t] a\n[t] b\n")]);
 * const router = new Router();
 * router.handleBatch("stdio:///t", () => {}, { middleware: [measured], connect: { stdio: { input } } });
 * await router.run();
 * console.log(sizes); // [ 2 ]
 * ```
 */
export type BatchMiddleware = (next: BatchHandler) => BatchHandler;

/**
 * Middleware that wraps handlers of single messages and of batches alike: what
 * the built-in factories return. Router-wide middleware must be of this kind to
 * apply to batch routes.
 *
 * @example
 * ```ts
 * import { retry, type UniversalMiddleware } from "@seastreamer/seastreamer/processor";
 *
 * const retried: UniversalMiddleware = retry({ maxAttempts: 2 });
 * console.log(typeof retried); // function
 * ```
 */
export type UniversalMiddleware = Middleware & BatchMiddleware;

/**
 * How {@link Router.handle} reads, writes and runs a handler.
 *
 * @example
 * ```ts
 * import { type HandleOptions, Router } from "@seastreamer/seastreamer/processor";
 *
 * const lines: string[] = [];
 * const options: HandleOptions = {
 *   output: "stdio:///shouted",
 *   concurrency: 4, // outputs still come in input order
 *   connect: {
 *     stdio: {
 *       input: ReadableStream.from([new TextEncoder().encode("[words] a\n[words] b\n")]),
 *       output: new WritableStream({
 *         write: (bytes) => void lines.push(new TextDecoder().decode(bytes)),
 *       }),
 *     },
 *   },
 * };
 * const router = new Router();
 * router.handle("stdio:///words", (message) => message.payload.text().toUpperCase(), options);
 * await router.run();
 * console.log(lines.join("")); // [… | shouted | 0] A, then [… | shouted | 1] B
 * ```
 */
export interface HandleOptions {
  /** Where outputs go: a stream URL such as `redis://host:6379/invoices`. */
  output?: string;
  /** The consumer group (needed to resume after a restart). */
  group?: string;
  /** Default: `resumable` when a group is given, else `real-time`. */
  mode?: ConsumerMode;
  /** Where a new group starts (default `earliest`: a processor should not skip history). */
  autoStreamReset?: AutoStreamReset;
  /**
   * Messages handled at once (default 1). Handlers of one shard may overlap,
   * but their outputs are produced, and inputs committed, in input order.
   */
  concurrency?: number;
  /** Middleware for this handler, outermost first (after the router's). */
  middleware?: readonly Middleware[];
  /** How often finished inputs are committed, in ms (default 100; and always at stop). */
  commitIntervalMs?: number;
  /** Extra consumer options (backend sub-objects such as `file: { live: false }`). */
  consumer?: ConsumerOptions;
  /** Options for connecting the input and output URLs. */
  connect?: ConnectOptions;
}

/**
 * How {@link Router.handleBatch} reads, writes and runs a batch handler: as
 * {@link HandleOptions}, with batch middleware and a batch size.
 *
 * @example
 * ```ts
 * import { type HandleBatchOptions, retry } from "@seastreamer/seastreamer/processor";
 *
 * const options: HandleBatchOptions = {
 *   output: "redis://localhost:6379/totals",
 *   group: "totals",
 *   maxBatch: 500,
 *   middleware: [retry({ maxAttempts: 3 })],
 * };
 * console.log(options.maxBatch); // 500
 * ```
 */
export interface HandleBatchOptions extends Omit<HandleOptions, "middleware"> {
  /** The most messages in one batch (default 1,000). */
  maxBatch?: number;
  /** Middleware for this handler, outermost first (after the router's). */
  middleware?: readonly BatchMiddleware[];
}

/**
 * Options of a {@link Router}.
 *
 * @example
 * ```ts
 * import { retry, Router, type RouterOptions } from "@seastreamer/seastreamer/processor";
 *
 * const stop = new AbortController();
 * const options: RouterOptions = {
 *   signal: stop.signal, // or handleSignals: true, to stop on SIGINT/SIGTERM
 *   stopTimeoutMs: 1_000,
 *   middleware: [retry({ maxAttempts: 3 })],
 * };
 * const router = new Router(options);
 * router.handle("stdio:///orders", () => {}, { connect: { stdio: { loopback: true } } });
 * const running = router.run();
 * stop.abort();
 * await running; // stops gracefully: committed, flushed, disconnected
 * ```
 */
export interface RouterOptions {
  /** Stop when this signal aborts. */
  signal?: AbortSignal;
  /** Stop gracefully on SIGINT/SIGTERM (a second signal exits at once). */
  handleSignals?: boolean;
  /** How long a stop waits for messages in flight, in ms (default 10,000). */
  stopTimeoutMs?: number;
  /** Middleware for every handler, outermost first. */
  middleware?: readonly Middleware[];
}
