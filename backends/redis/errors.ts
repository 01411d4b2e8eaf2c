/**
 * Turning ioredis errors into `StreamError`s.
 *
 * @module
 */
import type { StreamError, StreamErrorCode } from "../../types.ts";
import { messageOf, wrapError } from "../../core/errors.ts";

export { messageOf };

/** `error` as a `StreamError` of `code` ("Backend" by default) saying what failed; kept as `cause`. */
export function backendError(
  error: unknown,
  what: string,
  code: StreamErrorCode = "Backend",
): StreamError {
  return wrapError("redis", error, what, code);
}

/** Whether a server reply error starts with `prefix` (such as `BUSYGROUP` or `NOGROUP`). */
export function isReplyError(error: unknown, prefix: string): boolean {
  return error instanceof Error && error.message.startsWith(prefix);
}
