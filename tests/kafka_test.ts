/** The conformance suite on the Kafka backend, against a real broker (KAFKA_URL). */
import { SeaStreamer } from "../mod.ts";
import { conformanceSuite } from "./support/conformance.ts";
import { capabilities as features } from "../backends/kafka/capabilities.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";

conformanceSuite({
  name: "kafka",
  features,
  connect: async () => {
    await requireKafka();
    return await SeaStreamer.connect(KAFKA_URL);
  },
  // Kafka shares a topic among a group's members by partitions.
  connectForLoadBalancing: async () => {
    await requireKafka();
    return await SeaStreamer.connect(KAFKA_URL, { kafka: { partitions: 4 } });
  },
});
