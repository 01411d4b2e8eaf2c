/**
 * File errors as `StreamError`s (shared by runtime/fs.ts and its Deno file,
 * which would otherwise import each other).
 *
 * @module
 */
import { StreamError } from "../types.ts";

/** Wrap a Node-style error in a `StreamError`, keeping its code in the message. */
export function fsError(what: string, path: string, error: unknown): StreamError {
  const code = (error as { code?: string }).code;
  const reason = code ?? (error as Error).message ?? String(error);
  return new StreamError(
    code === "ENOENT" ? "StreamKeyNotFound" : "Runtime",
    `${what} ${path}: ${reason}`,
    { cause: error },
  );
}
