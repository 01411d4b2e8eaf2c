/**
 * The promise a `send()` returns, made only when someone waits for it.
 *
 * The user's loop is `send()` without awaiting, then one `flush()`. It holds
 * every queued send until that flush, so a real promise per send costs 3
 * objects that all stay alive: the promise, its resolve function and the
 * queue entry. A {@link LazyReceipt} is one object. It is the queue entry and
 * the promise-like at once, and makes a real promise only on `then`, `catch`
 * or `finally` (which `await` and `Promise.all` call).
 *
 * Failures of sends nobody waits for are not unhandled rejections: `flush()`
 * reports them.
 *
 * @module
 */
import { promiseWithSettlers, rejectHandled, type Settlers } from "../runtime/promise.ts";

function ignore(): void {}

/**
 * A promise of `T` (never `undefined`) that is made when first awaited: settled
 * before that, it is a settled promise; settled after, it settles the promise.
 * It is not `instanceof Promise`; `await`, `Promise.all` and the methods of a
 * promise work on it as on one.
 */
export class LazyReceipt<T> implements Promise<T> {
  /** What it settled with: the value, or the error; `undefined` while pending. */
  #outcome: T | Error | undefined = undefined;
  /** The real promise and its resolve function, once awaited. */
  #settlers: Settlers<T> | undefined = undefined;

  /** It says it is a promise, as a promise does (`Object.prototype.toString`). */
  get [Symbol.toStringTag](): string {
    return "Promise";
  }

  /** Printed as its state only (its subclass holds a payload): on Node and Bun. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.#describe();
  }

  /** Printed as its state only: on Deno. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.#describe();
  }

  #describe(): string {
    const outcome = this.#outcome;
    const state = outcome === undefined
      ? "<pending>"
      : outcome instanceof Error
      ? "<rejected>"
      : "<fulfilled>";
    return `Promise { ${state} }`;
  }

  /** Settle with `outcome`: an `Error` rejects, anything else fulfils. */
  settle(outcome: T | Error): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    const settlers = this.#settlers;
    if (settlers === undefined) return;
    if (outcome instanceof Error) rejectHandled(settlers, outcome);
    else settlers.resolve(outcome);
  }

  /** The same as a promise's `then`. */
  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#promise().then(onfulfilled, onrejected);
  }

  /** The same as a promise's `catch`. */
  catch<B = never>(
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<T | B> {
    return this.#promise().catch(onrejected);
  }

  /** The same as a promise's `finally`. */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#promise().finally(onfinally);
  }

  #promise(): Promise<T> {
    if (this.#settlers !== undefined) return this.#settlers.promise!;
    const outcome = this.#outcome;
    const settlers: Settlers<T> = { resolve: ignore, promise: undefined };
    if (outcome === undefined) {
      promiseWithSettlers(settlers);
    } else if (outcome instanceof Error) {
      settlers.promise = Promise.reject(outcome);
    } else {
      settlers.promise = Promise.resolve(outcome);
    }
    this.#settlers = settlers;
    return settlers.promise!;
  }
}
