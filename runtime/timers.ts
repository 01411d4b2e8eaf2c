/**
 * Sleeping and time limits that work the same on every runtime.
 *
 * @module
 */
import { setTimeout as timerOf } from "node:timers";
import { StreamError } from "../types.ts";

/**
 * Resolve after `ms` milliseconds; reject with the signal's reason if `signal` aborts first.
 *
 * @example
 * ```ts
 * import { sleep } from "@seastreamer/seastreamer/runtime";
 *
 * await sleep(10);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * `promise`, or a `StreamError("Timeout")` if it has not settled within `ms`
 * milliseconds. The timer never keeps the process alive after `promise` settles.
 *
 * @example
 * ```ts
 * import { timeout } from "@seastreamer/seastreamer/runtime";
 *
 * const value = await timeout(Promise.resolve(42), 1000, "answering");
 * console.log(value); // 42
 * ```
 */
export function timeout<T>(promise: Promise<T>, ms: number, what = "operation"): Promise<T> {
  if (!Number.isFinite(ms)) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StreamError("Timeout", `${what} timed out after ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Wait until `promise` settles (its failure ignored), but at most `ms`
 * milliseconds. The timer never keeps the process alive after `promise` settles.
 *
 * @example
 * ```ts
 * import { settledWithin } from "@seastreamer/seastreamer/runtime";
 *
 * const never = new Promise(() => {});
 * await settledWithin(never, 10); // gives up after 10 ms, without an error
 * ```
 */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}

/**
 * Call `callback` after `ms` milliseconds, on a timer that does not keep the
 * process alive (for housekeeping that matters only while it runs anyway).
 * Through `node:timers`, whose timers can be unref'd on Deno, Node and Bun alike.
 */
export function backgroundTimeout(callback: () => void, ms: number): void {
  timerOf(callback, ms).unref();
}
