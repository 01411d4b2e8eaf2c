/**
 * The promise a `send()` returns, made only when someone waits for it.
 *
 * The user's loop is `send()` without awaiting, then one `flush()`. It holds
 * every queued send until that flush, so a real promise per send costs 3
 * objects that all stay alive: the promise, its resolve function and the
 * queue entry. A {@link LazyPromise} is one small object, which makes a real
 * promise only on `then`, `catch` or `finally` (which `await` and
 * `Promise.all` call); a single send's (core/send_segment.ts) is not even
 * held by the queue, so an unawaited one dies young.
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
 * promise work on it as on one. Where its outcome is kept is the subclass's
 * part ({@link LazyReceipt} keeps it on itself).
 */
export abstract class LazyPromise<T> implements Promise<T> {
  /** The real promise and its resolve function, once awaited. */
  #settlers: Settlers<T> | undefined = undefined;

  /** What it settled with: the value, or the error; `undefined` while pending. */
  protected abstract outcome(): T | Error | undefined;

  /** Called once, when a promise is made while it is pending: it must be settled through {@link settleMade}. */
  protected awaitedPending(): void {}

  /** Settle the promise made when it was awaited, if it was. */
  protected settleMade(outcome: T | Error): void {
    const settlers = this.#settlers;
    if (settlers === undefined) return;
    if (outcome instanceof Error) rejectHandled(settlers, outcome);
    else settlers.resolve(outcome);
  }

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
    const outcome = this.outcome();
    const state = outcome === undefined
      ? "<pending>"
      : outcome instanceof Error
      ? "<rejected>"
      : "<fulfilled>";
    return `Promise { ${state} }`;
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
    const outcome = this.outcome();
    const settlers: Settlers<T> = { resolve: ignore, promise: undefined };
    this.#settlers = settlers;
    if (outcome === undefined) {
      promiseWithSettlers(settlers);
      this.awaitedPending();
    } else if (outcome instanceof Error) {
      settlers.promise = Promise.reject(outcome);
    } else {
      settlers.promise = Promise.resolve(outcome);
    }
    return settlers.promise!;
  }
}

/** A {@link LazyPromise} that keeps its outcome on itself, settled by whoever holds it. */
export class LazyReceipt<T> extends LazyPromise<T> {
  #outcome: T | Error | undefined = undefined;

  protected outcome(): T | Error | undefined {
    return this.#outcome;
  }

  /** Settle with `outcome`: an `Error` rejects, anything else fulfils; only the first counts. */
  settle(outcome: T | Error): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    this.settleMade(outcome);
  }
}
