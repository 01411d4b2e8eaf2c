/**
 * Making a promise whose settlers are kept on an object, the cheapest way on
 * each runtime: a producer makes one per `send()` that is awaited
 * (core/lazy_receipt.ts).
 *
 * @module
 */
import { runtimeName } from "./detect.ts";

/**
 * Where a promise's resolve function is kept, and the promise itself (marked
 * handled just before it is rejected, so an un-awaited failure is not an
 * unhandled rejection). The reject function is not kept: a producer may hold
 * one of these per `send()` until it is written, and it rejects through
 * `resolve` (see {@link rejectHandled}).
 */
export interface Settlers<T> {
  /** Resolves the promise (with a rejected promise: rejects it). */
  resolve: (value: T | PromiseLike<T>) => void;
  /** The promise. */
  promise: Promise<T> | undefined;
}

let capturedResolve: (value: never) => void = () => {};
function capture(resolve: (value: never) => void): void {
  capturedResolve = resolve;
}

/**
 * A new promise whose resolve function (and itself) are stored on `target`.
 * On JavaScriptCore (Bun) one shared executor saves allocating a closure per
 * promise (about a third of its cost); V8 (Deno, Node) does better with the
 * closure, which it optimizes away.
 */
export const promiseWithSettlers: <T>(target: Settlers<T>) => Promise<T> = runtimeName === "bun"
  ? <T>(target: Settlers<T>) => {
    const promise = new Promise<T>(capture);
    target.resolve = capturedResolve as (value: T | PromiseLike<T>) => void;
    target.promise = promise;
    return promise;
  }
  : <T>(target: Settlers<T>) => {
    const promise = new Promise<T>((resolve) => {
      target.resolve = resolve;
    });
    target.promise = promise;
    return promise;
  };

function ignore(): void {}

/** Reject `target`'s promise with `error`, marking it handled first. @internal */
export function rejectHandled<T>(target: Settlers<T>, error: unknown): void {
  target.promise?.catch(ignore);
  const rejected = Promise.reject(error);
  rejected.catch(ignore);
  target.resolve(rejected);
}
