/**
 * Buffered batching: collect messages into batches of up to SIZE or what came
 * within WAIT ms, and handle a batch at once (a bulk insert, say). Ends when a
 * WAIT passes with nothing new.
 *
 *   deno run -A examples/buffered.ts STREAM_URL [SIZE] [WAIT_MS]
 *
 * @module
 */
import { type Message, parseStreamUrl, SeaStreamer, StreamError } from "../mod.ts";
import { args, shutdownSignal } from "../runtime/mod.ts";

const [url = "stdio:///events", size = "100", wait = "200"] = args();
const { streamer: uri, streams } = parseStreamUrl(url);

const streamer = await SeaStreamer.connect(uri);
const consumer = await streamer.createConsumer(streams, {
  autoStreamReset: "earliest",
  file: { live: false },
});

// SIGINT/SIGTERM: the batch being collected is handled, then the example ends.
const shutdown = shutdownSignal();

/**
 * Up to `max` messages, taken within `ms`; empty when nothing came in that time
 * (or the stream ended, or a shutdown was asked for), which ends this example.
 */
async function batch(max: number, ms: number): Promise<Message[]> {
  const messages: Message[] = [];
  // A timer of our own (Node 20 may collect an AbortSignal.any of AbortSignal.timeout
  // before it fires); a shutdown aborts the wait too.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  const onShutdown = () => controller.abort();
  shutdown.signal.addEventListener("abort", onShutdown);
  if (shutdown.signal.aborted) controller.abort();
  try {
    while (messages.length < max) messages.push(await consumer.next(controller.signal));
  } catch (error) {
    if (error instanceof StreamError && error.code !== "Closed") throw error;
  } finally {
    clearTimeout(timer);
    shutdown.signal.removeEventListener("abort", onShutdown);
  }
  return messages;
}

let total = 0;
for (let messages = await batch(Number(size), Number(wait)); messages.length > 0;) {
  total += messages.length;
  console.log(`batch of ${messages.length} (first #${messages[0].header.seqNo})`);
  messages = await batch(Number(size), Number(wait));
}
console.log(`${total} messages in all`);
shutdown.dispose();
await streamer.disconnect();
