/**
 * Everything a value could show a user: for the tests that no secret is in any
 * error (message, stack, causes and their fields) or printout.
 */
import { inspect } from "node:util";

/** Every string reachable from `value` (message, stack, causes, fields), and its deepest printout. */
export function everything(value: unknown): string {
  const seen = new Set<unknown>();
  const parts: string[] = [];
  const walk = (item: unknown, depth: number) => {
    if (depth > 8 || item === null || item === undefined || seen.has(item)) return;
    if (typeof item === "string") return void parts.push(item);
    if (typeof item !== "object" && typeof item !== "function") return;
    seen.add(item);
    if (item instanceof Error) parts.push(String(item), item.message, String(item.stack));
    for (const key of Object.getOwnPropertyNames(item)) {
      try {
        walk((item as Record<string, unknown>)[key], depth + 1);
      } catch {
        // A getter that throws holds nothing to print.
      }
    }
    if (item instanceof Error) walk(item.cause, depth + 1);
  };
  walk(value, 0);
  parts.push(String(value), inspect(value, { depth: Infinity, showHidden: true }));
  return parts.join("\n");
}
