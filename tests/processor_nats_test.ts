/** The processor suite on NATS JetStream: inputs are produced to streams first, outputs read back from the start. */
import { processorSuite, serverBackend } from "./support/processor_suite.ts";
import { NATS_URL, requireNats } from "./support/nats.ts";

processorSuite(serverBackend("nats", NATS_URL, requireNats));
