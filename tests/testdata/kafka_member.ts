/**
 * A load-balanced Kafka consumer in a process of its own, for the group
 * failover test (which kills it). Arguments: URL TOPIC GROUP SESSION_TIMEOUT_MS.
 * Prints `ready` once it has joined, then one line per message:
 * `partition offset payload`.
 *
 * @module
 */
import { SeaStreamer } from "../../mod.ts";
import { args, stdout } from "../../runtime/mod.ts";

const [url, topic, group, session] = args();
const streamer = await SeaStreamer.connect(url);
const consumer = await streamer.createConsumer([topic], {
  mode: "load-balanced",
  group,
  autoStreamReset: "earliest",
  prefetch: 20,
  kafka: { sessionTimeoutMs: Number(session) },
});
const writer = stdout().getWriter();
const encoder = new TextEncoder();
await writer.write(encoder.encode("ready\n"));
for await (const message of consumer) {
  const { shardId, seqNo } = message.header;
  await writer.write(encoder.encode(`${shardId} ${seqNo} ${message.payload.text()}\n`));
}
