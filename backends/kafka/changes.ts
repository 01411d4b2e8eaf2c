/**
 * Waiting for a Kafka consumer's state to change: `fetch()` waits for a batch,
 * the client's batch handler for the consumer to take its batch (calling back
 * meanwhile to heartbeat the group).
 *
 * @module
 */

/** Waiters woken together on any change; each checks again what it waits for. */
export class Changes {
  #waiters: (() => void)[] = [];

  /** Until the next change, or until `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      if (signal?.aborted) return resolve();
      signal?.addEventListener("abort", done, { once: true });
      this.#waiters.push(done);
    });
  }

  /** Until `done()` (checked on each change); `idle()` runs after each `idleMs` without one. */
  async waitFor(done: () => boolean, idleMs: number, idle: () => Promise<void>): Promise<void> {
    while (!done()) {
      const woken = await new Promise<boolean>((resolve) => {
        const waiter = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          resolve(false);
        }, idleMs);
        this.#waiters.push(waiter);
      });
      if (!woken && !done()) await idle();
    }
  }

  /** Wake every waiter. */
  wake(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }
}
