/**
 * A bounded hand-off for drivers whose source pushes (a reader task that
 * dispatches lines, a client library's callback): the source `put`s arrays of
 * messages and waits while the inbox is full; the driver's `fetch` takes them.
 *
 * @module
 */
import type { Message } from "../types.ts";
import { MessageBuffer } from "./buffer.ts";
import type { Fault, Fetched } from "./driver.ts";

/** Messages pushed by a source, fetched by a driver. */
export class Inbox {
  readonly #buffer = new MessageBuffer();
  readonly #capacity: number;
  #roomWaiters: (() => void)[] = [];

  /** An inbox the source fills up to `capacity` messages (then `put` waits). */
  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Messages waiting. */
  get size(): number {
    return this.#buffer.size;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#buffer.closed;
  }

  /**
   * Add `messages` (or a fault) in order. Returns `undefined` if there is room
   * for more, else a promise that resolves once there is (or the inbox closes):
   * a source that awaits it is slowed to the consumer's pace.
   */
  put(messages: readonly Message[] | Fault): Promise<void> | undefined {
    this.#buffer.put(messages);
    if (this.#buffer.size < this.#capacity || this.#buffer.closed) return undefined;
    return new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
  }

  /**
   * Up to `max` messages (or a fault), waiting for the first; rejects with the
   * close reason once closed and empty, or with `signal`'s reason.
   */
  async fetch(max: number, signal: AbortSignal): Promise<Fetched> {
    for (;;) {
      await this.#buffer.wait(signal);
      const taken = this.#buffer.takeBatch(max);
      if (taken === undefined) continue;
      if (this.#buffer.size < this.#capacity) this.#wake();
      return taken;
    }
  }

  /** Drop the waiting messages `drop` matches; returns them. */
  drop(drop: (message: Message) => boolean): Message[] {
    const dropped = this.#buffer.drop(drop);
    this.#wake();
    return dropped;
  }

  /** Drop everything waiting. */
  clear(): void {
    this.#buffer.clear();
    this.#wake();
  }

  /** No more messages: `fetch` rejects with `reason` once the waiting ones are taken. */
  close(reason: unknown): void {
    this.#buffer.close(reason);
    this.#wake();
  }

  /** Open again after `close()` (a consumer that ended moves back into its streams). */
  reopen(): void {
    this.#buffer.reopen();
  }

  #wake(): void {
    if (this.#roomWaiters.length === 0) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }
}
