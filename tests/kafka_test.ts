/** The conformance suite on the Kafka backend, against a real broker (KAFKA_URL). */
import { SeaStreamer } from "../mod.ts";
import { type BackendFeatures, conformanceSuite } from "./support/conformance.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";

const features: BackendFeatures = {
  history: true,
  resumable: true,
  loadBalanced: true,
  realTimeGroups: false,
  rewind: true,
  seek: true,
  binary: true,
  keysAndHeaders: true,
};

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
