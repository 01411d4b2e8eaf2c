/**
 * NATS JetStream under injected faults (tests/support/fault_suite.ts), counting
 * every message end to end: the test's own `nats-server -js` (file storage, so
 * a restart keeps every acknowledged message), reached only through the
 * fault-injection proxy. "Restarted" is SIGTERM and a start on the same storage.
 */
import { startNats } from "../scripts/nats.ts";
import { faultSuite } from "./support/fault_suite.ts";

const ACK_WAIT_MS = 3000;

faultSuite({
  name: "nats",
  async start(port, proxyPort) {
    const server = await startNats({ port });
    return {
      url: `nats://127.0.0.1:${proxyPort}`,
      pid: () => server.pid,
      restart: () => server.restart(),
      stop: () => server.stop(),
    };
  },
  // A dead member's messages go to a live one once their ack wait has passed.
  loadBalanced: { nats: { ackWaitMs: ACK_WAIT_MS } },
  takeoverMs: ACK_WAIT_MS,
});
