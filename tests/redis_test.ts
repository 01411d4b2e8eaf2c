/** The conformance suite on the Redis backend, against a real server (REDIS_URL). */
import { SeaStreamer } from "../mod.ts";
import { conformanceSuite } from "./support/conformance.ts";
import { capabilities as features } from "../backends/redis/capabilities.ts";
import { REDIS_URL, requireRedis } from "./support/redis.ts";

conformanceSuite({
  name: "redis",
  features,
  connect: async () => {
    await requireRedis();
    return await SeaStreamer.connect(REDIS_URL);
  },
});
