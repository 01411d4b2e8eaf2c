// Appends `ID-0` .. `ID-(COUNT-1)` to stream `s` of PATH in batches of BATCH (each
// awaited), then exits 0 (one of several processes writing one file at once).
import { SeaStreamer } from "../../mod.ts";
import { args } from "../../runtime/mod.ts";

const [path, id, count, batch = "50"] = args();
const streamer = await SeaStreamer.connect(`file://${path}`, {
  file: { createIfNotExists: true, beaconInterval: 16 * 1024 },
});
const producer = await streamer.createProducer("s");
for (let i = 0; i < Number(count); i++) {
  producer.send(`${id}-${i}`);
  if ((i + 1) % Number(batch) === 0) await producer.flush();
}
await producer.flush();
await streamer.disconnect();
