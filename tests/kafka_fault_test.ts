/**
 * Kafka under injected faults (tests/support/fault_suite.ts), counting every
 * message end to end. The broker is the test's own: it listens on one port and
 * advertises the proxy's port, so every client connection (kafkajs connects
 * to the address the metadata gives, not to the bootstrap address) goes
 * through the proxy. "Restarted" is a clean stop and a start on the same data.
 */
import { startKafka } from "../scripts/kafka.ts";
import { faultSuite } from "./support/fault_suite.ts";
import { freePort } from "./support/fault_run.ts";

const SESSION_TIMEOUT_MS = 6000; // the broker's minimum

faultSuite({
  name: "kafka",
  async start(port, proxyPort) {
    const broker = await startKafka({
      port,
      controllerPort: await freePort(),
      advertisedPort: proxyPort,
      heapMb: 512,
    });
    return {
      url: broker.url,
      pid: () => broker.pid,
      restart: () => broker.restart(),
      stop: () => broker.stop(),
    };
  },
  // Four partitions: the load-balanced members share the topic by partitions.
  connectOptions: { kafka: { partitions: 4 } },
  loadBalanced: { kafka: { sessionTimeoutMs: SESSION_TIMEOUT_MS } },
  takeoverMs: SESSION_TIMEOUT_MS,
});
