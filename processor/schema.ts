/**
 * Typed payloads: a handler of parsed, validated values.
 *
 * @module
 */
import { type Message, StreamError } from "../types.ts";
import type { Handler, HandlerContext, HandlerResult } from "./types.ts";

/**
 * Anything with a `parse` that returns a valid value or throws (zod, valibot, a hand-written check).
 *
 * @example
 * ```ts
 * import { type Schema, withSchema } from "@seastreamer/seastreamer/processor";
 *
 * // A hand-written schema; a zod or valibot schema fits as well.
 * const order: Schema<{ id: number }> = {
 *   parse(value) {
 *     const id = (value as { id?: unknown } | null)?.id;
 *     if (typeof id !== "number") throw new Error("an order has a numeric id");
 *     return { id };
 *   },
 * };
 * console.log(order.parse({ id: 7 })); // { id: 7 }
 * const handler = withSchema(order, (value) => `invoice for order ${value.id}`);
 * ```
 */
export interface Schema<T> {
  /** The value if valid; throws if not. */
  parse(value: unknown): T;
}

/**
 * A handler that receives the payload parsed as JSON and checked by `schema`.
 * A payload that is not JSON, or fails the schema, is `StreamError("Json")`,
 * which the retry middleware does not retry and the dead-letter middleware parks.
 *
 * @example
 * ```ts
 * import { withSchema } from "@seastreamer/seastreamer/processor";
 *
 * const order = {
 *   parse(value: unknown): { id: number } {
 *     if (typeof (value as { id?: unknown })?.id !== "number") throw new Error("no id");
 *     return value as { id: number };
 *   },
 * };
 * const handler = withSchema(order, (value) => `order ${value.id}`);
 * ```
 */
export function withSchema<T>(
  schema: Schema<T>,
  handler: (
    value: T,
    message: Message,
    context: HandlerContext,
  ) => HandlerResult | Promise<HandlerResult>,
): Handler {
  return (message, context) => {
    const json = message.payload.json();
    let value: T;
    try {
      value = schema.parse(json);
    } catch (error) {
      throw new StreamError(
        "Json",
        `payload fails the schema: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    return handler(value, message, context);
  };
}
