/**
 * Turning a Kafka client's errors into `StreamError`s, and telling the ones a
 * consumer group's rebalance causes (expected, recoverable) and the ones an
 * unreachable or restarting broker causes (worth waiting out) from real failures.
 *
 * @module
 */
import { StreamError, type StreamErrorCode } from "../../types.ts";
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

/**
 * Why the client library `name` did not load, as a `StreamError`: on Deno
 * without `--allow-env` (it reads `variables` when it loads), `Runtime` with
 * `permission` (what to run with); otherwise `Unsupported`, saying how to
 * install it.
 */
export function libraryLoadError(
  error: unknown,
  name: string,
  { variables, permission }: { variables: string; permission: string },
): StreamError {
  const text = String((error as Error)?.message ?? error);
  if ((error as Error)?.name === "NotCapable" || /allow-env/.test(text)) {
    return new StreamError(
      "Runtime",
      `kafka: ${name} reads ${variables} when it loads: on Deno run with ${permission}`,
      { cause: error },
    );
  }
  return new StreamError(
    "Unsupported",
    `kafka: the ${name} package is not installed: npm i ${name} (${text})`,
    { cause: error },
  );
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

/** How deep the errors a client's error wraps are followed (a cycle ends there). */
const MAX_CAUSE_DEPTH = 8;

/**
 * `error` and the errors it wraps: kafkajs's `cause` or `originalError`,
 * `@platformatic/kafka`'s `cause` and the `errors` a MultipleErrors gathers.
 */
function* causes(error: unknown, depth = 0): Generator<unknown> {
  if (!error || depth > MAX_CAUSE_DEPTH) return;
  yield error;
  const e = error as { cause?: unknown; originalError?: unknown; errors?: unknown };
  yield* causes(e.cause ?? e.originalError, depth + 1);
  if (Array.isArray(e.errors)) { for (const inner of e.errors) yield* causes(inner, depth + 1); }
}

/** The innermost `cause` of `error`, followed as far as {@link causes} goes. */
export function innermostCause(error: unknown): unknown {
  let inner = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH; depth++) {
    if (!(inner instanceof Error) || inner.cause === undefined) break;
    inner = inner.cause;
  }
  return inner;
}

/** Whether `error` (or one of its causes) comes from a group rebalance. */
export function isRebalanceError(error: unknown): boolean {
  for (const e of causes(error)) {
    // kafkajs's `type`, @platformatic/kafka's `apiId`.
    for (const type of [(e as { type?: unknown }).type, (e as { apiId?: unknown }).apiId]) {
      if (typeof type === "string" && REBALANCE_TYPES.has(type)) return true;
    }
    if ((e as { needsRejoin?: unknown }).needsRejoin === true) return true;
    const message = messageOf(e);
    if (/rebalanc|not running in its group|generation|not aware of this member/i.test(message)) {
      return true;
    }
  }
  return false;
}

/**
 * Client errors that mean no broker could be reached or asked, whatever the
 * client marks them: kafkajs calls "Failed to find group coordinator" final, but
 * it only says that every broker failed to answer (a broker restarting does that).
 */
const UNREACHABLE_ERRORS = new Set([
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSBrokerNotFound",
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
]);

/**
 * Whether `error` (or one of its causes) says the broker was unreachable or not
 * ready (a restart, a lost connection, a coordinator still loading): trying again
 * later can succeed. The client marks most such errors `retriable`; one that gave
 * up retrying is itself not retriable, but its cause is.
 */
export function isTransientError(error: unknown): boolean {
  for (const e of causes(error)) {
    if ((e as { retriable?: unknown }).retriable === true) return true;
    if (UNREACHABLE_ERRORS.has((e as { name?: unknown }).name as string)) return true;
    // @platformatic/kafka: a network error or a timeout.
    const code = (e as { code?: unknown }).code;
    if (code === "PLT_KFK_NETWORK" || code === "PLT_KFK_TIMEOUT") return true;
  }
  return false;
}
