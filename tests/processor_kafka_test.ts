/** The processor suite on Kafka: inputs are produced to topics first, outputs read back from the start. */
import { processorSuite, serverBackend } from "./support/processor_suite.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";

processorSuite(serverBackend("kafka", KAFKA_URL, requireKafka));
