/** The processor suite on Redis: inputs are produced to streams first, outputs read back from the start. */
import { processorSuite, serverBackend } from "./support/processor_suite.ts";
import { REDIS_URL, requireRedis } from "./support/redis.ts";

processorSuite(serverBackend("redis", REDIS_URL, requireRedis));
