/**
 * The processor toolkit: a {@link Router} that consumes, handles, produces and
 * commits (at-least-once end to end) on any backend; middleware for retries,
 * dead-letter streams, timeouts, throttling, de-duplication and tracing;
 * typed payloads; and {@link StreamJoin} to merge streams by timestamp.
 *
 * @example A processor with retries and a dead-letter stream
 * ```ts
 * import { deadLetter, retry, Router } from "@seastreamer/seastreamer/processor";
 *
 * const router = new Router({ middleware: [deadLetter(), retry({ maxAttempts: 3 })] });
 * router.handle("stdio:///orders", (message) => {
 *   const order = message.payload.json<{ id: number }>();
 *   return JSON.stringify({ invoice: order.id });
 * }, {
 *   output: "stdio:///invoices",
 *   connect: {
 *     stdio: {
 *       input: ReadableStream.from([new TextEncoder().encode('[orders] {"id":1}\n')]),
 *       output: new WritableStream(),
 *     },
 *   },
 * });
 * await router.run();
 * ```
 *
 * @module
 */
export { compose, Router } from "./router.ts";
export type {
  BatchHandler,
  BatchMiddleware,
  HandleBatchOptions,
  HandleOptions,
  Handler,
  HandlerContext,
  HandlerResult,
  Middleware,
  Output,
  RouterOptions,
  UniversalMiddleware,
} from "./types.ts";
export { PermanentError, RetriesExhaustedError } from "./errors.ts";
export { isPermanent, retry, type RetryOptions } from "./middleware/retry.ts";
export {
  deadLetter,
  type DeadLetterOptions,
  type DeadLetterRecord,
} from "./middleware/dead_letter.ts";
export { messageTimeout } from "./middleware/timeout.ts";
export { throttle } from "./middleware/throttle.ts";
export { dedupe, type DedupeOptions } from "./middleware/dedupe.ts";
export { type HandlerEvent, observe, type ObserveHooks } from "./middleware/observe.ts";
export {
  type Schema,
  type StandardSchemaV1,
  type StandardSchemaV1Result,
  withSchema,
} from "./schema.ts";
export { type MessageSource, StreamJoin, type StreamJoinOptions } from "./join.ts";
