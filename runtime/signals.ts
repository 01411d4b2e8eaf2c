/**
 * Operating-system signals, for graceful shutdown.
 *
 * @module
 */
import process from "node:process";

/** The signals a stream processor handles to stop gracefully. */
export type ShutdownSignal = "SIGINT" | "SIGTERM";

/**
 * Call `handler` when the process receives `signal`; returns a function that removes it.
 * While a handler is installed, the signal no longer ends the process by itself.
 *
 * @example
 * ```ts
 * import { onSignal } from "@seastreamer/seastreamer/runtime";
 *
 * const off = onSignal("SIGTERM", () => console.log("stopping"));
 * off();
 * ```
 */
export function onSignal(signal: ShutdownSignal, handler: () => void): () => void {
  process.on(signal, handler);
  return () => {
    process.off(signal, handler);
  };
}
