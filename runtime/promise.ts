/**
 * Making a promise whose settlers are kept on an object, the cheapest way on
 * each runtime: a producer makes one per `send()`.
 *
 * @module
 */
import { runtimeName } from "./detect.ts";

/**
 * Where a promise's settlers are kept, and the promise itself (marked handled
 * just before it is rejected, so an un-awaited failure is not an unhandled rejection).
 */
export interface Settlers<T> {
  /** Resolves the promise. */
  resolve: (value: T) => void;
  /** Rejects the promise. */
  reject: (error: unknown) => void;
  /** The promise. */
  promise: Promise<T> | undefined;
}

let capturedResolve: (value: never) => void = () => {};
let capturedReject: (error: unknown) => void = () => {};
function capture(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * A new promise whose settlers (and itself) are stored on `target`. On
 * JavaScriptCore (Bun) one shared executor saves allocating a closure per
 * promise (about a third of its cost); V8 (Deno, Node) does better with the
 * closure, which it optimizes away.
 */
export const promiseWithSettlers: <T>(target: Settlers<T>) => Promise<T> = runtimeName === "bun"
  ? <T>(target: Settlers<T>) => {
    const promise = new Promise<T>(capture);
    target.resolve = capturedResolve as (value: T) => void;
    target.reject = capturedReject;
    target.promise = promise;
    return promise;
  }
  : <T>(target: Settlers<T>) => {
    const promise = new Promise<T>((resolve, reject) => {
      target.resolve = resolve;
      target.reject = reject;
    });
    target.promise = promise;
    return promise;
  };

/** Reject `target`'s promise with `error`, marking it handled first. @internal */
export function rejectHandled<T>(target: Settlers<T>, error: unknown): void {
  target.promise?.catch(() => {});
  target.reject(error);
}
