// A member of group GROUP on stream `jobs` of PATH, in MODE ("load-balanced" or
// "resumable"): prints "ready" once it has joined, then each payload it gets
// (waiting DELAY ms after each, so a test can kill it mid-stream). It ends
// cleanly when its stdin closes, or after the payload LAST (if given).
import { SeaStreamer } from "../../mod.ts";
import { args, exit, sleep, stdin, stdout } from "../../runtime/mod.ts";

const [path, group, mode, delay, last] = args();
const streamer = await SeaStreamer.connect(`file://${path}`);
const consumer = await streamer.createConsumer(["jobs"], {
  mode: mode as "load-balanced" | "resumable",
  group,
  autoStreamReset: "earliest",
  prefetch: 10,
});
const out = stdout().getWriter();
const encoder = new TextEncoder();
await out.write(encoder.encode("ready\n"));
let stopping = false;
const stop = new AbortController();
(async () => {
  for await (const _ of stdin()) { /* the test only closes it */ }
  stopping = true;
  stop.abort();
})();
try {
  while (!stopping) {
    const message = await consumer.next(stop.signal);
    const text = message.payload.text();
    await out.write(encoder.encode(text + "\n"));
    if (text === last) break;
    if (Number(delay) > 0) await sleep(Number(delay));
  }
} catch (error) {
  if (!stopping) throw error;
}
await consumer.end();
await streamer.disconnect();
await out.close();

exit(0); // stdin may still be open
