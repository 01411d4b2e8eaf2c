/**
 * Validation of the options every backend shares, so each one rejects bad
 * input the same way.
 *
 * @module
 */
import {
  type AutoStreamReset,
  type Backend,
  type BackendCapabilities,
  type ConsumerMode,
  type ConsumerOptions,
  StreamError,
  type StreamKey,
  validateStreamKey,
} from "../types.ts";

/** Consumer options after validation, with defaults filled in. */
export interface ConsumerSettings {
  /** The streams, validated and deduplicated. */
  streams: StreamKey[];
  /** The mode. */
  mode: ConsumerMode;
  /** The group, if any. */
  group: string | undefined;
  /** Where to start without a committed position. */
  autoStreamReset: AutoStreamReset;
  /** Whether asking for the next message commits the previous. */
  autoCommit: boolean;
  /** The prefetch bound. */
  prefetch: number;
  /** The time limit of backend operations, ms. */
  timeoutMs: number;
  /** Whether to wait for more (else end at what the streams held at the start). */
  live: boolean;
}

const MODES: readonly string[] = ["real-time", "resumable", "load-balanced"];

/** A positive integer option, or its default; anything else is `StreamError("Unsupported")`. */
export function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new StreamError("Unsupported", `option ${name} must be a positive integer, not ${value}`);
  }
  return value;
}

/** The backend a consumer is made for: its name (for messages) and what it can do. */
export interface ConsumerBackend {
  /** The backend's name. */
  readonly backend: Backend;
  /** What it can do. */
  readonly capabilities: BackendCapabilities;
}

/**
 * Check `streams` and `options` against what `target` can do, and fill in
 * defaults. Throws `StreamKeyEmpty` for no streams, `StreamKey` for a bad key,
 * `ConsumerGroupNotSet` when a resumable or load-balanced consumer has no
 * group, `ConsumerGroupIsSet` for a real-time group the backend cannot share,
 * `Unsupported` for a mode the backend lacks, an unknown mode or a bad number.
 */
export function consumerSettings(
  streams: readonly StreamKey[],
  options: ConsumerOptions | undefined,
  target: ConsumerBackend,
): ConsumerSettings {
  if (!Array.isArray(streams) || streams.length === 0) {
    throw new StreamError("StreamKeyEmpty", "a consumer needs at least one stream");
  }
  const keys = [...new Set(streams.map(validateStreamKey))];
  options ??= {};
  const mode = options.mode ?? "real-time";
  if (!MODES.includes(mode)) {
    throw new StreamError(
      "Unsupported",
      `unknown consumer mode ${JSON.stringify(mode)}: use ${MODES.join(", ")}`,
    );
  }
  const group = options.group;
  if (group !== undefined && (typeof group !== "string" || group === "")) {
    throw new StreamError("ConsumerGroupNotSet", "a consumer group name is a non-empty string");
  }
  if (mode !== "real-time" && group === undefined) {
    throw new StreamError("ConsumerGroupNotSet", `a ${mode} consumer needs a group`);
  }
  const { backend, capabilities } = target;
  if (
    (mode === "resumable" && !capabilities.resumable) ||
    (mode === "load-balanced" && !capabilities.loadBalanced)
  ) {
    const why = capabilities.history ? "" : ": it keeps no history";
    throw new StreamError("Unsupported", `the ${backend} backend has no ${mode} consumers${why}`);
  }
  if (mode === "real-time" && group !== undefined && !capabilities.realTimeGroups) {
    throw new StreamError(
      "ConsumerGroupIsSet",
      `a real-time ${backend} consumer takes no group: use mode resumable or load-balanced`,
    );
  }
  const reset = options.autoStreamReset ?? "latest";
  if (reset !== "earliest" && reset !== "latest") {
    throw new StreamError(
      "Unsupported",
      `autoStreamReset is "earliest" or "latest", not ${JSON.stringify(reset)}`,
    );
  }
  return {
    streams: keys,
    mode,
    group,
    autoStreamReset: reset,
    autoCommit: options.autoCommit ?? true,
    prefetch: positiveInteger("prefetch", options.prefetch, 1000),
    timeoutMs: positiveInteger("timeoutMs", options.timeoutMs, 10_000),
    live: options.live ?? options.file?.live ?? true,
  };
}
