/**
 * Dropping repeats of a message key within a time window.
 *
 * @module
 */
import type { Message } from "../../types.ts";
import type { Middleware } from "../types.ts";

/**
 * Options of {@link dedupe}.
 *
 * @example
 * ```ts
 * import { dedupe, type DedupeOptions, Router } from "@seastreamer/seastreamer/processor";
 *
 * const options: DedupeOptions = {
 *   key: (m) => m.payload.json<{ id: string }>().id,
 *   windowMs: 600_000,
 * };
 * const input = ReadableStream.from([new TextEncoder().encode(
 *   '[payments] {"id":"p1"}\n[payments] {"id":"p1"}\n[payments] {"id":"p2"}\n',
 * )]);
 * let charged = 0;
 * const router = new Router({ middleware: [dedupe(options)] });
 * router.handle("stdio:///payments", () => void charged++, { connect: { stdio: { input } } });
 * await router.run();
 * console.log(charged); // 2: the repeat of p1 was skipped
 * ```
 */
export interface DedupeOptions {
  /** The identity of a message; `undefined` means never a duplicate. */
  key: (message: Message) => string | undefined;
  /** How long a key is remembered, in ms (default 60,000). */
  windowMs?: number;
  /** The most keys remembered; the oldest are forgotten first (default 100,000). */
  maxKeys?: number;
}

/**
 * Skip a message (produce nothing, commit it) whose key was handled
 * successfully within the last `windowMs`. Memory is bounded by `maxKeys`.
 *
 * @example
 * ```ts
 * import { dedupe, Router } from "@seastreamer/seastreamer/processor";
 *
 * new Router({ middleware: [dedupe({ key: (m) => m.payload.json<{ id: string }>().id })] });
 * ```
 */
export function dedupe(options: DedupeOptions): Middleware {
  const windowMs = options.windowMs ?? 60_000;
  const maxKeys = options.maxKeys ?? 100_000;
  const seen = new Map<string, number>(); // key -> when handled; insertion order = age
  return (next) => async (message, context) => {
    const key = options.key(message);
    const now = Date.now();
    if (key !== undefined) {
      const at = seen.get(key);
      if (at !== undefined && now - at < windowMs) return undefined;
    }
    const result = await next(message, context);
    if (key !== undefined) {
      seen.delete(key);
      seen.set(key, now);
      for (const [oldest, at] of seen) {
        if (seen.size <= maxKeys && now - at < windowMs) break;
        seen.delete(oldest);
      }
    }
    return result;
  };
}
