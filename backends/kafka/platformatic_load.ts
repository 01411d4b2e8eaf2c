/**
 * Loading `@platformatic/kafka` (an optional peer, loaded on first use).
 *
 * @module
 */
import { libraryLoadError } from "./errors.ts";

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
      // Its `debug` dependency reads every DEBUG* variable.
      throw libraryLoadError(error, "@platformatic/kafka", {
        variables: "environment variables (DEBUG*)",
        permission: "--allow-env",
      });
    },
  );
  return loading;
}
