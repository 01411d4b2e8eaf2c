/**
 * Which JavaScript runtime this is, detected once at load time.
 *
 * @module
 */

/** The runtimes seastreamer runs on. */
export type RuntimeName = "deno" | "bun" | "node";

function detect(): RuntimeName {
  const global = globalThis as { Deno?: unknown; Bun?: unknown };
  if (global.Deno !== undefined) return "deno";
  if (global.Bun !== undefined) return "bun";
  return "node";
}

/**
 * The runtime running this code.
 *
 * @example
 * ```ts
 * import { runtimeName } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(runtimeName); // "deno", "bun" or "node"
 * ```
 */
export const runtimeName: RuntimeName = detect();
