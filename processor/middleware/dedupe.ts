/**
 * Dropping repeats of a message key within a time window.
 *
 * @module
 */
import type { Message } from "../../types.ts";
import type { UniversalMiddleware } from "../types.ts";
import { messagesOf, universal, type Work } from "./universal.ts";

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
export function dedupe(options: DedupeOptions): UniversalMiddleware {
  const windowMs = options.windowMs ?? 60_000;
  const maxKeys = options.maxKeys ?? 100_000;
  const seen = new Map<string, number>(); // key -> when handled; insertion order = age
  const isFresh = (key: string | undefined, now: number) => {
    if (key === undefined) return true;
    const at = seen.get(key);
    return at === undefined || now - at >= windowMs;
  };
  return universal((next) => async (work, context) => {
    const now = Date.now();
    let fresh: Work;
    if (Array.isArray(work)) {
      // A batch goes on without its duplicates (and not at all if it has nothing else).
      fresh = (work as readonly Message[]).filter((message) => isFresh(options.key(message), now));
      if (fresh.length === 0) return undefined;
    } else {
      if (!isFresh(options.key(work as Message), now)) return undefined;
      fresh = work;
    }
    const result = await next(fresh, context);
    for (const message of messagesOf(fresh)) {
      const key = options.key(message);
      if (key === undefined) continue;
      seen.delete(key);
      seen.set(key, now);
    }
    for (const [oldest, at] of seen) {
      if (seen.size <= maxKeys && now - at < windowMs) break;
      seen.delete(oldest);
    }
    return result;
  });
}
