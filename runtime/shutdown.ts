/**
 * Graceful shutdown: the first SIGINT or SIGTERM asks the program to stop
 * (an AbortSignal aborts: stop reading, finish and commit what is in flight,
 * flush, exit 0); a second one exits at once.
 *
 * @module
 */
import { exit } from "./env.ts";
import { printError } from "./stdio.ts";
import { onSignal } from "./signals.ts";

/**
 * A shutdown request and the function that uninstalls its handlers.
 *
 * @example A consumer loop that stops on Ctrl-C or at the end of its input
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 * import { type Shutdown, shutdownSignal } from "@seastreamer/seastreamer/runtime";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("[orders] a\n[orders] b\n")]);
 * const streamer = await SeaStreamer.connect("stdio://", { stdio: { input } });
 * const consumer = await streamer.createConsumer(["orders"]);
 * const shutdown: Shutdown = shutdownSignal();
 * try {
 *   while (true) console.log((await consumer.next(shutdown.signal)).payload.text()); // a, then b
 * } catch {
 *   // the input ended (StreamError "Closed"), or a signal came
 * } finally {
 *   shutdown.dispose();
 *   await streamer.disconnect();
 * }
 * ```
 */
export interface Shutdown {
  /** Aborted on the first SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** Remove the handlers (the signals end the process by themselves again). */
  dispose(): void;
}

/**
 * Handle SIGINT and SIGTERM: the first aborts the returned signal, a second
 * exits the process at once with code 130.
 *
 * @example Stop a consumer loop on Ctrl-C
 * ```ts
 * import { shutdownSignal } from "@seastreamer/seastreamer/runtime";
 *
 * const shutdown = shutdownSignal();
 * shutdown.signal.addEventListener("abort", () => console.log("stopping"));
 * shutdown.dispose();
 * ```
 */
export function shutdownSignal(): Shutdown {
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
