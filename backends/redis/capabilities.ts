/**
 * What the Redis backend can do. Rewind and seek move a real-time consumer, or
 * a resumable consumer's whole group; a load-balanced member cannot move its group.
 *
 * @module
 */
import type { BackendCapabilities } from "../../types.ts";

/**
 * What the Redis backend can do (see {@link BackendCapabilities}).
 *
 * @example
 * ```ts
 * import { capabilities } from "@seastreamer/seastreamer/redis";
 *
 * console.log(capabilities.loadBalanced, capabilities.realTimeGroups); // true false
 * ```
 */
export const capabilities: BackendCapabilities = Object.freeze({
  history: true,
  resumable: true,
  loadBalanced: true,
  realTimeGroups: false,
  rewind: true,
  rewindShard: false,
  seek: true,
  binary: true,
  keysAndHeaders: true,
  tls: true,
});
