/**
 * Turning a Kafka client's errors into `StreamError`s, and telling the ones a
 * consumer group's rebalance causes (expected, recoverable) from real failures.
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
  return wrapError("kafka", error, what, code);
}

/** Kafka error types that mean "the group is changing hands", not a failure. */
const REBALANCE_TYPES = new Set([
  "REBALANCE_IN_PROGRESS",
  "ILLEGAL_GENERATION",
  "UNKNOWN_MEMBER_ID",
  "NOT_COORDINATOR_FOR_GROUP",
  "NOT_COORDINATOR",
  "COORDINATOR_NOT_AVAILABLE",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "COORDINATOR_LOAD_IN_PROGRESS",
  "GROUP_LOAD_IN_PROGRESS",
  "FENCED_INSTANCE_ID",
]);

/** Whether `error` (or one of its causes) comes from a group rebalance. */
export function isRebalanceError(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 8; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === "string" && REBALANCE_TYPES.has(type)) return true;
    const message = messageOf(e);
    if (/rebalanc|not running in its group|generation|not aware of this member/i.test(message)) {
      return true;
    }
    e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return false;
}
