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
    : new StreamError("Backend", `${thrower} threw ${typeof error}, not an Error`);
}

/** The error's message, whatever it is. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `error` as a `StreamError` of `code` ("Backend" by default) saying which
 * backend and what failed; the original is kept as `cause`. A `StreamError`
 * passes through unchanged.
 */
export function wrapError(
  backend: Backend,
  error: unknown,
  what: string,
  code: StreamErrorCode = "Backend",
): StreamError {
  if (isStreamError(error)) return error;
  return new StreamError(code, `${backend}: ${what}: ${messageOf(error)}`, { cause: error });
}
