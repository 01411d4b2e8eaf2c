/**
 * Graceful shutdown for the CLI: the first SIGINT or SIGTERM aborts a signal
 * (commands stop reading, finish what is in flight, flush and exit 0); a second
 * one exits at once.
 *
 * @module
 */
import { exit, onSignal, printError } from "../runtime/mod.ts";

/** A shutdown signal and the function that uninstalls its handlers. */
export interface Shutdown {
  /** Aborted on the first SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Remove the handlers. */
  dispose(): void;
}

/** Install the handlers. */
export function handleShutdown(): Shutdown {
  const controller = new AbortController();
  const onSignalReceived = () => {
    if (controller.signal.aborted) {
      printError("second signal: exiting now");
      exit(130);
    }
    controller.abort(new Error("shutdown requested"));
  };
  const offs = [onSignal("SIGINT", onSignalReceived), onSignal("SIGTERM", onSignalReceived)];
  return { signal: controller.signal, dispose: () => offs.forEach((off) => off()) };
}
