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
import { args } from "../runtime/mod.ts";

const [url = "stdio:///orders", count = "10"] = args();
const { streamer: uri, streams: [stream] } = parseStreamUrl(url);

const streamer = await SeaStreamer.connect(uri, { file: { createIfNotExists: true } });
const producer = await streamer.createProducer(stream);
for (let id = 0; id < Number(count); id++) {
  // Not awaited: sends queue up and go out in batches; flush() waits for all of them.
  producer.send(JSON.stringify({ id, total: 10 * id }));
}
await producer.flush();
await streamer.disconnect();
