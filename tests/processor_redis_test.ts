/** The processor suite on Redis: inputs are produced to streams first, outputs read back from the start. */
import { SeaStreamer, type Streamer } from "../mod.ts";
import { processorSuite } from "./support/processor_suite.ts";
import { take, texts } from "./support/helpers.ts";
import { REDIS_URL, requireRedis } from "./support/redis.ts";

processorSuite({
  name: "redis",
  persistent: true,
  async setup(inputs) {
    await requireRedis();
    const streamer: Streamer = await SeaStreamer.connect(REDIS_URL);
    const producer = await streamer.createProducer();
    for (const [stream, payloads] of Object.entries(inputs)) {
      for (const payload of payloads) producer.sendTo(stream, payload);
    }
    await producer.end();
    return {
      inputUrl: (streams) => `${REDIS_URL}/${streams.join(",")}`,
      outputUrl: (stream) => `${REDIS_URL}/${stream}`,
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
