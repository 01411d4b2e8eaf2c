/**
 * A time limit per message.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import type { UniversalMiddleware } from "../types.ts";
import { universal } from "./universal.ts";

/**
 * Fail a message whose handler takes longer than `ms` with
 * `StreamError("Timeout")`, aborting the handler's `context.signal` (a handler
 * that ignores the signal keeps running in the background, but its result is dropped).
 *
 * @example
 * ```ts
 * import { messageTimeout, Router } from "@seastreamer/seastreamer/processor";
 *
 * new Router({ middleware: [messageTimeout(5_000)] });
 * ```
 */
export function messageTimeout(ms: number): UniversalMiddleware {
  return universal((next) => (work, context) => {
    const controller = new AbortController();
    const forward = () => controller.abort(context.signal.reason);
    context.signal.addEventListener("abort", forward, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new StreamError("Timeout", `handler took longer than ${ms} ms`);
        controller.abort(error);
        reject(error);
      }, ms);
    });
    return Promise.race([
      Promise.resolve(next(work, { ...context, signal: controller.signal })),
      expired,
    ]).finally(() => {
      clearTimeout(timer);
      context.signal.removeEventListener("abort", forward);
    });
  });
}
