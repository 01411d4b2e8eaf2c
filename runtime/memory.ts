/**
 * The process's memory use, for benchmarks and diagnostics.
 *
 * @module
 */
import process from "node:process";
import { Buffer } from "node:buffer";
import { plainView } from "./bytes.ts";

/**
 * Memory in use, in bytes.
 *
 * @example
 * ```ts
 * import { type MemoryUsage, memoryUsage } from "@seastreamer/seastreamer/runtime";
 *
 * const usage: MemoryUsage = memoryUsage();
 * console.log(
 *   `${Math.round(usage.rss / 2 ** 20)} MiB resident, ${
 *     Math.round(usage.heapUsed / 2 ** 20)
 *   } MiB heap`,
 * );
 * ```
 */
export interface MemoryUsage {
  /** Resident set size: what the process occupies in RAM. */
  rss: number;
  /** The JavaScript heap in use. */
  heapUsed: number;
}

/**
 * The process's memory use now.
 *
 * @example
 * ```ts
 * import { memoryUsage } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(memoryUsage().rss > 0); // true
 * ```
 */
export function memoryUsage(): MemoryUsage {
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed };
}

/**
 * A new byte array of `size` whose content is not zeroed first (faster for
 * buffers about to be filled, such as file reads). Never expose bytes of it
 * that were not written.
 *
 * @example
 * ```ts
 * import { uninitializedBytes } from "@seastreamer/seastreamer/runtime";
 *
 * const bytes = uninitializedBytes(4);
 * bytes.set([1, 2, 3, 4]);
 * console.log(bytes.length); // 4
 * ```
 */
export function uninitializedBytes(size: number): Uint8Array {
  return plainView(Buffer.allocUnsafeSlow(size));
}
