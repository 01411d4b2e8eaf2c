/** The processor suite on the file backend: inputs and outputs in one .ss file. */
import { after } from "node:test";
import { SeaStreamer } from "../mod.ts";
import { makeTempDir, remove } from "../runtime/mod.ts";
import { processorSuite } from "./support/processor_suite.ts";
import { take, texts } from "./support/helpers.ts";

const dir = await makeTempDir("seastreamer-processor-file-");
after(() => remove(dir));
let files = 0;

processorSuite({
  name: "file",
  persistent: true,
  async setup(inputs) {
    const uri = `file://${dir}/run-${++files}.ss`;
    const streamer = await SeaStreamer.connect(uri, { file: { createIfNotExists: true } });
    const producer = await streamer.createProducer();
    for (const [stream, payloads] of Object.entries(inputs)) {
      for (const payload of payloads) producer.sendTo(stream, payload);
    }
    await streamer.disconnect();
    return {
      inputUrl: (streams) => `${uri}/${streams.join(",")}`,
      outputUrl: (stream) => `${uri}/${stream}`,
      consumer: { file: { live: false } },
      endsByItself: true,
      async outputs(stream, count) {
        const reader = await SeaStreamer.connect(uri);
        try {
          const consumer = await reader.createConsumer([stream], { autoStreamReset: "earliest" });
          return texts(await take(consumer, count, 60_000));
        } finally {
          await reader.disconnect();
        }
      },
      cleanup: () => Promise.resolve(),
    };
  },
});
