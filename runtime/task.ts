/**
 * Background tasks that can be aborted and joined.
 *
 * @module
 */

/**
 * A running background task.
 *
 * @example
 * ```ts
 * import { sleep, spawnTask, type Task } from "@seastreamer/seastreamer/runtime";
 *
 * const ticker: Task<number> = spawnTask(async (signal) => {
 *   let ticks = 0;
 *   while (!signal.aborted) await sleep(1, signal).then(() => ticks++, () => {});
 *   return ticks;
 * });
 * await sleep(20);
 * ticker.abort();
 * console.log((await ticker.join()) > 0, ticker.done); // true true
 * ```
 */
export interface Task<T> {
  /** Ask the task to stop: its signal aborts with `reason`. */
  abort(reason?: unknown): void;
  /** Wait for the task to finish: its value, or its error. */
  join(): Promise<T>;
  /** Whether the task has finished. */
  readonly done: boolean;
  /** The signal the task watches. */
  readonly signal: AbortSignal;
}

/**
 * Start `body` in the background with an abort signal. A task that fails while
 * nobody joins it never becomes an unhandled rejection: the error waits for `join()`.
 *
 * @example
 * ```ts
 * import { sleep, spawnTask } from "@seastreamer/seastreamer/runtime";
 *
 * const task = spawnTask(async (signal) => {
 *   while (!signal.aborted) await sleep(5, signal).catch(() => {});
 *   return "stopped";
 * });
 * task.abort();
 * console.log(await task.join()); // "stopped"
 * ```
 */
export function spawnTask<T>(body: (signal: AbortSignal) => Promise<T>): Task<T> {
  const controller = new AbortController();
  let done = false;
  const result = (async () => {
    try {
      return await body(controller.signal);
    } finally {
      done = true;
    }
  })();
  result.catch(() => {});
  return {
    abort: (reason?: unknown) => controller.abort(reason),
    join: () => result,
    get done() {
      return done;
    },
    signal: controller.signal,
  };
}
