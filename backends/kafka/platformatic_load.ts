/**
 * Loading `@platformatic/kafka` (an optional peer, loaded on first use).
 *
 * @module
 */
import { StreamError } from "../../types.ts";

/** The `@platformatic/kafka` module. */
export type Platformatic = typeof import("@platformatic/kafka");

let loading: Promise<Platformatic> | undefined;

/**
 * Load `@platformatic/kafka` once (an optional peer: only its users install it).
 * Missing, it is `StreamError("Unsupported")` saying how to install it; on Deno
 * without --allow-env (its `debug` dependency reads `DEBUG*` variables when it
 * loads), `StreamError("Runtime")` saying which permission to give.
 */
export function loadPlatformatic(): Promise<Platformatic> {
  loading ??= import("@platformatic/kafka").then(
    (module) => module as Platformatic,
    (error) => {
      loading = undefined;
      const text = String((error as Error)?.message ?? error);
      if ((error as Error)?.name === "NotCapable" || /allow-env/.test(text)) {
        throw new StreamError(
          "Runtime",
          "kafka: @platformatic/kafka reads environment variables (DEBUG*) when it loads: " +
            "on Deno run with --allow-env",
          { cause: error },
        );
      }
      throw new StreamError(
        "Unsupported",
        `kafka: the @platformatic/kafka package is not installed: npm i @platformatic/kafka (${text})`,
        { cause: error },
      );
    },
  );
  return loading;
}
