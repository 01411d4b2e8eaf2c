/**
 * Hooks for tracing and metrics.
 *
 * @module
 */
import type { ShardId, StreamKey } from "../../types.ts";
import type { UniversalMiddleware } from "../types.ts";
import { messagesOf, universal } from "./universal.ts";

/**
 * What a hook is told about a message.
 *
 * @example
 * ```ts
 * import { type HandlerEvent, observe, Router } from "@seastreamer/seastreamer/processor";
 *
 * const log = (event: HandlerEvent) =>
 *   console.log(event.streamKey, event.seqNo, event.attempt, event.durationMs >= 0); // orders 0n 1 true
 * const input = ReadableStream.from([new TextEncoder().encode("[orders] hi\n")]);
 * const router = new Router({ middleware: [observe({ onEnd: log })] });
 * router.handle("stdio:///orders", () => {}, { connect: { stdio: { input } } });
 * await router.run();
 * ```
 */
export interface HandlerEvent {
  /** The message's stream. */
  streamKey: StreamKey;
  /** Its shard. */
  shardId: ShardId;
  /** Its seqNo. */
  seqNo: bigint;
  /** How many messages the handler was given (1, or a batch's size; the position is its first's). */
  messages: number;
  /** The attempt (1 for the first). */
  attempt: number;
  /** Time spent in the handler so far, in ms (0 at start). */
  durationMs: number;
  /** The failure, for `onError`. */
  error?: unknown;
}

/**
 * Hooks of {@link observe}; each is optional. A hook that throws is ignored.
 *
 * @example
 * ```ts
 * import { observe, type ObserveHooks, Router } from "@seastreamer/seastreamer/processor";
 *
 * const counts = { started: 0, ended: 0, failed: 0 };
 * const hooks: ObserveHooks = {
 *   onStart: () => counts.started++,
 *   onEnd: () => counts.ended++,
 *   onError: () => counts.failed++,
 * };
 * const input = ReadableStream.from([new TextEncoder().encode("[orders] a\n[orders] b\n")]);
 * const router = new Router({ middleware: [observe(hooks)] });
 * router.handle("stdio:///orders", () => {}, { connect: { stdio: { input } } });
 * await router.run();
 * console.log(counts); // { started: 2, ended: 2, failed: 0 }
 * ```
 */
export interface ObserveHooks {
  /** Before the handler runs. */
  onStart?: (event: HandlerEvent) => void;
  /** After it returned. */
  onEnd?: (event: HandlerEvent) => void;
  /** After it threw. */
  onError?: (event: HandlerEvent) => void;
}

/**
 * Call hooks around the handler, for metrics and tracing. An OpenTelemetry
 * adapter is a few lines (no dependency of ours):
 *
 * ```ts ignore
 * import { trace } from "@opentelemetry/api";
 * const tracer = trace.getTracer("my-processor");
 * const spans = new Map<string, Span>();
 * const id = (e: HandlerEvent) => `${e.streamKey}/${e.shardId}/${e.seqNo}/${e.attempt}`;
 * observe({
 *   onStart: (e) => spans.set(id(e), tracer.startSpan("handle", { attributes: { stream: e.streamKey } })),
 *   onEnd: (e) => { spans.get(id(e))?.end(); spans.delete(id(e)); },
 *   onError: (e) => { const s = spans.get(id(e)); s?.recordException(e.error as Error); s?.end(); spans.delete(id(e)); },
 * });
 * ```
 *
 * @example Counting and timing
 * ```ts
 * import { observe, Router } from "@seastreamer/seastreamer/processor";
 *
 * let handled = 0;
 * new Router({ middleware: [observe({ onEnd: (e) => handled++ })] });
 * ```
 */
export function observe(hooks: ObserveHooks): UniversalMiddleware {
  const call = (hook: ((event: HandlerEvent) => void) | undefined, event: HandlerEvent) => {
    try {
      hook?.(event);
    } catch {
      // A metrics hook must never fail a message.
    }
  };
  return universal((next) => async (work, context) => {
    const messages = messagesOf(work);
    const { streamKey, shardId, seqNo } = messages[0].header;
    const started = performance.now();
    const event = (): HandlerEvent => ({
      streamKey,
      shardId,
      seqNo,
      messages: messages.length,
      attempt: context.attempt,
      durationMs: performance.now() - started,
    });
    call(hooks.onStart, { ...event(), durationMs: 0 });
    try {
      const result = await next(work, context);
      call(hooks.onEnd, event());
      return result;
    } catch (error) {
      call(hooks.onError, { ...event(), error });
      throw error;
    }
  });
}
