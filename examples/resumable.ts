/**
 * At-least-once with explicit commits: a consumer in a group commits after each
 * message is done; killed and restarted, it continues after the last commit
 * (what it had received but not committed comes again).
 *
 *   deno run -A examples/resumable.ts STREAM_URL GROUP [COUNT]
 *   deno run -A examples/resumable.ts redis://localhost:6379/orders billing 5
 *
 * @module
 */
import { parseStreamUrl, SeaStreamer } from "../mod.ts";
import { args, shutdownSignal } from "../runtime/mod.ts";

const [url = "file://./orders.ss/orders", group = "billing", count = "5"] = args();
const { streamer: uri, streams } = parseStreamUrl(url);

const streamer = await SeaStreamer.connect(uri);
const consumer = await streamer.createConsumer(streams, {
  mode: "resumable",
  group,
  autoStreamReset: "earliest",
  autoCommit: false,
});
// SIGINT/SIGTERM: stop before the next message; everything handled so far is committed.
const shutdown = shutdownSignal();
for (let i = 0; i < Number(count) && !shutdown.signal.aborted; i++) {
  const message = await consumer.next(shutdown.signal).catch((error) => {
    if (shutdown.signal.aborted) return undefined;
    throw error;
  });
  if (!message) break;
  console.log(`billing order ${message.payload.json<{ id: number }>().id}`);
  await consumer.commit(message); // done: a restart will not see it again
}
shutdown.dispose();
await consumer.end();
await streamer.disconnect();
