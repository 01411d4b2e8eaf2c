/**
 * Redis under injected faults (tests/support/fault_suite.ts), counting every
 * message end to end: the test's own redis-server (append-only file, fsync
 * always, so a restart keeps every acknowledged write), reached only through
 * the fault-injection proxy. "Restarted" is SIGTERM and a start on the same data.
 */
import { startRedis } from "../scripts/redis.ts";
import { faultSuite } from "./support/fault_suite.ts";

const CLAIM_IDLE_MS = 2000;

faultSuite({
  name: "redis",
  async start(port, proxyPort) {
    const server = await startRedis({ port });
    return {
      url: `redis://127.0.0.1:${proxyPort}`,
      pid: () => server.pid,
      restart: () => server.restart(),
      stop: () => server.stop(),
    };
  },
  // A dead member's pending entries are claimed by a live one once idle this long.
  loadBalanced: { redis: { claimIdleMs: CLAIM_IDLE_MS } },
  takeoverMs: CLAIM_IDLE_MS,
});
