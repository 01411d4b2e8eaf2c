/**
 * A load-balanced consumer in a process of its own, for the fault tests
 * (which kill it with SIGKILL). Arguments: URL STREAM GROUP OPTIONS, OPTIONS
 * being the consumer options as JSON. Prints `ready` once it has joined, then
 * one line per message received: `shard seq payload`.
 *
 * @module
 */
import { type ConsumerOptions, SeaStreamer } from "../../mod.ts";
import { args, sleep, stdout } from "../../runtime/mod.ts";

const [url, stream, group, options] = args();
const streamer = await SeaStreamer.connect(url);
const join = () =>
  streamer.createConsumer([stream], {
    ...JSON.parse(options) as ConsumerOptions,
    mode: "load-balanced",
    group,
  });
let consumer = await join();
const writer = stdout().getWriter();
const encoder = new TextEncoder();
await writer.write(encoder.encode("ready\n"));
for (;;) {
  try {
    const message = await consumer.next();
    const { shardId, seqNo } = message.header;
    await writer.write(encoder.encode(`${shardId} ${seqNo} ${message.payload.text()}\n`));
  } catch (error) {
    // A fault (a cut connection, a restarting server): join again and go on, as a real member would.
    console.error(`member: ${error}`);
    await consumer.end().catch(() => {});
    await sleep(500);
    consumer = await join().catch(() => consumer);
  }
}
