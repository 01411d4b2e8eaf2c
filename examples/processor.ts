/**
 * A hand-written processor: consume orders, transform each, produce invoices.
 * Switch backends by URL only: the code is the same for all of them.
 *
 *   deno run -A examples/processor.ts INPUT_URL OUTPUT_URL [COUNT]
 *   deno run -A examples/processor.ts file://./shop.ss/orders file://./shop.ss/invoices
 *   deno run -A examples/processor.ts redis://localhost:6379/orders kafka://localhost:9092/invoices
 *
 * @module
 */
import { parseStreamUrl, SeaStreamer } from "../mod.ts";
import { args, shutdownSignal } from "../runtime/mod.ts";

// A processor runs until its input ends (a pipe, a file) or forever (Redis, Kafka);
// COUNT stops it after that many messages.
const [inputUrl = "stdio:///orders", outputUrl = "stdio:///invoices", count = "Infinity"] = args();
const input = parseStreamUrl(inputUrl);
const output = parseStreamUrl(outputUrl);

const source = await SeaStreamer.connect(input.streamer);
const sink = output.streamer === input.streamer
  ? source
  : await SeaStreamer.connect(output.streamer, { file: { createIfNotExists: true } });

const consumer = await source.createConsumer(input.streams, {
  autoStreamReset: "earliest",
  file: { live: false },
});
const producer = await sink.createProducer(output.streams[0]);

// SIGINT/SIGTERM: stop reading; what was sent is flushed below before exiting.
const shutdown = shutdownSignal();
shutdown.signal.addEventListener("abort", () => consumer.end());
let handled = 0;
for await (const message of consumer) {
  const order = message.payload.json<{ id: number; total: number }>();
  producer.send(JSON.stringify({ invoice: order.id, amount: order.total, vat: order.total * 0.2 }));
  if (++handled >= Number(count)) break;
}
shutdown.dispose();
await producer.end();
await sink.disconnect();
if (sink !== source) await source.disconnect();
