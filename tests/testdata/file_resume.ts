// A resumable consumer of stream `jobs` of PATH in group GROUP: prints each payload
// (slowly, so a test can kill it mid-stream) and stops after the payload LAST.
import { SeaStreamer } from "../../mod.ts";
import { args, sleep, stdout } from "../../runtime/mod.ts";

const [path, group, last] = args();
const streamer = await SeaStreamer.connect(`file://${path}`);
const consumer = await streamer.createConsumer(["jobs"], {
  mode: "resumable",
  group,
  autoStreamReset: "earliest",
  prefetch: 10,
});
const out = stdout().getWriter();
for await (const message of consumer) {
  const text = message.payload.text();
  await out.write(new TextEncoder().encode(text + "\n"));
  if (text === last) break;
  await sleep(3);
}
await consumer.end();
await streamer.disconnect();
out.releaseLock();
