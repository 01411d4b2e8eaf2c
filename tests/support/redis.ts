/**
 * Where the Redis tests find their server: `REDIS_URL` (default
 * redis://127.0.0.1:6379). A server that does not answer fails the tests with
 * a message saying how to start one.
 *
 * @module
 */
import { after } from "node:test";
import { Redis } from "ioredis";
import { SeaStreamer, type Streamer } from "../../mod.ts";
import { connectTcp, getEnv } from "../../runtime/mod.ts";
import { parseRedisUri } from "../../backends/redis/mod.ts";

/** The server the tests use. */
export const REDIS_URL = getEnv("REDIS_URL") ?? "redis://127.0.0.1:6379";

let checked: Promise<void> | undefined;

/** Resolve if the first host of {@link REDIS_URL} accepts connections, else fail clearly. */
export function requireRedis(): Promise<void> {
  checked ??= (async () => {
    const [first] = parseRedisUri(REDIS_URL).hosts;
    try {
      const conn = await connectTcp({ hostname: first.host, port: first.port });
      conn.close();
    } catch (error) {
      throw new Error(
        `no Redis server answers at ${REDIS_URL} (${(error as Error).message}). ` +
          "Start one with `deno run -A scripts/redis.ts start`, or set REDIS_URL.",
      );
    }
  })();
  return checked;
}

/**
 * A test file's streamers and raw ioredis client on {@link REDIS_URL}, made on
 * demand and closed after the file's tests.
 */
export function redisTestbed(): {
  connect(): Promise<Streamer>;
  rawClient(): Promise<Redis>;
  streamers: Streamer[];
} {
  const streamers: Streamer[] = [];
  let raw: Redis | undefined;
  after(async () => {
    await Promise.all(streamers.map((s) => s.disconnect().catch(() => {})));
    raw?.disconnect();
  });
  return {
    streamers,
    async connect() {
      await requireRedis();
      const streamer = await SeaStreamer.connect(REDIS_URL);
      streamers.push(streamer);
      return streamer;
    },
    async rawClient() {
      await requireRedis();
      raw ??= new Redis(REDIS_URL);
      return raw;
    },
  };
}
