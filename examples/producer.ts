/**
 * Send messages to a stream, on any backend.
 *
 *   deno run -A examples/producer.ts STREAM_URL [COUNT]
 *   deno run -A examples/producer.ts file://./orders.ss/orders 10
 *   deno run -A examples/producer.ts redis://localhost:6379/orders 10
 *
 * @module
 */
import { parseStreamUrl, SeaStreamer } from "../mod.ts";
import { args, shutdownSignal } from "../runtime/mod.ts";

const [url = "stdio:///orders", count = "10"] = args();
const { streamer: uri, streams: [stream] } = parseStreamUrl(url);

const streamer = await SeaStreamer.connect(uri, { file: { createIfNotExists: true } });
const producer = await streamer.createProducer(stream);
// SIGINT/SIGTERM: stop sending; what was sent is flushed before exiting.
const shutdown = shutdownSignal();
for (let id = 0; id < Number(count) && !shutdown.signal.aborted; id++) {
  // Not awaited: sends queue up and go out in batches; flush() waits for all of them.
  producer.send(JSON.stringify({ id, total: 10 * id }));
}
await producer.flush();
shutdown.dispose();
await streamer.disconnect();
