/**
 * How seastreamer's streams and shards map onto JetStream (stable: other
 * programs rely on it, see the README):
 *
 * - stream key `K` ↔ the JetStream stream named `K` with each `.` written `~`
 *   (stream names cannot hold dots; stream keys cannot hold `~`), capturing
 *   the subjects `K.*`;
 * - shard `N` of `K` ↔ the subject `K.N`; seastreamer's producers write shard 0;
 * - seqNo ↔ the JetStream stream sequence; timestamp ↔ the stored time (ms).
 *
 * @module
 */
import { StreamError, type StreamKey } from "../../types.ts";

/**
 * The JetStream stream that holds stream key `key`.
 *
 * @example
 * ```ts
 * import { jetStreamName } from "@seastreamer/seastreamer/nats";
 *
 * console.log(jetStreamName("orders"), jetStreamName("orders.v1")); // orders orders~v1
 * ```
 */
export function jetStreamName(key: StreamKey): string {
  return key.includes(".") ? key.replaceAll(".", "~") : key;
}

/**
 * The stream key a JetStream stream name stands for (the inverse of {@link jetStreamName}).
 *
 * @example
 * ```ts
 * import { streamKeyOf } from "@seastreamer/seastreamer/nats";
 *
 * console.log(streamKeyOf("orders~v1")); // orders.v1
 * ```
 */
export function streamKeyOf(name: string): StreamKey {
  return name.replaceAll("~", ".");
}

/**
 * The subject of shard `shardId` of stream key `key`: `key.shardId`. A key
 * that would make an empty subject token (a leading, trailing or doubled
 * dot) is `StreamError("Unsupported")`.
 *
 * @example
 * ```ts
 * import { subjectOf } from "@seastreamer/seastreamer/nats";
 *
 * console.log(subjectOf("orders.v1", 0)); // orders.v1.0
 * ```
 */
export function subjectOf(key: StreamKey, shardId = 0): string {
  checkSubjectKey(key);
  return `${key}.${shardId}`;
}

/** The subjects a seastreamer stream's JetStream stream captures: `key.*`. */
export function subjectsOf(key: StreamKey): string[] {
  checkSubjectKey(key);
  return [`${key}.*`];
}

/** Refuse a key whose dots would make an empty NATS subject token. */
export function checkSubjectKey(key: StreamKey): void {
  if (key.startsWith(".") || key.endsWith(".") || key.includes("..")) {
    throw new StreamError(
      "Unsupported",
      `nats: stream key ${
        JSON.stringify(key)
      } would make an empty subject token (a NATS subject has no leading, trailing or doubled dot)`,
    );
  }
}
