// Writes `event 0` .. `event COUNT-1` to stream `events` of PATH, one every INTERVAL ms,
// then disconnects with an end-of-stream message (the file tests' second process).
import { SeaStreamer } from "../../mod.ts";
import { args, sleep } from "../../runtime/mod.ts";

const [path, count, interval] = args();
const streamer = await SeaStreamer.connect(`file://${path}`, {
  file: { createIfNotExists: true, endWithEos: true },
});
const producer = await streamer.createProducer("events");
for (let i = 0; i < Number(count); i++) {
  await producer.send(`event ${i}`);
  await sleep(Number(interval));
}
await streamer.disconnect();
