/**
 * What the stdio backend can do. Lines on stdin/stdout keep no history: no resumable consumers, rewind or seek; a
 * payload is one line of text; a real-time group shares lines round-robin by seqNo.
 *
 * @module
 */
import type { BackendCapabilities } from "../../types.ts";

/**
 * What the stdio backend can do (see {@link BackendCapabilities}).
 *
 * @example
 * ```ts
 * import { capabilities } from "@seastreamer/seastreamer/stdio";
 *
 * console.log(capabilities.history, capabilities.loadBalanced); // false true
 * ```
 */
export const capabilities: BackendCapabilities = Object.freeze({
  history: false,
  resumable: false,
  loadBalanced: true,
  realTimeGroups: true,
  rewind: false,
  rewindShard: false,
  seek: false,
  binary: false,
  keysAndHeaders: false,
  tls: false,
});
