/**
 * Middleware that wraps handlers of single messages and of batches alike: the
 * built-in factories write their logic once over a "work" (a message or a
 * batch) and are marked, so a batch route can tell them from middleware that
 * only knows single messages.
 *
 * @module
 */
import type { Message } from "../../types.ts";
import type { HandlerContext, HandlerResult, UniversalMiddleware } from "../types.ts";

/** What a handler is given: one message, or a batch. */
export type Work = Message | readonly Message[];

/** A handler of either kind. */
export type WorkHandler = (
  work: Work,
  context: HandlerContext,
) => HandlerResult | Promise<HandlerResult>;

const HANDLES_BATCHES = Symbol.for("seastreamer.processor.handlesBatches");

/** Mark `wrap` (written over any {@link Work}) as middleware for both kinds of handler. */
export function universal(wrap: (next: WorkHandler) => WorkHandler): UniversalMiddleware {
  Object.defineProperty(wrap, HANDLES_BATCHES, { value: true });
  return wrap as unknown as UniversalMiddleware;
}

/** Whether `middleware` also wraps batch handlers. */
export function handlesBatches(middleware: unknown): middleware is UniversalMiddleware {
  return typeof middleware === "function" &&
    (middleware as { [HANDLES_BATCHES]?: boolean })[HANDLES_BATCHES] === true;
}

/** The messages of `work`. */
export function messagesOf(work: Work): readonly Message[] {
  return Array.isArray(work) ? work : [work as Message];
}
