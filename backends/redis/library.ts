/**
 * The ioredis client, loaded on the first connect: the package is an optional
 * peer dependency, so importing seastreamer must work without it, and
 * connecting without it says what to install.
 *
 * @module
 */
import type * as IoRedis from "ioredis";
import { StreamError } from "../../types.ts";

/** The ioredis module. */
export type IoRedisModule = typeof IoRedis;

let loaded: IoRedisModule | undefined;
let loading: Promise<IoRedisModule> | undefined;

/** Load ioredis once; a missing package is `StreamError("Unsupported")` naming it. */
export function loadIoredis(): Promise<IoRedisModule> {
  loading ??= import("ioredis").then(
    (module) => (loaded = module),
    (error) => {
      loading = undefined;
      const reason = error instanceof Error ? error.message : String(error);
      throw new StreamError(
        "Unsupported",
        `redis: the ioredis package is not installed: npm i ioredis (${reason})`,
        { cause: error },
      );
    },
  );
  return loading;
}

/** ioredis, once {@link loadIoredis} has loaded it (every client is made after that). */
export function ioredis(): IoRedisModule {
  if (loaded === undefined) throw new StreamError("Runtime", "redis: ioredis is not loaded yet");
  return loaded;
}
