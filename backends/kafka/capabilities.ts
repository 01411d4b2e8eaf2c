/**
 * What the Kafka backend can do. Kafka shares a topic among a group's members by partitions.
 *
 * @module
 */
import type { BackendCapabilities } from "../../types.ts";

/**
 * What the Kafka backend can do (see {@link BackendCapabilities}).
 *
 * @example
 * ```ts
 * import { capabilities } from "@seastreamer/seastreamer/kafka";
 *
 * console.log(capabilities.keysAndHeaders, capabilities.realTimeGroups); // true false
 * ```
 */
export const capabilities: BackendCapabilities = Object.freeze({
  history: true,
  resumable: true,
  loadBalanced: true,
  realTimeGroups: false,
  rewind: true,
  rewindShard: true,
  seek: true,
  binary: true,
  keysAndHeaders: true,
  tls: true,
});
