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
  return wrapError("redis", withoutSecrets(error), what, code);
}

/** Commands whose arguments hold a password. */
const SECRET_COMMANDS = new Set(["auth", "hello", "migrate"]);

/**
 * `error` with the arguments of any AUTH or HELLO it carries replaced by `***`:
 * ioredis's reply errors keep their command (`error.command.args`), and AUTH's
 * arguments are the user's password. Changes `error` in place; returns it.
 */
export function withoutSecrets<T>(error: T): T {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; depth++) {
    const command = (e as { command?: { name?: unknown; args?: unknown } }).command;
    if (
      command && typeof command.name === "string" &&
      SECRET_COMMANDS.has(command.name.toLowerCase()) && Array.isArray(command.args)
    ) {
      command.args = command.args.map(() => "***");
    }
    e = e.cause;
  }
  return error;
}

/** Whether a server reply error starts with `prefix` (such as `BUSYGROUP` or `NOGROUP`). */
export function isReplyError(error: unknown, prefix: string): boolean {
  return error instanceof Error && error.message.startsWith(prefix);
}
