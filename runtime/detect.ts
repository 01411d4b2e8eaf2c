/**
 * Which JavaScript runtime this is, detected once at load time.
 *
 * @module
 */

/**
 * The runtimes seastreamer runs on.
 *
 * @example
 * ```ts
 * import { type RuntimeName, runtimeName } from "@seastreamer/seastreamer/runtime";
 *
 * const install: Record<RuntimeName, string> = {
 *   deno: "deno add jsr:@seastreamer/seastreamer",
 *   bun: "bun add seastreamer",
 *   node: "npm install seastreamer",
 * };
 * console.log(install[runtimeName]); // deno add jsr:@seastreamer/seastreamer (on Deno)
 * ```
 */
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
