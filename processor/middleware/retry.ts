/**
 * Retry with exponential backoff.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import { sleep } from "../../runtime/mod.ts";
import { PermanentError, RetriesExhaustedError } from "../errors.ts";
import type { UniversalMiddleware } from "../types.ts";
import { universal } from "./universal.ts";

/**
 * Options of {@link retry}.
 *
 * @example
 * ```ts
 * import { retry, type RetryOptions, Router } from "@seastreamer/seastreamer/processor";
 *
 * // Five attempts in all, waiting 50, 100, 200 and 400 ms between them:
 * const options: RetryOptions = { maxAttempts: 5, initialDelayMs: 50, multiplier: 2, jitter: 0 };
 * const router = new Router({ middleware: [retry(options)] });
 * ```
 */
export interface RetryOptions {
  /** Attempts in all, the first included (default 3). */
  maxAttempts?: number;
  /** Wait before the second attempt, in ms (default 100). */
  initialDelayMs?: number;
  /** The longest wait, in ms (default 10,000). */
  maxDelayMs?: number;
  /** Growth of the wait per attempt (default 2). */
  multiplier?: number;
  /** Random spread of each wait, 0 to 1 (default 0.2: ±20%). */
  jitter?: number;
  /**
   * Whether an error is worth another attempt. Default: anything but a
   * {@link PermanentError} or a payload that is not UTF-8 or JSON.
   */
  retryIf?: (error: unknown) => boolean;
}

/**
 * Errors a retry cannot fix: the message itself is bad.
 *
 * @example
 * ```ts
 * import { isPermanent, PermanentError, retry } from "@seastreamer/seastreamer/processor";
 *
 * console.log(isPermanent(new PermanentError("no id")), isPermanent(new Error("timed out"))); // true false
 * // Also give up at once on a client error, which another attempt cannot fix:
 * class ClientError extends Error {}
 * const middleware = retry({
 *   retryIf: (error) => !isPermanent(error) && !(error instanceof ClientError),
 * });
 * ```
 */
export function isPermanent(error: unknown): boolean {
  return error instanceof PermanentError ||
    (error instanceof StreamError && (error.code === "Json" || error.code === "Utf8Error"));
}

/**
 * Call the handler again when it throws, waiting `initialDelayMs`,
 * `initialDelayMs * multiplier`, … between attempts; after the last attempt,
 * throw a {@link RetriesExhaustedError}. Put {@link deadLetter} outside it to
 * park such messages instead of stopping.
 *
 * @example
 * ```ts
 * import { deadLetter, retry, Router } from "@seastreamer/seastreamer/processor";
 *
 * const router = new Router({ middleware: [deadLetter(), retry({ maxAttempts: 5 })] });
 * ```
 */
export function retry(options: RetryOptions = {}): UniversalMiddleware {
  const maxAttempts = options.maxAttempts ?? 3;
  const initial = options.initialDelayMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const multiplier = options.multiplier ?? 2;
  const jitter = options.jitter ?? 0.2;
  const retryIf = options.retryIf ?? ((error: unknown) => !isPermanent(error));
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new StreamError("Unsupported", "retry: maxAttempts must be a positive integer");
  }
  return universal((next) => async (work, context) => {
    for (let attempt = 1;; attempt++) {
      try {
        return await next(work, { ...context, attempt });
      } catch (error) {
        if (attempt >= maxAttempts || !retryIf(error) || context.signal.aborted) {
          throw attempt > 1 || maxAttempts > 1 ? new RetriesExhaustedError(attempt, error) : error;
        }
        const base = Math.min(maxDelay, initial * multiplier ** (attempt - 1));
        const delay = base * (1 + jitter * (Math.random() * 2 - 1));
        await sleep(delay, context.signal);
      }
    }
  });
}
