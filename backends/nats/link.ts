/**
 * A streamer's connection as its readers and commits see it. The client drops
 * whatever is written while it is disconnected or around a drop (it clears its
 * outbound buffer at each reconnect), and a request sent then waits out its
 * whole timeout: so requests wait until the connection is up, and one in
 * flight when it drops fails at once, to be tried again.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import { timeout } from "../../runtime/mod.ts";

/** Told when the connection drops and when it is back. */
export interface LinkListener {
  /** The connection dropped: requests sent before are lost. */
  down(): void;
  /** The connection is back (subscriptions are in place again). */
  up(): void;
}

/** The connection's state, fed by the client's status events. */
export class Link {
  #up = true;
  #upWaiters: (() => void)[] = [];
  readonly #drops = new Set<(error: StreamError) => void>();
  readonly #listeners = new Set<LinkListener>();

  /** Whether the connection is up. */
  get up(): boolean {
    return this.#up;
  }

  /** Tell `listener` of drops and reconnects until {@link Link.unlisten}. */
  listen(listener: LinkListener): void {
    this.#listeners.add(listener);
  }

  /** Stop telling `listener`. */
  unlisten(listener: LinkListener): void {
    this.#listeners.delete(listener);
  }

  /** The connection dropped. */
  down(): void {
    this.#up = false;
    const drops = [...this.#drops];
    this.#drops.clear();
    const error = new StreamError("Backend", "nats: the connection dropped");
    for (const drop of drops) drop(error);
    for (const listener of this.#listeners) listener.down();
  }

  /** The connection is back. */
  restored(): void {
    this.#up = true;
    const waiters = this.#upWaiters;
    this.#upWaiters = [];
    for (const wake of waiters) wake();
    for (const listener of this.#listeners) listener.up();
  }

  /**
   * Run `work` (requests) once the connection is up, waiting at most `ms` for
   * it; rejects with `StreamError("Backend")` if the connection drops before
   * `work` settles (what it sent may be lost), or `StreamError("Timeout")`.
   */
  async guard<T>(work: () => Promise<T>, ms: number, what: string): Promise<T> {
    if (!this.#up) {
      await timeout(new Promise<void>((resolve) => this.#upWaiters.push(resolve)), ms, what);
    }
    let drop!: (error: StreamError) => void;
    const dropped = new Promise<never>((_, reject) => drop = reject);
    this.#drops.add(drop);
    try {
      return await Promise.race([work(), dropped]);
    } finally {
      this.#drops.delete(drop);
    }
  }
}
