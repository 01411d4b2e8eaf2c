/** The processor suite on Kafka: inputs are produced to topics first, outputs read back from the start. */
import { SeaStreamer, type Streamer } from "../mod.ts";
import { processorSuite } from "./support/processor_suite.ts";
import { take, texts } from "./support/helpers.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";

processorSuite({
  name: "kafka",
  persistent: true,
  async setup(inputs) {
    await requireKafka();
    const streamer: Streamer = await SeaStreamer.connect(KAFKA_URL);
    const producer = await streamer.createProducer();
    for (const [stream, payloads] of Object.entries(inputs)) {
      for (const payload of payloads) producer.sendTo(stream, payload);
    }
    await producer.end();
    return {
      inputUrl: (streams) => `${KAFKA_URL}/${streams.join(",")}`,
      outputUrl: (stream) => `${KAFKA_URL}/${stream}`,
      endsByItself: false,
      async outputs(stream, count) {
        const consumer = await streamer.createConsumer([stream], { autoStreamReset: "earliest" });
        try {
          return texts(await take(consumer, count, 60_000));
        } finally {
          await consumer.end();
        }
      },
      cleanup: () => streamer.disconnect(),
    };
  },
});
