/**
 * Operating-system signals, for graceful shutdown.
 *
 * @module
 */
import process from "node:process";
import { runtimeName } from "./detect.ts";

/**
 * The signals a stream processor handles to stop gracefully.
 *
 * @example
 * ```ts
 * import { onSignal, type ShutdownSignal } from "@seastreamer/seastreamer/runtime";
 *
 * const signals: ShutdownSignal[] = ["SIGINT", "SIGTERM"];
 * const offs = signals.map((signal) => onSignal(signal, () => console.log(`${signal}: stopping`)));
 * for (const off of offs) off(); // the signals end the process by themselves again
 * ```
 */
export type ShutdownSignal = "SIGINT" | "SIGTERM";

interface DenoSignals {
  addSignalListener(signal: ShutdownSignal, handler: () => void): void;
  removeSignalListener(signal: ShutdownSignal, handler: () => void): void;
}

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
  if (runtimeName === "deno") {
    // Deno's own listener is installed at once; its node:process shim may not be yet.
    const deno = (globalThis as unknown as { Deno: DenoSignals }).Deno;
    deno.addSignalListener(signal, handler);
    return () => deno.removeSignalListener(signal, handler);
  }
  process.on(signal, handler);
  return () => {
    process.off(signal, handler);
  };
}
