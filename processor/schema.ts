/**
 * Typed payloads: a handler of parsed, validated values. A schema is a
 * Standard Schema v1 (zod 3.24+, valibot, arktype, effect…) or anything with a
 * `parse` that returns the value or throws.
 *
 * @module
 */
import { type Message, StreamError } from "../types.ts";
import type { Handler, HandlerContext, HandlerResult } from "./types.ts";

/**
 * Anything with a `parse` that returns a valid value or throws (a hand-written
 * check, or an older zod). Schemas that implement Standard Schema
 * ({@link StandardSchemaV1}) are used through it instead.
 *
 * @example
 * ```ts
 * import { type Schema, withSchema } from "@seastreamer/seastreamer/processor";
 *
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
 * The Standard Schema v1 interface (https://standardschema.dev), as zod 3.24+,
 * valibot, arktype and effect schemas implement it: `validate` returns (or
 * resolves to) `{ value }` or `{ issues }`.
 *
 * @example A schema written by hand; `v.object({ id: v.number() })` (valibot) or `z.object(…)` (zod) fit as well
 * ```ts
 * import { type StandardSchemaV1, withSchema } from "@seastreamer/seastreamer/processor";
 *
 * const order: StandardSchemaV1<unknown, { id: number }> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "hand-written",
 *     validate(value) {
 *       const id = (value as { id?: unknown } | null)?.id;
 *       return typeof id === "number"
 *         ? { value: { id } }
 *         : { issues: [{ message: "an order has a numeric id", path: ["id"] }] };
 *     },
 *   },
 * };
 * const handler = withSchema(order, (value) => `invoice for order ${value.id}`);
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": {
    /** The version of the standard: 1. */
    readonly version: 1;
    /** The library that made the schema ("zod", "valibot"…). */
    readonly vendor: string;
    /** Checks `value`: its (possibly transformed) value, or the issues found. */
    readonly validate: (value: unknown) =>
      | StandardSchemaV1Result<Output>
      | Promise<StandardSchemaV1Result<Output>>;
    /** The input and output types, for inference only. */
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/**
 * What a Standard Schema's `validate` returns: the value, or the issues found
 * (each a message, and where in the value it is).
 *
 * @example
 * ```ts
 * import type { StandardSchemaV1Result } from "@seastreamer/seastreamer/processor";
 *
 * const passed: StandardSchemaV1Result<number> = { value: 7 };
 * const failed: StandardSchemaV1Result<number> = {
 *   issues: [{ message: "Expected number", path: ["order", { key: "id" }] }],
 * };
 * console.log(passed.issues === undefined, failed.issues?.length); // true 1
 * ```
 */
export type StandardSchemaV1Result<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
    readonly issues: ReadonlyArray<{
      readonly message: string;
      readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
    }>;
  };

/** The value `schema` makes of `json`, or the StreamError("Json") of its failure. */
function validator<T>(
  schema: Schema<T> | StandardSchemaV1<unknown, T>,
): (json: unknown) => T | Promise<T> {
  const standard = (schema as Partial<StandardSchemaV1<unknown, T>>)["~standard"];
  if (typeof standard?.validate === "function") {
    const validate = standard.validate;
    const valueOf = (result: StandardSchemaV1Result<T>): T => {
      if (result.issues === undefined) return result.value;
      const detail = result.issues.map(({ message, path }) => {
        const where = path?.map((p) => String(typeof p === "object" ? p.key : p)).join(".");
        return where ? `${where}: ${message}` : message;
      });
      throw failed(detail.join("; ") || "no value", { issues: result.issues });
    };
    return (json) => {
      const result = attempt(() => validate(json));
      return isThenable(result)
        ? Promise.resolve(result).then(valueOf, (error) => {
          throw failed(messageOf(error), error);
        })
        : valueOf(result);
    };
  }
  return (json) => attempt(() => (schema as Schema<T>).parse(json));
}

function attempt<R>(check: () => R): R {
  try {
    return check();
  } catch (error) {
    throw error instanceof StreamError ? error : failed(messageOf(error), error);
  }
}

function failed(detail: string, cause: unknown): StreamError {
  return new StreamError("Json", `payload fails the schema: ${detail}`, { cause });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

/**
 * A handler that receives the payload parsed as JSON and checked by `schema`:
 * a Standard Schema v1 (zod 3.24+, valibot, arktype, effect; its `validate`
 * may be async), or else anything with a `parse`. A payload that is not JSON,
 * or fails the schema, is `StreamError("Json")` (the issues' messages, each
 * after its path, in its message), which the retry middleware does not retry
 * and the dead-letter middleware parks.
 *
 * @example With a hand-written `parse`; a valibot or zod schema goes in its place
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
  schema: Schema<T> | StandardSchemaV1<unknown, T>,
  handler: (
    value: T,
    message: Message,
    context: HandlerContext,
  ) => HandlerResult | Promise<HandlerResult>,
): Handler {
  const check = validator(schema);
  return (message, context) => {
    const value = check(message.payload.json());
    // Only an async Standard Schema makes a promise here.
    return value instanceof Promise
      ? value.then((v) => handler(v, message, context))
      : handler(value, message, context);
  };
}
