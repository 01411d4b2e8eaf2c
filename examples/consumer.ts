/**
 * Print a stream's messages, on any backend, from the beginning.
 *
 *   deno run -A examples/consumer.ts STREAM_URL [COUNT]
 *   deno run -A examples/consumer.ts kafka://localhost:9092/orders 10
 *
 * @module
 */
import { parseStreamUrl, SeaStreamer } from "../mod.ts";
import { args, shutdownSignal } from "../runtime/mod.ts";

const [url = "stdio:///orders", count = "Infinity"] = args();
const { streamer: uri, streams } = parseStreamUrl(url);

const streamer = await SeaStreamer.connect(uri);
const consumer = await streamer.createConsumer(streams, {
  autoStreamReset: "earliest",
  file: { live: false }, // a file is read to its end, then the loop ends
});
// Ctrl-C (SIGINT) or SIGTERM: end the consumer, which ends the loop; a second signal exits at once.
const shutdown = shutdownSignal();
shutdown.signal.addEventListener("abort", () => consumer.end());
let seen = 0;
for await (const message of consumer) {
  const { streamKey, seqNo } = message.header;
  console.log(`${streamKey} #${seqNo}: ${message.payload.text()}`);
  if (++seen >= Number(count)) break;
}
shutdown.dispose();
await streamer.disconnect();
