/**
 * A rate limit.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import { sleep } from "../../runtime/mod.ts";
import type { Middleware } from "../types.ts";

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
export function throttle(perSecond: number): Middleware {
  if (!(perSecond > 0)) throw new StreamError("Unsupported", "throttle: perSecond must be > 0");
  const interval = 1000 / perSecond;
  let tokens = 1;
  let last = performance.now();
  let queue: Promise<void> = Promise.resolve();
  const take = async (signal: AbortSignal) => {
    const now = performance.now();
    tokens = Math.min(Math.max(1, perSecond), tokens + (now - last) / interval);
    last = now;
    if (tokens < 1) {
      await sleep((1 - tokens) * interval, signal);
      tokens = 1;
      last = performance.now();
    }
    tokens -= 1;
  };
  return (next) => async (message, context) => {
    // One waiter at a time, so the rate holds under concurrency.
    const turn = queue.then(() => take(context.signal));
    queue = turn.catch(() => {});
    await turn;
    return await next(message, context);
  };
}
