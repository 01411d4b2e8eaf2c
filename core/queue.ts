/**
 * A bounded asynchronous queue: the prefetch buffer between a backend's reader
 * and `consumer.next()`. A full queue makes the reader wait, so a slow consumer
 * holds bounded memory.
 *
 * @module
 */
import { StreamError } from "../types.ts";

type Waiter<T> = {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  signal?: AbortSignal;
};

/** A FIFO of at most `capacity` items, with waiting on both ends. */
export class BoundedQueue<T> {
  readonly #capacity: number;
  #items: T[] = [];
  #head = 0;
  #takers: Waiter<T>[] = [];
  #givers: Waiter<void>[] = [];
  #closed: unknown = undefined;
  /** The signal with a standing abort listener (see `shift`). */
  #standing: AbortSignal | undefined;
  readonly #onStandingAbort = () => this.#abortStanding();

  /** A queue holding at most `capacity` items (>= 1). */
  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Items waiting to be taken. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Whether there is room for another item without waiting. */
  get hasRoom(): boolean {
    return this.length < this.#capacity;
  }

  /**
   * Add `item`, waiting while the queue is full. Rejects with the close reason
   * if the queue is closed (the item is then dropped: the caller still owns it).
   */
  push(item: T): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const taker = this.#takers.shift();
    if (taker) {
      taker.resolve(item);
      return Promise.resolve();
    }
    if (this.length < this.#capacity) {
      this.#items.push(item);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.#givers.push({ resolve, reject }))
      .then(() => this.push(item));
  }

  /**
   * Add `item` if there is room now (or a taker waiting), without waiting or
   * allocating a promise: the hot path of a reader that checks for room itself.
   * Returns false (and drops nothing: the caller keeps `item`) if the queue is
   * full or closed.
   */
  offer(item: T): boolean {
    if (this.#closed !== undefined) return false;
    if (this.#takers.length > 0) {
      this.#takers.shift()!.resolve(item);
      return true;
    }
    if (this.length >= this.#capacity) return false;
    this.#items.push(item);
    return true;
  }

  /**
   * Take the oldest item if there is one, without waiting or allocating a
   * promise (`undefined` if the queue is empty): the hot path of a reader.
   */
  poll(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (this.#givers.length > 0) this.#givers.shift()!.resolve();
    return item;
  }

  /**
   * Take the oldest item, waiting for one if empty. After `close()`, the items
   * already queued are still taken; then this rejects with the close reason.
   */
  shift(signal?: AbortSignal): Promise<T> {
    if (this.length > 0) return Promise.resolve(this.poll()!);
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, signal };
      // A reader passing the same signal to every wait (a router's stop signal) gets one
      // standing listener: adding and removing one per wait costs more than the wait itself.
      if (signal && (signal === this.#standing || this.#stand(signal))) {
        this.#takers.push(waiter);
        return;
      }
      if (signal) {
        const onAbort = () => {
          const index = this.#takers.indexOf(waiter);
          if (index >= 0) this.#takers.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiter.resolve = (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        };
        waiter.reject = (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        };
      }
      this.#takers.push(waiter);
    });
  }

  /** Make `signal` the standing one unless a waiting taker still relies on the current one. */
  #stand(signal: AbortSignal): boolean {
    const current = this.#standing;
    if (current !== undefined) {
      for (const taker of this.#takers) if (taker.signal === current) return false;
      current.removeEventListener("abort", this.#onStandingAbort);
    }
    this.#standing = signal;
    signal.addEventListener("abort", this.#onStandingAbort, { once: true });
    return true;
  }

  #abortStanding(): void {
    const signal = this.#standing;
    if (signal === undefined) return;
    this.#standing = undefined;
    const waiting = this.#takers;
    this.#takers = waiting.filter((taker) => taker.signal !== signal);
    for (const taker of waiting) if (taker.signal === signal) taker.reject(signal.reason);
  }

  /** Drop every queued item (after a rewind); returns them. Waiting pushers get room. */
  clear(): T[] {
    const dropped = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    for (const giver of this.#givers.splice(0)) giver.resolve();
    return dropped;
  }

  /**
   * Close with `reason` (default `StreamError("Closed")`): pushes reject at once,
   * takers get the queued items and then the reason. Closing twice keeps the first reason.
   */
  close(reason: unknown = new StreamError("Closed", "closed")): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    this.#standing?.removeEventListener("abort", this.#onStandingAbort);
    this.#standing = undefined;
    for (const giver of this.#givers.splice(0)) giver.reject(reason);
    if (this.length === 0) { for (const taker of this.#takers.splice(0)) taker.reject(reason); }
  }
}
