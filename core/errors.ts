/**
 * Client library errors as `StreamError`s, the same way in every backend.
 *
 * @module
 */
import { type Backend, isStreamError, StreamError, type StreamErrorCode } from "../types.ts";

/**
 * What `thrower` threw, as an `Error`: an `Error` as it is; anything else is a
 * `StreamError("Backend")` naming only its type (the value may hold settings).
 */
export function thrownError(error: unknown, thrower: string): Error {
  return error instanceof Error
    ? error
    : new StreamError("Backend", `${thrower} ${messageOf(error)}`);
}

/**
 * The error's message; for something thrown that is not an `Error`, only its
 * type (a thrown string or object may hold a URL or settings).
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : `threw ${typeof error}, not an Error`;
}

/**
 * `error` as a `StreamError` of `code` ("Backend" by default) saying which
 * backend and what failed; the original `Error` is kept as `cause` (something
 * else thrown is left out, as in {@link messageOf}). A `StreamError` passes
 * through unchanged.
 */
export function wrapError(
  backend: Backend,
  error: unknown,
  what: string,
  code: StreamErrorCode = "Backend",
): StreamError {
  if (isStreamError(error)) return error;
  const options = error instanceof Error ? { cause: error } : undefined;
  return new StreamError(code, `${backend}: ${what}: ${messageOf(error)}`, options);
}
