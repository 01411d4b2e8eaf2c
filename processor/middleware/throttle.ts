/**
 * A rate limit.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import { sleep } from "../../runtime/mod.ts";
import type { UniversalMiddleware } from "../types.ts";
import { messagesOf, universal } from "./universal.ts";

/**
 * Start at most `perSecond` messages per second (a token bucket holding one
 * second's worth, shared by every message of the handler).
 *
 * @example
 * ```ts
 * import { Router, throttle } from "@seastreamer/seastreamer/processor";
 *
 * new Router({ middleware: [throttle(100)] });
 * ```
 */
export function throttle(perSecond: number): UniversalMiddleware {
  if (!(perSecond > 0)) throw new StreamError("Unsupported", "throttle: perSecond must be > 0");
  const interval = 1000 / perSecond;
  let tokens = 1;
  let last = performance.now();
  let queue: Promise<void> = Promise.resolve();
  // A batch takes a token per message: the rate is in messages either way.
  const take = async (weight: number, signal: AbortSignal) => {
    const now = performance.now();
    tokens = Math.min(Math.max(1, perSecond), tokens + (now - last) / interval);
    last = now;
    if (tokens < weight) {
      await sleep((weight - tokens) * interval, signal);
      tokens = weight;
      last = performance.now();
    }
    tokens -= weight;
  };
  return universal((next) => async (work, context) => {
    // One waiter at a time, so the rate holds under concurrency.
    const turn = queue.then(() => take(messagesOf(work).length, context.signal));
    queue = turn.catch(() => {});
    await turn;
    return await next(work, context);
  });
}
