/**
 * Errors a handler (or middleware) throws to steer what happens to a message.
 *
 * @module
 */

/**
 * Thrown by a handler when trying again cannot help (a malformed message):
 * the retry middleware does not retry it; the dead-letter middleware takes it.
 *
 * @example
 * ```ts
 * import { PermanentError, type Handler } from "@seastreamer/seastreamer/processor";
 *
 * const handler: Handler = (message) => {
 *   const order = message.payload.json<{ id?: number }>();
 *   if (order.id === undefined) throw new PermanentError("order has no id");
 *   return `invoice for ${order.id}`;
 * };
 * ```
 */
export class PermanentError extends Error {
  /** A permanent failure with `message`. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentError";
  }
}

/**
 * Thrown by the retry middleware after the last attempt; `cause` is the last error.
 *
 * @example
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 * import { compose, RetriesExhaustedError, retry } from "@seastreamer/seastreamer/processor";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[jobs] x\n")]);
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { input } });
 * const message = await (await streamer.createConsumer(["jobs"])).next();
 * const handler = compose(() => {
 *   throw new Error("service down");
 * }, [retry({ maxAttempts: 2, initialDelayMs: 1 })]);
 * try {
 *   await handler(message, { attempt: 1, signal: new AbortController().signal });
 * } catch (error) {
 *   if (error instanceof RetriesExhaustedError) console.log(error.attempts, error.message); // 2 failed 2 time(s): service down
 * }
 * ```
 */
export class RetriesExhaustedError extends Error {
  /** How many attempts were made. */
  readonly attempts: number;

  /** `attempts` tries failed, the last with `cause`. */
  constructor(attempts: number, cause: unknown) {
    super(`failed ${attempts} time(s): ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = "RetriesExhaustedError";
    this.attempts = attempts;
  }
}
