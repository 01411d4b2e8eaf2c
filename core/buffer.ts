/**
 * The consumer's buffer: what the driver fetched and `next()` has not handed out
 * yet, kept as the driver's own arrays (a fetch of 1,000 messages is one push,
 * not 1,000), with faults in their place in the sequence.
 *
 * @module
 */
import type { Message } from "../types.ts";
import { Fault, type Fetched } from "./driver.ts";

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** A FIFO of fetched chunks; readers wait for the first item, the pump checks the size. */
export class MessageBuffer {
  #chunks: Fetched[] = [];
  /** Index of the first chunk in `#chunks` still holding items. */
  #head = 0;
  /** Index of the next message within the head chunk. */
  #offset = 0;
  #size = 0;
  /** Numbers the head chunk: it changes whenever the head moves on, or the chunks are rebuilt. */
  #headSerial = 0;
  /** The serial of the chunk the last `take()` took from: equal serials, one fetched array. */
  takenFrom = 0;
  #waiters: Waiter[] = [];
  #closed: unknown = undefined;

  /** Messages (and faults) waiting to be taken. */
  get size(): number {
    return this.#size;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** The reason given to `close()`. */
  get closeReason(): unknown {
    return this.#closed;
  }

  /** Append what a fetch returned (nothing after `close()`); wakes the readers waiting. */
  put(fetched: Fetched): void {
    if (this.#closed !== undefined) return;
    if (fetched instanceof Fault) this.#size++;
    else if (fetched.length === 0) return;
    else this.#size += fetched.length;
    this.#chunks.push(fetched);
    this.#wake();
  }

  /** The next message or fault, if one is waiting. */
  take(): Message | Fault | undefined {
    if (this.#size === 0) return undefined;
    const chunk = this.#chunks[this.#head];
    this.#size--;
    if (chunk instanceof Fault) {
      this.#advance();
      return chunk;
    }
    const message = chunk[this.#offset++];
    this.takenFrom = this.#headSerial;
    if (this.#offset === chunk.length) this.#advance();
    return message;
  }

  /**
   * Up to `max` waiting messages, stopping before a fault; the fault itself if
   * it is next; `undefined` if nothing waits.
   */
  takeBatch(max: number): Message[] | Fault | undefined {
    if (this.#size === 0) return undefined;
    const first = this.#chunks[this.#head];
    if (first instanceof Fault) {
      this.#size--;
      this.#advance();
      return first;
    }
    if (
      this.#offset === 0 && first.length <= max &&
      (first.length === max || this.#head === this.#chunks.length - 1)
    ) {
      // The whole fetched array is the batch: handed on without a copy.
      this.#size -= first.length;
      this.#advance();
      return first as Message[];
    }
    const batch: Message[] = [];
    while (batch.length < max && this.#size > 0) {
      const chunk = this.#chunks[this.#head];
      if (chunk instanceof Fault) break;
      const end = Math.min(chunk.length, this.#offset + max - batch.length);
      for (let i = this.#offset; i < end; i++) batch.push(chunk[i]);
      this.#size -= end - this.#offset;
      if (end === chunk.length) this.#advance();
      else this.#offset = end;
    }
    return batch;
  }

  /**
   * Resolves once something waits to be taken; rejects with the close reason if
   * the buffer is closed and empty, or with `signal`'s reason when it aborts.
   */
  wait(signal?: AbortSignal): Promise<void> {
    if (this.#size > 0) return Promise.resolve();
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (signal) {
        const onAbort = () => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiter.resolve = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        waiter.reject = (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        };
      }
      this.#waiters.push(waiter);
    });
  }

  /** Remove the waiting messages `drop` matches (faults stay); returns them in order. */
  drop(drop: (message: Message) => boolean): Message[] {
    const dropped: Message[] = [];
    if (this.#size === 0) return dropped;
    const kept: Fetched[] = [];
    let size = 0;
    for (let c = this.#head; c < this.#chunks.length; c++) {
      const chunk = this.#chunks[c];
      if (chunk instanceof Fault) {
        kept.push(chunk);
        size++;
        continue;
      }
      const keep: Message[] = [];
      for (let i = c === this.#head ? this.#offset : 0; i < chunk.length; i++) {
        if (drop(chunk[i])) dropped.push(chunk[i]);
        else keep.push(chunk[i]);
      }
      if (keep.length > 0) kept.push(keep);
      size += keep.length;
    }
    this.#chunks = kept;
    this.#head = 0;
    this.#offset = 0;
    this.#size = size;
    this.#headSerial++;
    return dropped;
  }

  /** Forget everything waiting (after a rewind, or when ending). */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#size = 0;
    this.#headSerial++;
  }

  /**
   * Close with `reason`: what waits can still be taken, then readers get the
   * reason. Closing again keeps the first reason.
   */
  close(reason: unknown): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    this.#wake();
  }

  /** Open again after `close()` (a consumer that ended moves back into its streams). */
  reopen(): void {
    this.#closed = undefined;
  }

  #advance(): void {
    this.#headSerial++;
    this.#chunks[this.#head++] = EMPTY;
    this.#offset = 0;
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    if (this.#size > 0) { for (const waiter of waiters) waiter.resolve(); }
    else for (const waiter of waiters) waiter.reject(this.#closed);
  }
}

const EMPTY: Fetched = [];
