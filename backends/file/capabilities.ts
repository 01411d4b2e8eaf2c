/**
 * What the file backend can do. A .ss file keeps everything; its format has no message keys or headers;
 * load-balanced members share a file across processes (through the group file beside it).
 *
 * @module
 */
import type { BackendCapabilities } from "../../types.ts";

/**
 * What the file backend can do (see {@link BackendCapabilities}).
 *
 * @example
 * ```ts
 * import { capabilities } from "@seastreamer/seastreamer/file";
 *
 * console.log(capabilities.rewind, capabilities.keysAndHeaders); // true false
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
  keysAndHeaders: false,
  tls: false,
});
