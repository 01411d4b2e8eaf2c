/**
 * Where the NATS tests find their server: `NATS_URL` (default
 * nats://127.0.0.1:4222, a nats-server with JetStream). A server that does not
 * answer fails the tests with a message saying how to start one.
 *
 * @module
 */
import { connectTcp, getEnv } from "../../runtime/mod.ts";
import { parseNatsUri } from "../../backends/nats/mod.ts";

/** The server the tests use. */
export const NATS_URL = getEnv("NATS_URL") ?? "nats://127.0.0.1:4222";

let checked: Promise<void> | undefined;

/** Resolve if the first server of {@link NATS_URL} accepts connections, else fail clearly. */
export function requireNats(): Promise<void> {
  checked ??= (async () => {
    const [first] = parseNatsUri(NATS_URL).servers;
    const colon = first.lastIndexOf(":");
    try {
      const conn = await connectTcp({
        hostname: first.slice(0, colon),
        port: Number(first.slice(colon + 1)),
      });
      conn.close();
    } catch (error) {
      throw new Error(
        `no NATS server answers at ${NATS_URL} (${(error as Error).message}). ` +
          "Start one with `deno run -A scripts/nats.ts run`, or set NATS_URL.",
      );
    }
  })();
  return checked;
}
